"""The owner's own plans: what to do in `sequential` and `repeat` modes, and in `network` mode
when the server is out of reach and the cached list has run dry.

Every plan becomes a list of actions (`slew`, `expose`, `dark`, `flat`, `wait`, `log`), the same
form a scripted plan produces, so the executor runs both the same way. Which plans are done
(sequential) or whose turn it is (repeat) is kept in the state directory across restarts.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from site_agent.config import LocalPlan
from site_agent.plans import run_script, script_runs_from_csv

Action = tuple[str, dict[str, Any]]


def plan_actions(plan: LocalPlan) -> list[Action]:
    """The plan as actions; scripts are checked and run against the recording plan API."""
    actions: list[Action] = []
    if plan.ra_deg is not None and plan.dec_deg is not None:
        actions.append(("slew", {"ra_deg": plan.ra_deg, "dec_deg": plan.dec_deg}))
    if plan.script is not None:
        source = plan.script.read_text(encoding="utf-8")
        if plan.args_csv is not None:
            for run in script_runs_from_csv(source, plan.args_csv):
                actions.extend(run)
        else:
            actions.extend(run_script(source))
        return actions
    for _ in range(plan.repeats):
        for step in plan.sequence:
            params: dict[str, Any] = {"exposure_sec": step.exposure_sec, "count": step.count}
            if step.kind != "dark":
                params["filter"] = step.filter
            actions.append(({"light": "expose"}.get(step.kind, step.kind), params))
    return actions


def plan_seconds(actions: list[Action]) -> float:
    """A rough duration (exposures + 10 s readout each, waits, a minute of slewing)."""
    total = 60.0
    for kind, params in actions:
        if kind in ("expose", "dark", "flat"):
            count = int(params.get("count") or 1)
            total += count * (float(params.get("exposure_sec") or 1.0) + 10.0)
        elif kind == "wait":
            total += float(params.get("seconds") or 0.0)
    return total


class LocalQueue:
    def __init__(self, plans: list[LocalPlan], state_file: Path) -> None:
        self.plans = plans
        self.state_file = state_file
        state = self._load()
        self.done: set[str] = set(state.get("done", []))
        self.next_index: int = int(state.get("next_index", 0))

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_file.read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _save(self) -> None:
        temp = self.state_file.with_suffix(".tmp")
        temp.write_text(json.dumps({"done": sorted(self.done), "next_index": self.next_index}))
        temp.replace(self.state_file)

    def candidates(self, mode: str, now: float) -> list[LocalPlan]:
        """Plans in the order to try them: sequential = by start time, started and not yet
        done; repeat = round robin from the one whose turn it is."""
        if not self.plans:
            return []
        if mode == "repeat":
            n = len(self.plans)
            return [self.plans[(self.next_index + k) % n] for k in range(n)]
        when = datetime.fromtimestamp(now, tz=timezone.utc)
        waiting = [
            p
            for p in self.plans
            if _key(p) not in self.done and (p.start is None or _utc(p.start) <= when)
        ]
        order = {id(p): i for i, p in enumerate(self.plans)}
        return sorted(waiting, key=lambda p: (_utc(p.start) if p.start else when, order[id(p)]))

    def finished(self, plan: LocalPlan, mode: str) -> None:
        if mode == "repeat":
            self.next_index = (self.plans.index(plan) + 1) % len(self.plans)
        else:
            self.done.add(_key(plan))
        self._save()


def _key(plan: LocalPlan) -> str:
    return f"{plan.name}@{plan.start.isoformat() if plan.start else ''}"


def _utc(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
