"""A real hearth in its own OS process, for the fault-injection tests (`tests/faults`).

    python -m tests.faults.process --database-url URL --slack-api-url URL \
        --port P --control-port C [--offset-seconds S] [--migrate]

It is hearth as `hearth run` starts it over HTTP (`bot.cli.serve`): `create_hearth`, the real
APScheduler with its resync, `/slack/events` and `/healthz` through `bot.server.serve_http`,
signals handled as in production. What differs is for the tests only:

- the clock is the real time plus an offset (`OffsetClock`), which the test sets through a
  small control server on `--control-port`: `POST /clock {"offset_seconds": S}` moves it (to
  the same offset the test gives the emulator's clock, so both keep in step) and, unless
  `"resync": false`, asks the scheduler to re-read what is due at once, as its own resync
  would within a few seconds;
- every process seals with the same fixed key (`SECRET_KEY`), as `HEARTH_SECRET_KEY` makes
  processes sharing a database do;
- the Slack tokens and signing secret are the emulator's defaults;
- the database is migrated only when asked (`--migrate`: the first process of a test).

It logs to stderr at INFO (hearth's own formatter and filters), which the test collects.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot import migrate
from bot.app import Hearth, create_hearth
from bot.config import load_settings
from bot.keys import Sealer
from bot.logging import configure_logging
from bot.sandbox.clock import OffsetClock
from bot.server import serve_http

SECRET_KEY = "faults-installation-key-" + "f" * 24
BOT_TOKEN = "xoxb-emulator"  # the emulator's defaults (`SlackEmulator`)
SIGNING_SECRET = "emulator-signing-secret"

logger = logging.getLogger("tests.faults.process")


class MovableClock(OffsetClock):
    """An `OffsetClock` the test can set to any offset (both ways), through `/clock`."""

    def set_offset(self, offset: timedelta) -> None:
        self._offset = offset


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.process")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--slack-api-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--control-port", type=int, required=True)
    parser.add_argument("--offset-seconds", type=float, default=0.0)
    parser.add_argument("--migrate", action="store_true")
    parser.add_argument("--name", default=f"pid{os.getpid()}")
    return parser.parse_args(argv)


def control_app(hearth: Hearth, clock: MovableClock) -> web.Application:
    async def set_clock(request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        clock.set_offset(timedelta(seconds=float(body["offset_seconds"])))
        resynced = None
        if body.get("resync", True):
            resynced = await hearth.scheduler.resync()
        return web.json_response({"now": clock.now().isoformat(), "resynced": resynced})

    async def get_clock(_request: web.Request) -> web.Response:
        return web.json_response(
            {"now": clock.now().isoformat(), "offset_seconds": clock.offset.total_seconds()}
        )

    app = web.Application()
    app.router.add_post("/clock", set_clock)
    app.router.add_get("/clock", get_clock)
    return app


async def main(args: argparse.Namespace) -> None:
    settings = load_settings(
        _env_file=None,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_app_token=None,
        slack_api_url=args.slack_api_url,
        database_url=args.database_url,
        hearth_secret_key=SECRET_KEY,
        host="127.0.0.1",
        port=args.port,
    )
    sealer = Sealer(SECRET_KEY)
    if args.migrate:
        await migrate.upgrade(args.database_url, sealer=sealer)
    clock = MovableClock(timedelta(seconds=args.offset_seconds))
    hearth = create_hearth(settings, clock=clock, sealer=sealer)
    await hearth.start()
    control = web.AppRunner(control_app(hearth, clock), access_log=None)
    await control.setup()
    await web.TCPSite(control, "127.0.0.1", args.control_port).start()
    logger.info("%s: control on %d, serving on %d", args.name, args.control_port, args.port)
    try:
        await serve_http(hearth, settings.host, settings.port, grace_seconds=2.0)
    finally:
        await control.cleanup()


if __name__ == "__main__":
    arguments = parse_args()
    configure_logging(logging.INFO)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per job run
    asyncio.run(main(arguments))
