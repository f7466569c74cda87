"""One normalized alert, whatever the feed: what the rules, storage and targets work from.

Every value object checks itself when built (`__post_init__`), so an `Alert` that exists is
within the bounds of `validate.py`; a parser builds one and lets `AlertParseError` say why not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple

from datas_core.alerts import validate as v
from datas_core.alerts.errors import AlertParseError

# Feeds the parsers produce; today's JSON (`AlertIn`) may name others matching its pattern.
KNOWN_FEEDS = ("ztf", "fink", "alerce", "lasair", "gcn", "voevent", "tns", "gaia")
Role = Literal["observation", "prediction", "test", "utility"]  # VOEvent's roles
ROLES: tuple[Role, ...] = ("observation", "prediction", "test", "utility")
DetailValue = float | int | str | bool


@dataclass(frozen=True)
class Position:
    """Where, in degrees (ICRS/J2000), and how well: a circle of `error_deg` radius.

    `containment` is the probability that the source is inside that circle (0.68, 0.9) when the
    feed says so; None when it does not. An error of 0 or none given is `error_deg=None`.
    """

    ra_deg: float
    dec_deg: float
    error_deg: float | None = None
    containment: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "ra_deg", v.ra_deg(self.ra_deg))
        v.dec_deg(self.dec_deg)
        if self.error_deg is not None:
            v.in_range(self.error_deg, "error radius (deg)", 0.0, 180.0)
            if self.error_deg == 0.0:
                object.__setattr__(self, "error_deg", None)
        if self.containment is not None:
            v.probability(self.containment, "containment probability")


@dataclass(frozen=True)
class SkyMap:
    """A probability map instead of (or besides) a circle: a URL, embedded FITS bytes, or both.

    `ordering` is the FITS ORDERING card (NUNIQ for a multi-order map), `pixels` the table rows,
    `max_order` MOCORDER, `nside` NSIDE of a flat map: read from the header when cheap.
    """

    url: str | None = None
    data: bytes | None = None
    ordering: str | None = None
    pixels: int | None = None
    max_order: int | None = None
    nside: int | None = None

    def __post_init__(self) -> None:
        if self.url is None and self.data is None:
            raise AlertParseError("a sky map needs a URL or data")
        if self.url is not None:
            v.url(self.url, "sky map URL")
        if self.ordering is not None:
            v.text(self.ordering, "sky map ORDERING", 32)


@dataclass(frozen=True)
class Brightness:
    mag: float
    mag_err: float | None = None
    band: str | None = None

    def __post_init__(self) -> None:
        v.magnitude(self.mag)
        if self.mag_err is not None:
            v.magnitude_error(self.mag_err)
        if self.band is not None:
            v.text(self.band, "band", v.MAX_BAND)


@dataclass(frozen=True)
class PhotometryPoint:
    """One history point: a detection (`mag`) or a non-detection (`limit_mag`, fainter than).

    `negative` marks a negative subtraction (the source got fainter than the reference);
    `forced` marks forced photometry at the known position (ZTF `fp_hists`).
    """

    time: datetime
    band: str
    mag: float | None = None
    mag_err: float | None = None
    limit_mag: float | None = None
    negative: bool = False
    forced: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", v.utc_time(self.time, "photometry time"))
        v.text(self.band, "band", v.MAX_BAND)
        if (self.mag is None) == (self.limit_mag is None):
            raise AlertParseError("a photometry point needs either a magnitude or a limit")
        if self.mag is not None:
            v.magnitude(self.mag)
        if self.mag_err is not None:
            v.magnitude_error(self.mag_err)
        if self.limit_mag is not None:
            v.magnitude(self.limit_mag, "limiting magnitude")

    @property
    def upper_limit(self) -> bool:
        return self.mag is None


@dataclass(frozen=True)
class Link:
    label: str
    url: str

    def __post_init__(self) -> None:
        v.text(self.label, "link label", 64)
        v.url(self.url)


@dataclass(frozen=True, kw_only=True)
class Alert:
    """A normalized alert.

    - `feed` + `key` is the natural key (ZTF candid, VOEvent ivorn, GCN schema + id + record,
      LVK superevent + type + time, TNS objname + lastmodified, Gaia name): unique per feed.
    - `event_id` groups the notices of one event across feeds ("swift:532871",
      "lvk:S230518h", "ztf:ZTF19acihgng", "tns:2024abc", "gaia:Gaia16aac"); None if unknown.
    - `position` or `skymap` or neither (a notice with no localization); `retracted` marks a
      retraction (it changes the event's state, it deletes nothing).
    - `raw` is the payload as received when the input held one alert; for one alert out of a
      container it is the smallest self-contained slice (see each parser).
    """

    feed: str
    key: str
    event_id: str | None
    event_time: datetime | None
    role: Role = "observation"
    name: str | None = None
    source: str | None = None  # mission / instrument / survey, e.g. "Swift BAT-GUANO"
    alert_type: str | None = None  # initial, update, preliminary, retraction...
    issued_at: datetime | None = None
    position: Position | None = None
    skymap: SkyMap | None = None
    brightness: Brightness | None = None
    classification: str | None = None
    classification_probability: float | None = None
    class_probabilities: tuple[tuple[str, float], ...] = ()
    aliases: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    retracted: bool = False
    history: tuple[PhotometryPoint, ...] = ()
    negative_subtraction: bool = False
    solar_system_object: bool = False
    solar_system_name: str | None = None
    real_bogus: float | None = None  # 0 bogus .. 1 real (ZTF drb, else rb)
    description: str | None = None
    details: Mapping[str, DetailValue] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # what was skipped without refusing the alert
    raw: bytes = b""
    raw_content_type: str = "application/octet-stream"

    def __post_init__(self) -> None:
        v.text(self.feed, "feed", v.MAX_FEED)
        v.text(self.key, "natural key", v.MAX_KEY)
        if self.event_id is not None:
            v.text(self.event_id, "event id", v.MAX_KEY)
        if self.role not in ROLES:
            raise AlertParseError(f"role {self.role!r} is not one of {', '.join(ROLES)}")
        for name in ("event_time", "issued_at"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, v.utc_time(value, name.replace("_", " ")))
        for name, limit in (("name", v.MAX_NAME), ("source", v.MAX_NAME), ("alert_type", 64)):
            if getattr(self, name) is not None:
                v.text(getattr(self, name), name.replace("_", " "), limit)
        if self.classification is not None:
            v.text(self.classification, "classification", v.MAX_CLASSIFICATION)
        if self.classification_probability is not None:
            v.probability(self.classification_probability, "classification probability")
        v.count(self.class_probabilities, "class probabilities", v.MAX_CLASSES)
        for label, p in self.class_probabilities:
            v.text(label, "class name", v.MAX_CLASSIFICATION)
            v.probability(p, f"probability of {label[:40]}")
        v.count(self.aliases, "aliases", v.MAX_ALIASES)
        for alias in self.aliases:
            v.text(alias, "alias", v.MAX_NAME)
        v.count(self.links, "links", v.MAX_LINKS)
        v.count(self.history, "photometry history", v.MAX_HISTORY)
        if self.solar_system_name is not None:
            v.text(self.solar_system_name, "solar-system object name", v.MAX_NAME)
        if self.real_bogus is not None:
            v.probability(self.real_bogus, "real/bogus score")
        if self.description is not None:
            v.text(self.description, "description", v.MAX_DESCRIPTION, empty_ok=True)
        if len(self.details) > v.MAX_DETAILS:
            raise AlertParseError(f"{len(self.details)} details; at most {v.MAX_DETAILS}")
        for detail, value in self.details.items():
            v.detail_value(detail, value)
        v.count(self.warnings, "warnings", v.MAX_WARNINGS)
        if not isinstance(self.raw, bytes):
            raise AlertParseError("the raw payload must be bytes")

    # `details` is a dict: hash what identifies the alert (equal alerts share these).
    def __hash__(self) -> int:
        return hash((self.feed, self.key, self.raw))


class ParseOutcome(NamedTuple):
    """What came out of one input: the alerts that parsed, and one error per alert that did not.

    An input that cannot be read at all (unknown format, corrupt container header, unsafe XML)
    raises `AlertParseError` instead; a container with one bad alert returns the others here.
    """

    alerts: list[Alert]
    errors: list[AlertParseError]

    @staticmethod
    def of(*alerts: Alert) -> ParseOutcome:
        return ParseOutcome(list(alerts), [])
