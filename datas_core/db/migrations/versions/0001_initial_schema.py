"""Initial schema: every table of DESIGN.md section 4.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 03:02:45.356183
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("feed", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=True),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ra_deg", sa.Float(), nullable=True),
        sa.Column("dec_deg", sa.Float(), nullable=True),
        sa.Column("error_radius_deg", sa.Float(), nullable=True),
        sa.Column("skymap_url", sa.String(length=512), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
        sa.UniqueConstraint("feed", "event_id", name="uq_alert_events_feed_event"),
    )
    op.create_table(
        "campaigns",
        sa.Column("campaign_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("priority_boost", sa.Float(), nullable=False),
        sa.Column("redundancy", sa.String(length=16), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("name", name=op.f("uq_campaigns_name")),
    )
    op.create_table(
        "catalog_version",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_catalog_version")),
    )
    op.create_table(
        "feed_cursors",
        sa.Column("feed", sa.String(length=64), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("feed", name=op.f("pk_feed_cursors")),
    )
    op.create_table(
        "sites",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("elevation_m", sa.Float(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("country", sa.String(length=64), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("aperture_mm", sa.Float(), nullable=True),
        sa.Column("focal_length_mm", sa.Float(), nullable=True),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("fov_arcmin", sa.Float(), nullable=True),
        sa.Column("limiting_mag", sa.Float(), nullable=True),
        sa.Column("camera_gain", sa.Float(), nullable=True),
        sa.Column("read_noise_e", sa.Float(), nullable=True),
        sa.Column("saturation_adu", sa.Float(), nullable=True),
        sa.Column("automation_level", sa.String(length=16), nullable=False),
        sa.Column("altitude_limit_deg", sa.Float(), nullable=False),
        sa.Column("horizon", sa.JSON(), nullable=True),
        sa.Column("ha_limit_east_h", sa.Float(), nullable=True),
        sa.Column("ha_limit_west_h", sa.Float(), nullable=True),
        sa.Column("availability", sa.JSON(), nullable=True),
        sa.Column("reliability", sa.Float(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_sites")),
        sa.UniqueConstraint("name", name=op.f("uq_sites_name")),
    )
    op.create_table(
        "targets",
        sa.Column("target_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("ra_deg", sa.Float(), nullable=False),
        sa.Column("dec_deg", sa.Float(), nullable=False),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("z", sa.Float(), nullable=False),
        sa.Column("healpix", sa.BigInteger(), nullable=False),
        sa.Column("epoch", sa.Float(), nullable=False),
        sa.Column("pm_ra_masyr", sa.Float(), nullable=True),
        sa.Column("pm_dec_masyr", sa.Float(), nullable=True),
        sa.Column("target_type", sa.String(length=32), nullable=False),
        sa.Column("classification", sa.String(length=64), nullable=True),
        sa.Column("magnitude", sa.Float(), nullable=True),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("cadence_hours", sa.Float(), nullable=True),
        sa.Column("t0", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exposure_hints", sa.JSON(), nullable=True),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("total_needed", sa.Integer(), nullable=True),
        sa.Column("max_airmass", sa.Float(), nullable=True),
        sa.Column("min_moon_distance_deg", sa.Float(), nullable=True),
        sa.Column("max_moon_phase", sa.Float(), nullable=True),
        sa.Column("time_critical_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("time_critical_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("time_critical_boost", sa.Float(), nullable=True),
        sa.Column("redundancy", sa.String(length=16), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("target_id", name=op.f("pk_targets")),
        sa.UniqueConstraint("name", name=op.f("uq_targets_name")),
    )
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.create_index("ix_targets_active_priority", ["active", "priority"], unique=False)
        batch_op.create_index(batch_op.f("ix_targets_healpix"), ["healpix"], unique=False)

    op.create_table(
        "users",
        sa.Column("user_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=True),
        sa.Column("secret_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.site_id"],
            name=op.f("fk_api_keys_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_api_keys")),
    )
    op.create_table(
        "campaign_targets",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.campaign_id"],
            name=op.f("fk_campaign_targets_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["targets.target_id"],
            name=op.f("fk_campaign_targets_target_id_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "target_id", name=op.f("pk_campaign_targets")),
    )
    with op.batch_alter_table("campaign_targets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_campaign_targets_target_id"), ["target_id"], unique=False
        )

    op.create_table(
        "frames",
        sa.Column("frame_id", sa.String(length=36), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("observation_id", sa.String(length=36), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("storage_key", sa.String(length=512), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("header", sa.JSON(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.site_id"], name=op.f("fk_frames_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["targets.target_id"], name=op.f("fk_frames_target_id_targets")
        ),
        sa.PrimaryKeyConstraint("frame_id", name=op.f("pk_frames")),
        sa.UniqueConstraint("site_id", "sha256", name="uq_frames_site_sha256"),
    )
    with op.batch_alter_table("frames", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_frames_site_id"), ["site_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_frames_status"), ["status"], unique=False)

    op.create_table(
        "observations",
        sa.Column("observation_id", sa.String(length=36), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("exposure_sec", sa.Float(), nullable=True),
        sa.Column("filter", sa.String(length=32), nullable=True),
        sa.Column("airmass", sa.Float(), nullable=True),
        sa.Column("magnitude", sa.Float(), nullable=True),
        sa.Column("mag_error", sa.Float(), nullable=True),
        sa.Column("flux", sa.Float(), nullable=True),
        sa.Column("flux_err", sa.Float(), nullable=True),
        sa.Column("zero_point", sa.Float(), nullable=True),
        sa.Column("comparison_stars", sa.JSON(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=True),
        sa.Column("ra_deg", sa.Float(), nullable=True),
        sa.Column("dec_deg", sa.Float(), nullable=True),
        sa.Column("seeing_arcsec", sa.Float(), nullable=True),
        sa.Column("quality_flags", sa.JSON(), nullable=False),
        sa.Column("frame_id", sa.String(length=36), nullable=True),
        sa.Column("pipeline_version", sa.String(length=32), nullable=True),
        sa.Column("reference_catalog", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.site_id"], name=op.f("fk_observations_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["targets.target_id"], name=op.f("fk_observations_target_id_targets")
        ),
        sa.PrimaryKeyConstraint("observation_id", name=op.f("pk_observations")),
    )
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.create_index("ix_observations_site_time", ["site_id", "observed_at"], unique=False)
        batch_op.create_index(
            "ix_observations_target_time", ["target_id", "observed_at"], unique=False
        )

    op.create_table(
        "raw_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("feed", sa.String(length=32), nullable=False),
        sa.Column("natural_key", sa.String(length=255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_id"], ["targets.target_id"], name=op.f("fk_raw_alerts_target_id_targets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_alerts")),
        sa.UniqueConstraint("feed", "natural_key", name="uq_raw_alerts_feed_key"),
    )
    op.create_table(
        "site_rankings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.site_id"],
            name=op.f("fk_site_rankings_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["targets.target_id"],
            name=op.f("fk_site_rankings_target_id_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_rankings")),
    )
    with op.batch_alter_table("site_rankings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_site_rankings_site_rank", ["site_id", "computed_at", "rank"], unique=False
        )

    op.create_table(
        "site_status",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("weather", sa.JSON(), nullable=False),
        sa.Column("devices", sa.JSON(), nullable=False),
        sa.Column("agent_version", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.site_id"],
            name=op.f("fk_site_status_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_status")),
    )
    with op.batch_alter_table("site_status", schema=None) as batch_op:
        batch_op.create_index(
            "ix_site_status_site_received", ["site_id", "received_at"], unique=False
        )

    op.create_table(
        "target_aliases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["targets.target_id"],
            name=op.f("fk_target_aliases_target_id_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_target_aliases")),
        sa.UniqueConstraint("alias", name=op.f("uq_target_aliases_alias")),
    )
    with op.batch_alter_table("target_aliases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_target_aliases_target_id"), ["target_id"], unique=False
        )

    op.create_table(
        "user_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.user_id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_user_sessions")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)
    # The catalog version row always exists, so bumping it is a plain UPDATE (no insert race).
    op.execute("INSERT INTO catalog_version (name, version) VALUES ('targets', 0)")


def downgrade() -> None:
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))

    op.drop_table("user_sessions")
    with op.batch_alter_table("target_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_target_aliases_target_id"))

    op.drop_table("target_aliases")
    with op.batch_alter_table("site_status", schema=None) as batch_op:
        batch_op.drop_index("ix_site_status_site_received")

    op.drop_table("site_status")
    with op.batch_alter_table("site_rankings", schema=None) as batch_op:
        batch_op.drop_index("ix_site_rankings_site_rank")

    op.drop_table("site_rankings")
    op.drop_table("raw_alerts")
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_index("ix_observations_target_time")
        batch_op.drop_index("ix_observations_site_time")

    op.drop_table("observations")
    with op.batch_alter_table("frames", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_frames_status"))
        batch_op.drop_index(batch_op.f("ix_frames_site_id"))

    op.drop_table("frames")
    with op.batch_alter_table("campaign_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_targets_target_id"))

    op.drop_table("campaign_targets")
    op.drop_table("api_keys")
    op.drop_table("users")
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_targets_healpix"))
        batch_op.drop_index("ix_targets_active_priority")

    op.drop_table("targets")
    op.drop_table("sites")
    op.drop_table("feed_cursors")
    op.drop_table("catalog_version")
    op.drop_table("campaigns")
    op.drop_table("alert_events")
