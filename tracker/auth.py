"""Local analyst accounts, kept in the store's ``users`` table, and every login attempt, in ``login_attempts``
of a file of its own beside the database (``logins.duckdb``: a login does not change the store's version).

Passwords are never stored, logged or printed: only a salted scrypt hash (``hashlib.scrypt``,
n=2**17, r=8, p=1 — OWASP's minimum — a 32-byte key, a 16-byte random salt per user), with its KDF
parameters: an account hashed with older ones (n=2**14) still logs in, and is re-hashed with the
current ones at its next successful login. ``verify`` compares in constant time.

The dashboard logs in through ``attempt_login``: every attempt is recorded (UTC time, the name as
typed, the client's address, the outcome; never the password) and logged to the ``tracker.auth``
logger, and logins are throttled per account name and per client by a ``LoginPolicy`` (``[access]``
of config.toml): after ``max_failures`` failures within ``failure_window_minutes``, every login —
even with the right password — is refused for ``lockout_seconds``, doubled at each further failure
up to ``max_lockout_minutes``. Attempts refused during a lockout are logged ('locked') but do not
lengthen it. A success resets the account's count (not the client's). A client without an address
(a browser on the server itself) is throttled per account only.

    add_user(store, name, password)      # `tracker user add NAME`
    verify(store, name, password) -> bool  # a plain check: nothing logged, throttled or re-hashed
    attempt_login(store, name, password, client=None, now=None, policy=None) -> LoginResult
    is_active(store, name) -> bool       # the account exists and is enabled (checked before each write)
    login_log(store, name=None, since=None) -> DataFrame  # at, name, client, outcome
    list_users(store) -> DataFrame       # name, created_at, disabled, kdf (never salts or hashes)
    disable_user(store, name)            # `tracker user disable NAME`
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import math
import re
import secrets
import threading
import unicodedata
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from tracker import store as store_mod
from tracker.errors import InputError

KDF = "scrypt"
SCRYPT_N = 2**17  # OWASP's minimum for scrypt (with r=8, p=1); needs 128 MiB per hash
SCRYPT_R = 8
SCRYPT_P = 1
KEY_BYTES = 32
SALT_BYTES = 16
MIN_PASSWORD_LENGTH = 8
NAME_PATTERN = re.compile(r"[\w.@-]{1,64}")
_DUMMY_SALT = bytes(SALT_BYTES)
LOG = logging.getLogger("tracker.auth")

OK, WRONG_PASSWORD, UNKNOWN_USER, DISABLED, LOCKED = "ok", "wrong_password", "unknown_user", "disabled", "locked"
UNLOCKED = "unlocked"  # an administrator's `tracker user unlock NAME`: the name's failures before it no longer count
OUTCOMES = (OK, WRONG_PASSWORD, UNKNOWN_USER, DISABLED, LOCKED, UNLOCKED)
FAILURES = (WRONG_PASSWORD, UNKNOWN_USER, DISABLED)  # a password was checked and refused: these count
LOGGED_NAME_MAX = 128  # characters of a typed name kept in the log (an account name has at most 64)
LOGGED_CLIENT_MAX = 64
HISTORY = dt.timedelta(hours=24)  # how far back the log is read to decide a lockout
LOG_COLUMNS = ["attempted_at", "name", "client", "outcome"]
LOG_SCHEMA = """
CREATE TABLE IF NOT EXISTS login_attempts (
    id BIGINT NOT NULL, attempted_at TIMESTAMP NOT NULL, name VARCHAR NOT NULL, client VARCHAR, outcome VARCHAR NOT NULL
)
"""
LOG_FILE = "logins.duckdb"
_LOGIN_LOCK = threading.Lock()  # one login decision at a time in this process (and one 128 MiB hash at a time)


def _name(name: str) -> str:
    return unicodedata.normalize("NFC", str(name or "").strip())


def _secret(password: str) -> bytes:
    return unicodedata.normalize("NFC", password).encode("utf-8")


def hash_password(
    password: str, salt: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P, dklen: int = KEY_BYTES
) -> bytes:
    """The scrypt key of a password (NFC-normalised, UTF-8) with this salt and these parameters."""
    # scrypt needs 128 * r * n bytes (128 MiB at n=2**17, r=8): allow twice that, as OpenSSL counts more
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


def _matches(account: tuple | None, password: str) -> bool:
    """Whether this is the account's password (whatever its state); about the same time when there is no account."""
    if account is None or account[2] != KDF or not password:
        hash_password(password or "", _DUMMY_SALT)  # about the same time whether or not the name exists
        return False
    salt, key, _, n, r, p, dklen, _ = account
    return hmac.compare_digest(hash_password(password, bytes(salt), n=n, r=r, p=p, dklen=dklen), bytes(key))


