"""Indexes the dashboard's pages need: recent observations network-wide (and by date), the
latest alerts per feed, and a target's alerts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 10:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.create_index("ix_observations_observed_at", ["observed_at"])
    with op.batch_alter_table("raw_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_raw_alerts_feed_received", ["feed", "received_at"])
        batch_op.create_index("ix_raw_alerts_target_id", ["target_id"])


def downgrade() -> None:
    with op.batch_alter_table("raw_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_raw_alerts_target_id")
        batch_op.drop_index("ix_raw_alerts_feed_received")
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_index("ix_observations_observed_at")
