"""Slack listeners, one module per domain, each exposing `register(app, deps)`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.app import Deps


def register_all(app: AsyncApp, deps: Deps) -> None:
    from bot.jobs import actions as actions_jobs
    from bot.jobs import health_check as health_check_jobs
    from bot.jobs import rota as rota_jobs
    from handlers import (
        actions,
        errors,
        health_check,
        health_check_reminders,
        home,
        lean_coffee,
        meetup,
        meetup_plan,
        rota,
    )
    from handlers import minutes as minutes_handlers

    errors.register(app, deps)
    home.register(app, deps)
    lean_coffee.register(app, deps)
    rota.register(app, deps)
    health_check.register(app, deps)
    rota_jobs.register(deps)
    health_check_reminders.register(app, deps)
    health_check_jobs.register(deps)
    minutes_handlers.register(app, deps)
    meetup.register(app, deps)
    meetup_plan.register(app, deps)
    actions.register(app, deps)
    actions_jobs.register(deps)
