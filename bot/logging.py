"""Log lines for people running hearth: plain text to stderr, with Slack tokens blotted out.

Tokens are `SecretStr` in settings and slack_sdk redacts its Authorization header, but a token
can still slip into a log through an exception or a library's debug line; the formatter is the
last place to catch it, so it redacts anything shaped like a Slack token, and the configured
secrets themselves, from every line it writes (tracebacks included).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
REDACTED = "[redacted]"
# Bot, user, app-level, refresh and configuration tokens.
SLACK_TOKEN = re.compile(r"\b(?:xox[a-z]|xapp|xoxe\.xox[a-z])-[A-Za-z0-9-]{8,}")


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


def configure_logging(level: int, *, secrets: Iterable[str] = ()) -> None:
    """Send everything at `level` and above to stderr through the redacting formatter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(secrets=secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
