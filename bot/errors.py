"""Errors a person caused, carried up to one place that explains them kindly."""

from __future__ import annotations


class DomainError(Exception):
    """Something a user asked for that the rules do not allow.

    `message` is shown to the person as-is (a private message or a modal field error),
    so it is written for them: what happened and what to do next.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The thing clicked or named no longer exists (or never belonged to this workspace)."""


class NotAllowed(DomainError):
    """The person may not do this (for example, only the facilitator can end a session)."""


class Conflict(DomainError):
    """The request clashes with current state (a session already running, voting closed)."""


class InvalidInput(DomainError):
    """The text or numbers a person typed cannot be used."""
