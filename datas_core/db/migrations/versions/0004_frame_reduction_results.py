"""Frames keep their reduction: results, attempts, when reduced; an index for the sensor.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("frames", schema=None) as batch_op:
        batch_op.add_column(sa.Column("results", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("reduced_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_frames_status_uploaded", ["status", "uploaded_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("frames", schema=None) as batch_op:
        batch_op.drop_index("ix_frames_status_uploaded")
        batch_op.drop_column("reduced_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("results")
