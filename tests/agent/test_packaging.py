"""Packaging of the site agent: what `pip install datas[agent]` pulls, and the single executable.

The dependency walk reads only installed distribution metadata (no network). The executable is
built once per session with PyInstaller from packaging/datas-agent.spec and then used as a site
owner would: --help, init, check and once against a real API server process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

import pytest
from astropy.io import fits
from packaging.requirements import Requirement
from sqlalchemy import select

from benchmarks.harness import api_server, free_port
from datas_core import __version__
from datas_core.db import make_session_factory
from datas_core.db.models import Frame, Observation, SiteStatus
from tests.conftest import missing_system_part

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "datas-agent.spec"
EXE_NAME = "datas-agent.exe" if sys.platform == "win32" else "datas-agent"
MAX_EXE_MB = 90  # ~78 MB on Linux x86_64 (scipy.spatial for star matching included)

# Distributions the agent must never pull (normalized names; anything dagster* too).
FORBIDDEN = {
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "psycopg-binary",
    "psycopg-c",
    "psycopg-pool",
    "psycopg2",
    "psycopg2-binary",
    "asyncpg",
    "pg8000",
    "pymysql",
    "mysqlclient",
    "mysql-connector-python",
    "pymongo",
    "redis",
}
FORBIDDEN_PREFIXES = ("dagster",)

# Markers are evaluated for each of these platforms: a Windows-only requirement counts too.
PLATFORMS = [
    {},  # this machine
    {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"},
    {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix"},
    {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"},
]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _forbidden(name: str) -> bool:
    return name in FORBIDDEN or name.startswith(FORBIDDEN_PREFIXES)


def _installed(name: str) -> metadata.Distribution | None:
    """The distribution installed in this environment's site-packages (not a stray
    `*.egg-info` in the working directory), else wherever importlib finds it."""
    paths = list(
        dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    )
    for dist in metadata.distributions(name=name, path=paths):
        return dist
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None


def _active(req: Requirement, extras: Iterable[str], only_here: bool = False) -> bool:
    if req.marker is None:
        return True
    platforms = PLATFORMS[:1] if only_here else PLATFORMS
    return any(
        req.marker.evaluate({**platform, "extra": extra})
        for platform in platforms
        for extra in {"", *extras}
    )


def _walk(roots: list[Requirement]) -> tuple[dict[str, str], list[str]]:
    """Every distribution reachable from `roots` (name -> who requires it), and the
    requirements that apply only to another platform and are not installed here."""
    reached: dict[str, str] = {}
    elsewhere: list[str] = []
    todo = [(req, "datas[agent]", _active(req, ["agent"], only_here=True)) for req in roots]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        req, parent, here = todo.pop()
        name = _norm(req.name)
        reached.setdefault(name, parent)
        key = (name, frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        dist = _installed(name)
        if dist is None:
            assert not here, f"{req} (required by {parent}) is not installed: cannot walk it"
            elsewhere.append(name)
            continue
        for text in dist.requires or []:
            sub = Requirement(text)
            if _active(sub, req.extras):
                todo.append((sub, name, here and _active(sub, req.extras, only_here=True)))
    return reached, elsewhere


def _agent_roots() -> list[Requirement]:
    """The base and `agent` requirements in the installed metadata of datas, and (Python 3.11+)
    those pyproject.toml declares now, in case it changed since the last `pip install -e`."""
    datas = _installed("datas")
    assert datas is not None, "datas is not installed: pip install -e '.[agent]'"
    texts = list(datas.requires or [])
    if sys.version_info >= (3, 11):
        import tomllib

        project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        texts += project["dependencies"] + project["optional-dependencies"]["agent"]
    roots = {str(r): r for r in map(Requirement, texts) if _active(r, ["agent"])}
    return list(roots.values())


def test_pip_install_datas_agent_pulls_no_server_or_database_packages() -> None:
    reached, elsewhere = _walk(_agent_roots())
    bad = {name: parent for name, parent in reached.items() if _forbidden(name)}
    assert not bad, f"datas[agent] pulls server/database packages (name: required by): {bad}"
    # The walk really went through the agent's stack (and its dependencies' dependencies).
    for name in ("numpy", "astropy", "pyerfa", "alpyca", "requests", "pyyaml", "sep", "httpx"):
        assert name in reached, f"{name} not reached; reached: {sorted(reached)}"
    for name in ("click", "rich", "pydantic", "pydantic-core", "httpcore", "astropy-iers-data"):
        assert name in reached, f"{name} not reached; reached: {sorted(reached)}"
    assert "pyindi-client" not in reached  # the indi extra is separate
    # Requirements of other platforms (e.g. colorama on Windows) were checked by name only.
    assert not [name for name in elsewhere if _forbidden(name)]


# --- the single executable ---------------------------------------------------------------


def _clean_env(home: Path) -> dict[str, str]:
    """The environment of a machine without Python: no venv, no PYTHONPATH, an empty home (so
    no astropy cache or config from this machine is used)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "VIRTUAL_ENV", "DATAS_", "CONDA"))
    }
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), USERPROFILE=str(home))
    env.update(XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"))
    return env


@pytest.fixture(scope="module")
def agent_exe(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One PyInstaller build per session (about a minute), into a temporary directory."""
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        missing_system_part(
            "PyInstaller is not installed: pip install pyinstaller (it is in the dev extra)"
        )
    out = tmp_path_factory.mktemp("pyinstaller")
    dist, work = out / "dist", out / "build"
    started = time.monotonic()
    build = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--distpath", str(dist)]
    built = subprocess.run(
        [*build, "--workpath", str(work), str(SPEC)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    seconds = time.monotonic() - started
    assert built.returncode == 0, built.stderr[-6000:]
    exe = dist / EXE_NAME
    assert exe.is_file(), f"no {exe}: {sorted(p.name for p in dist.iterdir())}"
    return {
        "exe": exe,
        "pyz": work / "datas-agent" / "PYZ-00.pyz",
        "seconds": seconds,
        "home": out / "home",
    }


def _run(
    built: dict, *args: str, cwd: Path, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(built["exe"]), *args],
        cwd=cwd,
        env=_clean_env(built["home"]),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_the_executable_holds_the_agent_and_nothing_of_the_server(agent_exe: dict) -> None:
    from PyInstaller.archive.readers import CArchiveReader, ZlibArchiveReader

    size_mb = agent_exe["exe"].stat().st_size / 1e6
    assert size_mb < MAX_EXE_MB, f"{agent_exe['exe'].name} is {size_mb:.1f} MB"
    modules = set(ZlibArchiveReader(str(agent_exe["pyz"])).toc)
    files = set(CArchiveReader(str(agent_exe["exe"])).toc)
    tops = {name.split(".")[0] for name in modules} | {
        re.split(r"[/\\.]", name)[0] for name in files
    }
    for needed in ("site_agent", "datas_core", "numpy", "astropy", "alpaca", "yaml", "sep"):
        assert needed in tops, f"{needed} is not in the executable"
    for needed in ("scipy",):  # scipy.spatial: star matching in local photometry
        assert needed in tops, f"{needed} is not in the executable"
    for needed in ("httpx", "click", "rich", "pydantic", "pydantic_core", "erfa"):
        assert needed in tops, f"{needed} is not in the executable"
    assert {"datas_core.sky.altaz", "datas_core.schemas.observations"} <= modules
    assert "datas_core.science.photometry" in modules  # local photometry (sep)
    # astropy's leap seconds and IERS tables are inside: nothing is downloaded at the site.
    iers = {Path(name).name for name in files if name.startswith("astropy_iers_data")}
    assert {"Leap_Second.dat", "finals2000A.all"} <= iers, sorted(iers)
    unwanted = {
        "dagster",
        "fastapi",
        "starlette",
        "uvicorn",
        "sqlalchemy",
        "alembic",
        "psycopg",
        "pyarrow",
        "boto3",
        "botocore",
        "datas_api",
        "datas_cli",
        "datas_pipelines",
        "pytest",
    }
    assert not tops & unwanted, f"in the executable: {sorted(tops & unwanted)}"
    assert not {m for m in modules if m.startswith(("datas_core.db", "datas_core.services"))}
    # astropy's test suites stay out (astropy/__init__ itself imports astropy.tests.runner).
    suites = {m for m in modules if ".tests" in m} - {"astropy.tests", "astropy.tests.runner"}
    assert not suites, sorted(suites)[:10]


def test_the_executable_help_and_version(agent_exe: dict, tmp_path: Path) -> None:
    shown = _run(agent_exe, "--help", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "Usage: datas-agent" in shown.stdout
    for command in ("init", "check", "once", "run", "status", "pause", "resume", "stop"):
        assert re.search(rf"^\s+{command}\s", shown.stdout, re.M), shown.stdout
    version = _run(agent_exe, "--version", cwd=tmp_path)
    assert (
        version.returncode == 0 and version.stdout.strip() == f"datas-agent, version {__version__}"
    )


def _rows(session_factory: object, stmt: object) -> list:
    with session_factory() as s:  # type: ignore[operator]
        return list(s.scalars(stmt))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the server side is tested elsewhere
def test_the_executable_inits_checks_and_observes_against_a_real_server(
    agent_exe: dict, night_site: dict, tmp_path: Path
) -> None:
    config = tmp_path / "site.yaml"
    with api_server(night_site["db_url"]) as base:
        init = ("init", "--server", base, "--key", night_site["key"], "--site-id", "sim")
        made = _run(agent_exe, *init, "--driver", "simulator", "-o", "site.yaml", cwd=tmp_path)
        assert made.returncode == 0, made.stdout + made.stderr
        assert "wrote site.yaml" in made.stdout
        text = config.read_text()
        assert "driver: simulator" in text and night_site["key"] in text
        if os.name == "posix":
            assert oct(config.stat().st_mode & 0o777) == "0o600"
        text = text.replace("time_factor: 1.0", "time_factor: 0.001")
        text = text.replace("control_port: 8765", f"control_port: {free_port()}")
        text = text.replace("min_free_disk_mb: 1024", "min_free_disk_mb: 1")
        text = text.replace("upload_frames: false", "upload_frames: true")
        config.write_text(text)

        checked = _run(agent_exe, "check", "-c", "site.yaml", cwd=tmp_path)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "config site.yaml: ok (site sim, driver simulator)" in checked.stdout
        assert f"server {base}: ok" in checked.stdout
        for device in ("mount", "camera", "wheel", "weather"):
            assert f"{device}: ok" in checked.stdout, checked.stdout

        once = _run(agent_exe, "once", "-c", "site.yaml", cwd=tmp_path)
        assert once.returncode == 0, once.stdout + once.stderr
        report = json.loads(once.stdout.strip().splitlines()[-1])
        assert report["reasons"] == [] and report["server_reachable"] is True, report
        assert report["observed"] == [night_site["target_ids"][0]]  # the best target
        assert report["sent"] >= 1 and report["sent"] == report["queued"]
        assert report["frames_sent"] == report["sent"]

    # What the server stored: the observations, their FITS frames and the heartbeat.
    factory = make_session_factory(night_site["engine"])
    observations = _rows(factory, select(Observation).where(Observation.site_id == "sim"))
    assert len(observations) == report["sent"]
    assert {o.target_id for o in observations} == {night_site["target_ids"][0]}
    frames = _rows(factory, select(Frame).where(Frame.site_id == "sim"))
    assert len(frames) == report["frames_sent"]
    assert {f.observation_id for f in frames} == {o.observation_id for o in observations}
    assert _rows(factory, select(SiteStatus).where(SiteStatus.site_id == "sim"))
    # The frames the executable wrote (astropy.io.fits inside it) are real FITS files.
    state = tmp_path / "datas-agent-state"
    written = sorted((state / "frames").glob("*.fits"))
    assert len(written) == report["frames_sent"]
    header = fits.getheader(written[0])
    assert header["FILTER"] == "V" and header["CTYPE1"] == "RA---TAN"
    assert (state / "agent.log.jsonl").is_file()