def verify(store: Path, name: str, password: str) -> bool:
    """True only for an existing, enabled account whose password this is.

    A plain check: nothing is logged, throttled or re-hashed (the dashboard uses ``attempt_login``).
    """
    account = _account(store, _name(name)) if password else None
    return _matches(account, password) and not account[7]


def is_active(store: Path, name: str) -> bool:
    """Whether the account exists and is enabled now (the upload page asks on every run and before each write)."""
    account = _account(store, _name(name)) if _name(name) else None
    return account is not None and not account[7]


# --------------------------------------------------------------------------- logins: throttled and logged


@dataclass(frozen=True)
class LoginPolicy:
    """How many failed logins lock an account name or a client, and for how long ([access] of config.toml)."""

    max_failures: int = 5
    failure_window: dt.timedelta = dt.timedelta(minutes=15)
    lockout: dt.timedelta = dt.timedelta(seconds=60)
    max_lockout: dt.timedelta = dt.timedelta(minutes=60)

    @classmethod
    def from_config(cls, cfg) -> LoginPolicy:
        """The policy a tracker.config.Config sets ([access] max_failures, failure_window_minutes, …)."""
        return cls(
            max_failures=cfg.login_max_failures,
            failure_window=dt.timedelta(minutes=cfg.login_failure_window_minutes),
            lockout=dt.timedelta(seconds=cfg.login_lockout_seconds),
            max_lockout=dt.timedelta(minutes=cfg.login_max_lockout_minutes),
        )

    def lockout_for(self, level: int) -> dt.timedelta:
        """The length of the level-th lockout in a row: lockout, doubled each time, at most max_lockout."""
        return min(self.lockout * 2 ** min(level - 1, 30), self.max_lockout)


def locked_until(failures: Iterable[dt.datetime], policy: LoginPolicy) -> dt.datetime | None:
    """When the lockout in force after these failed logins (of one account name or one client, in time
    order) ends (perhaps already past); None when the last of them leaves none.

    ``max_failures`` failures within ``failure_window`` start a lockout of ``lockout``; each further
    failure before a whole window has passed since the lockout ended doubles it (at most
    ``max_lockout``); after such a quiet window the count starts again.
    """
    level, until = 0, None
    recent: deque[dt.datetime] = deque()
    for at in failures:
        if level and at > until + policy.failure_window:
            level, until = 0, None
        while recent and recent[0] <= at - policy.failure_window:
            recent.popleft()
        recent.append(at)
        if level:
            level += 1
        elif len(recent) >= policy.max_failures:
            level = 1
        if level:
            until = at + policy.lockout_for(level)
    return until


@dataclass(frozen=True)
class LoginResult:
    """What a login attempt came to.

    ``reason``: 'ok', 'wrong_password', 'unknown_user', 'disabled' or 'locked' (the page says the
    same to all but 'locked', so that it tells nobody which names exist). For 'locked':
    ``retry_at`` (UTC) and ``retry_after`` (whole seconds from the attempt). For 'ok': the
    account's previous successful login (``previous_at`` UTC and ``previous_client``, None for a
    first login) and ``failures_since``, the attempts on the name refused since then.
    """

    ok: bool
    reason: str
    name: str
    retry_at: dt.datetime | None = None
    retry_after: int | None = None
    previous_at: dt.datetime | None = None
    previous_client: str | None = None
    failures_since: int = 0


