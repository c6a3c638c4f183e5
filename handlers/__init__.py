"""Slack listeners, one module per domain, each exposing `register(app, deps)`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.app import Deps


def register_all(app: AsyncApp, deps: Deps) -> None:
    from bot.jobs import actions as actions_jobs
    from bot.jobs import health_check as health_check_jobs
    from bot.jobs import rota as rota_jobs
    from bot.jobs import workspace_data as workspace_data_jobs
    from handlers import (
        access,
        actions,
        clean_input,
        errors,
        health_check,
        health_check_reminders,
        home,
        lean_coffee,
        meetup,
        meetup_plan,
        personal_data,
        rota,
        workspace_data,
    )
    from handlers import minutes as minutes_handlers

    clean_input.register(app)  # first: no listener or later middleware sees raw controls
    access.register(app)  # then: nothing from a workspace hearth isn't authorized for
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
    personal_data.register(app, deps)
    actions_jobs.register(deps)
    workspace_data.register(app, deps)  # a workspace removing hearth, or adding it again
    workspace_data_jobs.register(deps)
