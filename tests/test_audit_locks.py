"""The dependency audit fails loudly on a pin it could not check, instead of reporting "no
known vulnerabilities" after skipping it (the network is not asked: both lookups are faked)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "audit_locks.py"


def audit_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_locks", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def lock(tmp_path: Path) -> Path:
    path = tmp_path / "main.lock"
    path.write_text(
        "aiohttp==3.14.5 \\\n    --hash=sha256:00\nslack-sdk==3.48.0 \\\n    --hash=sha256:11\n"
    )
    return path


def run(
    monkeypatch: pytest.MonkeyPatch,
    lock: Path,
    audited: list[dict[str, Any]],
    looks: dict[str, tuple[list[str] | None, str]],
) -> int:
    module = audit_module()
    monkeypatch.setattr(module, "pip_audit", lambda _lock: audited)
    monkeypatch.setattr(module, "second_look", lambda name, _version: looks[name])
    return int(module.main([str(lock)]))


def test_a_pin_nobody_could_check_fails_the_run(
    monkeypatch: pytest.MonkeyPatch, lock: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audited = [
        {"name": "aiohttp", "version": "3.14.5", "vulns": []},
        {"name": "slack-sdk", "skip_reason": "Dependency not found on PyPI"},
    ]
    looks = {"slack-sdk": (None, "only the latest release (3.49.0) can be checked here")}

    assert run(monkeypatch, lock, audited, looks) == 1
    out = capsys.readouterr().out
    assert "UNCHECKED   main.lock: slack-sdk==3.48.0" in out
    assert "No known vulnerabilities" not in out


def test_a_vulnerable_pin_fails_whichever_way_it_was_found(
    monkeypatch: pytest.MonkeyPatch, lock: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audited = [
        {"name": "aiohttp", "version": "3.14.5", "vulns": [{"id": "PYSEC-1"}]},
        {"name": "slack-sdk", "skip_reason": "Dependency not found on PyPI"},
    ]
    looks = {"slack-sdk": (["GHSA-2"], "")}

    assert run(monkeypatch, lock, audited, looks) == 1
    out = capsys.readouterr().out
    assert "VULNERABLE  main.lock: aiohttp==3.14.5: PYSEC-1" in out
    assert "VULNERABLE  main.lock: slack-sdk==3.48.0: GHSA-2" in out


def test_every_pin_checked_and_clean_passes(
    monkeypatch: pytest.MonkeyPatch, lock: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audited = [
        {"name": "aiohttp", "version": "3.14.5", "vulns": []},
        {"name": "slack-sdk", "skip_reason": "Dependency not found on PyPI"},
    ]
    looks = {"slack-sdk": ([], "")}

    assert run(monkeypatch, lock, audited, looks) == 0
    assert "No known vulnerabilities in 2 pins" in capsys.readouterr().out
