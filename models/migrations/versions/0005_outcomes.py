"""sentence outcome labels: worked, did not work, barrier, enabler, next step (issue 4)

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sentence_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("passage_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=20), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.id"],
            name=op.f("fk_sentence_outcomes_entry_id_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["passage_id"],
            ["passages.id"],
            name=op.f("fk_sentence_outcomes_passage_id_passages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sentence_outcomes")),
    )
    with op.batch_alter_table("sentence_outcomes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sentence_outcomes_entry_id"), ["entry_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sentence_outcomes_passage_id"), ["passage_id"], unique=False
        )
        batch_op.create_index(
            "ix_sentence_outcomes_label_passage", ["label", "passage_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sentence_outcomes", schema=None) as batch_op:
        batch_op.drop_index("ix_sentence_outcomes_label_passage")
        batch_op.drop_index(batch_op.f("ix_sentence_outcomes_passage_id"))
        batch_op.drop_index(batch_op.f("ix_sentence_outcomes_entry_id"))

    op.drop_table("sentence_outcomes")
