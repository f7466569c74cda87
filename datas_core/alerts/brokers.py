"""The interface broker REST clients (Fink, ALeRCE, Lasair) will implement; no network code here.

One small client per broker behind this protocol (the anchors' broker-plugin pattern), each with
its endpoint configurable, answering in normalized alerts so the rules see one shape.
"""

from __future__ import annotations

from typing import Protocol

from datas_core.alerts.model import ParseOutcome


class BrokerClient(Protocol):
    """A broker's REST API for ZTF (later Rubin) objects."""

    feed: str  # "fink", "alerce", "lasair": the feed its alerts are stored under

    def object_alerts(self, object_id: str) -> ParseOutcome:
        """Every alert the broker holds for one object (e.g. ZTF19acihgng)."""
        ...

    def poll(self, cursor: str | None, limit: int) -> tuple[ParseOutcome, str | None]:
        """Alerts newer than `cursor`, at most `limit`, and the cursor to persist after them."""
        ...