def _has_log(store: Path) -> bool:
    """Whether the store has a login log yet."""
    return (Path(store) / LOG_FILE).is_file()


def _log(store: Path, write: bool = False):
    return store_mod.side_file(store, LOG_FILE, write)


def _lockout(store: Path, name: str, client: str | None, now: dt.datetime, policy: LoginPolicy) -> dt.datetime | None:
    """Until when the name or the client is locked out at ``now``, if it is."""
    if not _has_log(store):
        return None
    counted = ", ".join(f"'{o}'" for o in FAILURES)
    since = now - HISTORY
    with _log(store) as con:
        last_ok = con.execute(
            "SELECT coalesce(max(id), -1) FROM login_attempts WHERE name = ? AND outcome IN ('ok', 'unlocked')", [name]
        ).fetchall()[0][0]
        by_name = con.execute(
            f"SELECT attempted_at FROM login_attempts WHERE name = ? AND outcome IN ({counted}) AND id > ? "
            "AND attempted_at >= ? AND attempted_at <= ? ORDER BY attempted_at, id",
            [name, last_ok, since, now],
        ).fetchall()
        by_client = (
            con.execute(
                f"SELECT attempted_at FROM login_attempts WHERE client = ? AND outcome IN ({counted}) "
                "AND attempted_at >= ? AND attempted_at <= ? ORDER BY attempted_at, id",
                [client, since, now],
            ).fetchall()
            if client
            else []
        )
    ends = [locked_until((r[0] for r in rows), policy) for rows in (by_name, by_client)]
    ends = [end for end in ends if end is not None and end > now]
    return max(ends) if ends else None


def _record(con, at: dt.datetime, name: str, client: str | None, outcome: str) -> None:
    con.execute(LOG_SCHEMA)
    next_id = con.execute("SELECT coalesce(max(id), 0) + 1 FROM login_attempts").fetchall()[0][0]
    con.execute("INSERT INTO login_attempts VALUES (?, ?, ?, ?, ?)", [next_id, at, name, client, outcome])


def attempt_login(
    store: Path,
    name: str,
    password: str,
    client: str | None = None,
    now: dt.datetime | None = None,
    policy: LoginPolicy | None = None,
) -> LoginResult:
    """Log in to the dashboard: check the password unless the name or the client is locked out, record
    the attempt in ``login_attempts`` and the ``tracker.auth`` logger (never the password), and
    re-hash an account stored with older scrypt parameters once its password is right.

    ``client``: the browser's address (None when unknown: throttled per name only). ``now``: the
    time in UTC, naive (default: the clock). ``policy``: the throttling (default: ``LoginPolicy()``,
    the values data/config.toml ships; the dashboard passes the configured one). Nothing is created
    when there is no store.
    """
    policy = policy or LoginPolicy()
    now = now or _utc_now()
    if now.tzinfo is not None:
        now = now.astimezone(dt.UTC).replace(tzinfo=None)
    typed = _name(name)
    logged = typed[:LOGGED_NAME_MAX]
    client = str(client)[:LOGGED_CLIENT_MAX] if client else None
    if not store_mod.exists(store):
        hash_password(password or "", _DUMMY_SALT)
        return _logged(LoginResult(False, UNKNOWN_USER, logged), client)
    with _LOGIN_LOCK:
        until = _lockout(store, logged, client, now, policy)
        if until is not None:
            with _log(store, write=True) as con:
                _record(con, now, logged, client, LOCKED)
            wait = math.ceil((until - now).total_seconds())
            return _logged(LoginResult(False, LOCKED, logged, retry_at=until, retry_after=wait), client)

        account = _account(store, typed)
        right = _matches(account, password)
        new = None
        if right and (account[3], account[4], account[5], account[6]) != (SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES):
            salt = secrets.token_bytes(SALT_BYTES)
            new = (salt, hash_password(password, salt))
        if account is None:
            outcome = UNKNOWN_USER
        elif not right:
            outcome = WRONG_PASSWORD
        else:
            outcome = DISABLED if account[7] else OK
        if outcome == OK and new is not None:  # once per account: the store's version changes then only
            with store_mod.writing(store) as con:
                con.execute(
                    "UPDATE users SET salt = ?, hash = ?, kdf = ?, n = ?, r = ?, p = ?, dklen = ? "
                    "WHERE name = ? AND hash = ?",
                    [new[0], new[1], KDF, SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES, typed, bytes(account[1])],
                )
        result = LoginResult(outcome == OK, outcome, logged)
        with _log(store, write=True) as con:
            con.execute(LOG_SCHEMA)
            if outcome == OK:
                result = _previous(con, result)
            _record(con, now, logged, client, outcome)
    return _logged(result, client)


