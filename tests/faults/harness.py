"""The test side of the fault suite: real hearth processes, a switch in front of them, a clock
the test moves, a TCP proxy to cut PostgreSQL off, and a lock to shut SQLite.

- `HearthProcess` runs `python -m tests.faults.process` (a real hearth, HTTP mode, its own
  scheduler), collects its stderr in a file and can be killed with SIGKILL.
- `Router` is what the emulator's Request URL points at: it forwards each signed request,
  byte for byte, to one live process (round robin, or the one the test pins), as a load
  balancer in front of several hearth processes would.
- `Cluster` ties them to one emulator and one clock: `advance` moves the emulator's clock
  and every process's by the same amount, so message timestamps and what is due agree.
- `TcpProxy` sits between the processes and PostgreSQL: `stop()` cuts every connection and
  refuses new ones (the server went away), `start()` lets them through again.
- `hold_sqlite_lock` holds SQLite's write lock from another connection, as another program
  (an admin's `sqlite3` shell in a transaction, a backup or a `VACUUM`) can.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import itertools
import os
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import func, make_url, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db import create_engine, create_sessionmaker
from bot.emulator.server import SlackEmulator
from bot.keys import Sealer
from models.outbox import OutboxMessage
from tests.faults.process import SECRET_KEY, MovableClock

REPO = Path(__file__).resolve().parents[2]
# Slack waits this long for an acknowledgement; the emulator delivers with the same patience.
SLACK_ACK_SECONDS = 3.0
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday morning, as in tests/e2e
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before it runs: on Linux, be killed when the test process dies, so a
    test run killed itself leaves no hearth behind."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def eventually(
    check: Callable[[], Any] | Callable[[], Awaitable[Any]],
    *,
    within: float = 10.0,
    interval: float = 0.1,
    what: str = "condition",
) -> Any:
    """Wait (in real time) until `check()` returns something truthy; returns it."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {within}s")
        await asyncio.sleep(interval)


# --- one process --------------------------------------------------------------------------


@dataclass
class HearthProcess:
    name: str
    database_url: str
    slack_api_url: str
    log_path: Path
    port: int = field(default_factory=free_port)
    control_port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None
    killed: bool = False

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self, offset: timedelta, *, migrate: bool = False) -> None:
        args = [
            "-m",
            "tests.faults.process",
            "--database-url",
            self.database_url,
            "--slack-api-url",
            self.slack_api_url,
            "--port",
            str(self.port),
            "--control-port",
            str(self.control_port),
            "--offset-seconds",
            str(offset.total_seconds()),
            "--name",
            self.name,
        ]
        if migrate:
            args.append("--migrate")
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                *args,
                cwd=REPO,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
                preexec_fn=_die_with_parent,
            )

    async def wait_ready(self, within: float = 30.0) -> None:
        """Until `/healthz` answers 200 (migrated, scheduler started, serving)."""
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as http:
            while True:
                if not self.alive:
                    raise RuntimeError(f"{self.name} exited while starting:\n{self.log()}")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(
                        f"http://127.0.0.1:{self.port}/healthz",
                        timeout=aiohttp.ClientTimeout(total=2),
                    ) as response:
                        if response.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} not ready within {within}s:\n{self.log()}")
                await asyncio.sleep(0.1)

    async def healthz(self, *, within: float = 10.0) -> int:
        """`/healthz`'s status (what a load balancer sees)."""
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                f"http://127.0.0.1:{self.port}/healthz",
                timeout=aiohttp.ClientTimeout(total=within),
            ) as response,
        ):
            return response.status

    @property
    def status(self) -> str:
        if self.killed:
            return "killed"
        if self.process is not None and not self.alive:
            return f"exit {self.process.returncode}"
        return "running"

    async def control(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"http://127.0.0.1:{self.control_port}{path}",
                json=body,
                timeout=aiohttp.ClientTimeout(total=30),
            ) as response,
        ):
            response.raise_for_status()
            return dict(await response.json())

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no finishing of anything in flight."""
        if self.alive:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()
        self.killed = True

    async def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, as a service manager stops it; SIGKILL if it does not stop in `grace`."""
        if not self.alive:
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), grace)
        except TimeoutError:
            await self.kill()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as file:
            file.seek(offset)
            return file.read().decode(errors="replace")


# --- the switch in front of the processes ---------------------------------------------------


class Router:
    """Slack's Request URL: forwards each request to one live process."""

    def __init__(self) -> None:
        self.backends: list[HearthProcess] = []
        self.pinned: HearthProcess | None = None
        self.served_by: list[str] = []  # which process each request went to, in order
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/slack/events", self._forward)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        self._http = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def pick(self) -> HearthProcess:
        live = [p for p in self.backends if p.alive and not p.killed]
        if not live:
            raise RuntimeError("no hearth process is running")
        if self.pinned is not None and self.pinned in live:
            return self.pinned
        return live[next(self._turn) % len(live)]

    async def _forward(self, request: web.Request) -> web.Response:
        backend = self.pick()
        self.served_by.append(backend.name)
        body = await request.read()
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in ("host", "content-length", "transfer-encoding", "connection")
        }
        assert self._http is not None
        try:
            async with self._http.post(
                backend.events_url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=60),
            ) as answer:
                content = await answer.read()
                kept = {
                    k: v
                    for k, v in answer.headers.items()
                    if k.lower() in ("content-type", "x-slack-no-retry")
                }
                return web.Response(status=answer.status, body=content, headers=kept)
        except (aiohttp.ClientError, TimeoutError):
            return web.Response(status=502, text="bad gateway")


