"""Keyed hashes that stand in for people in an anonymous health check.

Each check gets its own random secret. While the check is open, HMAC-SHA256(secret, person)
lets hearth enforce one answer per person and find who has not answered yet (by hashing the
channel's members), without storing who anyone is. Once the secret is destroyed at close,
the hashes are random-looking strings that nobody can tie back to a person: a keyed hash
cannot be reversed or recomputed by trying every user id without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_BYTES = 32
VOTER_KEY_LENGTH = 64  # hex characters of a SHA-256 digest


def new_secret() -> bytes:
    """A fresh secret for one check, from the operating system's secure random source."""
    return secrets.token_bytes(SECRET_BYTES)


def voter_key(secret: bytes, team_id: str, user_id: str) -> str:
    """The hash that stands for one person in one check (hex)."""
    message = f"{team_id}:{user_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()
