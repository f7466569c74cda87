"""External alerts (ZTF, brokers, GCN, VOEvent, TNS, Gaia) parsed into one normalized `Alert`.

`parse_any(data, content_type, filename)` detects the format and returns
`ParseOutcome(alerts, errors)`; every failure is an `AlertParseError` with a reason.
"""

from datas_core.alerts.detect import MAX_INPUT_BYTES, detect_format, parse_any
from datas_core.alerts.errors import AlertParseError
from datas_core.alerts.model import (
    KNOWN_FEEDS,
    Alert,
    Brightness,
    Link,
    ParseOutcome,
    PhotometryPoint,
    Position,
    SkyMap,
)

__all__ = [
    "KNOWN_FEEDS",
    "MAX_INPUT_BYTES",
    "Alert",
    "AlertParseError",
    "Brightness",
    "Link",
    "ParseOutcome",
    "PhotometryPoint",
    "Position",
    "SkyMap",
    "detect_format",
    "parse_any",
]
