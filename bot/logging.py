"""Log lines for people running hearth: plain text to stderr, with Slack tokens blotted out
and no Slack payloads.

Tokens are `SecretStr` in settings and slack_sdk redacts its Authorization header, but a token
can still slip into a log through an exception or a library's debug line; the formatter is the
last place to catch it, so it redacts anything shaped like a Slack token, and the configured
secrets themselves, from every line it writes (tracebacks included).

What people do is private too: a click's payload names who clicked and what they chose (an
answer to an anonymous health check), and the messages hearth sends say it back to them.
slack_sdk logs every request and response body at DEBUG, Bolt logs the whole body of a
request whose signature it refused, and aiosqlite logs every statement with its values at
DEBUG. `PayloadFilter` keeps those lines out, so hearth's DEBUG level shows hearth's own
decisions and never what a person answered.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
REDACTED = "[redacted]"
# Bot, user, app-level, refresh and configuration tokens.
SLACK_TOKEN = re.compile(r"\b(?:xox[a-z]|xapp|xoxe\.xox[a-z])-[A-Za-z0-9-]{8,}")


# Libraries whose low-level lines carry request and response bodies or SQL values.
PAYLOAD_LOGGERS = ("slack_sdk", "slack_bolt", "aiosqlite")
# Bolt's line for a refused signature, which ends with the whole request body.
REFUSED_SIGNATURE = "Invalid request signature detected"
# Bolt's ERROR for a request from a workspace hearth is not installed in (any more): the person
# is told kindly, and nothing is wrong with hearth, so it is worth a line at INFO, not ERROR.
NOT_INSTALLED = "Although the app should be installed into this workspace"


class PayloadFilter(logging.Filter):
    """Drops those libraries' DEBUG lines (request and response bodies, SQL values) and Bolt's
    refused-signature line (the refused body), and says a request from a workspace hearth is
    not installed in at INFO; keeps their other information, warnings and errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(PAYLOAD_LOGGERS):
            return True
        if record.levelno < logging.INFO:
            return False
        message = str(record.msg)
        if message.startswith(NOT_INSTALLED):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg = "A request came from a workspace hearth is not installed in; told them so"
            record.args = ()
        return not message.startswith(REFUSED_SIGNATURE)


class RedactingFormatter(logging.Formatter):
    """A formatter that removes Slack tokens and the given secrets from the finished line."""

    def __init__(self, fmt: str = LOG_FORMAT, *, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self._secrets = tuple(secret for secret in secrets if len(secret) >= 8)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))

    def redact(self, line: str) -> str:
        for secret in self._secrets:
            line = line.replace(secret, REDACTED)
        return SLACK_TOKEN.sub(REDACTED, line)


def log_handler(stream: TextIO, *, secrets: Iterable[str] = ()) -> logging.Handler:
    """The handler hearth logs through: redacted lines, no Slack payloads."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(secrets=secrets))
    handler.addFilter(PayloadFilter())
    return handler


def configure_logging(
    level: int, *, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> None:
    """Send everything at `level` and above to stderr (or `stream`) through the redacting
    formatter, without Slack payloads."""
    handler = log_handler(stream or sys.stderr, secrets=secrets)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
