"""App database tables (DESIGN.md section 4): one portable schema for SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; attach a timezone (UTC)")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Site(Base):
    __tablename__ = "sites"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    elevation_m: Mapped[float] = mapped_column(Float, default=0.0)
    timezone: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(64))
    owner: Mapped[str | None] = mapped_column(String(200))
    aperture_mm: Mapped[float | None] = mapped_column(Float)
    focal_length_mm: Mapped[float | None] = mapped_column(Float)
    filters: Mapped[list[str]] = mapped_column(JSON, default=list)
    fov_arcmin: Mapped[float | None] = mapped_column(Float)
    limiting_mag: Mapped[float | None] = mapped_column(Float)
    camera_gain: Mapped[float | None] = mapped_column(Float)
    read_noise_e: Mapped[float | None] = mapped_column(Float)
    saturation_adu: Mapped[float | None] = mapped_column(Float)
    automation_level: Mapped[str] = mapped_column(String(16), default="manual")
    altitude_limit_deg: Mapped[float] = mapped_column(Float, default=20.0)
    # Optional local horizon: [[azimuth_deg, altitude_deg], ...], interpolated in azimuth.
    horizon: Mapped[list[list[float]] | None] = mapped_column(JSON)
    ha_limit_east_h: Mapped[float | None] = mapped_column(Float)
    ha_limit_west_h: Mapped[float | None] = mapped_column(Float)
    # Weekly/seasonal availability windows, free-form for now: [{"start": "...", "end": "..."}].
    availability: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    reliability: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SiteStatus(Base):
    """One heartbeat: weather, devices and agent state as the site reported them."""

    __tablename__ = "site_status"
    __table_args__ = (Index("ix_site_status_site_received", "site_id", "received_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.site_id", ondelete="CASCADE"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(32), default="unknown")
    weather: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    devices: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    agent_version: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)


class Target(Base):
    __tablename__ = "targets"
    __table_args__ = (Index("ix_targets_active_priority", "active", "priority"),)

    target_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    ra_deg: Mapped[float] = mapped_column(Float)
    dec_deg: Mapped[float] = mapped_column(Float)
    # Unit vector and nested HEALPix index: the cone search that runs the same on both backends.
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    z: Mapped[float] = mapped_column(Float)
    healpix: Mapped[int] = mapped_column(BigInteger, index=True)
    epoch: Mapped[float] = mapped_column(Float, default=2000.0)
    pm_ra_masyr: Mapped[float | None] = mapped_column(Float)
    pm_dec_masyr: Mapped[float | None] = mapped_column(Float)
    target_type: Mapped[str] = mapped_column(String(32), default="other")
    classification: Mapped[str | None] = mapped_column(String(64))
    magnitude: Mapped[float | None] = mapped_column(Float)
    priority: Mapped[float] = mapped_column(Float, default=5.0)
    cadence_hours: Mapped[float | None] = mapped_column(Float)
    t0: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exposure_hints: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Requirements
    filters: Mapped[list[str]] = mapped_column(JSON, default=list)
    total_needed: Mapped[int | None] = mapped_column(Integer)
    max_airmass: Mapped[float | None] = mapped_column(Float)
    min_moon_distance_deg: Mapped[float | None] = mapped_column(Float)
    max_moon_phase: Mapped[float | None] = mapped_column(Float)
    time_critical_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    time_critical_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    time_critical_boost: Mapped[float | None] = mapped_column(Float)
    redundancy: Mapped[str | None] = mapped_column(String(16))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    notes: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    aliases: Mapped[list[TargetAlias]] = relationship(
        back_populates="target", cascade="all, delete-orphan", lazy="selectin"
    )


class TargetAlias(Base):
    __tablename__ = "target_aliases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target_id: Mapped[int] = mapped_column(
        ForeignKey("targets.target_id", ondelete="CASCADE"), index=True
    )
    alias: Mapped[str] = mapped_column(String(200), unique=True)
    source: Mapped[str | None] = mapped_column(String(64))

    target: Mapped[Target] = relationship(back_populates="aliases")


class Campaign(Base):
    __tablename__ = "campaigns"

    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    priority_boost: Mapped[float] = mapped_column(Float, default=1.0)
    redundancy: Mapped[str] = mapped_column(String(16), default="diverse")
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignTarget(Base):
    __tablename__ = "campaign_targets"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.campaign_id", ondelete="CASCADE"), primary_key=True
    )
    target_id: Mapped[int] = mapped_column(
        ForeignKey("targets.target_id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Frame(Base):
    """An uploaded file and its reduction state (frame state lives here, not in Dagster)."""

    __tablename__ = "frames"
    __table_args__ = (
        UniqueConstraint("site_id", "sha256", name="uq_frames_site_sha256"),
        Index("ix_frames_status_uploaded", "status", "uploaded_at"),
    )

    frame_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.site_id"), index=True)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("targets.target_id"))
    observation_id: Mapped[str | None] = mapped_column(String(36))
    filename: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(512))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)
    error: Mapped[str | None] = mapped_column(Text)
    header: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    observed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The reduction: its summary (WCS, zero point, target, flags), tries so far, when done.
    results: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reduced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Observation(Base):
    __tablename__ = "observations"
    __table_args__ = (
        Index("ix_observations_target_time", "target_id", "observed_at"),
        Index("ix_observations_site_time", "site_id", "observed_at"),
        # The light-curve sensor's cursor walks received_at.
        Index("ix_observations_received_at", "received_at"),
        # The dashboard's recent observations, network-wide and by date.
        Index("ix_observations_observed_at", "observed_at"),
    )

    # Client-generated UUID: the idempotency key.
    observation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.target_id"))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.site_id"))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    exposure_sec: Mapped[float | None] = mapped_column(Float)
    filter: Mapped[str | None] = mapped_column(String(32))
    airmass: Mapped[float | None] = mapped_column(Float)
    magnitude: Mapped[float | None] = mapped_column(Float)
    mag_error: Mapped[float | None] = mapped_column(Float)
    flux: Mapped[float | None] = mapped_column(Float)
    flux_err: Mapped[float | None] = mapped_column(Float)
    zero_point: Mapped[float | None] = mapped_column(Float)
    comparison_stars: Mapped[list[Any]] = mapped_column(JSON, default=list)
    method: Mapped[str | None] = mapped_column(String(32))
    ra_deg: Mapped[float | None] = mapped_column(Float)
    dec_deg: Mapped[float | None] = mapped_column(Float)
    seeing_arcsec: Mapped[float | None] = mapped_column(Float)
    quality_flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    frame_id: Mapped[str | None] = mapped_column(String(36))
    pipeline_version: Mapped[str | None] = mapped_column(String(32))
    reference_catalog: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RawAlert(Base):
    """Append-only: one row per alert as received; the natural key makes replays no-ops."""

    __tablename__ = "raw_alerts"
    __table_args__ = (
        UniqueConstraint("feed", "natural_key", name="uq_raw_alerts_feed_key"),
        Index("ix_raw_alerts_feed_received", "feed", "received_at"),  # latest per feed
        Index("ix_raw_alerts_target_id", "target_id"),  # a target's alerts
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    feed: Mapped[str] = mapped_column(String(32))
    natural_key: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("targets.target_id"))
    status: Mapped[str] = mapped_column(String(16), default="accepted")


class AlertEvent(Base):
    """A GCN-style event with its localization; retractions change `state`, never delete."""

    __tablename__ = "alert_events"
    __table_args__ = (UniqueConstraint("feed", "event_id", name="uq_alert_events_feed_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    feed: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str | None] = mapped_column(String(64))
    event_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ra_deg: Mapped[float | None] = mapped_column(Float)
    dec_deg: Mapped[float | None] = mapped_column(Float)
    error_radius_deg: Mapped[float | None] = mapped_column(Float)
    skymap_url: Mapped[str | None] = mapped_column(String(512))
    state: Mapped[str] = mapped_column(String(16), default="active")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SiteRanking(Base):
    """The latest ranked list of one site: entries with their score terms, explained exclusions."""

    __tablename__ = "site_rankings"

    site_id: Mapped[str] = mapped_column(
        ForeignKey("sites.site_id", ondelete="CASCADE"), primary_key=True
    )
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    catalog_version: Mapped[int] = mapped_column(Integer)
    site_reason: Mapped[str | None] = mapped_column(String(200))
    # [{"target_id", "score", "terms", "in_slot", "plan", "window"}, ...] best first
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # [{"target_id", "name", "reason", "potential_score"}, ...]
    excluded: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ApiKey(Base):
    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.site_id", ondelete="CASCADE"))
    secret_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class User(Base):
    __tablename__ = "users"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="reader")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserSession(Base):
    __tablename__ = "user_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.user_id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FeedCursor(Base):
    __tablename__ = "feed_cursors"

    feed: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CatalogVersion(Base):
    """A counter bumped on every target/campaign write, so readers can cache the catalog."""

    __tablename__ = "catalog_version"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class LoginFailure(Base):
    """One failed password login; counted per account and per address over a window, pruned."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_at", "username", "failed_at"),
        Index("ix_login_failures_address_at", "address", "failed_at"),
        Index("ix_login_failures_failed_at", "failed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # NULL once the account logged in successfully (the failure then counts for the address only)
    username: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """An admin action: who (actor), what (action on an object), when, from where (source)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor_at", "actor", "at"),
        Index("ix_audit_log_action_at", "action", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # "key:<key_id>", "user:<user_id>" or "cli:<os user>"
    actor: Mapped[str] = mapped_column(String(200))
    actor_name: Mapped[str | None] = mapped_column(String(200))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The client address for the API, "cli@<host>" for the command line.
    source: Mapped[str] = mapped_column(String(200))
