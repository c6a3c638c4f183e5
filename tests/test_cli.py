"""The `hearth` command as people type it: clear refusals, database care, clean start and stop."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import aiohttp
import pytest

from bot.cli import main
from bot.emulator.server import SlackEmulator
from bot.logging import RedactingFormatter
from bot.migrate import heads

BOT_TOKEN = "xoxb-1111-2222-abcdefghijklmnop"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def hearth(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot …` in a clean environment: only what the test gives it."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env or {},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_run_without_any_slack_token_starts_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started: list[dict[str, object]] = []

    async def fake_run_sandbox(**options: object) -> None:
        started.append(options)

    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("bot.sandbox.run_sandbox", fake_run_sandbox)

    assert main(["run"]) == 0
    assert started == [{"host": "127.0.0.1", "port": 8080, "database_url": None}]
    assert "starting its sandbox" in capsys.readouterr().out.splitlines()[0]


def test_run_with_some_settings_but_no_bot_token_says_what_to_set(tmp_path: Path) -> None:
    result = hearth("run", cwd=tmp_path, env={"SLACK_SIGNING_SECRET": SIGNING_SECRET})

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "Cannot start hearth: SLACK_BOT_TOKEN is not set (see .env.example)."
    ]


def test_run_reads_dotenv_and_explains_http_mode(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"SLACK_BOT_TOKEN={BOT_TOKEN}\n", encoding="utf-8")

    result = hearth("run", cwd=tmp_path)

    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert "SLACK_SIGNING_SECRET" in line
    assert BOT_TOKEN not in result.stderr


def test_run_with_unreachable_database_fails_without_showing_the_password(
    tmp_path: Path,
) -> None:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "DATABASE_URL": "postgresql+asyncpg://hearth:hunter2-password@127.0.0.1:1/hearth",
        "HEARTH_SECRET_KEY": "k" * 43,
    }

    result = hearth("run", cwd=tmp_path, env=env)

    assert result.returncode == 1
    assert "Cannot start hearth: the database at postgresql+asyncpg://hearth:***@" in result.stderr
    assert "hunter2" not in result.stderr
    assert BOT_TOKEN not in result.stderr


def test_run_on_postgresql_without_a_secret_key_says_how_to_make_one(tmp_path: Path) -> None:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "DATABASE_URL": "postgresql+asyncpg://hearth@127.0.0.1:1/hearth",
    }

    result = hearth("run", cwd=tmp_path, env=env)

    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("Set HEARTH_SECRET_KEY: on PostgreSQL several hearth processes")
    assert "secrets.token_urlsafe(32)" in line
    assert not (tmp_path / "hearth.key").exists()


def test_a_short_secret_key_is_refused(tmp_path: Path) -> None:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "HEARTH_SECRET_KEY": "too-short",
    }

    result = hearth("run", cwd=tmp_path, env=env)

    assert result.returncode == 2
    assert "HEARTH_SECRET_KEY must be at least 32 characters" in result.stderr
    assert "too-short" not in result.stderr


def test_version(tmp_path: Path) -> None:
    result = hearth("--version", cwd=tmp_path)

    assert result.returncode == 0
    assert result.stdout.strip() == f"hearth {version('hearth')}"


def test_console_script_is_installed(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "hearth"

    result = subprocess.run(
        [str(script), "--help"], cwd=tmp_path, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0
    for command in ("run", "db"):
        assert command in result.stdout


def test_no_command_shows_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])

    assert exited.value.code == 2
    assert "usage: hearth" in capsys.readouterr().err


def _current_lines() -> list[str]:
    if not heads():
        return ["Current revision: none (no migrations applied)."]
    return [f"Current revision: {head} (head)" for head in heads()]


def test_db_upgrade_current_and_downgrade(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"

    assert main(["db", "current", "--database-url", url]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Current revision: none (no migrations applied)."
    ]

    assert main(["db", "upgrade", "--database-url", url]) == 0
    out = capsys.readouterr().out.splitlines()
    steps, now_at = out[: -len(_current_lines())], out[-len(_current_lines()) :]
    assert now_at == _current_lines()
    if heads():
        assert steps and all(line.startswith("Applied ") for line in steps)
    else:
        assert steps == ["The database is already up to date."]

    assert main(["db", "upgrade", "--database-url", url]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "The database is already up to date.",
        *_current_lines(),
    ]

    assert main(["db", "downgrade", "base", "--database-url", url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "Current revision: none (no migrations applied)."


def test_db_commands_read_database_url_from_the_environment(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'from-env.db'}"}

    result = hearth("db", "upgrade", cwd=tmp_path, env=env)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-env.db").exists()


def test_db_commands_need_no_slack_tokens_but_a_usable_url(tmp_path: Path) -> None:
    result = hearth("db", "current", cwd=tmp_path, env={"DATABASE_URL": "mysql://localhost/x"})

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
        "(see .env.example)."
    ]


def test_db_unknown_revision_is_a_clear_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"

    assert main(["db", "upgrade", "no-such-revision", "--database-url", url]) == 1
    assert "Migration failed" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_run_serves_http_until_sigterm(tmp_path: Path) -> None:
    """Start-up as a community lead would do it: migrate, serve, answer health, stop cleanly."""
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        # Nothing at start-up may need Slack: point the client at a closed port.
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        health = await _wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
        process.send_signal(signal.SIGTERM)
        _stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    log = stderr.decode()
    assert health == {
        "ok": True,
        "database": "ok",
        "outbox": {"overdue": 0, "given_up_today": 0},
    }
    assert process.returncode == 0, log
    assert "hearth stopped" in log
    assert BOT_TOKEN not in log
    assert SIGNING_SECRET not in log
    # With no HEARTH_SECRET_KEY, a single process on SQLite made its own key file, owner-only,
    # and the database files are owner-only too.
    key_file = tmp_path / "hearth.key"
    assert "Made a new secret key in hearth.key" in log
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() not in log
    assert stat.S_IMODE((tmp_path / "hearth.db").stat().st_mode) == 0o600


async def _wait_for_health(url: str, process: asyncio.subprocess.Process) -> object:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                _stdout, stderr = await process.communicate()
                pytest.fail(f"hearth exited with {process.returncode}:\n{stderr.decode()}")
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return await response.json()
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    pytest.fail("hearth did not answer /healthz within 30 s")


def test_log_lines_never_show_tokens_or_secrets() -> None:
    formatter = RedactingFormatter(secrets=[SIGNING_SECRET])
    record = logging.LogRecord(
        "hearth",
        logging.ERROR,
        __file__,
        1,
        "calling with %s, signed with %s",
        ("xoxb-1234-5678-abcdefgh", SIGNING_SECRET),
        None,
    )
    try:
        raise ValueError("the app token xapp-1-A0123-456-abcdef was refused")
    except ValueError:
        record.exc_info = sys.exc_info()

    line = formatter.format(record)

    assert "xoxb-1234" not in line
    assert "xapp-1-A0123" not in line
    assert SIGNING_SECRET not in line
    assert line.count("[redacted]") >= 3
    assert "ValueError" in line  # the traceback itself is kept


async def test_run_in_socket_mode_connects_to_slack_and_stops_on_sigterm(tmp_path: Path) -> None:
    async with SlackEmulator() as slack:
        slack.use_socket_mode()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_APP_TOKEN": slack.app_token,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 30
            while not slack.socket_mode.connected and process.returncode is None:
                assert time.monotonic() < deadline, "hearth did not connect within 30 s"
                await asyncio.sleep(0.1)
            connected = slack.socket_mode.connected
            process.send_signal(signal.SIGTERM)
            _stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()

    log = stderr.decode()
    assert connected, log
    assert process.returncode == 0, log
    assert "connected to Slack over Socket Mode" in log
    assert "hearth stopped" in log
    assert slack.app_token not in log


@pytest.mark.parametrize(
    ("setting", "token"),
    [("SLACK_APP_TOKEN", "xapp-1-from-another-app"), ("SLACK_BOT_TOKEN", "xoxb-revoked-long-ago")],
)
async def test_run_with_a_token_slack_refuses_names_it(
    tmp_path: Path, setting: str, token: str
) -> None:
    async with SlackEmulator() as slack:
        env = {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_APP_TOKEN": slack.app_token,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}",
        } | {setting: token}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        finally:
            if process.returncode is None:  # never leave a hearth running behind a test
                process.kill()
                await process.wait()

    log = stderr.decode()
    assert process.returncode == 2, log
    assert f"Cannot start hearth: Slack refused {setting}" in log
    assert "Traceback" not in log
    assert token not in log
