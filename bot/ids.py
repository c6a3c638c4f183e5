"""Every action_id, callback_id and block_id hearth uses, one StrEnum per domain."""

from __future__ import annotations

from enum import StrEnum


class LeanCoffeeAction(StrEnum):
    """`action_id`s of buttons and menus on Lean Coffee messages and modals."""

    PROPOSE = "lean_coffee.propose"
    VOTE = "lean_coffee.vote"
    UNVOTE = "lean_coffee.unvote"
    TOPIC_MENU = "lean_coffee.topic_menu"  # overflow: edit / withdraw / merge / takeaway
    SHOW_ALL_TOPICS = "lean_coffee.show_all_topics"
    ALL_TOPICS_PAGE = "lean_coffee.all_topics_page"
    CLOSE_VOTING = "lean_coffee.close_voting"
    START_NEXT = "lean_coffee.start_next"
    MOVE_ON = "lean_coffee.move_on"
    EXTEND = "lean_coffee.extend"
    HAND_OVER = "lean_coffee.hand_over"
    END_SESSION = "lean_coffee.end_session"
    ADD_TAKEAWAY = "lean_coffee.add_takeaway"
    KEEP_GOING = "lean_coffee.keep_going"
    EITHER_WAY = "lean_coffee.either_way"
    WANT_MOVE_ON = "lean_coffee.want_move_on"
    DECIDE_NOW = "lean_coffee.decide_now"


class LeanCoffeeTopicMenu(StrEnum):
    """Values of the overflow menu options on a topic (prefix of the option `value`)."""

    EDIT = "edit"
    WITHDRAW = "withdraw"
    MERGE = "merge"
    TAKEAWAY = "takeaway"


class LeanCoffeeView(StrEnum):
    """`callback_id`s of Lean Coffee modals."""

    START = "lean_coffee.start"
    PROPOSE = "lean_coffee.propose"
    EDIT_TOPIC = "lean_coffee.edit_topic"
    MERGE = "lean_coffee.merge"
    TAKEAWAY = "lean_coffee.takeaway"
    HAND_OVER = "lean_coffee.hand_over"
    ALL_TOPICS = "lean_coffee.all_topics"


class LeanCoffeeBlock(StrEnum):
    """`block_id`s of modal inputs (their `action_id` is the same string plus `.input`)."""

    TITLE = "lean_coffee.title"
    VOTES = "lean_coffee.votes"
    TIMEBOX = "lean_coffee.timebox"
    EXTENSIONS = "lean_coffee.extensions"
    ANONYMOUS = "lean_coffee.anonymous"
    TOPIC_TITLE = "lean_coffee.topic_title"
    TOPIC_DETAIL = "lean_coffee.topic_detail"
    MERGE_INTO = "lean_coffee.merge_into"
    TAKEAWAY_TOPIC = "lean_coffee.takeaway_topic"
    TAKEAWAY_TEXT = "lean_coffee.takeaway_text"
    TAKEAWAY_IS_ACTION = "lean_coffee.takeaway_is_action"
    ACTION_OWNER = "lean_coffee.action_owner"
    ACTION_DUE = "lean_coffee.action_due"
    NEW_FACILITATOR = "lean_coffee.new_facilitator"
    FACILITATOR = "lean_coffee.facilitator"


def input_action_id(block: StrEnum) -> str:
    """The `action_id` of the single input element inside a modal input block."""
    return f"{block}.input"


