"""What community health checks look like in Slack: the poll, the private receipts, the
results, the trend over past checks, the schedule and the help.

Pure functions from the service's plain values to Block Kit objects: no clock, no database,
no Slack. A poll keeps to two blocks per question (the question with its "at its best / at
its worst" descriptions, then its answer buttons), so the largest set of questions fits in
one message. Nothing drawn here ever carries an anonymous person's answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import Block

from bot.blocks.actions import record_button
from bot.blocks.common import (
    actions,
    button,
    confirm_dialog,
    context,
    guide_blocks,
    header,
    list_words,
    mention,
    plural,
    safe,
    section,
    slack_date,
    text_sections,
)
from bot.ids import HealthAction, HealthBlock
from bot.services.health_check import hours_words
from bot.services.health_check_types import (
    CheckResults,
    CheckView,
    History,
    Question,
    QuestionResult,
    ScaleOption,
    SetupView,
    Trend,
)
from bot.state import AnswerRef, CheckRef, CommunityRef

SPARK = "▁▂▃▄▅▆▇█"
NO_SCORE = "·"
TREND_ARROWS = {Trend.UP: "↑", Trend.LEVEL: "→", Trend.DOWN: "↓"}
# Standard deviation of the answers' scores (0–50) from which views count as split.
SPLIT_DISAGREEMENT = 30.0
SOME_DISAGREEMENT = 15.0


# --- small words ---------------------------------------------------------------------------------


def answer_action_id(option_key: str) -> str:
    """Each answer button in a question's block needs its own `action_id`."""
    return f"{HealthAction.ANSWER}.{option_key}"


def poll_block_id(question_key: str) -> str:
    return f"{HealthBlock.POLL_QUESTION}.{question_key}"


def option_words(option: ScaleOption) -> str:
    """An answer as people read it: `:large_green_circle: Going well`."""
    return f"{option.emoji} {safe(option.label)}".strip()


def reminders_words(count: int) -> str:
    if count == 0:
        return "no reminders"
    if count == 1:
        return "one reminder, halfway through, to people who haven't answered"
    return f"{count} reminders, spread through the check, to people who haven't answered"


def score_words(score: float | None) -> str:
    return "–" if score is None else f"{score:.0f}"


def sparkline(scores: Sequence[float | None]) -> str:
    """`▂▄▆█` on the fixed 0–100 scale (so lines compare across questions); `·` where a
    check has no score."""
    marks = []
    for score in scores:
        if score is None:
            marks.append(NO_SCORE)
        else:
            marks.append(SPARK[min(len(SPARK) - 1, max(0, round(score / 100 * (len(SPARK) - 1))))])
    return "".join(marks)


def trend_words(result: QuestionResult) -> str:
    """`↑ up from 55`, `→ level (55 last time)`, `↓ down from 80`; empty when there is no
    earlier score to compare with."""
    if result.trend is None or result.previous_score is None:
        return ""
    before = score_words(result.previous_score)
    arrow = TREND_ARROWS[result.trend]
    if result.trend == Trend.UP:
        return f"{arrow} up from {before}"
    if result.trend == Trend.DOWN:
        return f"{arrow} down from {before}"
    return f"{arrow} level ({before} last time)"


def disagreement_words(disagreement: float | None) -> str:
    if disagreement is None:
        return ""
    if disagreement >= SPLIT_DISAGREEMENT:
        return "views are split"
    if disagreement >= SOME_DISAGREEMENT:
        return "some disagreement"
    return "broad agreement"


def privacy_text(anonymous: bool, min_answers: int) -> str:
    """Who can see what, exactly as `bot.services.health_check` keeps it."""
    if anonymous:
        return (
            "*Answers are anonymous:* hearth stores them under a code made for this check "
            "alone and destroys the key when it closes, after which nobody, not even database "
            "admins, can tell who answered what. Only totals are shown, and only once at least "
            f"{min_answers} people have answered. Your choices are shown only to you. (While "
            "the check is open, the key is kept so nobody can answer twice.)"
        )
    return (
        "*Answers are not anonymous in this check:* hearth keeps each answer with the name of "
        "the person who gave it, and whoever runs hearth's database can see who answered what. "
        "In Slack, only totals are shown, and only once at least "
        f"{min_answers} people have answered. Your choices are shown only to you."
    )


