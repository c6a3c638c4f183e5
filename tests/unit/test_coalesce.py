"""Board refreshes are coalesced: bursts become few runs, and the last run sees the end state."""

from __future__ import annotations

import asyncio
import itertools

from bot.coalesce import Coalescer


async def test_a_burst_becomes_one_immediate_run_and_one_trailing_run() -> None:
    coalescer = Coalescer(interval=0.2)
    state = {"value": 0}
    seen: list[int] = []

    async def redraw() -> None:
        seen.append(state["value"])

    for value in range(1, 51):
        state["value"] = value
        coalescer.request("board", redraw)
        await asyncio.sleep(0)
    await coalescer.drain()

    assert len(seen) <= 3
    assert seen[-1] == 50


async def test_runs_for_one_key_are_spaced_by_the_interval() -> None:
    coalescer = Coalescer(interval=0.1)
    times: list[float] = []
    loop = asyncio.get_running_loop()

    async def redraw() -> None:
        times.append(loop.time())

    for _ in range(5):
        coalescer.request("board", redraw)
        await asyncio.sleep(0.03)
    await coalescer.drain()
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) >= 2
    assert all(gap >= 0.095 for gap in gaps)


async def test_a_request_during_a_run_triggers_one_more_run() -> None:
    coalescer = Coalescer(interval=0.01)
    runs: list[str] = []
    release = asyncio.Event()

    async def slow() -> None:
        runs.append("slow")
        await release.wait()

    async def fast() -> None:
        runs.append("fast")

    coalescer.request("k", slow)
    await asyncio.sleep(0.01)
    coalescer.request("k", fast)
    release.set()
    await coalescer.drain()
    assert runs == ["slow", "fast"]


async def test_keys_are_independent_and_failures_do_not_stop_later_runs() -> None:
    coalescer = Coalescer(interval=0.01, retries=0)
    runs: list[str] = []

    async def boom() -> None:
        runs.append("boom")
        raise RuntimeError("slack is down")

    async def ok() -> None:
        runs.append("ok")

    coalescer.request("a", boom)
    coalescer.request("b", ok)
    await coalescer.drain()
    coalescer.request("a", ok)
    await coalescer.drain()
    assert sorted(runs) == ["boom", "ok", "ok"]


async def test_a_failed_run_is_retried_with_back_off() -> None:
    coalescer = Coalescer(interval=0.01, retries=2)
    attempts: list[int] = []

    async def flaky() -> None:
        attempts.append(len(attempts))
        if len(attempts) < 3:
            raise RuntimeError("slack is down")

    coalescer.request("board", flaky)
    await coalescer.drain()
    assert attempts == [0, 1, 2]


async def test_retries_stop_after_the_limit() -> None:
    coalescer = Coalescer(interval=0.01, retries=1)
    attempts: list[int] = []

    async def down() -> None:
        attempts.append(1)
        raise RuntimeError("slack is down")

    coalescer.request("board", down)
    await coalescer.drain()
    assert len(attempts) == 2