# --- PostgreSQL going away ------------------------------------------------------------------


class TcpProxy:
    """A TCP relay to `upstream`; `stop()` drops every connection and refuses new ones."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.BaseTransport] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """The database server is gone: connections cut, new ones refused."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for transport in list(self._transports):
            transport.abort()
        self._transports.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def running(self) -> bool:
        return self._server is not None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._transports.update({writer.transport, up_writer.transport})
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._transports.discard(sink.transport)
            sink.transport.abort()


def through_proxy(url: str, proxy: TcpProxy) -> str:
    """`url` with its host and port replaced by the proxy's (query, schema kept)."""
    return (
        make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    )


@contextlib.contextmanager
def hold_sqlite_lock(database_url: str) -> Iterator[None]:
    """Hold the database's write lock from another connection while inside."""
    path = make_url(database_url).database
    assert path
    connection = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
        connection.close()


# --- the cluster ----------------------------------------------------------------------------


@dataclass
class Cluster:
    """One emulator, one database, the hearth processes sharing them, and one clock."""

    slack: SlackEmulator
    clock: MovableClock  # the emulator's; every process is told the same offset
    database_url: str  # what the processes connect to (maybe through a proxy)
    direct_url: str  # what the test reads with
    workdir: Path
    router: Router
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    processes: list[HearthProcess] = field(default_factory=list)
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    migrated: bool = False

    @property
    def dialect(self) -> str:
        return "postgresql" if self.direct_url.startswith("postgresql") else "sqlite"

    @property
    def live(self) -> list[HearthProcess]:
        return [p for p in self.processes if p.alive and not p.killed]

    async def spawn(self, *, ready: bool = True) -> HearthProcess:
        """Start one more hearth process (the first migrates the database)."""
        number = next(self._names)
        process = HearthProcess(
            name=f"hearth-{number}",
            database_url=self.database_url,
            slack_api_url=self.slack.api_url,
            log_path=self.workdir / f"hearth-{number}.log",
        )
        self.processes.append(process)
        await process.start(self.clock.offset, migrate=not self.migrated)
        self.migrated = True
        self.router.backends.append(process)
        if ready:
            await process.wait_ready()
        return process

    async def kill(self, process: HearthProcess) -> None:
        await process.kill()
        if self.router.pinned is process:
            self.router.pinned = None

    def pin(self, process: HearthProcess | None) -> None:
        """Send Slack's requests to `process` (None: round robin over the live ones)."""
        self.router.pinned = process

    def last_served_by(self) -> HearthProcess:
        name = self.router.served_by[-1]
        return next(p for p in self.processes if p.name == name)

    async def tell_clock(
        self, processes: list[HearthProcess] | None = None, *, resync: bool = True
    ) -> None:
        """Give `processes` (default: every live one) the emulator's clock. With `resync`,
        each re-reads what is due at once; without, its own resync does within 5 s."""
        offset = self.clock.offset.total_seconds()
        await asyncio.gather(
            *(
                p.control("/clock", {"offset_seconds": offset, "resync": resync})
                for p in (self.live if processes is None else processes)
            )
        )

    async def advance(
        self,
        delta: timedelta,
        *,
        resync: bool = True,
        only: list[HearthProcess] | None = None,
    ) -> None:
        """Move time on by `delta` for Slack and the processes (`only` some of them: the
        others keep the old time until `tell_clock`, so they do not act on what came due)."""
        self.clock.set_offset(self.clock.offset + delta)
        await self.tell_clock(only, resync=resync)

    async def advance_to(self, moment: datetime, **options: Any) -> None:
        await self.advance(moment - self.clock.now(), **options)

    async def pending_outbox(self) -> int:
        async with self.sessionmaker() as session:
            return int(
                await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.state == "pending")
                )
                or 0
            )

    async def outbox_drained(self, within: float = 15.0) -> None:
        """Until nothing is owed (the live processes sent it all)."""

        async def drained() -> bool:
            return await self.pending_outbox() == 0

        await eventually(drained, within=within, what="outbox drained")

    def logs(self) -> str:
        return "\n".join(
            f"===== {p.name} (pid {p.process.pid if p.process else '-'}, {p.status}) =====\n"
            f"{p.log()}"
            for p in self.processes
        )

    async def close(self) -> None:
        await asyncio.gather(*(p.stop(grace=5.0) for p in self.processes if p.alive))


@asynccontextmanager
async def running_cluster(
    slack: SlackEmulator, clock: MovableClock, direct_url: str, workdir: Path, *, via: str = ""
) -> AsyncIterator[Cluster]:
    """A cluster (no process started yet); every process is stopped or killed on exit."""
    router = Router()
    await router.start()
    slack.set_request_url(router.url)
    engine = create_engine(direct_url)
    cluster = Cluster(
        slack=slack,
        clock=clock,
        database_url=via or direct_url,
        direct_url=direct_url,
        workdir=workdir,
        router=router,
        engine=engine,
        sessionmaker=create_sessionmaker(engine, sealer=Sealer(SECRET_KEY)),
    )
    try:
        yield cluster
    finally:
        try:
            await cluster.close()
        finally:
            for process in cluster.processes:  # never leave one behind
                if process.alive and process.process is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(process.process.pid, signal.SIGKILL)
            await router.stop()
            await engine.dispose()


def start_offset() -> timedelta:
    """The offset that makes it START now."""
    return START - datetime.now(UTC)
