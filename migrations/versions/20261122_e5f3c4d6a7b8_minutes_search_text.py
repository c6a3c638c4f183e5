"""minutes search text

Revision ID: e5f3c4d6a7b8
Revises: d4e2b3c5f6a7
Create Date: 2026-11-22 04:40:00.000000
"""

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "e5f3c4d6a7b8"
down_revision: str | Sequence[str] | None = "d4e2b3c5f6a7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500

minutes = sa.table(
    "minutes",
    sa.column("id", sa.Integer()),
    sa.column("source", sa.String()),
    sa.column("title", sa.String()),
    sa.column("body", sa.JSON()),
    sa.column("search_text", sa.Text()),
)


def _pieces(source: str, body: Any) -> Iterator[str]:
    """The searchable lines of the bodies stored so far, read as they were stored then
    (a frozen copy of the digests in `bot.services.minutes`, as of this revision)."""
    if source == "lean_coffee":
        yield body["title"]
        for topic in body["discussed"]:
            yield topic["title"]
            for takeaway in topic.get("takeaways", ()):
                yield takeaway["text"]
        yield from body["carried_over"]
    elif source == "meetup":
        yield body["title"]
        for prompt in body["prompts"]:
            yield prompt["text"]
        for takeaway in body.get("takeaways", ()):
            yield takeaway["text"]


def search_text(source: str, body: Any, title: str) -> str:
    """Each piece case-folded, spaces collapsed, one a line; just the title for a body of a
    shape or format not known here."""
    try:
        pieces = [str(piece) for piece in _pieces(source, body)]
    except (KeyError, TypeError, AttributeError):
        pieces = []
    if not pieces:
        pieces = [title]
    return "\n".join(" ".join(piece.casefold().split()) for piece in pieces)


def upgrade() -> None:
    with op.batch_alter_table("minutes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=True))

    connection = op.get_bind()
    fill = (
        minutes.update()
        .where(minutes.c.id == sa.bindparam("row_id"))
        .values(search_text=sa.bindparam("text"))
    )
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(minutes.c.id, minutes.c.source, minutes.c.title, minutes.c.body)
            .where(minutes.c.id > last_id)
            .order_by(minutes.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        connection.execute(
            fill,
            [
                {"row_id": row.id, "text": search_text(row.source, row.body, row.title)}
                for row in rows
            ],
        )
        last_id = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("minutes", schema=None) as batch_op:
        batch_op.drop_column("search_text")
