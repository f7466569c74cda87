"""`make bench`: run every benchmark script; each prints its own JSON."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    "api_targets.py",
    "ingest.py",
    "scheduler.py",
    "agent.py",
    "reduction.py",
    "login_flood.py",
    "dashboard.py",
]

if __name__ == "__main__":
    failed = [s for s in SCRIPTS if subprocess.call([sys.executable, str(HERE / s)]) != 0]
    if failed:
        print(f"benchmarks failed: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)
