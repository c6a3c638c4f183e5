"""The installation's key and the sealer: what seals a secret opens it, nothing else does, and
the key file hearth makes for itself is its owner's alone."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config import KeySettings
from bot.keys import SealBroken, Sealer, key_from_file, sealer_for

KEY = "an-installation-key-that-is-long-enough-0123"


def test_what_is_sealed_opens_only_with_the_same_key() -> None:
    secret = bytes(range(32))
    sealed = Sealer(KEY).seal(secret)

    assert secret not in sealed
    assert Sealer(KEY).open(sealed) == secret
    with pytest.raises(SealBroken, match="HEARTH_SECRET_KEY"):
        Sealer(KEY + "x").open(sealed)
    with pytest.raises(SealBroken):
        Sealer(KEY).open(sealed[:-2] + b"AA")  # altered


def test_sealing_twice_gives_different_bytes() -> None:
    sealer = Sealer.ephemeral()
    assert sealer.seal(b"same") != sealer.seal(b"same")


def test_the_key_file_is_made_owner_only_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "hearth.key"

    first = key_from_file(path)

    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key_from_file(path) == first
    assert list(tmp_path.iterdir()) == [path], "no draft file is left behind"


def test_a_key_file_readable_by_others_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "hearth.key"
    path.write_text(KEY + "\n")
    path.chmod(0o644)

    assert key_from_file(path) == KEY
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_empty_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hearth.key"
    path.write_text("\n")
    path.chmod(0o600)
    with pytest.raises(ValueError, match="no usable key"):
        key_from_file(path)


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "hearth.key"
    keys: list[str] = []
    start = threading.Barrier(8)

    def read() -> None:
        start.wait()
        keys.append(key_from_file(path))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(keys) == 8 and len(set(keys)) == 1


def test_the_environment_key_wins_and_postgresql_needs_it(tmp_path: Path) -> None:
    key_file = tmp_path / "hearth.key"
    from_env = KeySettings(
        _env_file=None,  # type: ignore[call-arg]
        hearth_secret_key=SecretStr(KEY),
        hearth_secret_key_file=key_file,
    )
    sealer = sealer_for(from_env)
    assert sealer is not None and Sealer(KEY).open(sealer.seal(b"x")) == b"x"
    assert not key_file.exists()

    on_postgresql = KeySettings(
        _env_file=None,  # type: ignore[call-arg]
        database_url="postgresql+asyncpg://hearth@db/hearth",
        hearth_secret_key_file=key_file,
    )
    assert sealer_for(on_postgresql) is None
    assert not key_file.exists()

    on_sqlite = KeySettings(_env_file=None, hearth_secret_key_file=key_file)  # type: ignore[call-arg]
    assert sealer_for(on_sqlite) is not None
    assert key_file.exists()