class RotaAction(StrEnum):
    """`action_id`s on /rota messages, reminder DMs and swap requests."""

    CONFIRM = "rota.confirm"  # value: MeetupRef
    SKIP = "rota.skip"  # value: MeetupRef
    SWAP = "rota.swap"  # opens the swap modal; value: MeetupRef
    ACCEPT_SWAP = "rota.accept_swap"  # value: SwapRef
    DECLINE_SWAP = "rota.decline_swap"  # value: SwapRef
    WITHDRAW_SWAP = "rota.withdraw_swap"  # the requester takes it back; value: SwapAskedRef
    STEP_IN = "rota.step_in"  # someone takes an unconfirmed turn; value: MeetupRef
    JOIN = "rota.join"  # value: CommunityRef
    LEAVE = "rota.leave"  # value: CommunityRef
    AWAY = "rota.away"  # opens the away modal; value: CommunityRef
    STATS = "rota.stats"  # value: CommunityRef
    EDIT_SCHEDULE = "rota.edit_schedule"  # opens the schedule modal; value: CommunityRef
    DELETE_SCHEDULE = "rota.delete_schedule"  # value: CommunityRef
    CANCEL_MEETUP = "rota.cancel_meetup"  # value: MeetupRef
    MOVE_MEETUP = "rota.move_meetup"  # opens the move modal; value: MeetupRef


class RotaView(StrEnum):
    """`callback_id`s of /rota modals."""

    SCHEDULE = "rota.schedule"
    AWAY = "rota.away"
    SWAP = "rota.swap"
    MOVE_MEETUP = "rota.move_meetup"


class RotaBlock(StrEnum):
    """`block_id`s of /rota modal inputs (their `action_id` is the same string plus `.input`)."""

    FREQUENCY = "rota.frequency"
    EVERY_WEEKS = "rota.every_weeks"
    WEEK_OF_MONTH = "rota.week_of_month"
    WEEKDAY = "rota.weekday"
    TIME = "rota.time"
    TIME_ZONE = "rota.time_zone"
    STARTS_ON = "rota.starts_on"
    DURATION = "rota.duration"
    FORMAT = "rota.format"
    REMINDER = "rota.reminder"
    ANNOUNCE = "rota.announce"
    AWAY_WHO = "rota.away_who"
    AWAY_FROM = "rota.away_from"
    AWAY_TO = "rota.away_to"
    SWAP_WITH = "rota.swap_with"
    MOVE_DATE = "rota.move_date"
    MOVE_TIME = "rota.move_time"


class HealthAction(StrEnum):
    """`action_id`s on health-check polls, reminder DMs and set-up messages."""

    ANSWER = "health_check.answer"  # one per scale option; value: AnswerRef
    CLOSE_NOW = "health_check.close_now"  # value: CheckRef
    STOP_REMINDERS = "health_check.stop_reminders"  # "don't remind me"; value: CommunityRef
    EDIT_SETUP = "health_check.edit_setup"  # value: CommunityRef
    EDIT_SCHEDULE = "health_check.edit_schedule"  # value: CommunityRef
    DELETE_SCHEDULE = "health_check.delete_schedule"  # value: CommunityRef
    RUN_NOW = "health_check.run_now"  # value: CommunityRef
    QUESTION_MENU = "health_check.question_menu"  # overflow in the set-up modal


class HealthView(StrEnum):
    """`callback_id`s of /health-check modals."""

    SETUP = "health_check.setup"
    QUESTION = "health_check.question"
    SCHEDULE = "health_check.schedule"


class HealthBlock(StrEnum):
    """`block_id`s of /health-check modal inputs (their `action_id` is the same string plus
    `.input`) and prefixes of per-question blocks (the question's key follows a dot)."""

    QUESTION_ROW = "health_check.question_row"  # set-up modal: one section per question
    QUESTION_TOOLS = "health_check.question_tools"  # set-up modal: "Add a question"
    POLL_QUESTION = "health_check.poll_question"  # poll and reminder: one actions block each
    SCALE = "health_check.scale"  # one label input per answer on the scale: `scale.<n>`
    OPEN_HOURS = "health_check.open_hours"
    ANONYMOUS = "health_check.anonymous"
    REMINDERS = "health_check.reminders"
    MIN_ANSWERS = "health_check.min_answers"
    FREQUENCY = "health_check.frequency"
    WEEKDAY = "health_check.weekday"
    EVERY_WEEKS = "health_check.every_weeks"
    WEEK_OF_MONTH = "health_check.week_of_month"
    TIME = "health_check.time"
    TIME_ZONE = "health_check.time_zone"
    TITLE = "health_check.title"
    BEST = "health_check.best"
    WORST = "health_check.worst"


