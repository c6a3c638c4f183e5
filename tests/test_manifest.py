"""manifest.yml is what a community lead pastes into Slack: it must be valid and match the code."""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
MANIFEST = REPO_ROOT / "manifest.yml"
SCHEMA_DIR = Path(__file__).resolve().parent / "slack_manifest_schema"
HANDLERS_DIR = REPO_ROOT / "handlers"
# The schema states this pattern under a keyword validators ignore, so it is checked here.
BACKGROUND_COLOR = re.compile(r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$")

# Every Web API method hearth calls, and the bot scopes it needs. A method missing here fails
# the test below, so whoever starts calling it also decides which scope the manifest asks for.
SCOPES_FOR_METHOD: dict[str, set[str]] = {
    "chat_postMessage": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_delete": {"chat:write"},
    "users_info": {"users:read"},
    "conversations_info": {"channels:read", "groups:read"},
    "conversations_members": {"channels:read", "groups:read"},
    "files_upload_v2": {"files:write"},
    "users_conversations": {"channels:read", "groups:read"},
    "conversations_replies": {"channels:history", "groups:history"},
    # The outbox looks for a message whose send may have gone through, in channels and DMs.
    "conversations_history": {"channels:history", "groups:history", "im:history"},
    "conversations_open": {"im:write"},
    "chat_getPermalink": set(),
    "views_open": set(),
    "views_update": set(),
    "views_push": set(),
    "views_publish": set(),
    "auth_test": set(),
    # Called with the App-Level Token, whose connections:write scope is not a bot scope.
    "apps_connections_open": set(),
    # Not a Web API method: the Socket Mode client acknowledging an envelope.
    "send_socket_mode_response": set(),
}
# Events hearth subscribes to, and the bot scopes Slack requires for each.
SCOPES_FOR_EVENT: dict[str, set[str]] = {
    "app_home_opened": set(),
    "message.channels": {"channels:history"},
    "message.groups": {"groups:history"},
    "app_uninstalled": set(),
    "tokens_revoked": set(),
}
CODE_DIRS = (REPO_ROOT / "bot", REPO_ROOT / "handlers")
NOT_APP_CODE = (REPO_ROOT / "bot" / "emulator",)


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_manifest_matches_slacks_schema(manifest: dict[str, Any]) -> None:
    major = manifest.get("_metadata", {}).get("major_version", 1)
    schema = json.loads(
        (SCHEMA_DIR / f"manifest.schema.{major}.0.0.json").read_text(encoding="utf-8")
    )

    validator = jsonschema.Draft7Validator(schema)
    problems = [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator.iter_errors(manifest)
    ]

    assert problems == []


def test_background_color_is_a_hex_colour(manifest: dict[str, Any]) -> None:
    assert BACKGROUND_COLOR.match(manifest["display_information"]["background_color"])


def test_name_and_bot_user(manifest: dict[str, Any]) -> None:
    assert manifest["display_information"]["name"] == "hearth"
    assert manifest["features"]["bot_user"] == {"display_name": "hearth", "always_online": True}


def test_socket_mode_and_interactivity_are_on(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]

    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True


def registered_slash_commands() -> set[str]:
    """Every `app.command(...)` in handlers/, with constants resolved in their own module."""
    commands: set[str] = set()
    for path in sorted(HANDLERS_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "command"
                and node.args
            ):
                commands.add(_resolve(node.args[0], path))
    return commands


def _resolve(expression: ast.expr, path: Path) -> str:
    if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
        return expression.value
    module = importlib.import_module(f"handlers.{path.stem}")
    value = eval(compile(ast.Expression(expression), str(path), "eval"), vars(module))
    assert isinstance(value, str), f"{path.name}: app.command({ast.unparse(expression)})"
    return value


def test_every_registered_slash_command_is_declared(manifest: dict[str, Any]) -> None:
    declared = {command["command"] for command in manifest["features"]["slash_commands"]}

    assert registered_slash_commands() == declared


def test_slash_commands_explain_themselves(manifest: dict[str, Any]) -> None:
    for command in manifest["features"]["slash_commands"]:
        assert command["description"]
        assert command["usage_hint"]
        assert command["should_escape"] is True


def web_api_methods_called() -> set[str]:
    """Names of `client.<method>(` calls (any client variable) in hearth's own code."""
    called: set[str] = set()
    pattern = re.compile(r"\bclient\.([a-z]+_[A-Za-z0-9_]+)\(")
    for directory in CODE_DIRS:
        for path in directory.rglob("*.py"):
            if any(path.is_relative_to(skip) for skip in NOT_APP_CODE):
                continue
            called.update(pattern.findall(path.read_text(encoding="utf-8")))
    return called


def test_scopes_cover_every_web_api_method_used(manifest: dict[str, Any]) -> None:
    called = web_api_methods_called()
    unknown = called - SCOPES_FOR_METHOD.keys()
    assert not unknown, f"add these methods and their scopes to SCOPES_FOR_METHOD: {unknown}"

    needed = set().union(*(SCOPES_FOR_METHOD[method] for method in called))
    events = manifest["settings"].get("event_subscriptions", {}).get("bot_events", [])
    unknown_events = set(events) - SCOPES_FOR_EVENT.keys()
    assert not unknown_events, f"add these events to SCOPES_FOR_EVENT: {unknown_events}"
    needed |= set().union(*(SCOPES_FOR_EVENT[event] for event in events))
    if manifest["features"].get("slash_commands"):
        needed.add("commands")
    granted = set(manifest["oauth_config"]["scopes"]["bot"])

    assert needed <= granted, f"missing bot scopes: {needed - granted}"
    assert granted <= needed, f"scopes asked for but not used: {granted - needed}"
