"""The /health-check modals: the set-up (questions, answer labels, schedule and settings),
one question, and the schedule on its own.

Pure functions from plain values to Block Kit views. Questions are saved as soon as a lead
edits, removes, adds or moves one (each has an overflow menu in the set-up), so the list is
always the stored one; the rest of the set-up is saved with the modal's Save button.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    NumberInputElement,
    Option,
    OverflowMenuElement,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot.blocks.common import (
    MAX_MODAL_BLOCKS,
    actions,
    button,
    context,
    divider,
    header,
    modal,
    option,
    plain,
    safe,
    section,
)
from bot.blocks.health_check_forms import ANONYMOUS, MANUAL, NAMED, QuestionMenu, scale_block
from bot.blocks.rota import FREQUENCY_CHOICES
from bot.ids import HealthAction, HealthBlock, HealthView, input_action_id
from bot.services.health_check import hours_words
from bot.services.health_check_types import (
    MAX_MIN_ANSWERS,
    MAX_QUESTIONS,
    MAX_REMINDERS,
    QUESTION_TEXT_MAX,
    QUESTION_TITLE_MAX,
    SCALE_LABEL_MAX,
    Question,
    SetupView,
)
from bot.services.recurrence import MAX_EVERY_WEEKS, ORDINALS, WEEKDAYS, Cadence, Frequency
from bot.state import HealthModal

OPEN_HOURS_CHOICES: tuple[int, ...] = (4, 8, 12, 24, 48, 72, 96, 120, 168, 336)
REMINDER_WORDS = {0: "No reminders", 1: "Once, halfway through", 2: "Twice", 3: "Three times"}


def _input(
    block_id: HealthBlock | str,
    label: str,
    element: object,
    *,
    hint: str | None = None,
    optional: bool = False,
) -> InputBlock:
    return InputBlock(
        block_id=str(block_id),
        label=plain(label),
        element=element,
        hint=plain(hint) if hint else None,
        optional=optional,
    )


def _select(
    block: HealthBlock, options: Sequence[Option], chosen: str | None
) -> StaticSelectElement:
    initial = next((o for o in options if o.value == chosen), None)
    return StaticSelectElement(
        action_id=input_action_id(block), options=list(options), initial_option=initial
    )


# --- the schedule ------------------------------------------------------------------------------


def cadence_inputs(
    cadence: Cadence | None, time_zone: str, *, by_hand: bool = False
) -> list[Block]:
    """How often, which day, what time and zone: the rota's choices, plus "only by hand"
    (chosen when there is no cadence and `by_hand`; otherwise monthly is suggested)."""
    frequencies = [option(label, str(value)) for value, label in FREQUENCY_CHOICES]
    frequencies.append(option("Only when a lead runs one (/health-check now)", MANUAL))
    weekdays = [option(name, str(i)) for i, name in enumerate(WEEKDAYS)]
    weeks = [
        option(f"The {label} week" if n != -1 else "The last week", str(n))
        for n, label in ORDINALS.items()
    ]
    at = cadence.at if cadence else time(10, 0)
    return [
        _input(
            HealthBlock.FREQUENCY,
            "How often",
            _select(
                HealthBlock.FREQUENCY,
                frequencies,
                str(cadence.frequency) if cadence else MANUAL if by_hand else Frequency.MONTHLY,
            ),
        ),
        _input(
            HealthBlock.WEEKDAY,
            "Day of the week",
            _select(HealthBlock.WEEKDAY, weekdays, str(cadence.weekday if cadence else 0)),
        ),
        _input(
            HealthBlock.EVERY_WEEKS,
            "Every how many weeks",
            NumberInputElement(
                action_id=input_action_id(HealthBlock.EVERY_WEEKS),
                is_decimal_allowed=False,
                initial_value=str(cadence.every_weeks if cadence else 4),
                min_value="1",
                max_value=str(MAX_EVERY_WEEKS),
            ),
            hint="For checks every few weeks: 4 is every fourth week.",
            optional=True,
        ),
        _input(
            HealthBlock.WEEK_OF_MONTH,
            "Which week of the month",
            _select(HealthBlock.WEEK_OF_MONTH, weeks, str(cadence.week_of_month if cadence else 1)),
            hint="For monthly checks, e.g. the 1st Monday, or the last Friday.",
            optional=True,
        ),
        _input(
            HealthBlock.TIME,
            "Starts at",
            TimePickerElement(
                action_id=input_action_id(HealthBlock.TIME), initial_time=at.strftime("%H:%M")
            ),
        ),
        _input(
            HealthBlock.TIME_ZONE,
            "Time zone",
            PlainTextInputElement(
                action_id=input_action_id(HealthBlock.TIME_ZONE),
                initial_value=cadence.time_zone if cadence else time_zone,
                max_length=64,
            ),
            hint="The time above is in this zone, and stays put when clocks change. "
            "A name like Europe/London or America/New_York.",
        ),
    ]


def schedule_modal(meta: HealthModal, cadence: Cadence | None, time_zone: str) -> View:
    """Only when checks run (from `/health-check schedule` → Edit)."""
    return modal(
        title="Health check schedule",
        callback_id=HealthView.SCHEDULE,
        blocks=[
            section("When should health checks start? Each one is posted in the channel."),
            *cadence_inputs(cadence, time_zone, by_hand=True),
        ],
        submit="Save",
        private_metadata=meta.encode(),
    )


# --- the set-up --------------------------------------------------------------------------------


def _question_menu(question: Question, index: int, count: int) -> OverflowMenuElement:
    choices = [
        option("Edit", QuestionMenu.value(QuestionMenu.EDIT, question.key)),
        option("Remove", QuestionMenu.value(QuestionMenu.REMOVE, question.key)),
    ]
    if index > 0:
        choices.append(option("Move up", QuestionMenu.value(QuestionMenu.UP, question.key)))
    if index < count - 1:
        choices.append(option("Move down", QuestionMenu.value(QuestionMenu.DOWN, question.key)))
    return OverflowMenuElement(action_id=HealthAction.QUESTION_MENU, options=choices)


def question_rows(questions: Sequence[Question]) -> list[Block]:
    rows: list[Block] = []
    for index, question in enumerate(questions):
        lines = [f"*{index + 1}. {safe(question.title)}*"]
        if question.best:
            lines.append(f"_Best:_ {safe(question.best, 120)}")
        if question.worst:
            lines.append(f"_Worst:_ {safe(question.worst, 120)}")
        rows.append(
            section(
                "\n".join(lines),
                accessory=_question_menu(question, index, len(questions)),
                block_id=f"{HealthBlock.QUESTION_ROW}.{question.key}",
            )
        )
    return rows


def setup_modal(meta: HealthModal, setup: SetupView, time_zone: str) -> View:
    """The whole set-up. The questions are saved as they are changed; Save keeps the rest."""
    hours = sorted({*OPEN_HOURS_CHOICES, setup.open_hours})
    privacy = [
        option("Anonymous: nobody can tell who answered what", ANONYMOUS),
        option("Named: answers are kept with people's names", NAMED),
    ]
    blocks: list[Block] = [
        section(
            "A health check asks everyone in the channel how the community is doing. "
            "Changes to the questions are saved straight away and apply to the next check."
        ),
        header(f"Questions ({len(setup.questions)} of {MAX_QUESTIONS})"),
        *question_rows(setup.questions),
    ]
    if len(setup.questions) < MAX_QUESTIONS:
        blocks.append(
            actions(
                button(
                    "Add a question",
                    HealthAction.QUESTION_MENU,
                    QuestionMenu.value(QuestionMenu.ADD, "new"),
                ),
                block_id=HealthBlock.QUESTION_TOOLS,
            )
        )
    blocks += [
        divider(),
        header("Answers"),
        *(
            _input(
                scale_block(i),
                f"{o.emoji} label" if i else f"{o.emoji} label (best)",
                PlainTextInputElement(
                    action_id=f"{scale_block(i)}.input",
                    initial_value=o.label,
                    max_length=SCALE_LABEL_MAX,
                ),
            )
            for i, o in enumerate(setup.scale)
        ),
        divider(),
        header("Schedule"),
        *cadence_inputs(setup.cadence, time_zone, by_hand=setup.saved),
        _input(
            HealthBlock.OPEN_HOURS,
            "Each check stays open for",
            _select(
                HealthBlock.OPEN_HOURS,
                [option(hours_words(h), str(h)) for h in hours],
                str(setup.open_hours),
            ),
        ),
        divider(),
        header("Privacy and reminders"),
        _input(
            HealthBlock.ANONYMOUS,
            "Answers are",
            RadioButtonsElement(
                action_id=input_action_id(HealthBlock.ANONYMOUS),
                options=privacy,
                initial_option=privacy[0 if setup.anonymous else 1],
            ),
        ),
        _input(
            HealthBlock.REMINDERS,
            "Remind people who haven't answered",
            _select(
                HealthBlock.REMINDERS,
                [option(REMINDER_WORDS[n], str(n)) for n in range(MAX_REMINDERS + 1)],
                str(setup.reminders),
            ),
        ),
        _input(
            HealthBlock.MIN_ANSWERS,
            "Show results once at least this many answered",
            NumberInputElement(
                action_id=input_action_id(HealthBlock.MIN_ANSWERS),
                is_decimal_allowed=False,
                initial_value=str(setup.min_answers),
                min_value="1",
                max_value=str(MAX_MIN_ANSWERS),
            ),
            hint="Anonymous checks need at least 3, so nobody's answer can be worked out.",
        ),
    ]
    if len(blocks) > MAX_MODAL_BLOCKS:  # pragma: no cover (20 questions come to about 45)
        raise ValueError("the set-up modal has too many blocks")
    return modal(
        title="Health check set-up",
        callback_id=HealthView.SETUP,
        blocks=blocks,
        submit="Save",
        close="Close",
        private_metadata=meta.encode(),
    )


def question_modal(meta: HealthModal, question: Question | None) -> View:
    """Add a question (`question` None) or edit one."""
    return modal(
        title="Edit question" if question else "Add a question",
        callback_id=HealthView.QUESTION,
        blocks=[
            _input(
                HealthBlock.TITLE,
                "Question",
                PlainTextInputElement(
                    action_id=input_action_id(HealthBlock.TITLE),
                    initial_value=question.title if question else None,
                    max_length=QUESTION_TITLE_MAX,
                    placeholder=plain("e.g. Learning"),
                ),
            ),
            _input(
                HealthBlock.BEST,
                "What it looks like at its best",
                PlainTextInputElement(
                    action_id=input_action_id(HealthBlock.BEST),
                    initial_value=question.best if question and question.best else None,
                    multiline=True,
                    max_length=QUESTION_TEXT_MAX,
                ),
                optional=True,
            ),
            _input(
                HealthBlock.WORST,
                "What it looks like at its worst",
                PlainTextInputElement(
                    action_id=input_action_id(HealthBlock.WORST),
                    initial_value=question.worst if question and question.worst else None,
                    multiline=True,
                    max_length=QUESTION_TEXT_MAX,
                ),
                optional=True,
            ),
            context("People answer against these two descriptions. Saved straight away."),
        ],
        submit="Save",
        close="Back",
        private_metadata=meta.encode(),
    )
