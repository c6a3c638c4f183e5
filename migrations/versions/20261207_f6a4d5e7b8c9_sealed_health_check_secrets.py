"""sealed health check secrets

An open anonymous check's secret moves out of `health_check` into its own row, sealed under
the installation's key (`bot.keys`), and checks gain `forgotten_at`/`forget_attempts`: when
the database files were cleared of what closing deleted. Checks already closed are cleared
once after this upgrade, which also clears secrets older versions left in SQLite's
write-ahead log.

Sealing needs the key, which `bot.migrate` hands over as `config.attributes["sealer"]`. Without
one (a plain `alembic upgrade`), the upgrade refuses only if a check is open right now.

Revision ID: f6a4d5e7b8c9
Revises: e5f3c4d6a7b8
Create Date: 2026-12-07 22:40:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision: str = "f6a4d5e7b8c9"
down_revision: str | Sequence[str] | None = "e5f3c4d6a7b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

health_check = sa.table(
    "health_check",
    sa.column("id", sa.Integer()),
    sa.column("secret", sa.LargeBinary()),
    sa.column("closed_at", sa.DateTime(timezone=True)),
)
health_check_secret = sa.table(
    "health_check_secret",
    sa.column("check_id", sa.Integer()),
    sa.column("sealed", sa.LargeBinary()),
)


def _sealer() -> Any:
    sealer = context.config.attributes.get("sealer")
    if sealer is None:
        raise RuntimeError(
            "An anonymous health check is open, and its secret must be sealed with hearth's "
            "key during this upgrade: run it with `hearth db upgrade` (which reads "
            "HEARTH_SECRET_KEY or the key file), not with alembic directly."
        )
    return sealer


def upgrade() -> None:
    op.create_table(
        "health_check_secret",
        sa.Column("check_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sealed", sa.LargeBinary(length=256), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["health_check.id"],
            name=op.f("fk_health_check_secret_check_id_health_check"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("check_id", name=op.f("pk_health_check_secret")),
    )
    bind = op.get_bind()
    open_secrets = bind.execute(
        sa.select(health_check.c.id, health_check.c.secret).where(
            health_check.c.secret.is_not(None)
        )
    ).all()
    if open_secrets:
        sealer = _sealer()
        op.bulk_insert(
            health_check_secret,
            [
                {"check_id": id_, "sealed": sealer.seal(bytes(secret))}
                for id_, secret in open_secrets
            ],
        )
    with op.batch_alter_table("health_check", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forgotten_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("forget_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.drop_constraint(
            batch_op.f("ck_health_check_secret_gone_when_closed"), type_="check"
        )
        batch_op.drop_constraint(
            batch_op.f("ck_health_check_named_checks_have_no_secret"), type_="check"
        )
        batch_op.drop_column("secret")


def downgrade() -> None:
    with op.batch_alter_table("health_check", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret", sa.LargeBinary(length=32), nullable=True))
    bind = op.get_bind()
    sealed = bind.execute(
        sa.select(health_check_secret.c.check_id, health_check_secret.c.sealed)
    ).all()
    if sealed:
        sealer = _sealer()
        for check_id, value in sealed:
            bind.execute(
                health_check.update()
                .where(health_check.c.id == check_id)
                .values(secret=sealer.open(bytes(value)))
            )
    with op.batch_alter_table("health_check", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_health_check_named_checks_have_no_secret"),
            "anonymous OR secret IS NULL",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_health_check_secret_gone_when_closed"),
            "closed_at IS NULL OR secret IS NULL",
        )
        batch_op.drop_column("forget_attempts")
        batch_op.drop_column("forgotten_at")
    op.drop_table("health_check_secret")
