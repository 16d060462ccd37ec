"""Secrets at rest: calendar tokens and iCloud credentials, sealed with Fernet.

``PAIRTIME_ENCRYPTION_KEYS`` lists one or more Fernet keys: the first seals
new data, all of them open old data, so keys rotate without downtime
(``pairtime keys rotate`` re-seals everything under the first key).
Without keys a development machine gets one generated into a local file,
with a warning; production refuses to start (see ``bot.settings``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.errors import SecretUnreadable

log = logging.getLogger(__name__)

DEV_KEY_FILE = Path(".pairtime") / "dev-encryption-key"


class SecretUnavailable(SecretUnreadable):
    """A sealed value that none of the configured keys opens. Carries no secret."""


class Vault:
    """Seals and opens secrets. Its ``repr`` shows nothing of the keys."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._keys = tuple(keys)
        fernets = [Fernet(key.encode("ascii")) for key in keys]
        self._first = fernets[0]
        self._fernet = MultiFernet(fernets)
        self._key_count = len(keys)

    def __repr__(self) -> str:
        return f"Vault(keys={self._key_count})"

    def secret_keys(self) -> list[str]:
        """The keys themselves, for deriving other keys from (see core.actions)."""
        return list(self._keys)

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError):
            raise SecretUnavailable("no configured encryption key opens this value") from None

    def reseal(self, sealed: str) -> str:
        """The same secret sealed under the first key (for rotation)."""
        try:
            return self._fernet.rotate(sealed.encode("ascii")).decode("ascii")
        except (InvalidToken, ValueError):
            raise SecretUnavailable("no configured encryption key opens this value") from None

    def is_current(self, sealed: str) -> bool:
        """Whether ``sealed`` is already under the first key, so rotation can skip it."""
        try:
            self._first.decrypt(sealed.encode("ascii"))
        except (InvalidToken, ValueError):
            return False
        return True


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def development_keys(folder: Path) -> list[str]:
    """The development key in ``folder``, created (readable by its owner only) if missing."""
    path = folder / DEV_KEY_FILE
    if path.exists():
        return [path.read_text(encoding="ascii").strip()]
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(generate_key() + "\n")
    log.warning(
        "PAIRTIME_ENCRYPTION_KEYS is not set: generated a development key in %s. "
        "Keep that file to read what was stored with it; production needs "
        "PAIRTIME_ENCRYPTION_KEYS.",
        path,
    )
    return [path.read_text(encoding="ascii").strip()]
