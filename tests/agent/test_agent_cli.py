"""`datas-agent` as a site owner uses it: init, check, once, run with status/pause/stop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from benchmarks.harness import api_server, free_port
from site_agent.cli import main


def _agent(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "site_agent", *args], capture_output=True, text=True, timeout=120
    )


def _init(runner: CliRunner, base: str, key: str, config: Path) -> Any:
    args = ["init", "--server", base, "--key", key, "--site-id", "sim", "-o", str(config)]
    return runner.invoke(main, args)


def test_init_check_once_and_a_controlled_run(night_site: dict, tmp_path: Path) -> None:
    config = tmp_path / "site.yaml"
    runner = CliRunner()
    with api_server(night_site["db_url"]) as base:
        result = _init(runner, base, night_site["key"], config)
        assert result.exit_code == 0, result.output
        assert oct(config.stat().st_mode & 0o777) == "0o600"
        text = config.read_text()
        port = free_port()
        text = text.replace("time_factor: 1.0", "time_factor: 0.001")
        text = text.replace("control_port: 8765", f"control_port: {port}")
        text = text.replace("min_free_disk_mb: 1024", "min_free_disk_mb: 1")
        config.write_text(text)
        again = _init(runner, base, night_site["key"], config)
        assert again.exit_code == 1 and "--force" in again.output

        checked = _agent("check", "-c", str(config))
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "server" in checked.stdout and "camera: ok" in checked.stdout

        once = _agent("once", "-c", str(config))
        assert once.returncode == 0, once.stderr
        report = json.loads(once.stdout.strip().splitlines()[-1])
        assert report["observed"] and report["sent"] >= 1

        proc = subprocess.Popen(
            [sys.executable, "-m", "site_agent", "run", "-c", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ},
        )
        try:
            deadline = time.time() + 60
            status = None
            while time.time() < deadline:
                try:
                    status = httpx.get(f"http://127.0.0.1:{port}/status", timeout=2).json()
                    break
                except httpx.HTTPError:
                    time.sleep(0.3)
            assert status is not None and status["site_id"] == "sim"
            paused = json.loads(_agent("pause", "-c", str(config)).stdout)
            assert paused["paused"] is True
            resumed = json.loads(_agent("resume", "-c", str(config)).stdout)
            assert resumed["paused"] is False
            _agent("stop", "-c", str(config))
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
    gone = _agent("status", "-c", str(config))
    assert gone.returncode == 1 and "no agent answers" in gone.stderr


def test_check_reports_a_bad_file_with_the_key_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "site.yaml"
    bad.write_text("site_id: x\nserver:\n  url: nowhere\n  key: datas_a_b\n")
    result = CliRunner().invoke(main, ["check", "-c", str(bad)])
    assert result.exit_code == 1
    assert "server.url" in result.output and "line 3" in result.output


def test_a_taken_control_port_and_a_foreign_answer_give_clear_messages(
    night_site: dict, tmp_path: Path
) -> None:
    """`run` with its control port taken used to die with a raw OSError, after which `status`
    crashed with a JSONDecodeError (something else answered on the port)."""
    import http.server
    import threading

    class NotAnAgent(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>a printer</html>")

        def log_message(self, *args: object) -> None:
            pass

    squatter = http.server.HTTPServer(("127.0.0.1", 0), NotAnAgent)
    port = squatter.server_address[1]
    threading.Thread(target=squatter.serve_forever, daemon=True).start()
    config = tmp_path / "site.yaml"
    try:
        with api_server(night_site["db_url"]) as base:
            assert _init(CliRunner(), base, night_site["key"], config).exit_code == 0
            text = config.read_text().replace("control_port: 8765", f"control_port: {port}")
            config.write_text(text.replace("time_factor: 1.0", "time_factor: 0.001"))
            ran = _agent("run", "-c", str(config))
            assert ran.returncode == 1 and "Traceback" not in ran.stderr
            assert f"control port 127.0.0.1:{port}" in ran.stderr and "control_port" in ran.stderr
            status = _agent("status", "-c", str(config))
            assert status.returncode == 1 and "Traceback" not in status.stderr
            assert "something other than a datas-agent" in status.stderr
    finally:
        squatter.shutdown()
        squatter.server_close()
