"""The `datas` CLI as an operator uses it: tables by default, JSON with --json, clear errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from datas_cli.main import cli
from datas_core.settings import get_settings


@pytest.fixture
def run(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    monkeypatch.setenv("DATAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DATAS_DATABASE_URL", db_url)
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, ok: bool = True):
        result = runner.invoke(cli, list(args), input=input, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    yield invoke
    get_settings.cache_clear()


def test_demo_seed_builds_a_realistic_network(run) -> None:
    report = json.loads(run("demo", "seed", "--json").output)
    assert report["sites_added"] >= 12 and report["targets_added"] >= 200
    assert report["campaigns_added"] == 3
    again = json.loads(run("demo", "seed", "--json").output)
    assert again == {
        "sites_added": 0,
        "targets_added": 0,
        "campaigns_added": 0,
        "campaign_members_added": 0,
    }
    sites = json.loads(run("sites", "list", "--json").output)
    continents = {s["timezone"].split("/")[0] for s in sites}
    assert (
        len(continents) >= 4
        and any(s["latitude"] < 0 for s in sites)
        and any(s["latitude"] > 0 for s in sites)
    )
    algol = json.loads(run("targets", "list", "--json", "--limit", "1000").output)
    by_name = {t["name"]: t for t in algol}
    assert (
        abs(by_name["bet Per"]["ra_deg"] - 47.0422) < 0.001
        and abs(by_name["bet Per"]["dec_deg"] - 40.9556) < 0.001
    )
    assert {t["target_type"] for t in algol} >= {"variable_star", "exoplanet_transit"}
    campaigns = json.loads(run("campaigns", "list", "--json").output)
    assert len(campaigns) == 3 and all(c["target_count"] > 0 for c in campaigns)


def test_keys_sites_targets_campaigns(run, tmp_path: Path) -> None:
    out = run(
        "sites",
        "add",
        "ond-cz",
        "--name",
        "Ondrejov",
        "--lat",
        "49.9106",
        "--lon",
        "14.7836",
        "--filters",
        "B,V,R",
        "--aperture",
        "650",
    ).output
    assert "ond-cz" in out
    created = json.loads(
        run("keys", "create", "--role", "site", "--site", "ond-cz", "--json").output
    )
    assert set(created) >= {"key", "key_id", "role"} and created["role"] == "site"
    assert created["key"].startswith(f"datas_{created['key_id']}_")
    listed = json.loads(run("keys", "list", "--json").output)
    assert [k["key_id"] for k in listed] == [created["key_id"]] and "key" not in listed[0]
    assert "revoked" in run("keys", "revoke", created["key_id"]).output
    assert json.loads(run("keys", "list", "--json").output) == []
    bad = run("keys", "create", "--role", "site", "--site", "nowhere", ok=False)
    assert bad.exit_code == 1 and "nowhere" in bad.output and "Traceback" not in bad.output

    run("targets", "add", "Algol", "--ra", "03:08:10.13", "--dec", "+40:57:20.3", "--priority", "8")
    dup = run("targets", "add", "Algol", "--ra", "1", "--dec", "1", ok=False)
    assert dup.exit_code == 1 and "already exists" in dup.output
    csv = tmp_path / "t.csv"
    csv.write_text("name,ra_deg,dec_deg,magnitude\nRR Lyr,291.3662,42.7844,7.2\nBad,500,0,1\n")
    failed = run("targets", "import", str(csv), ok=False)
    assert (
        failed.exit_code == 1
        and "line 3" in failed.output
        and "nothing was imported" in failed.output
    )
    partial = json.loads(run("targets", "import", str(csv), "--skip-bad-rows", "--json").output)
    assert partial["imported"] == 1 and partial["errors"][0]["line"] == 3
    run("campaigns", "add", "Minima", "--redundancy", "diverse")
    assert (
        "2 target(s) added" in run("campaigns", "add-targets", "Minima", "Algol", "RR Lyr").output
    )
    table = run("targets", "list", "--campaign", "Minima").output
    assert "Algol" in table and "RR Lyr" in table


def test_users_create_and_errors(run) -> None:
    out = run(
        "users",
        "create",
        "ada",
        "--role",
        "admin",
        "--password-stdin",
        "--json",
        input="a long enough password\n",
    ).output
    assert json.loads(out)[0]["username"] == "ada"
    short = run("users", "create", "bob", "--password-stdin", input="short\n", ok=False)
    assert short.exit_code == 1 and "password" in short.output


def test_database_not_upgraded_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAS_HOME", str(tmp_path))
    monkeypatch.delenv("DATAS_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["sites", "list"])
    get_settings.cache_clear()
    assert result.exit_code == 1 and "datas db upgrade" in result.output


def test_schedule_preview_on_the_demo_network(run) -> None:
    run("demo", "seed")
    at = "2026-11-23T22:00Z"  # night in South Africa (bfn-zaf, Boyden Observatory)
    plain = run("schedule", "preview", "--site", "bfn-zaf", "--at", at)
    assert "weather unknown" in plain.output and "--assume-clear" in plain.output
    answer = json.loads(
        run(
            "schedule",
            "preview",
            "--site",
            "bfn-zaf",
            "--at",
            at,
            "--assume-clear",
            "--count",
            "5",
            "--json",
        ).output
    )
    assert answer["site_reason"] is None and answer["site_id"] == "bfn-zaf"
    rows = answer["targets"]
    assert len(rows) == 5
    assert {"target_id", "name", "score", "altitude_deg", "terms"} <= set(rows[0])
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    assert all(r["altitude_deg"] >= 20 for r in rows)
    table = run("schedule", "preview", "--site", "bfn-zaf", "--at", at, "--assume-clear")
    assert "priority=" in table.output and "in this site's slot" in table.output
    day = run(
        "schedule", "preview", "--site", "bfn-zaf", "--at", "2026-11-23T10:00Z", "--assume-clear"
    )
    assert "daylight" in day.output
    day_json = json.loads(
        run(
            "schedule", "preview", "--site", "bfn-zaf", "--at", "2026-11-23T10:00Z", "--json"
        ).output
    )
    assert day_json["targets"] == [] and day_json["site_reason"] == "daylight"
    assert "night" in day_json["hint"]
    missing = run("schedule", "preview", "--site", "nowhere", ok=False)
    assert missing.exit_code == 1 and "nowhere" in missing.output
    bad = run("schedule", "preview", "--site", "bfn-zaf", "--at", "tonight", ok=False)
    assert bad.exit_code == 2 and "ISO time" in bad.output


def test_schedule_simulate_compares_with_per_site_greedy(run) -> None:
    empty = run("schedule", "simulate", "--night", "2026-11-23", ok=False)
    assert empty.exit_code == 1 and "demo seed" in empty.output
    run("demo", "seed")
    result = json.loads(
        run("schedule", "simulate", "--night", "2026-11-23", "--step", "20", "--json").output
    )
    network, greedy = result["network"], result["per_site_greedy"]
    assert result["sites"] >= 12 and network["observations"] > 50
    assert network["same_slot_duplicates"] < greedy["same_slot_duplicates"]
    assert 0 < network["high_priority_coverage"] <= 1


def test_demo_weather_makes_the_demo_network_schedulable(run, db_url: str) -> None:
    from datetime import datetime, timezone

    from datas_core.db import make_engine, make_session_factory, session_scope
    from datas_core.demo.weather import DemoWeather
    from datas_core.scheduling.inputs import SchedulerConfig
    from datas_core.services import rankings

    run("demo", "seed")
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        assert DemoWeather(seed=3).report(session) >= 12
        run_ = rankings.compute_rankings(session, datetime.now(timezone.utc), SchedulerConfig(), 15)
    engine.dispose()
    reasons = [v["site_reason"] or "" for v in run_.sites.values()]
    assert not any("weather unknown" in r for r in reasons)
    # Somewhere on Earth it is night: some demo sites have targets now.
    assert run_.stats["sites_with_targets"] >= 1
