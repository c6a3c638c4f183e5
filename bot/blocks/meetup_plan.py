"""Block Kit for a rota meetup held as a chat: the form to choose its prompts ahead, and the
notes hearth sends its facilitator. Pure functions; prompts are people's text, so escaped."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.views import View

from bot.blocks.common import (
    FormErrors,
    context,
    duration_text,
    mention,
    modal,
    plural,
    safe,
    section,
    slack_date,
)
from bot.blocks.meetup import (
    nudges_input,
    pace_input,
    prompts_input,
    read_nudges,
    read_pace,
    read_prompts,
)
from bot.ids import MeetupPlanView
from bot.services.meetup_plan import DEFAULT_PROMPTS, PlanInput, PlanTarget, SavedPlan
from bot.state import MeetupRef


def _channel(channel_id: str) -> str:
    return f"<#{channel_id}>"


def _quoted(prompts: tuple[str, ...]) -> str:
    return "\n".join(f"• {safe(p)}" for p in prompts)


def plan_modal(target: PlanTarget) -> View:
    """Prompts, pace and nudges; filled in with what was saved, if anything."""
    plan = target.plan
    intro = (
        f"The chat meetup in {_channel(target.channel_id)} starts by itself on "
        f"*{slack_date(target.starts_at)}* and runs for "
        f"{duration_text(target.length_minutes * 60)} (the schedule sets the length). "
        "Each prompt is its own message, and its thread is the discussion."
    )
    blocks = [section(intro)]
    if plan is None:
        blocks.append(
            context(
                "Nothing chosen yet: without prompts, it opens with “"
                + "” and “".join(DEFAULT_PROMPTS)
                + "”"
            )
        )
    else:
        blocks.append(
            context(f"Last saved by {mention(plan.updated_by_id)} {slack_date(plan.updated_at)}.")
        )
    blocks += [
        prompts_input(plan.prompts if plan else ()),
        pace_input(plan.pace_minutes if plan else 0),
        nudges_input(
            half_time=plan.nudge_half_time if plan else True,
            five_before=plan.nudge_five_before if plan else True,
        ),
    ]
    return modal(
        title="Choose the prompts",
        callback_id=MeetupPlanView.PLAN,
        submit="Save",
        private_metadata=MeetupRef(c=target.community_id, m=target.meetup_id).encode(),
        blocks=blocks,
    )


def parse_plan(values: Mapping[str, Any]) -> PlanInput:
    errors: dict[str, str] = {}
    prompts = read_prompts(values, errors)
    pace = read_pace(values, errors)
    if errors:
        raise FormErrors(errors)
    half_time, five_before = read_nudges(values)
    return PlanInput(
        prompts=prompts, pace_minutes=pace, nudge_half_time=half_time, nudge_five_before=five_before
    )


def saved_text(target: PlanTarget, plan: SavedPlan) -> str:
    """The note after saving, so the facilitator sees what will happen."""
    pace = (
        "all at the start"
        if plan.pace_minutes == 0 or len(plan.prompts) == 1
        else f"one every {plan.pace_minutes} min"
    )
    return (
        f"Saved. The chat meetup in {_channel(target.channel_id)} on "
        f"{slack_date(target.starts_at)} will open with {plural(len(plan.prompts), 'prompt')} "
        f"({pace}):\n{_quoted(plan.prompts)}\nYou can change them until it starts."
    )


def busy_text(channel_id: str, facilitator_id: str) -> str:
    """To the facilitator: the scheduled chat did not start, as one is already running."""
    return (
        f"Hi {mention(facilitator_id)}! It's time for the community's scheduled chat meetup in "
        f"{_channel(channel_id)}, but a chat meetup is already running there, so I haven't "
        "started a second one on top of it. Carry on in that one! If you'd still like to use "
        "the scheduled prompts, start them with `/meetup` once it has ended."
    )
