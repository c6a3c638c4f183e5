"""The sandbox page's HTTP server: the page itself, a small JSON API and a change stream.

`GET /api/state?user=U…` is what that person sees (see `screen`); `GET /api/file?user=U…&id=F…`
opens a file shared where they can read it (an exported set of minutes); the POST endpoints
are what they do (see `acting`); `GET /api/events` is a Server-Sent Events stream that says
"look again" whenever the workspace changes, so votes by others appear live.

Only JSON bodies are taken, and only from the page's own origin: a browser will not send
a cross-site JSON POST without asking first, which this server never allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.sandbox import acting
from bot.sandbox.acting import PageError
from bot.sandbox.feed import CLOSED
from bot.sandbox.screen import readable_file, screen

if TYPE_CHECKING:
    from bot.sandbox.runtime import Sandbox

STATIC_DIR = Path(__file__).resolve().parent / "static"
SANDBOX_KEY: web.AppKey[Sandbox] = web.AppKey("sandbox")
KEEP_ALIVE_SECONDS = 15.0
NO_STORE = {"Cache-Control": "no-store"}
# What a file's name may keep in a Content-Disposition header; anything else becomes "_".
UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]")

JSON = dict[str, Any]
Handler = Callable[["Sandbox", JSON], Awaitable[JSON]]


def create_page_app(sandbox: Sandbox) -> web.Application:
    app = web.Application(middlewares=[_same_origin_json], client_max_size=1024 * 1024)
    app[SANDBOX_KEY] = sandbox
    app.router.add_get("/", _index)
    app.router.add_static("/static/", STATIC_DIR, show_index=False, follow_symlinks=False)
    app.router.add_get("/api/state", _state)
    app.router.add_get("/api/events", _events)
    app.router.add_get("/api/file", _file)
    for path, handler in _ACTIONS.items():
        app.router.add_post(path, _action(handler))
    return app


@web.middleware
async def _same_origin_json(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    if request.method == "POST":
        if request.content_type != "application/json":
            return _error("Send JSON (Content-Type: application/json).", 415)
        origin = request.headers.get("Origin")
        if origin and urlsplit(origin).netloc != request.host:
            return _error("The sandbox only answers its own page.", 403)
    response = await handler(request)
    if request.path.startswith("/static/"):
        response.headers.update(NO_STORE)
    return response


def _error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status, headers=NO_STORE)


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers=NO_STORE)


async def _state(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    try:
        body = screen(
            sandbox.emulator.state,
            request.query.get("user", ""),
            moved_seconds=sandbox.clock.moved.total_seconds(),
            version=sandbox.feed.version,
        )
    except KeyError:
        return _error("No such person in this workspace.", 404)
    return web.json_response(body, headers=NO_STORE)


async def _file(request: web.Request) -> web.Response:
    """A shared file's contents, shown as plain text in the browser (never run as a page)."""
    sandbox = request.app[SANDBOX_KEY]
    try:
        file = readable_file(
            sandbox.emulator.state, request.query.get("user", ""), request.query.get("id", "")
        )
    except KeyError:
        return _error("That file isn't shared in any conversation you can see.", 404)
    filename = UNSAFE_IN_FILENAME.sub("_", file.name) or "file"
    return web.Response(
        body=file.content,
        content_type="text/plain",
        charset="utf-8",
        headers={
            **NO_STORE,
            "Content-Disposition": f'inline; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _events(request: web.Request) -> web.StreamResponse:
    feed = request.app[SANDBOX_KEY].feed
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "X-Accel-Buffering": "no", **NO_STORE}
    )
    await response.prepare(request)
    queue = feed.subscribe()
    try:
        await response.write(f"data: {feed.version}\n\n".encode())
        while True:
            try:
                version = await asyncio.wait_for(queue.get(), KEEP_ALIVE_SECONDS)
            except TimeoutError:
                await response.write(b": still here\n\n")
                continue
            if version == CLOSED:
                break
            await response.write(f"data: {version}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        feed.unsubscribe(queue)
    with contextlib.suppress(ConnectionResetError):
        await response.write_eof()
    return response


def _action(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        sandbox = request.app[SANDBOX_KEY]
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error("That request was not valid JSON.")
        if not isinstance(body, dict):
            return _error("Send a JSON object.")
        try:
            result = await handler(sandbox, body)
        except PageError as exc:
            return _error(str(exc))
        finally:
            sandbox.changed()
        return web.json_response(result, headers=NO_STORE)

    return handle


async def _command(sandbox: Sandbox, body: JSON) -> JSON:
    return await acting.run_command(
        sandbox.emulator,
        body.get("user"),
        body.get("channel"),
        body.get("text"),
        body.get("thread_ts"),
    )


async def _message(sandbox: Sandbox, body: JSON) -> JSON:
    return await acting.post_message(
        sandbox.emulator,
        body.get("user"),
        body.get("channel"),
        body.get("text"),
        body.get("thread_ts"),
    )


async def _act(sandbox: Sandbox, body: JSON) -> JSON:
    return await acting.act(sandbox.emulator, body.get("user"), body)


async def _submit(sandbox: Sandbox, body: JSON) -> JSON:
    return await acting.submit(
        sandbox.emulator, body.get("user"), body.get("view_id"), body.get("state")
    )


async def _close_view(sandbox: Sandbox, body: JSON) -> JSON:
    return await acting.close_view(
        sandbox.emulator, body.get("user"), body.get("view_id"), all_views=bool(body.get("all"))
    )


async def _home(sandbox: Sandbox, body: JSON) -> JSON:
    return await acting.open_home(sandbox.emulator, body.get("user"))


async def _join(sandbox: Sandbox, body: JSON) -> JSON:
    return await acting.join(sandbox.emulator, body.get("user"), body.get("channel"))


async def _clock(sandbox: Sandbox, body: JSON) -> JSON:
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise PageError("Say how many seconds to move the clock forward, as a whole number.")
    try:
        delta = timedelta(seconds=seconds)
        if delta <= timedelta(0):
            raise ValueError("the sandbox clock only moves forward")
        ran = await sandbox.advance(delta)
    except ValueError as exc:
        raise PageError(f"Cannot move the clock: {exc}.") from None
    return {"ok": True, "ran": ran, "now": sandbox.emulator.state.now()}


_ACTIONS: dict[str, Handler] = {
    "/api/command": _command,
    "/api/message": _message,
    "/api/action": _act,
    "/api/submit": _submit,
    "/api/close_view": _close_view,
    "/api/home": _home,
    "/api/join": _join,
    "/api/clock": _clock,
}
