"""JSON text the system writes: always valid JSON (no NaN or Infinity tokens).

Python's json module writes `NaN` by default, which no other JSON parser reads: one such value
in a served list once stopped a site agent for good. Inputs are refused upstream
(datas_core.schemas.common); this is the last line for values computed on the way out.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

log = logging.getLogger("datas.json")


def strict_dumps(value: Any) -> str:
    """For storage: raises ValueError on a non-finite number instead of writing invalid JSON."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def wire_json(value: Any) -> str:
    """For answers: a non-finite number becomes null (logged) rather than breaking the answer."""
    try:
        return strict_dumps(value)
    except ValueError:
        log.warning("non-finite number replaced by null in an answer")
        return strict_dumps(finite_or_null(value))


def finite_or_null(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_null(v) for v in value]
    return value
