"""Community health checks: each community's set-up, the checks it runs, answers and results.

Anonymity is a property of the schema, not only of the code: an anonymous answer row holds
no Slack user id and no time, only a keyed hash under a secret that exists, sealed under the
installation's key, in its own row while the check is open. Closing deletes that row, and the
database is then made to forget the deleted bytes (`forgotten_at`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class HealthCheckSetup(Base):
    """How a community runs its health checks. The cadence columns are all NULL when the
    community runs checks only by hand. `revision` changes with every edit, so jobs planned
    for an older set-up are recognised as stale."""

    __tablename__ = "health_check_setup"
    __table_args__ = (
        UniqueConstraint("community_id"),
        CheckConstraint(
            "frequency IS NULL OR frequency IN ('weekly', 'monthly')", name="frequency_known"
        ),
        CheckConstraint("open_hours BETWEEN 1 AND 336", name="open_hours_range"),
        CheckConstraint("reminders BETWEEN 0 AND 3", name="reminders_range"),
        CheckConstraint("min_answers BETWEEN 1 AND 50", name="min_answers_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    # [{"key", "label", "emoji", "score"}, …], best first.
    scale: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    frequency: Mapped[str | None] = mapped_column(String(16))
    weekday: Mapped[int | None] = mapped_column(Integer)
    every_weeks: Mapped[int] = mapped_column(Integer, default=1)
    week_of_month: Mapped[int] = mapped_column(Integer, default=1)
    at_time: Mapped[str | None] = mapped_column(String(5))  # "HH:MM", wall clock in time_zone
    time_zone: Mapped[str | None] = mapped_column(String(64))
    anchor: Mapped[date | None] = mapped_column(Date)
    open_hours: Mapped[int] = mapped_column(Integer, default=48)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    reminders: Mapped[int] = mapped_column(Integer, default=1)
    min_answers: Mapped[int] = mapped_column(Integer, default=3)
    created_by_id: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime]
    revision: Mapped[int] = mapped_column(Integer, default=1)


class HealthCheckQuestion(Base):
    """One question of a community's set. `key` never changes, so a question keeps its
    trend when its words are edited or it is moved."""

    __tablename__ = "health_check_question"
    __table_args__ = (UniqueConstraint("setup_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    setup_id: Mapped[int] = mapped_column(ForeignKey("health_check_setup.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    best: Mapped[str] = mapped_column(Text, default="")
    worst: Mapped[str] = mapped_column(Text, default="")


class HealthCheck(Base):
    """One health check. It asks a snapshot of the questions and scale taken when it opened,
    so edits to the set-up never change a check that is running.

    An anonymous check's secret (`HealthCheckSecret`) is deleted when it closes; `forgotten_at`
    says when the database files were then cleared of it (SQLite's write-ahead log truncated,
    PostgreSQL's table rewritten), `forget_attempts` how often that has been tried.
    """

    __tablename__ = "health_check"
    __table_args__ = (
        # A scheduled occurrence becomes at most one check (NULL for "run now" checks).
        UniqueConstraint("community_id", "occurrence"),
        # At most one open check per community, held by the database itself.
        Index(
            "uq_health_check_open",
            "community_id",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index("ix_health_check_community_closed", "community_id", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    occurrence: Mapped[datetime | None]
    setup_revision: Mapped[int] = mapped_column(Integer)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{"key", "title", …}]
    scale: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    anonymous: Mapped[bool] = mapped_column(Boolean)
    min_answers: Mapped[int] = mapped_column(Integer)
    reminders: Mapped[int] = mapped_column(Integer)
    started_by_id: Mapped[str | None] = mapped_column(String(32))  # None: by the schedule
    opened_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[str | None] = mapped_column(String(32))  # None: closed on time
    message_ts: Mapped[str | None] = mapped_column(String(32))
    results_ts: Mapped[str | None] = mapped_column(String(32))
    # Set at close.
    member_count: Mapped[int | None] = mapped_column(Integer)
    respondent_count: Mapped[int | None] = mapped_column(Integer)
    below_minimum: Mapped[bool | None] = mapped_column(Boolean)
    forgotten_at: Mapped[datetime | None]
    forget_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class HealthCheckSecret(Base):
    """The secret of one open anonymous check, sealed under the installation's key.

    HMAC-SHA256(secret, person) stands for a person in the check's answers. The secret is
    kept apart from the check so that closing can delete it outright (not overwrite a column
    in a row that lives on) and PostgreSQL can rewrite this small table without touching the
    others. Sealed, it is useless to anyone holding only the database or its backups.
    """

    __tablename__ = "health_check_secret"

    check_id: Mapped[int] = mapped_column(
        ForeignKey("health_check.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    sealed: Mapped[bytes] = mapped_column(LargeBinary(256))


class HealthCheckAnswer(Base):
    """One person's answer to one question of an open check.

    `voter` is the Slack user id in a named check and, in an anonymous one, the hex
    HMAC-SHA256 of the user id under the check's secret. There is deliberately no id
    column and no timestamp: nothing records when or in which order answers came. An
    anonymous check's answers are deleted at close, once their counts are in the results.
    """

    __tablename__ = "health_check_answer"
    __table_args__ = (PrimaryKeyConstraint("check_id", "voter", "question_key"),)

    check_id: Mapped[int] = mapped_column(ForeignKey("health_check.id", ondelete="CASCADE"))
    voter: Mapped[str] = mapped_column(String(64))
    question_key: Mapped[str] = mapped_column(String(32))
    choice: Mapped[str] = mapped_column(String(20))


class HealthCheckResult(Base):
    """One question's result in a closed check, stored so history and trends are cheap.

    When the question had fewer answers than the minimum only `answers` is kept: the
    distribution, score and trend stay NULL."""

    __tablename__ = "health_check_result"
    __table_args__ = (
        UniqueConstraint("check_id", "question_key"),
        CheckConstraint("trend IS NULL OR trend IN ('up', 'level', 'down')", name="trend_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("health_check.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    answers: Mapped[int] = mapped_column(Integer)
    counts: Mapped[dict[str, int] | None] = mapped_column(JSON)  # scale key -> answers
    score: Mapped[float | None] = mapped_column(Float)  # 0–100
    disagreement: Mapped[float | None] = mapped_column(Float)  # 0–50
    previous_score: Mapped[float | None] = mapped_column(Float)
    trend: Mapped[str | None] = mapped_column(String(8))


class HealthCheckOptOut(Base):
    """Someone asked not to be reminded about this community's health checks."""

    __tablename__ = "health_check_opt_out"
    __table_args__ = (UniqueConstraint("community_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
