"""The sandbox's time: the real time plus however far someone has moved it forward.

The same clock is given to the emulated workspace (message timestamps) and to hearth (what
is due), so moving it forward makes a 7-minute time-box end now instead of in 7 minutes,
while time keeps passing on its own in between.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Far enough for any schedule hearth has (a monthly rota), near enough to stay a sandbox.
MAX_STEP = timedelta(days=31)


class OffsetClock:
    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self._offset = offset
        self._moved = timedelta(0)

    @property
    def offset(self) -> timedelta:
        """How far the sandbox's time is from the real time."""
        return self._offset

    @property
    def moved(self) -> timedelta:
        """How far the clock has been moved forward since the sandbox started."""
        return self._moved

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> datetime:
        """Move time forward (never back: what has happened stays in the past)."""
        if delta <= timedelta(0):
            raise ValueError("the sandbox clock only moves forward")
        if delta > MAX_STEP:
            raise ValueError("move the sandbox clock at most 31 days at a time")
        self._offset += delta
        self._moved += delta
        return self.now()
