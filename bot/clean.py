"""Control characters out of text people wrote, wherever it reaches hearth from.

A NUL makes PostgreSQL refuse the whole write (SQLite keeps it), and the other controls
(bell, escape, form feed, C1) only garble what others read. Requests are cleaned once by a
Bolt middleware (`handlers/clean_input.py`); text read back from Slack's API (thread replies
at a meetup's close) is cleaned where it is read. Line breaks and tabs are kept: people mean
them.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls except tab (\x09) and line feed (\x0a); DEL; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """`text` without control characters other than line breaks and tabs.

    A carriage return goes too, so Windows line endings (`\\r\\n`) read as one line break."""
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text


def clean_in_place(value: Any) -> Any:
    """Every string inside parsed JSON cleaned, dicts and lists changed in place; returns the
    cleaned value (a bare string comes back cleaned). Keys are hearth's own ids, left alone."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = clean_in_place(item)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = clean_in_place(item)
    return value
