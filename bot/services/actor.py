"""Who is acting, for the rules that depend on it (facilitators, leads, admins)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


async def _never_admin() -> bool:
    return False


@dataclass(frozen=True)
class Actor:
    """The person acting. `is_admin` is asked only when the rules need it (it may call Slack)."""

    team_id: str
    user_id: str
    is_admin: Callable[[], Awaitable[bool]] = _never_admin
