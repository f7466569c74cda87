"""CLI changes are audited as `cli:<os user>` from `cli@<host>`; `datas audit list` shows them."""

from __future__ import annotations

import getpass
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from datas_cli.main import cli
from datas_core.settings import get_settings

PASSWORD = "a long enough password"


@pytest.fixture
def run(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("DATAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DATAS_DATABASE_URL", db_url)
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, ok: bool = True) -> Any:
        result = runner.invoke(cli, list(args), input=input, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    yield invoke
    get_settings.cache_clear()


def _audit(run: Any, *args: str) -> list[dict[str, Any]]:
    return json.loads(run("audit", "list", "--json", *args).output)  # type: ignore[no-any-return]


def test_cli_changes_are_audited_and_listed(run: Any, tmp_path: Path) -> None:
    run("sites", "add", "ond-cz", "--name", "Ondrejov", "--lat", "49.91", "--lon", "14.78")
    key = json.loads(run("keys", "create", "--role", "site", "--site", "ond-cz", "--json").output)
    run("keys", "revoke", key["key_id"])
    run("users", "create", "ada", "--password-stdin", input=PASSWORD + "\n")
    run("targets", "add", "Algol", "--ra", "47.04", "--dec", "40.96")
    csv = tmp_path / "t.csv"
    csv.write_text("name,ra_deg,dec_deg\nRR Lyr,291.3662,42.7844\nMira,34.84,-2.98\n")
    run("targets", "import", str(csv))
    run("campaigns", "add", "Minima")
    run("campaigns", "add-targets", "Minima", "Algol", "RR Lyr")

    entries = _audit(run)
    assert [(e["action"], e["object_type"]) for e in entries] == [
        ("campaign.add_targets", "campaign"),
        ("campaign.create", "campaign"),
        ("target.import", "target"),
        ("target.create", "target"),
        ("user.create", "user"),
        ("key.revoke", "api_key"),
        ("key.create", "api_key"),
        ("site.create", "site"),
    ]
    user = getpass.getuser()
    assert all(e["actor"] == f"cli:{user}" for e in entries)
    assert all(e["source"] == f"cli@{socket.gethostname()}" for e in entries)
    by_action = {e["action"]: e for e in entries}
    assert by_action["site.create"]["object_id"] == "ond-cz"
    assert by_action["key.create"]["object_id"] == key["key_id"]
    assert by_action["target.import"]["detail"] == {"file": "t.csv", "rows": 2, "imported": 2}
    assert by_action["campaign.add_targets"]["detail"]["added"] == 2
    dumped = json.dumps(entries)
    assert key["key"] not in dumped and PASSWORD not in dumped

    assert [e["action"] for e in _audit(run, "--action", "key.create")] == ["key.create"]
    assert len(_audit(run, "--limit", "3")) == 3
    table = run("audit", "list").output
    assert "site.create" in table and f"cli:{user}" in table


def test_refused_cli_changes_leave_no_entry(run: Any, tmp_path: Path) -> None:
    run("sites", "add", "ond-cz", "--name", "Ondrejov", "--lat", "49.91", "--lon", "14.78")
    run("sites", "add", "ond-cz", "--name", "Again", "--lat", "1", "--lon", "1", ok=False)
    run("keys", "create", "--role", "site", "--site", "nowhere", ok=False)
    csv = tmp_path / "bad.csv"
    csv.write_text("name,ra_deg,dec_deg\nGood,1,1\nBad,500,0\n")
    run("targets", "import", str(csv), ok=False)  # all or nothing: nothing was imported
    assert [e["action"] for e in _audit(run)] == ["site.create"]
