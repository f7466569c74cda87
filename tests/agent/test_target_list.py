"""The ranked list's entry-by-entry check: what is kept, what is refused and why."""

from __future__ import annotations

import json
from typing import Any

import pytest

from site_agent.target_list import TargetListError, read_entries, read_target_list

GOOD = {
    "target_id": 7,
    "name": "RR Lyr",
    "ra_deg": 291.37,
    "dec_deg": 42.78,
    "exposure_plan": {"filter": "V", "exposure_sec": 20.0, "count": 2},
}


def _with(**changes: Any) -> dict[str, Any]:
    entry = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    return entry


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (_with(terms={"moon": [1.0, float("nan")]}), "terms.moon[1] is NaN"),
        (_with(airmass=float("-inf")), "airmass is Infinity"),
        (_with(target_id=None), "target_id: expected a positive integer, got None"),
        (_with(target_id=True), "target_id: expected a positive integer, got True"),
        (_with(target_id="7"), "target_id: expected a positive integer, got '7'"),
        (_with(dec_deg=None), "dec_deg is missing"),
        (_with(ra_deg=360.0), "ra_deg: 360 is outside [0, 360)"),
        (_with(dec_deg=-91), "dec_deg: -91 is outside [-90, 90]"),
        (_with(name=""), "name: expected a text"),
        (_with(exposure_plan=[20]), "exposure_plan: expected an object, got a list"),
        (_with(exposure_plan={"exposure_sec": 0}), "exposure_sec: must be above 0"),
        (_with(exposure_plan={"exposure_sec": 7200}), "7200 is outside [0, 3600]"),
        (_with(exposure_plan={"count": 2.5}), "exposure_plan.count: expected 1..1000, got 2.5"),
        (_with(exposure_plan={"filter": 3}), "exposure_plan.filter: expected a filter name"),
        ("Z0", "expected an object, got a text"),
    ],
)
def test_a_bad_entry_is_skipped_with_its_reason_and_the_good_one_kept(
    entry: Any, reason: str
) -> None:
    checked = read_entries([entry, GOOD])
    assert [t.target_id for t in checked.targets] == [7]
    (why,) = checked.rejected
    assert why.startswith("entry 0") and reason in why, why


def test_defaults_and_the_cache_round_trip() -> None:
    (target,) = read_entries([_with(name=None, exposure_plan=None)]).targets
    assert (target.name, target.filter, target.exposure_sec, target.count) == (
        "target 7",
        "V",
        30.0,
        1,
    )
    (same,) = read_entries([_with(exposure_plan={"count": 2.0})]).targets
    assert same.count == 2
    assert read_entries([target.as_dict()]).targets == [target]


@pytest.mark.parametrize("body", [None, [], "targets", {"targets": {}}, {"total": 0}])
def test_an_answer_that_is_not_a_list_is_refused_whole(body: Any) -> None:
    with pytest.raises(TargetListError, match="expected an object with a 'targets' list"):
        read_target_list(body)
