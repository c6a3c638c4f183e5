"""Slack listeners, one module per domain, each exposing `register(app, deps)`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.app import Deps


def register_all(app: AsyncApp, deps: Deps) -> None:
    from bot.jobs import rota as rota_jobs
    from handlers import errors, lean_coffee, rota

    errors.register(app, deps)
    lean_coffee.register(app, deps)
    rota.register(app, deps)
    rota_jobs.register(deps)
