"""Dagster's home for `datas up`: storage created once, and the code location checked loaded.

Starting dagster-webserver and dagster-daemon at the same moment on an empty SQLite home lets
both create Dagster's storage at once, which can leave its migration table with two heads; the
code location then never loads again. So the storage is created (and migrated) here, by one
process, before either starts; and after the webserver answers, the location's load status is
read back instead of assuming it loaded.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx

LOCATION_QUERY = """
{ workspaceOrError { __typename
    ... on Workspace { locationEntries { name loadStatus
        locationOrLoadError { __typename ... on PythonError { message } } } }
    ... on PythonError { message } } }
"""


class DagsterNotReady(Exception):
    """Dagster cannot start or load the code; the message says what to do."""


def prepare_home(dagster_home: Path, project_yaml: Path, env: dict[str, str]) -> None:
    """Create DAGSTER_HOME with its dagster.yaml and create/migrate the instance's storage."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    if project_yaml.exists() and not (dagster_home / "dagster.yaml").exists():
        shutil.copy(project_yaml, dagster_home / "dagster.yaml")
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run(
        [str(dagster), "instance", "migrate"],
        env={**env, "DAGSTER_HOME": str(dagster_home)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-6:])
        raise DagsterNotReady(
            f"Dagster's storage in {dagster_home} could not be created or migrated:\n{tail}\n"
            f"If it was damaged by an earlier start, stop `datas up`, delete {dagster_home} "
            "(only Dagster's run history is lost; observations and frames are elsewhere) "
            "and start again; or run with --no-dagster"
        )


def location_status(dagster_url: str) -> tuple[bool, str | None]:
    """(True, None) once every code location loaded; (False, what is wrong or None) before."""
    try:
        answer = httpx.post(
            f"{dagster_url}/graphql", json={"query": LOCATION_QUERY}, timeout=10
        ).json()
    except (httpx.HTTPError, ValueError) as exc:
        return False, f"the Dagster UI does not answer its GraphQL query ({exc})"
    workspace = (answer.get("data") or {}).get("workspaceOrError") or {}
    if workspace.get("__typename") != "Workspace":
        return False, workspace.get("message") or f"unexpected answer: {answer}"
    entries = workspace.get("locationEntries") or []
    for entry in entries:
        loaded = entry.get("locationOrLoadError") or {}
        if loaded.get("__typename") == "PythonError":
            first = " ".join((loaded.get("message") or "").strip().splitlines()[:3])
            return False, f"code location {entry.get('name')!r} failed to load: {first}"
    done = bool(entries) and all(
        e.get("loadStatus") == "LOADED" and e.get("locationOrLoadError") for e in entries
    )
    return done, None
