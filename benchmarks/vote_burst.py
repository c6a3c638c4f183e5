"""How hearth copes with a burst of dot votes: click latency, throughput, board updates.

Run on demand (it is not part of the test suite):

    .venv/bin/python -m benchmarks.vote_burst --voters 60 --topics 12
    .venv/bin/python -m benchmarks.vote_burst --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

Every voter is a person in the emulated workspace clicking "Vote" over real HTTP, signed as
Slack signs, against the real app; all clicks are sent at once. It reports how long Slack
waited for each acknowledgement, how many clicks per second were stored, and how many
`chat.update` calls redrew the board (Slack allows about 50 a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from aiohttp import web
from sqlalchemy import func, select, text

from bot import migrate
from bot.app import create_hearth
from bot.config import load_settings
from bot.db import create_engine
from bot.emulator.seed import Seed
from bot.emulator.server import SlackEmulator
from bot.keys import Sealer
from bot.server import create_web_app
from models.lean_coffee import LeanCoffeeVote


async def _fresh_postgres_schema(url: str) -> str:
    schema = f"bench_{int(time.time())}"
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await engine.dispose()
    return f"{url}?options=-csearch_path%3D{schema}"


async def run(voters: int, topics: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = (
            await _fresh_postgres_schema(database_url)
            if database_url
            else f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        )
        async with SlackEmulator() as slack:
            people = [f"U0V{i:04d}" for i in range(voters)]
            for person in people:
                slack.state.add_user(person, person.lower())
                slack.state.channels[Seed.PRACTICE].members.add(person)
            settings = load_settings(
                _env_file=None,
                slack_bot_token=slack.bot_token,
                slack_signing_secret=slack.signing_secret,
                slack_api_url=slack.api_url,
                database_url=url,
            )
            await migrate.upgrade(url)
            hearth = create_hearth(settings, sealer=Sealer.ephemeral())
            await hearth.start(run_scheduler=False)
            runner = web.AppRunner(create_web_app(hearth.app))
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            slack.set_request_url(f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events")
            try:
                alice = slack.user(Seed.ALICE)
                await alice.run_command("/lean-coffee", channel=Seed.PRACTICE)
                # As in production, listeners finish after acking: wait for what they show.
                await slack.wait_until(lambda: alice.view is not None)
                await alice.submit({"Name": "Benchmark"})
                for i in range(topics):
                    await alice.run_command(
                        "/lean-coffee", f"Topic number {i:03d}", channel=Seed.PRACTICE
                    )
                await slack.wait_until(lambda: len(slack.calls_to("chat.postMessage")) > 0)
                await asyncio.sleep(0.5)
                await hearth.settle()
                board = next(m for m in alice.messages(Seed.PRACTICE) if m.from_bot)
                updates_before = len(slack.calls_to("chat.update"))

                started = time.perf_counter()
                results = await asyncio.gather(
                    *(
                        slack.user(p).click(board, "Vote", near=f"Topic number {n % topics:03d}")
                        for n, p in enumerate(people)
                    )
                )
                acked = time.perf_counter() - started
                await hearth.settle()
                settled = time.perf_counter() - started
                async with hearth.deps.sessionmaker() as s:
                    stored = await s.scalar(select(func.count()).select_from(LeanCoffeeVote))
            finally:
                await runner.cleanup()
                await hearth.close()

        latencies = sorted(r.elapsed for r in results)
        updates = len(slack.calls_to("chat.update")) - updates_before
        dialect = "postgresql" if database_url else "sqlite"
        print(f"database            {dialect}")
        print(f"voters              {voters} clicking at once on {topics} topics")
        print(f"acknowledged        {sum(r.ok for r in results)} of {voters}")
        print(f"votes stored        {stored}")
        print(f"ack latency p50     {statistics.median(latencies) * 1000:.0f} ms")
        print(f"ack latency p95     {latencies[int(0.95 * (len(latencies) - 1))] * 1000:.0f} ms")
        print(f"ack latency max     {latencies[-1] * 1000:.0f} ms")
        print(f"all acked after     {acked:.2f} s ({voters / acked:.0f} clicks/s)")
        print(f"board settled after {settled:.2f} s")
        print(f"board chat.update   {updates} (at most ~1 a second)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=60)
    parser.add_argument("--topics", type=int, default=12)
    parser.add_argument("--database-url", help="a PostgreSQL URL (default: a temporary SQLite)")
    args = parser.parse_args()
    asyncio.run(run(args.voters, args.topics, args.database_url))


if __name__ == "__main__":
    main()
