"""Local analyst accounts, kept in the store's ``users`` table.

Passwords are never stored, logged or printed: only a salted scrypt hash (``hashlib.scrypt``,
n=2**14, r=8, p=1, a 32-byte key, a 16-byte random salt per user), with its KDF parameters so
they can be raised later without breaking older accounts. ``verify`` compares in constant time.

    add_user(store, name, password)      # `tracker user add NAME`
    verify(store, name, password) -> bool
    list_users(store) -> DataFrame       # name, created_at, disabled, kdf (never salts or hashes)
    disable_user(store, name)            # `tracker user disable NAME`
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import unicodedata
from pathlib import Path

import duckdb
import pandas as pd

from tracker import store as store_mod
from tracker.errors import InputError

KDF = "scrypt"
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
KEY_BYTES = 32
SALT_BYTES = 16
MIN_PASSWORD_LENGTH = 8
NAME_PATTERN = re.compile(r"[\w.@-]{1,64}")
_DUMMY_SALT = bytes(SALT_BYTES)


def _name(name: str) -> str:
    return unicodedata.normalize("NFC", str(name or "").strip())


def _secret(password: str) -> bytes:
    return unicodedata.normalize("NFC", password).encode("utf-8")


def hash_password(
    password: str, salt: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P, dklen: int = KEY_BYTES
) -> bytes:
    """The scrypt key of a password (NFC-normalised, UTF-8) with this salt and these parameters."""
    return hashlib.scrypt(_secret(password), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=256 * r * n + 2**20)


def check_name(name: str) -> str:
    """A valid account name (letters, digits, '.', '_', '@', '-'; at most 64), normalised; else InputError."""
    cleaned = _name(name)
    if not NAME_PATTERN.fullmatch(cleaned):
        raise InputError(
            f"{cleaned!r} is not a usable name: use 1-64 letters, digits, '.', '_', '@' or '-' (no spaces)"
        )
    return cleaned


def check_password(password: str) -> None:
    """Refuse empty and short passwords (InputError; the message never repeats the password)."""
    if not password:
        raise InputError("the password is empty")
    if len(unicodedata.normalize("NFC", password)) < MIN_PASSWORD_LENGTH:
        raise InputError(f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def add_user(store: Path, name: str, password: str) -> None:
    """Create an analyst account; InputError for a bad or existing name or a short password."""
    name = check_name(name)
    check_password(password)
    salt = secrets.token_bytes(SALT_BYTES)
    key = hash_password(password, salt)
    with store_mod.writing(store) as con:
        if con.execute("SELECT count(*) FROM users WHERE name = ?", [name]).fetchall()[0][0]:
            raise InputError(f"there is already a user {name!r}")
        con.execute(
            "INSERT INTO users (name, salt, hash, kdf, n, r, p, dklen, created_at, disabled) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, false)",
            [name, salt, key, KDF, SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES, _utc_now()],
        )


def _account(store: Path, name: str) -> tuple | None:
    if not store_mod.exists(store):
        return None
    try:
        with store_mod.reading(store) as con:
            found = con.execute(
                "SELECT salt, hash, kdf, n, r, p, dklen, disabled FROM users WHERE name = ?", [name]
            ).fetchall()
    except duckdb.CatalogException:  # a store from before accounts existed
        return None
    return found[0] if found else None


def verify(store: Path, name: str, password: str) -> bool:
    """True only for an existing, enabled account whose password this is."""
    account = _account(store, _name(name)) if password else None
    if account is None or account[2] != KDF:
        hash_password(password or "", _DUMMY_SALT)  # about the same time whether or not the name exists
        return False
    salt, key, _, n, r, p, dklen, disabled = account
    given = hash_password(password, bytes(salt), n=n, r=r, p=p, dklen=dklen)
    return hmac.compare_digest(given, bytes(key)) and not disabled


def list_users(store: Path) -> pd.DataFrame:
    """The accounts (name, created_at UTC, disabled, kdf), by name; never a salt or a hash."""
    columns = ["name", "created_at", "disabled", "kdf"]
    if not store_mod.exists(store):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    try:
        with store_mod.reading(store) as con:
            return con.execute(f"SELECT {', '.join(columns)} FROM users ORDER BY name").df()
    except duckdb.CatalogException:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def disable_user(store: Path, name: str) -> None:
    """Disable an account (kept, so the drops it made still name it); InputError when unknown."""
    name = _name(name)
    if not store_mod.exists(store):
        raise InputError(f"there is no user {name!r}")
    with store_mod.writing(store) as con:
        if not con.execute("SELECT count(*) FROM users WHERE name = ?", [name]).fetchall()[0][0]:
            raise InputError(f"there is no user {name!r}")
        con.execute("UPDATE users SET disabled = true WHERE name = ?", [name])
