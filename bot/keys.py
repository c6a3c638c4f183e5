"""The installation's own key, and the sealer that uses it.

Some secrets hearth must keep for a while but must never leave readable in its database: an
open anonymous health check's secret (it ties answers to people until the check closes) and,
when hearth is installed in several workspaces, their tokens. They are stored *sealed*
(Fernet: AES with an HMAC) under a key that never goes into the database, so a copy of the
database files, of PostgreSQL's write-ahead log or of a backup cannot open them.

The key comes from `HEARTH_SECRET_KEY`. A single process on SQLite may instead keep it in a
key file that hearth makes on its first start, readable only by its owner; several processes
(PostgreSQL) must all be given the same key, so there it has to be set.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.config import MIN_KEY_LENGTH, KeySettings

logger = logging.getLogger(__name__)

_PURPOSE = b"hearth sealer v1"
OWNER_ONLY = 0o600


class SealBroken(Exception):
    """A sealed value could not be opened: it was sealed under another key, or altered."""


class Sealer:
    """Seals and opens small secrets under a key derived from the installation's key."""

    def __init__(self, key_material: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
            key_material.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    @classmethod
    def ephemeral(cls) -> Sealer:
        """A sealer whose key lives only in this process (the sandbox, tests)."""
        return cls(new_key())

    def seal(self, plain: bytes) -> bytes:
        return self._fernet.encrypt(plain)

    def open(self, sealed: bytes) -> bytes:
        try:
            return self._fernet.decrypt(sealed)
        except InvalidToken:
            raise SealBroken(
                "A sealed secret could not be opened: HEARTH_SECRET_KEY (or the key file) is "
                "not the one it was sealed with."
            ) from None


def new_key() -> str:
    """A fresh installation key (43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


def key_from_file(path: Path) -> str:
    """Read the key file, making it (owner-only) with a fresh key when it does not exist.

    The new file is written whole under a temporary name and then linked into place, which
    fails if the file appeared meanwhile: two processes starting together read the same key,
    and neither ever reads a half-written file.
    """
    if path.exists():
        return _read_key_file(path)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(new_key() + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.link(draft, path)
    except FileExistsError:
        return _read_key_file(path)
    finally:
        draft.unlink(missing_ok=True)
    logger.info(
        "Made a new secret key in %s. Keep it with hearth and out of database backups; "
        "without it, sealed secrets cannot be opened.",
        path,
    )
    return _read_key_file(path)


def _read_key_file(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(OWNER_ONLY)
        logger.warning("%s was readable by others; it is now readable only by its owner", path)
    key = path.read_text().strip()
    if len(key) < MIN_KEY_LENGTH:
        raise ValueError(f"{path} holds no usable key (it needs {MIN_KEY_LENGTH}+ characters)")
    return key


def sealer_for(settings: KeySettings) -> Sealer | None:
    """The sealer for this installation: `HEARTH_SECRET_KEY`, else the key file on SQLite.

    None on PostgreSQL without the key (`load_settings` refuses to start hearth so; the `db`
    commands can still migrate a database that holds nothing to seal)."""
    if settings.hearth_secret_key is not None:
        return Sealer(settings.hearth_secret_key.get_secret_value().strip())
    if settings.on_postgresql:
        return None
    return Sealer(key_from_file(settings.hearth_secret_key_file))
