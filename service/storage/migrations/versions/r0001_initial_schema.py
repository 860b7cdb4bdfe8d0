"""Initial schema: sites, keys, checks, feedback, counters, usage, reputation, state.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

Written out in full rather than imported from ``schema.py`` so the migration keeps
describing this revision after the models move on. Datetimes are
``DateTime(timezone=True)``; the models wrap them in ``UTCDateTime``, which stores
the same column type.
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _hash(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=64), nullable=True)


def _counter(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), server_default="0", nullable=False)


def _site_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["site_id"], ["sites.id"], name=f"fk_{table}_site_id_sites", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "registry_state",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("name", name="pk_registry_state"),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        _when("created_at"),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sites"),
        sa.UniqueConstraint("url", name="uq_sites_url"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=8), nullable=False),
        _when("created_at"),
        _when("revoked_at", nullable=True),
        _site_fk("api_keys"),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_index("ix_api_keys_site_id", "api_keys", ["site_id"])
    op.create_table(
        "daily_counts",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *(
            _counter(name)
            for name in (
                "checks",
                "ham",
                "unsure",
                "spam",
                "discard",
                "missed_spam",
                "false_positives",
            )
        ),
        _site_fk("daily_counts"),
        sa.PrimaryKeyConstraint("site_id", "day", name="pk_daily_counts"),
    )
    op.create_table(
        "reputation",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("value_hash", sa.String(length=64), nullable=False),
        _counter("ham_count"),
        _counter("spam_count"),
        _when("last_seen"),
        _site_fk("reputation"),
        sa.PrimaryKeyConstraint("site_id", "kind", "value_hash", name="pk_reputation"),
    )
    op.create_index("ix_reputation_value_hash", "reputation", ["value_hash"])
    op.create_table(
        "checks",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        _when("created_at"),
        sa.Column("content", sa.Text(), nullable=True),
        _hash("content_hash"),
        sa.Column("fields", sa.JSON(), nullable=False),
        _hash("email_hash"),
        _hash("ip_hash"),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("model_version", sa.String(length=128), nullable=False),
        sa.Column("is_test", sa.Boolean(), nullable=False),
        sa.Column("feedback_label", sa.String(length=8), nullable=True),
        _when("purged_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.id"], name="fk_checks_key_id_api_keys", ondelete="SET NULL"
        ),
        _site_fk("checks"),
        sa.PrimaryKeyConstraint("id", name="pk_checks"),
    )
    op.create_index("ix_checks_email_hash", "checks", ["email_hash"])
    op.create_index("ix_checks_ip_hash", "checks", ["ip_hash"])
    op.create_index("ix_checks_site_id_content_hash", "checks", ["site_id", "content_hash"])
    op.create_index("ix_checks_site_id_created_at", "checks", ["site_id", "created_at"])
    op.create_table(
        "usage",
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        _counter("calls"),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.id"], name="fk_usage_key_id_api_keys", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key_id", "month", name="pk_usage"),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.String(length=64), nullable=True),
        sa.Column("label", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reporter", sa.String(length=200), nullable=True),
        _when("created_at"),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        _hash("email_hash"),
        _hash("ip_hash"),
        sa.Column("original_verdict", sa.String(length=16), nullable=True),
        _when("purged_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["check_id"], ["checks.id"], name="fk_feedback_check_id_checks", ondelete="SET NULL"
        ),
        _site_fk("feedback"),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
    )
    op.create_index("ix_feedback_check_id", "feedback", ["check_id"])
    op.create_index("ix_feedback_email_hash", "feedback", ["email_hash"])
    op.create_index("ix_feedback_ip_hash", "feedback", ["ip_hash"])
    op.create_index("ix_feedback_site_id_created_at", "feedback", ["site_id", "created_at"])


def downgrade() -> None:
    for table in (
        "feedback",
        "usage",
        "checks",
        "reputation",
        "daily_counts",
        "api_keys",
        "sites",
        "registry_state",
    ):
        op.drop_table(table)