def _previous(con, result: LoginResult) -> LoginResult:
    """The account's previous successful login and the refused attempts on its name since then."""
    con.execute(LOG_SCHEMA)
    last = con.execute(
        "SELECT id, attempted_at, client FROM login_attempts WHERE name = ? AND outcome = 'ok' "
        "ORDER BY id DESC LIMIT 1",
        [result.name],
    ).fetchall()
    last_id, at, client = last[0] if last else (-1, None, None)
    failures = con.execute(
        "SELECT count(*) FROM login_attempts WHERE name = ? AND outcome <> 'ok' AND id > ?", [result.name, last_id]
    ).fetchall()[0][0]
    return LoginResult(True, OK, result.name, previous_at=at, previous_client=client, failures_since=int(failures))


def _logged(result: LoginResult, client: str | None) -> LoginResult:
    if result.ok:
        LOG.info("login ok: name=%r client=%s", result.name, client or "-")
    elif result.reason == LOCKED:
        LOG.warning(
            "login refused (locked, %s s left): name=%r client=%s", result.retry_after, result.name, client or "-"
        )
    else:
        LOG.warning("login refused (%s): name=%r client=%s", result.reason, result.name, client or "-")
    return result


def unlock(store: Path, name: str, by: str, now: dt.datetime | None = None) -> None:
    """End a lockout of an account name (someone kept it locked with wrong passwords): the name's failures
    so far no longer count. Recorded in the login log as 'unlocked', with who did it as the client."""
    name = check_name(name)
    if not is_active(store, name):
        raise InputError(f"there is no enabled user {name!r}")
    with _LOGIN_LOCK, _log(store, write=True) as con:
        con.execute(LOG_SCHEMA)
        _record(con, now or _utc_now(), name, f"unlocked by {by}"[:LOGGED_CLIENT_MAX], UNLOCKED)
    LOG.info("login unlocked: name=%r by=%s", name, by)


def login_log(store: Path, name: str | None = None, since: dt.datetime | None = None) -> pd.DataFrame:
    """Every login attempt, oldest first: attempted_at (UTC), name (as typed), client (None: unknown), outcome
    ('ok', 'wrong_password', 'unknown_user', 'disabled', 'locked'); only ``name``'s and only from
    ``since`` (UTC) when given. Empty without a store or before the first attempt. For a CLI listing.
    """
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in LOG_COLUMNS})
    if not store_mod.exists(store) or not _has_log(store):
        return empty
    where, values = [], []
    if name is not None:
        where.append("name = ?")
        values.append(_name(name))
    if since is not None:
        where.append("attempted_at >= ?")
        values.append(since)
    clause = f"WHERE {' AND '.join(where)} " if where else ""
    with _log(store) as con:
        return con.execute(f"SELECT {', '.join(LOG_COLUMNS)} FROM login_attempts {clause}ORDER BY id", values).df()


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
