"""Scripted plans: checked by their syntax tree before anything runs; CSV rows as arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

from site_agent.plans import PlanError, check_script, run_script, script_runs_from_csv

GOOD = """
import math
log(f"time series of {name}")
slew(ra, dec)
for i in range(repeats):
    for band in ["B", "V"]:
        expose(band, 30 if band == "B" else 20, count=1)
dark(30, 3)
flat("V", count=max(1, round(math.sqrt(4))))
"""


def test_a_good_script_runs_and_asks_for_actions() -> None:
    actions = run_script(GOOD, {"name": "RR Lyr", "ra": 291.37, "dec": 42.78, "repeats": 2})
    kinds = [k for k, _ in actions]
    assert kinds == ["log", "slew", "expose", "expose", "expose", "expose", "dark", "flat"]
    assert actions[1][1] == {"ra_deg": 291.37, "dec_deg": 42.78}
    assert actions[2][1] == {"filter": "B", "exposure_sec": 30, "count": 1}
    assert actions[-1][1] == {"filter": "V", "count": 2}


@pytest.mark.parametrize(
    ("script", "line", "words"),
    [
        ("x = 1\nimport os\n", 2, "only math"),
        ("from subprocess import run\n", 1, "only math"),
        ("open('/etc/passwd')\n", 1, "'open' is not allowed"),
        ("log(1)\n__import__('os')\n", 2, "__import__"),
        ("x = ().__class__\n", 1, "attribute access"),
        ("x = f'{log.__globals__}'\n", 1, "attribute access"),
        ("while True:\n    pass\n", 1, "While is not allowed"),
        ("def f():\n    pass\n", 1, "FunctionDef"),
        ("y = lambda: 1\n", 1, "Lambda"),
        ("x = [i for i in range(3)]\n", 1, "ListComp"),
        ("eval('1')\n", 1, "'eval' is not allowed"),
        ("x = 10 ** 10\n", 1, "** is not allowed"),
        ("expose('V', 30\n", 1, "syntax error"),
    ],
)
def test_hostile_or_invalid_scripts_are_rejected_before_running(
    script: str, line: int, words: str
) -> None:
    with pytest.raises(PlanError) as info:
        check_script(script)
    assert info.value.line == line and words in str(info.value)


def test_runaway_loops_and_bad_calls_stop_with_the_line() -> None:
    with pytest.raises(PlanError, match="10000 steps"):
        run_script("for i in range(200):\n    for j in range(200):\n        wait(1)\n")
    with pytest.raises(PlanError) as info:
        run_script("slew(1, 2)\nexpose('V', 30, gain=3)\n")
    assert "no argument 'gain'" in str(info.value)
    with pytest.raises(PlanError) as info:
        run_script("x = 1\ny = x / 0\n")
    assert info.value.line == 2 and "ZeroDivisionError" in str(info.value)


def test_one_run_per_csv_row(tmp_path: Path) -> None:
    rows = tmp_path / "targets.csv"
    rows.write_text("name,ra,dec,repeats\nRR Lyr,291.37,42.78,1\nbet Per,47.04,40.96,2\n")
    runs = script_runs_from_csv(GOOD, rows)
    assert [sum(k == "expose" for k, _ in r) for r in runs] == [2, 4]
    bad = tmp_path / "bad.csv"
    bad.write_text("name,__class__\nx,1\n")
    with pytest.raises(PlanError, match="not a variable name"):
        script_runs_from_csv(GOOD, bad)
