"""The one error every alert parser raises: a reason a person can act on."""

from __future__ import annotations

from datas_core.errors import InvalidInput


class AlertParseError(InvalidInput):
    """An alert (or a whole input) that cannot be read or is not believable.

    `index` is the alert's position in a container (Avro, CSV, JSON list) and `key` its natural
    key when they are known, so one bad alert in a batch can be reported on its own.
    """

    code = "alert_parse_error"

    def __init__(self, reason: str, *, index: int | None = None, key: str | None = None):
        where = []
        if index is not None:
            where.append(f"alert {index}")
        if key:
            where.append(f"key {key[:80]}")
        message = f"{' '.join(where)}: {reason}" if where else reason
        super().__init__(message)
        self.reason = reason
        self.index = index
        self.key = key

    def at(self, index: int | None = None, key: str | None = None) -> AlertParseError:
        """The same reason, placed in a container (keeps what was already known)."""
        return AlertParseError(
            self.reason,
            index=self.index if index is None else index,
            key=self.key or key,
        )
