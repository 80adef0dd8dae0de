"""The audit chain's keys: read from configuration once, never stored in the database."""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

import config
from lims.audit.models import LEGACY_KEY_ID


@dataclass(frozen=True)
class Keyring:
    """Keys by id, oldest first. The newest signs new events; every key still verifies its rows.

    Rotation adds a key and never re-hashes old rows: they keep verifying under their own id.
    """

    keys: tuple[tuple[str, bytes], ...]

    @classmethod
    def of(cls, pairs: Sequence[tuple[str, str]]) -> Keyring:
        return cls(tuple((key_id, secret.encode()) for key_id, secret in pairs))

    @property
    def current_id(self) -> str:
        return self.keys[-1][0]

    @property
    def current(self) -> bytes:
        return self.keys[-1][1]

    def key(self, key_id: str) -> bytes | None:
        """The key for a row's key_id: None for legacy plain SHA-256 rows."""
        if key_id == LEGACY_KEY_ID:
            return None
        for known_id, secret in self.keys:
            if known_id == key_id:
                return secret
        raise LookupError(f"audit key {key_id!r} is not in the keyring")

    def has(self, key_id: str) -> bool:
        return key_id == LEGACY_KEY_ID or any(k == key_id for k, _ in self.keys)

    def sign(self, message: bytes, key_id: str | None = None) -> str:
        key = self.key(key_id or self.current_id)
        assert key is not None, "nothing is signed with the legacy scheme"
        return hmac.new(key, message, hashlib.sha256).hexdigest()


@functools.cache
def active() -> Keyring:
    """The configured keyring (config.audit_keyring), read once per process."""
    return Keyring.of(config.audit_keyring())