# --- the poll ------------------------------------------------------------------------------------


def _question_text(number: int, question: Question, scale: Sequence[ScaleOption]) -> str:
    lines = [f"*{number}. {safe(question.title)}*"]
    if question.best:
        lines.append(f"{scale[0].emoji} _At its best:_ {safe(question.best)}")
    if question.worst:
        lines.append(f"{scale[-1].emoji} _At its worst:_ {safe(question.worst)}")
    return "\n".join(lines)


def question_blocks(check: CheckView) -> list[Block]:
    """Each question and its answer buttons: two blocks per question, so a reminder can
    reuse them and a full set fits in one message."""
    blocks: list[Block] = []
    for number, question in enumerate(check.questions, start=1):
        blocks.append(section(_question_text(number, question, check.scale)))
        blocks.append(
            actions(
                *(
                    button(
                        f"{o.emoji} {o.label}".strip(),
                        answer_action_id(o.key),
                        AnswerRef(k=check.id, q=question.key, o=o.key).encode(),
                    )
                    for o in check.scale
                ),
                block_id=poll_block_id(question.key),
            )
        )
    return blocks


def count_text(respondents: int) -> str:
    if respondents == 0:
        return "Nobody has answered yet."
    verb = "has" if respondents == 1 else "have"
    return f"{plural(respondents, 'person', 'people')} {verb} answered."


def poll_blocks(check: CheckView, respondents: int) -> list[Block]:
    """The poll in the channel: open with buttons, or closed with a short note."""
    if not check.is_open:
        closed = check.closed_at or check.closes_at
        early = f" early by {mention(check.closed_by_id)}" if check.closed_by_id else ""
        titles = ", ".join(safe(q.title) for q in check.questions)
        return [
            header("Community health check (closed)"),
            section(
                f"This health check closed{early} on {slack_date(closed)}. "
                f"{plural(respondents, 'person', 'people')} answered; the results are posted "
                f"in the channel. Type `/health-check results` for the trend."
            ),
            context(f"Questions: {titles}"),
        ]
    started = f"{mention(check.started_by_id)} started this check. " if check.started_by_id else ""
    blocks: list[Block] = [
        header("Community health check"),
        section(
            f"{started}How is our community doing? Pick an answer for each question; you can "
            "change your mind until it closes.\n\n"
            + privacy_text(check.anonymous, check.min_answers)
        ),
        *question_blocks(check),
        context(f"{count_text(respondents)} Open until {slack_date(check.closes_at)}."),
        actions(
            button(
                "Close now and show results",
                HealthAction.CLOSE_NOW,
                CheckRef(k=check.id).encode(),
                confirm=confirm_dialog(
                    "Close this check?",
                    "Nobody can answer or change an answer after it closes, and the results "
                    "are posted in the channel. Only community leads can close a check early.",
                    confirm="Close it",
                    deny="Keep it open",
                ),
            ),
            block_id=HealthBlock.QUESTION_TOOLS,
        ),
    ]
    return blocks


def poll_text(check: CheckView, respondents: int) -> str:
    if not check.is_open:
        return f"This health check has closed. {count_text(respondents)}"
    return f"Community health check: how are we doing? {count_text(respondents)}"


def receipt_text(
    question_title: str,
    choice: ScaleOption,
    previous: ScaleOption | None,
    answered: int,
    questions: int,
    anonymous: bool,
) -> str:
    """What the person is told privately after a click (never posted for others)."""
    title = safe(question_title)
    if previous is not None:
        first = (
            f"Changed your answer to *{title}* from {option_words(previous)} to "
            f"{option_words(choice)}."
        )
    else:
        first = f"You answered {option_words(choice)} to *{title}*."
    left = questions - answered
    progress = (
        "That's every question: thank you!"
        if left <= 0
        else f"{plural(left, 'question')} to go ({answered} of {questions} answered)."
    )
    note = (
        " Only you can see this, and your answer is stored anonymously."
        if anonymous
        else " Only you can see this note."
    )
    return f"{first} {progress}{note} Click another answer to change it."


