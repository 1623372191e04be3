"""Encryption at rest for channel secrets (access tokens, app secrets, verify tokens).

A database dump must not hand out the keys to a creditor's WhatsApp number, so these columns hold
Fernet tokens (AES-128-CBC + HMAC-SHA256). The key comes from ``QUITA_SECRET_KEY`` (scaled mode: every
process must share it) or, in the embedded mode, is generated once into ``<data_dir>/secret.key``
with mode 0600. Losing the key means re-entering the channel secrets, nothing worse.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

ENV_KEY = "QUITA_SECRET_KEY"
KEY_FILE = "secret.key"
_lock = threading.Lock()


class SecretKeyError(RuntimeError):
    pass


def _data_dir() -> Path:
    from quita.config import get_settings

    return Path(get_settings().data_dir)


def load_or_create_key(data_dir: Path) -> bytes:
    """The key in ``data_dir/secret.key``, created (0600, exclusive) when absent."""
    path = data_dir / KEY_FILE
    with _lock:
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            key = Fernet.generate_key()
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process won the race; read its key
            else:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(key)
        key = path.read_bytes().strip()
    return key


@lru_cache(maxsize=4)
def _fernet(key: bytes) -> Fernet:
    try:
        return Fernet(key)
    except (ValueError, TypeError) as exc:
        raise SecretKeyError(
            f"{ENV_KEY} is not a valid Fernet key (32 url-safe base64 bytes; make one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)"
        ) from exc


def current_key() -> bytes:
    configured = os.environ.get(ENV_KEY, "").strip()
    if configured:
        return configured.encode("ascii")
    return load_or_create_key(_data_dir())


def encrypt(plaintext: str) -> str:
    return _fernet(current_key()).encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet(current_key()).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise SecretKeyError(
            "a stored secret cannot be decrypted with the current key: was QUITA_SECRET_KEY or "
            "secret.key changed? Re-enter the channel's secrets."
        ) from None
