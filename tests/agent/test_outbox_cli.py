"""`datas-agent outbox list|retry|drop` on a real outbox file; what is retried is delivered to
a real API."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from benchmarks.harness import api_server
from site_agent.cli import main
from site_agent.outbox import Outbox
from site_agent.server_client import ServerClient
from site_agent.uploader import drain_observations
from tests.agent.test_uploader_live import _observation, _stored


def _site_yaml(tmp_path: Path, base: str, key: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(
        f"site_id: ond\nserver:\n  url: {base}\n  key: {key}\nstate_dir: state\n",
        encoding="utf-8",
    )
    return path


def _outbox(runner: CliRunner, config: Path, *args: str, **kwargs: str) -> tuple[int, str]:
    result = runner.invoke(main, ["outbox", *args, "-c", str(config)], **kwargs)  # type: ignore[arg-type]
    return result.exit_code, result.output


def test_list_retry_and_drop_and_the_retried_items_are_delivered(
    db_url: str, network: dict, tmp_path: Path
) -> None:
    runner = CliRunner()
    target = network["target_id"]
    queued, refused, poisoned, sent = (_observation(target, 40 - i) for i in range(4))
    with api_server(db_url) as base:
        config = _site_yaml(tmp_path, base, network["key"])
        code, out = _outbox(runner, config, "list")
        assert code == 1 and "no outbox at" in out

        box = Outbox(tmp_path / "state" / "outbox.sqlite3")
        for r in (queued, refused, poisoned, sent):
            box.put("observation", r["observation_id"], r)
        ids = {
            r["observation_id"]: i.id
            for r, i in zip((queued, refused, poisoned, sent), box.due("observation"), strict=True)
        }
        # what an older agent did on a 401: dead for good
        box.mark_dead(ids[refused["observation_id"]], "401: invalid or revoked API key")
        box.mark_failed(ids[poisoned["observation_id"]], "HTTP 500: ingest crashed", max_tries=1)
        box.mark_sent([ids[sent["observation_id"]]])
        box.close()

        code, out = _outbox(runner, config, "list")
        assert code == 0, out
        lines = out.splitlines()
        assert lines[0].split()[:6] == ["ID", "KIND", "STATE", "TRIES", "AGE", "NEXT"]
        assert [line.split()[2] for line in lines[1:]] == ["queued", "dead", "dead", "sent"]
        assert "401: invalid or revoked API key" in out

        code, out = _outbox(runner, config, "list", "--state", "dead", "--json")
        dead = json.loads(out)
        assert code == 0 and [d["key"] for d in dead] == [
            refused["observation_id"],
            poisoned["observation_id"],
        ]
        assert dead[1]["tries"] == 1 and "ingest crashed" in dead[1]["last_error"]
        assert dead[1]["state"] == "dead" and dead[1]["next_attempt_at"] is None

        code, out = _outbox(runner, config, "retry")
        assert code == 2 and "--all-dead" in out
        code, out = _outbox(runner, config, "retry", "no-such-item")
        assert code == 1 and "no such item: no-such-item" in out

        # drop asks first; an operator who says no keeps the item
        code, out = _outbox(runner, config, "drop", poisoned["observation_id"], input="n\n")
        assert code == 1 and len(json.loads(_outbox(runner, config, "list", "--json")[1])) == 4
        code, out = _outbox(runner, config, "drop", str(ids[poisoned["observation_id"]]), "--yes")
        assert code == 0 and "dropped 1 item(s)" in out

        code, out = _outbox(runner, config, "retry", "--all-dead")
        assert code == 0 and "queued 1 item(s) again" in out
        code, out = _outbox(runner, config, "retry", sent["observation_id"])
        assert "queued 0 item(s)" in out  # a sent item stays sent

        box = Outbox(tmp_path / "state" / "outbox.sqlite3")
        client = ServerClient(base, network["key"])
        assert drain_observations(box, client).sent == 2  # the queued one and the retried one
        client.close()
        box.close()
        code, out = _outbox(runner, config, "list", "--state", "queued")
        assert code == 0 and out.strip() == "no queued items"
        code, out = _outbox(runner, config, "list", "--state", "dead")
        assert out.strip() == "no dead items"
    assert _stored(network["engine"]) == 2