class MinutesAction(StrEnum):
    """`action_id`s on /minutes messages."""

    SHOW = "minutes.show"  # value: MinutesRef


class HomeAction(StrEnum):
    """`action_id`s of buttons only the Home tab has."""

    OPEN_LINK = "home.open_link"  # a link button (Slack still sends a click to acknowledge)


class PersonalDataAction(StrEnum):
    """`action_id`s for a person's own data: the Home's "Your data" and its modal."""

    SHOW = "personal_data.show"  # opens what hearth holds about the person
    DELETE = "personal_data.delete"  # pushes the "Delete your data?" confirmation


class PersonalDataView(StrEnum):
    """`callback_id`s of the "Your data" modals (private_metadata: PersonalDataModal)."""

    SUMMARY = "personal_data.summary"
    CONFIRM = "personal_data.confirm"
    DONE = "personal_data.done"


class PersonalDataBlock(StrEnum):
    """`block_id`s in the "Your data" modals."""

    CONFIRM_TEXT = "personal_data.confirm_text"


class ActionsAction(StrEnum):
    """`action_id`s on actions, wherever they are shown (reminder DMs, the Home tab, the
    start of a Lean Coffee, the hand-over pack), and on health check results."""

    MARK_DONE = "actions.mark_done"  # value: ActionRef
    RECORD_AFTER_CHECK = "actions.record_after_check"  # value: CheckRef


class ActionsView(StrEnum):
    """`callback_id`s of action modals."""

    RECORD_AFTER_CHECK = "actions.record_after_check"


class ActionsBlock(StrEnum):
    """`block_id`s of action modal inputs (their `action_id` is the string plus `.input`)."""

    TEXT = "actions.text"
    OWNER = "actions.owner"
    DUE = "actions.due"


class MeetupAction(StrEnum):
    """`action_id`s on /meetup messages (value: ChatMeetupRef)."""

    POST_ANONYMOUSLY = "meetup.post_anonymously"
    EXTEND = "meetup.extend"  # opens the "how much longer?" modal
    END_NOW = "meetup.end_now"
    ADD_TAKEAWAY = "meetup.add_takeaway"


class MeetupView(StrEnum):
    """`callback_id`s of /meetup modals."""

    START = "meetup.start"
    ANONYMOUS = "meetup.anonymous"
    TAKEAWAY = "meetup.takeaway"
    EXTEND = "meetup.extend"


class MeetupBlock(StrEnum):
    """`block_id`s of /meetup modal inputs (their `action_id` is the same string plus `.input`)."""

    PROMPTS = "meetup.prompts"
    LENGTH = "meetup.length"
    PACE = "meetup.pace"
    NUDGES = "meetup.nudges"
    FACILITATOR = "meetup.facilitator"
    ANON_PROMPT = "meetup.anon_prompt"
    ANON_TEXT = "meetup.anon_text"
    TAKEAWAY_TEXT = "meetup.takeaway_text"
    ACTION_OWNER = "meetup.action_owner"
    ACTION_DUE = "meetup.action_due"
    EXTEND_BY = "meetup.extend_by"


class MeetupPlanAction(StrEnum):
    """`action_id`s for choosing a rota chat meetup's prompts ahead (value: MeetupRef)."""

    CHOOSE_PROMPTS = "meetup_plan.choose_prompts"


class MeetupPlanView(StrEnum):
    """`callback_id`s of the plan modal (private_metadata: MeetupRef; its inputs reuse
    MeetupBlock's prompts, pace and nudges)."""

    PLAN = "meetup_plan.plan"
