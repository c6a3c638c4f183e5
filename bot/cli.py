"""The `hearth` command: run the bot, look after its database, or export a community's data.

Exit codes: 0 done, 1 something failed while working (the message says what), 2 hearth cannot
start as configured (a setting to fix, or a command typed wrong).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import aiohttp
from alembic.util import CommandError
from pydantic import ValidationError
from slack_sdk.errors import SlackApiError
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot import migrate
from bot.config import (
    KeySettings,
    Settings,
    SettingsError,
    load_settings,
    slack_configured,
)
from bot.db import create_engine, create_sessionmaker
from bot.keys import sealer_for
from bot.logging import configure_logging
from bot.slack import SlackCredentialsError, check_credentials

logger = logging.getLogger("hearth")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
SANDBOX_HOST = "127.0.0.1"
SANDBOX_PORT = 8080


class DatabaseSettings(KeySettings):
    """Only what the `db` commands need (the database and the installation's key), so they
    work before any Slack token is set."""


def hearth_version() -> str:
    try:
        return version("hearth")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hearth",
        description="A Slack bot that keeps communities of practice alive.",
    )
    parser.add_argument("--version", action="version", version=f"hearth {hearth_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    commands.add_parser(
        "run",
        help="start the bot (settings come from the environment and .env)",
        description="Migrate the database, then serve Slack over Socket Mode when "
        "SLACK_APP_TOKEN is set, or over HTTP on HOST:PORT otherwise.",
    )

    sandbox = commands.add_parser(
        "sandbox",
        help="try hearth in your browser, no Slack workspace needed",
        description="Start hearth with a local Slack look-alike at http://HOST:PORT/, where "
        "you can use it as several people and move time forward. Its data is thrown away "
        "when it stops, unless --database-url says where to keep it.",
    )
    sandbox.add_argument(
        "--host",
        default=SANDBOX_HOST,
        help=f"address to serve the page on (default: {SANDBOX_HOST}, this computer only)",
    )
    sandbox.add_argument(
        "--port",
        type=int,
        default=SANDBOX_PORT,
        help=f"port for the page (default: {SANDBOX_PORT})",
    )
    sandbox.add_argument(
        "--database-url",
        help="keep the sandbox's data in this database (default: a throwaway SQLite file)",
    )

    db = commands.add_parser("db", help="look after hearth's database")
    db_commands = db.add_subparsers(dest="db_command", metavar="DB_COMMAND", required=True)
    url_help = "database to use (default: DATABASE_URL from the environment or .env)"

    upgrade = db_commands.add_parser("upgrade", help="apply migrations (hearth run does this)")
    upgrade.add_argument("revision", nargs="?", default="head", help="target (default: head)")
    upgrade.add_argument("--database-url", help=url_help)

    downgrade = db_commands.add_parser("downgrade", help="undo migrations down to a revision")
    downgrade.add_argument("revision", help="target revision, or 'base' to remove every table")
    downgrade.add_argument("--database-url", help=url_help)

    current = db_commands.add_parser("current", help="show which migration the database is at")
    current.add_argument("--database-url", help=url_help)

    revision = db_commands.add_parser(
        "revision", help="write a new migration (for developers; see `make migration`)"
    )
    revision.add_argument("-m", "--message", required=True, help="what changed, in a few words")
    revision.add_argument(
        "--empty", action="store_true", help="write an empty migration to fill in by hand"
    )
    revision.add_argument(
        "--database-url",
        help="compare the models with this database (default: a scratch SQLite database)",
    )

    export = commands.add_parser(
        "export",
        help="write one community's data as JSON",
        description="Write everything hearth keeps for one channel's community as JSON: "
        "leads, schedule, rota, meetups, Lean Coffees, chat meetups, health check results, "
        "actions and minutes. Never anyone's health check answers or replies marked off the "
        "record.",
    )
    export.add_argument("--channel", required=True, help="the channel's Slack ID, like C0123ABC")
    export.add_argument(
        "--team",
        help="the workspace's Slack ID, like T0123ABC (needed only when the database holds "
        "that channel for several workspaces)",
    )
    export.add_argument("--output", help="file to write (default: standard output)")
    export.add_argument("--database-url", help=url_help)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return run()
    if args.command == "sandbox":
        return sandbox(args.host, args.port, args.database_url)
    if args.command == "export":
        return export_command(args)
    return database_command(args)


def sandbox(
    host: str = SANDBOX_HOST, port: int = SANDBOX_PORT, database_url: str | None = None
) -> int:
    """Run the sandbox until Ctrl-C."""
    from bot.sandbox import run_sandbox

    configure_logging(logging.WARNING)
    try:
        asyncio.run(run_sandbox(host=host, port=port, database_url=database_url))
    except OSError as exc:
        print(
            f"Cannot start the sandbox: {exc}. Is port {port} free? Try --port {port + 1}.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def run() -> int:
    if not slack_configured():
        print(
            "No Slack tokens are set, so hearth is starting its sandbox: a Slack look-alike "
            "in your browser. To connect a real workspace, see the README.",
            flush=True,
        )
        return sandbox()
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.logging_level, secrets=_secrets(settings))
    # hearth logs each migration it applies; alembic's own start-up chatter is noise.
    logging.getLogger("alembic").setLevel(max(settings.logging_level, logging.WARNING))
    try:
        asyncio.run(serve(settings))
    except (CommandError, MigrationProblem) as exc:
        logger.error("Cannot start hearth: %s", exc)
        return EXIT_FAILED
    except SlackCredentialsError as exc:
        logger.error("Cannot start hearth: %s", exc)
        return EXIT_CONFIG
    except SlackApiError as exc:
        logger.error("Cannot start hearth: Slack answered %r.", exc.response.get("error"))
        return EXIT_FAILED
    except (aiohttp.ClientError, OSError) as exc:
        logger.error("Cannot start hearth: %s. Is the network up, and HOST:PORT free?", exc)
        return EXIT_FAILED
    except KeyboardInterrupt:
        pass
    return EXIT_OK


class MigrationProblem(Exception):
    """The database could not be reached or migrated at start-up."""


async def serve(settings: Settings) -> None:
    """Migrate, build hearth, start its timers and serve Slack until stopped."""
    from bot.app import create_hearth
    from bot.server import serve_http, serve_socket_mode

    logger.info(
        "hearth %s starting, database %s", hearth_version(), safe_url(settings.database_url)
    )
    try:
        steps = await migrate.upgrade(settings.database_url, sealer=sealer_for(settings))
    except (OSError, SQLAlchemyError) as exc:
        raise MigrationProblem(
            f"the database at {safe_url(settings.database_url)} cannot be used ({exc}). "
            "Check DATABASE_URL and that the database server is running."
        ) from exc
    for step in steps:
        logger.info("Database migration: %s", migrate.describe_step(step))

    hearth = create_hearth(settings)
    try:
        if settings.several_workspaces:
            # No token of its own: each workspace's is checked by Bolt as its requests come.
            logger.info(
                "hearth serves every workspace it is installed in; add it to one at "
                "https://<your host>/slack/install"
            )
        else:
            app_token = settings.slack_app_token
            workspace = await check_credentials(
                hearth.deps.client, app_token=app_token.get_secret_value() if app_token else None
            )
            if workspace is not None:
                logger.info("Slack knows hearth: workspace %s", workspace)
        await hearth.start()
    except BaseException:
        await hearth.close()
        raise
    if settings.socket_mode:
        await serve_socket_mode(hearth)
    else:
        await serve_http(hearth, settings.host, settings.port)


def database_command(args: argparse.Namespace) -> int:
    configure_logging(logging.WARNING)
    if args.db_command == "revision":
        return _revision(args)
    try:
        given = {"database_url": args.database_url} if args.database_url else {}
        db_settings = DatabaseSettings(**given)
        url = db_settings.database_url
        sealer = sealer_for(db_settings)
    except (ValidationError, ValueError, OSError) as exc:
        print(_one_line(exc) if isinstance(exc, ValidationError) else exc, file=sys.stderr)
        return EXIT_CONFIG
    try:
        if args.db_command == "upgrade":
            steps = asyncio.run(migrate.upgrade(url, args.revision, sealer=sealer))
            _print_steps(steps, nothing="The database is already up to date.")
        elif args.db_command == "downgrade":
            steps = asyncio.run(migrate.downgrade(url, args.revision, sealer=sealer))
            _print_steps(steps, nothing="Nothing to undo.")
        _print_current(asyncio.run(migrate.current(url)))
    except CommandError as exc:
        print(f"Migration failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except (OSError, SQLAlchemyError) as exc:
        print(f"Cannot use the database at {safe_url(url)}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def export_command(args: argparse.Namespace) -> int:
    """`hearth export`: gathering is `bot.services.community_export`'s; this only wires it."""
    from bot.services import community_export

    configure_logging(logging.WARNING)
    try:
        given = {"database_url": args.database_url} if args.database_url else {}
        url = DatabaseSettings(**given).database_url
    except ValidationError as exc:
        print(_one_line(exc), file=sys.stderr)
        return EXIT_CONFIG
    missing = _missing_sqlite_file(url)
    if missing is not None:
        print(f"There is no hearth database at {missing}.", file=sys.stderr)
        return EXIT_FAILED
    try:
        text = asyncio.run(_export(url, args.channel, args.team))
    except community_export.SeveralWorkspaces as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_CONFIG
    except community_export.NoSuchChannel as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_FAILED
    except (OSError, SQLAlchemyError) as exc:
        print(f"Cannot use the database at {safe_url(url)}: {_first_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    if not args.output:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"Cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


async def _export(url: str, channel_id: str, team_id: str | None) -> str:
    from bot.services import community_export

    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            data = await community_export.export_community(session, channel_id, team_id)
    finally:
        await engine.dispose()
    return community_export.to_json(data)


def _missing_sqlite_file(url: str) -> str | None:
    """The path of a SQLite database that does not exist (connecting would create it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return None if Path(parsed.database).exists() else parsed.database


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _revision(args: argparse.Namespace) -> int:
    try:
        path = asyncio.run(
            migrate.revision(
                args.message, database_url=args.database_url, autogenerate=not args.empty
            )
        )
    except CommandError as exc:
        print(f"Could not write a migration: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if path is None:
        print("The models match the migrations; no new migration was written.")
    else:
        print(f"Wrote {path}. Read it through before committing it.")
    return EXIT_OK


def _print_steps(steps: Sequence[migrate.MigrationInfo], *, nothing: str) -> None:
    if not steps:
        print(nothing)
    for step in steps:
        print(migrate.describe_step(step))


def _print_current(revisions: Sequence[str]) -> None:
    if not revisions:
        print("Current revision: none (no migrations applied).")
        return
    heads = set(migrate.heads())
    for revision in revisions:
        print(f"Current revision: {revision}" + (" (head)" if revision in heads else ""))


def safe_url(url: str) -> str:
    """The database URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unreadable DATABASE_URL)"


def _secrets(settings: Settings) -> list[str]:
    secrets = []
    for optional in (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.slack_client_secret,
        settings.hearth_secret_key,
    ):
        if optional is not None:
            secrets.append(optional.get_secret_value())
    password = make_url(settings.database_url).password
    if password:
        secrets.append(str(password))
    return secrets


def _one_line(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"DATABASE_URL {error['msg'].removeprefix('Value error, ')} (see .env.example)."