# --- results -------------------------------------------------------------------------------------


def _distribution(result: QuestionResult) -> str:
    return " · ".join(f"{option_words(c.option)} *{c.count}*" for c in result.distribution)


def _result_line(result: QuestionResult) -> str:
    parts = [f"score *{score_words(result.score)}*/100"]
    trend = trend_words(result)
    if trend:
        parts.append(trend)
    agreement = disagreement_words(result.disagreement)
    if agreement:
        parts.append(agreement)
    return f"*{safe(result.title)}*: {', '.join(parts)}\n{_distribution(result)}"


def response_words(results: CheckResults) -> str:
    people = plural(results.respondents, "person", "people")
    if results.members:
        rate = round((results.response_rate or 0) * 100)
        return f"{people} answered, {rate}% of the channel's {results.members} members"
    return f"{people} answered"


def results_blocks(results: CheckResults) -> list[Block]:
    """The results: per question its answers, score and trend, most disagreement first;
    only the count when too few answered. Either way, a button to record an action."""
    closed = slack_date(results.closed_at)
    early = f" (closed early by {mention(results.closed_by_id)})" if results.closed_by_id else ""
    blocks: list[Block] = [
        header("Community health check: results"),
        section(f"{response_words(results)}. The check closed on {closed}{early}."),
    ]
    if results.below_minimum:
        blocks.append(
            section(
                f"That's fewer than the {results.min_answers} answers needed, so the results "
                "aren't shown: with so few, people's answers could be worked out. There's "
                "always the next check."
            )
        )
        blocks.append(record_button(results.check_id))
        return blocks
    shown = [r for r in results.questions if r.shown]
    hidden = [r for r in results.questions if not r.shown]
    lines = [_result_line(r) for r in shown]
    lines += [f"*{safe(r.title)}*: {plural(r.answers, 'answer')}, too few to show" for r in hidden]
    blocks.append(
        context(
            "Questions people disagree on most come first. Scores run from 0 (everyone said "
            f"{option_words(results.scale[-1])}) to 100 (everyone said "
            f"{option_words(results.scale[0])})."
        )
    )
    blocks.extend(text_sections(lines))
    blocks.append(record_button(results.check_id))
    return blocks


def results_text(results: CheckResults) -> str:
    return f"Community health check results: {response_words(results)}."


def history_blocks(history: History) -> list[Block]:
    """Each question's scores over the last checks: a sparkline and the numbers."""
    if not history.checks:
        return []
    dates = " · ".join(slack_date(p.closed_at, "{date_short}") for p in history.checks)
    lines = []
    for question in history.questions:
        numbers = " → ".join(score_words(s) for s in question.scores)
        lines.append(f"`{sparkline(question.scores)}` *{safe(question.title)}*: {numbers}")
    people = " · ".join(str(p.respondents) for p in history.checks)
    return [
        header(f"Trend over the last {plural(len(history.checks), 'check')}"),
        *text_sections(lines),
        context(f"Checks closed on {dates}. People who answered: {people}. `·` or `–`: no score."),
    ]


# --- the schedule --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupOverview:
    """What `/health-check schedule` shows a person."""

    setup: SetupView
    viewer_is_lead: bool
    leads: tuple[str, ...]
    open_check: CheckView | None = None


