"""API key and password primitives.

API keys look like `datas_<key_id>_<secret>`: the key_id finds the row, the secret is checked
against a SHA-256 digest (keys are 256-bit random, so a fast hash is safe). Passwords are people's
choices, so they get scrypt, a slow salted hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

KEY_PREFIX = "datas"
ROLES = ("admin", "site", "broker", "reader")
USER_ROLES = ("admin", "reader")

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 1


def new_api_key() -> tuple[str, str, str]:
    """Return (full_key, key_id, secret_hash). Only the hash is stored."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"{KEY_PREFIX}_{key_id}_{secret}", key_id, digest(secret)


def split_api_key(full_key: str) -> tuple[str, str] | None:
    parts = full_key.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_hash)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    dk = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, maxmem=2**26
    )
    return _format(salt, dk)


def _format(salt: bytes, dk: bytes) -> str:
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(dk).decode()}"


# Checked against when a login names no user: the same parameters as a real hash, so the check
# costs the same, and a random digest (no password matches it). Building it hashes nothing.
DUMMY_PASSWORD_HASH = _format(secrets.token_bytes(16), secrets.token_bytes(64))


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, dk_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(dk_b64)
        dk = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt_b64),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=2**26,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(dk, expected)


def new_session_token() -> tuple[str, str]:
    """Return (cookie_value, token_hash)."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)