def setup_lines(setup: SetupView) -> list[str]:
    when = (
        setup.cadence.describe()
        if setup.cadence
        else "not on a schedule: a lead runs one with `/health-check now`"
    )
    privacy = "anonymous" if setup.anonymous else "named (not anonymous)"
    return [
        f"*When:* {when[:1].upper()}{when[1:]}",
        f"*Each check stays open for:* {hours_words(setup.open_hours)}",
        f"*Answers:* {privacy}; results shown from {plural(setup.min_answers, 'answer')}",
        f"*Reminders:* {reminders_words(setup.reminders)[:1].upper()}"
        f"{reminders_words(setup.reminders)[1:]}",
        f"*Questions:* {len(setup.questions)}; answers "
        + ", ".join(option_words(o) for o in setup.scale),
    ]


def schedule_blocks(overview: SetupOverview) -> list[Block]:
    ref = CommunityRef(c=overview.setup.community_id).encode()
    blocks: list[Block] = [
        header("Health check schedule"),
        section("\n".join(setup_lines(overview.setup))),
    ]
    if overview.open_check is not None:
        blocks.append(
            context(f"A check is open now, until {slack_date(overview.open_check.closes_at)}.")
        )
    if overview.viewer_is_lead:
        buttons = [
            button("Edit schedule", HealthAction.EDIT_SCHEDULE, ref, style="primary"),
            button("Edit questions and set-up", HealthAction.EDIT_SETUP, ref),
        ]
        if overview.open_check is None:
            buttons.append(button("Run a check now", HealthAction.RUN_NOW, ref))
        if overview.setup.cadence is not None:
            buttons.append(
                button(
                    "Delete schedule",
                    HealthAction.DELETE_SCHEDULE,
                    ref,
                    style="danger",
                    confirm=confirm_dialog(
                        "Delete the schedule?",
                        "No more checks start by themselves. The questions, the settings and "
                        "past results are kept, and a lead can still run one by hand.",
                        confirm="Delete it",
                        deny="Keep it",
                    ),
                )
            )
        blocks.append(actions(*buttons))
    else:
        leads = list_words([mention(u) for u in overview.leads[:20]]) or "a workspace admin"
        blocks.append(context(f"Only the community's leads ({leads}) can change the schedule."))
    return blocks


# --- help ----------------------------------------------------------------------------------------

_HELP = [
    (
        "*Community health checks* ask everyone in the channel a few questions about how the "
        "community is doing (value, learning, sharing, support, participation, fun, "
        "leadership load, purpose), each answered with a button. At the end, the channel "
        "sees the totals, a score per question and how it moved since last time."
    ),
    (
        "*Everyone*\n"
        "• Click an answer on the poll for each question; only you see what you chose, and "
        "clicking another answer changes it until the check closes\n"
        "• `/health-check results`: the latest results and each question's trend\n"
        "• `/health-check schedule`: when checks run and how long they stay open\n"
        "• `/health-check help`: this guide"
    ),
    (
        "*Community leads*\n"
        "• `/health-check`: set up the questions (edit, remove, add, reorder), the answer "
        "labels, the schedule, how long checks stay open, anonymous or named, reminders, and "
        "how many answers are needed before results are shown\n"
        "• `/health-check now`: run a check at once\n"
        "• `/health-check schedule`: *Edit* or *Delete* the schedule\n"
        "• *Close now and show results* on the poll closes a check early"
    ),
    (
        "*Privacy.* In an anonymous check (the default), hearth stores answers under a code "
        "made for that check alone and destroys the key when the check closes; after that "
        "nobody, not even database admins, can tell who answered what. Results are shown only "
        "once enough people have answered. In a named check, each answer is kept with the "
        "person's name in hearth's database."
    ),
]


def help_blocks() -> list[Block]:
    return guide_blocks("How health checks work", _HELP)


def help_text() -> str:
    return "How community health checks work, and the /health-check commands."


__all__ = [
    "SetupOverview",
    "answer_action_id",
    "count_text",
    "help_blocks",
    "help_text",
    "history_blocks",
    "poll_blocks",
    "poll_text",
    "privacy_text",
    "question_blocks",
    "receipt_text",
    "results_blocks",
    "results_text",
    "schedule_blocks",
    "setup_lines",
    "sparkline",
    "trend_words",
]
