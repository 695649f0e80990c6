"""Analyst accounts: salted scrypt hashes only, constant-time checks, and `tracker user …`."""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import hashlib
import io
import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clitools import run, snapshot
from tracker import auth, store
from tracker.cli import users
from tracker.config import DATA_DIR, load_config
from tracker.errors import InputError

PASSWORD = "mật-khẩu-đủ-dài"


@pytest.fixture(scope="module")
def _accounts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("auth") / "store"
    auth.add_user(folder, "lan", PASSWORD)
    auth.add_user(folder, "minh", PASSWORD)
    return folder


def stored(folder, name: str) -> dict:
    with store.reading(folder) as con:
        cursor = con.execute("SELECT * FROM users WHERE name = ?", [name])
        names = [d[0] for d in cursor.description]
        return dict(zip(names, cursor.fetchall()[0], strict=True))


def test_only_a_salted_scrypt_hash_is_stored(_accounts):
    lan, minh = stored(_accounts, "lan"), stored(_accounts, "minh")
    assert (lan["kdf"], lan["n"], lan["r"], lan["p"], lan["dklen"]) == ("scrypt", 2**17, 8, 1, 32)  # OWASP's minimum
    assert len(lan["salt"]) == 16 and len(lan["hash"]) == 32
    assert PASSWORD.encode() not in lan["hash"] and lan["hash"] != PASSWORD.encode()
    # the same password, two users: different salts, different hashes
    assert lan["salt"] != minh["salt"] and lan["hash"] != minh["hash"]
    expected = hashlib.scrypt(
        PASSWORD.encode(), salt=bytes(lan["salt"]), n=2**17, r=8, p=1, dklen=32, maxmem=256 * 2**20
    )
    assert bytes(lan["hash"]) == expected
    # nowhere in the database file either
    assert PASSWORD.encode() not in store.db_path(_accounts).read_bytes()


def test_verify_the_right_password_only(_accounts):
    assert auth.verify(_accounts, "lan", PASSWORD)
    assert auth.verify(str(_accounts), " lan ", PASSWORD)  # the page passes a str; names are trimmed
    assert not auth.verify(_accounts, "lan", PASSWORD + "x")
    assert not auth.verify(_accounts, "lan", "")
    assert not auth.verify(_accounts, "nobody", PASSWORD)
    assert not auth.verify(_accounts.parent / "no-store", "lan", PASSWORD)


def test_a_disabled_user_cannot_log_in(capsys, _accounts, tmp_path):
    folder = shutil.copytree(_accounts, tmp_path / "store")
    code, out, err = run(capsys, "user", "disable", "minh", "--store", folder)
    assert code == 0, err
    assert not auth.verify(folder, "minh", PASSWORD)
    assert auth.verify(folder, "lan", PASSWORD)
    code, out, err = run(capsys, "user", "disable", "nobody", "--store", folder)
    assert code == 1 and "nobody" in err


@pytest.mark.parametrize("password", ["", "short", "1234567"])
def test_short_or_empty_passwords_are_refused(_accounts, password):
    with pytest.raises(InputError, match="password"):
        auth.add_user(_accounts, "new", password)
    assert "new" not in set(auth.list_users(_accounts)["name"])


def test_a_name_that_exists_or_is_not_usable_is_refused(capsys, _accounts):
    with pytest.raises(InputError, match="already"):
        auth.add_user(_accounts, "lan", "another long password")
    for bad in ("", "two words", "a/b"):
        with pytest.raises(InputError, match="name"):
            auth.add_user(_accounts, bad, "another long password")
    before = snapshot(_accounts)
    code, out, err = run_stdin(capsys, "another long password\n", "user", "add", "lan", "--store", _accounts,
                               "--password-stdin")  # fmt: skip
    assert code == 1 and "already" in err
    assert snapshot(_accounts) == before


def run_stdin(capsys, text: str, *args):
    old = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        return run(capsys, *args)
    finally:
        sys.stdin = old


def test_user_add_with_password_stdin_then_list(capsys, tmp_path):
    folder = tmp_path / "store"
    secret = "một mật khẩu dài"
    code, out, err = run_stdin(capsys, secret + "\n", "user", "add", "hoa", "--store", folder, "--password-stdin")
    assert code == 0, err
    assert secret not in out + err
    assert auth.verify(folder, "hoa", secret)
    assert not auth.verify(folder, "hoa", secret + "\n")

    code, out, err = run_stdin(capsys, "short\n", "user", "add", "an", "--store", folder, "--password-stdin")
    assert code == 1 and "too short" in err and "short\n" not in err

    code, out, err = run(capsys, "user", "list", "--store", folder)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["name"], r["disabled"]) for r in rows] == [("hoa", "False")]
    assert list(rows[0]) == ["name", "created_at", "disabled"]  # never a salt or a hash
    code, out, err = run(capsys, "user", "list", "--store", folder, "--format", "json")
    assert json.loads(out)[0]["name"] == "hoa"


def test_user_add_asks_twice_with_getpass(capsys, tmp_path, monkeypatch):
    folder = tmp_path / "store"
    answers = iter(["a long password", "a long password", "a long password", "not the same"])
    prompts = []

    def fake(prompt=""):
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr(getpass, "getpass", fake)
    monkeypatch.setattr(users, "terminal", lambda: True)  # as when an operator types it
    code, out, err = run(capsys, "user", "add", "lan", "--store", folder)
    assert code == 0, err
    assert len(prompts) == 2 and auth.verify(folder, "lan", "a long password")
    assert "a long password" not in out + err + "".join(prompts)

    code, out, err = run(capsys, "user", "add", "minh", "--store", folder)
    assert code == 1 and "differ" in err
    assert "minh" not in set(auth.list_users(folder)["name"])


def test_user_add_without_a_terminal_says_how_to_give_the_password(tmp_path):
    """A script or a service (no controlling terminal, nothing on stdin): a clear error, not EOFError."""
    folder = tmp_path / "store"
    done = subprocess.run(
        [str(Path(sys.executable).with_name("tracker")), "user", "add", "lan", "--store", str(folder)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, start_new_session=True,  # no /dev/tty
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "--password-stdin" in done.stderr and "no terminal" in done.stderr
    assert "EOFError" not in done.stderr and "Warning" not in done.stderr
    assert not (folder / "tracker.duckdb").exists() or "lan" not in set(auth.list_users(folder)["name"])


# --------------------------------------------------------------------------- issue 11: logins, throttling, scrypt

T0 = dt.datetime(2021, 12, 1, 8, 0, 0)  # UTC, naive, as the store keeps times
SECOND = dt.timedelta(seconds=1)
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def accounts(_accounts, tmp_path):
    """A copy of the two accounts' store, for a test that writes the login log."""
    return Path(shutil.copytree(_accounts, tmp_path / "store"))


def store_bytes(folder: Path) -> bytes:
    """Every byte of every file in the store folder (the database, the login log, their write-ahead logs)."""
    return b"".join(p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file())


def test_an_old_hash_logs_in_and_is_rehashed_with_the_new_parameters(accounts):
    salt = bytes(range(16))
    old = auth.hash_password(PASSWORD, salt, n=2**14, r=8, p=1, dklen=32)
    with store.writing(accounts) as con:
        con.execute("INSERT INTO users VALUES ('old', ?, ?, 'scrypt', 16384, 8, 1, 32, ?, false)", [salt, old, T0])
    assert auth.verify(accounts, "old", PASSWORD)  # the old parameters still work
    assert stored(accounts, "old")["n"] == 2**14  # verify alone changes nothing
    assert not auth.attempt_login(accounts, "old", PASSWORD + "x", now=T0).ok
    assert stored(accounts, "old")["n"] == 2**14  # nor does a wrong password

    assert auth.attempt_login(accounts, "old", PASSWORD, now=T0 + SECOND).ok
    row = stored(accounts, "old")
    assert (row["n"], row["r"], row["p"], row["dklen"]) == (2**17, 8, 1, 32)
    assert bytes(row["salt"]) != salt and bytes(row["hash"]) != old
    assert bytes(row["hash"]) == auth.hash_password(PASSWORD, bytes(row["salt"]), n=2**17)
    assert auth.verify(accounts, "old", PASSWORD) and not auth.verify(accounts, "old", PASSWORD + "x")
    assert auth.attempt_login(accounts, "old", PASSWORD, now=T0 + 2 * SECOND).ok


def test_25_wrong_passwords_then_the_right_one_is_refused_until_the_lockout_ends(accounts):
    for i in range(25):
        result = auth.attempt_login(accounts, "lan", f"đoán-sai-{i:02d}", client="203.0.113.7", now=T0 + i * SECOND)
        assert not result.ok
        assert result.reason == ("wrong_password" if i < 5 else "locked")
    # the 5th failure (at T0 + 4 s) locks the account for 60 s: even the right password is refused
    right = auth.attempt_login(accounts, "lan", PASSWORD, client="203.0.113.7", now=T0 + 30 * SECOND)
    assert (right.ok, right.reason) == (False, "locked")
    assert right.retry_at == T0 + 64 * SECOND and right.retry_after == 34
    # refused attempts do not extend the lockout; once it ends (the clock injected), the right password works
    assert not auth.attempt_login(accounts, "lan", PASSWORD, now=T0 + 63 * SECOND).ok
    later = auth.attempt_login(accounts, "lan", PASSWORD, client="198.51.100.2", now=T0 + 16 * MINUTE)
    assert later.ok and later.reason == "ok" and later.name == "lan"
    assert later.previous_at is None and later.failures_since == 27  # 5 wrong, 22 refused while locked

    log = auth.login_log(accounts, "lan")
    assert len(log) == 28
    assert list(log.columns) == ["attempted_at", "name", "client", "outcome"]
    assert log["outcome"].value_counts().to_dict() == {"locked": 22, "wrong_password": 5, "ok": 1}
    assert log["attempted_at"].iloc[0] == T0 and log["client"].iloc[0] == "203.0.113.7"
    assert log["client"].iloc[-2] is None or log["client"].isna().iloc[-2]  # a client without an address


def test_the_lockout_doubles_with_each_further_failure_up_to_the_cap():
    policy = auth.LoginPolicy()  # 5 failures in 15 min; 60 s, doubled, at most 60 min
    assert auth.locked_until([T0 + i * SECOND for i in range(4)], policy) is None
    failures = [T0 + i * SECOND for i in range(5)]
    assert auth.locked_until(failures, policy) == T0 + 4 * SECOND + 60 * SECOND
    lengths = []
    for _ in range(9):  # each time the lockout ends, one more failure
        end = auth.locked_until(failures, policy)
        failures.append(end)
        lengths.append((auth.locked_until(failures, policy) - end).total_seconds())
    assert lengths == [120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600]
    # quiet for a whole window after the lockout: forgotten, the count starts again
    quiet = failures[-1] + 3600 * SECOND + 15 * MINUTE + SECOND
    assert auth.locked_until([*failures, quiet], policy) is None
    # 4 failures per window never lock (the configured rate)
    spaced = [T0 + k * 15 * MINUTE + i * SECOND for k in range(8) for i in range(4)]
    assert auth.locked_until(spaced, policy) is None


def test_one_client_is_throttled_across_account_names(accounts):
    spray = "203.0.113.7"
    for i, name in enumerate(["an", "binh", "chi", "dung", "lan"]):
        result = auth.attempt_login(accounts, name, "mật-khẩu-đoán", client=spray, now=T0 + i * SECOND)
        assert result.reason == ("wrong_password" if name == "lan" else "unknown_user")
    # from that client nothing gets through, not even minh's right password
    refused = auth.attempt_login(accounts, "minh", PASSWORD, client=spray, now=T0 + 10 * SECOND)
    assert (refused.ok, refused.reason, refused.retry_after) == (False, "locked", 54)
    # minh from another computer is not held up: only one of the failures was on an account name, lan's
    assert auth.attempt_login(accounts, "minh", PASSWORD, client="198.51.100.2", now=T0 + 11 * SECOND).ok
    assert auth.attempt_login(accounts, "lan", PASSWORD, client="198.51.100.2", now=T0 + 12 * SECOND).ok
    # a browser without an address (on the server itself) is throttled per account only
    assert auth.attempt_login(accounts, "minh", PASSWORD, client=None, now=T0 + 13 * SECOND).ok


def test_one_account_is_throttled_across_clients(accounts):
    for i in range(5):
        assert not auth.attempt_login(accounts, "lan", "sai", client=f"198.51.100.{i}", now=T0 + i * MINUTE).ok
    refused = auth.attempt_login(accounts, "lan", PASSWORD, client="192.0.2.1", now=T0 + 4 * MINUTE + 5 * SECOND)
    assert refused.reason == "locked" and refused.retry_after == 55
    assert auth.attempt_login(accounts, "minh", PASSWORD, client="192.0.2.1", now=T0 + 4 * MINUTE + 6 * SECOND).ok
    # a whole window after the lockout ended, those failures no longer add up: 4 more lock nothing
    for i in range(4):
        result = auth.attempt_login(accounts, "lan", "sai", client="192.0.2.9", now=T0 + 30 * MINUTE + i * SECOND)
        assert result.reason == "wrong_password"
    assert auth.attempt_login(accounts, "lan", PASSWORD, client="192.0.2.8", now=T0 + 31 * MINUTE).ok


def test_a_success_resets_the_account_count_and_reports_the_previous_login(accounts):
    first = auth.attempt_login(accounts, "lan", PASSWORD, client="192.0.2.1", now=T0)
    assert first.ok and first.previous_at is None and first.failures_since == 0
    for i in range(4):
        assert auth.attempt_login(accounts, "lan", "sai", client="203.0.113.7", now=T0 + (i + 1) * SECOND).reason == (
            "wrong_password"
        )
    second = auth.attempt_login(accounts, "lan", PASSWORD, client="192.0.2.2", now=T0 + 10 * SECOND)
    assert second.ok
    assert (second.previous_at, second.previous_client, second.failures_since) == (T0, "192.0.2.1", 4)
    # the count started again at the success: 4 more failures do not lock lan
    for i in range(4):
        auth.attempt_login(accounts, "lan", "sai", client=f"192.0.2.{10 + i}", now=T0 + (20 + i) * SECOND)
    third = auth.attempt_login(accounts, "lan", PASSWORD, now=T0 + 30 * SECOND)
    assert third.ok and third.previous_client == "192.0.2.2" and third.failures_since == 4


def test_disabled_and_unknown_accounts_are_logged_as_such(accounts):
    auth.disable_user(accounts, "minh")
    assert auth.attempt_login(accounts, "minh", PASSWORD, now=T0).reason == "disabled"
    assert auth.attempt_login(accounts, "minh", "sai", now=T0 + SECOND).reason == "wrong_password"
    assert auth.attempt_login(accounts, " nobody ", PASSWORD, now=T0 + 2 * SECOND).reason == "unknown_user"
    assert auth.attempt_login(accounts, "lan", "", now=T0 + 3 * SECOND).reason == "wrong_password"
    log = auth.login_log(accounts)
    assert log[["name", "outcome"]].values.tolist() == [
        ["minh", "disabled"], ["minh", "wrong_password"], ["nobody", "unknown_user"], ["lan", "wrong_password"],
    ]  # fmt: skip
    assert auth.login_log(accounts.parent / "no-store").empty
    assert not (accounts.parent / "no-store").exists()
    assert auth.attempt_login(accounts.parent / "no-store", "lan", PASSWORD).reason == "unknown_user"
    assert not (accounts.parent / "no-store").exists()  # an attempt does not create a store


def test_every_attempt_is_logged_and_no_password_is_kept_anywhere(accounts, caplog):
    caplog.set_level(logging.INFO, logger="tracker.auth")
    guesses = [f"thử-mật-khẩu-{i}" for i in range(7)]
    for i, guess in enumerate(guesses):
        auth.attempt_login(accounts, "lan" if i % 2 else "minh", guess, client="203.0.113.7", now=T0 + i * SECOND)
    assert auth.attempt_login(accounts, "lan", PASSWORD, client="192.0.2.1", now=T0 + 20 * MINUTE).ok
    log = auth.login_log(accounts)
    assert len(log) == len(guesses) + 1
    assert log["outcome"].tolist() == ["wrong_password"] * 5 + ["locked"] * 2 + ["ok"]
    assert set(log["name"]) == {"lan", "minh"}
    kept = store_bytes(accounts)
    for secret in [*guesses, PASSWORD]:
        assert secret.encode() not in kept
        assert secret not in caplog.text
    levels = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "tracker.auth"]
    assert [lvl for lvl, _ in levels] == [logging.WARNING] * 7 + [logging.INFO]
    assert "'lan'" in levels[-1][1] and "192.0.2.1" in levels[-1][1]
    assert "locked" in levels[-2][1]


def test_is_active_follows_disabling_and_removal(accounts):
    assert auth.is_active(accounts, "lan") and auth.is_active(str(accounts), " lan ")
    auth.disable_user(accounts, "lan")
    assert not auth.is_active(accounts, "lan")
    with store.writing(accounts) as con:
        con.execute("DELETE FROM users WHERE name = 'minh'")
    assert not auth.is_active(accounts, "minh")
    assert not auth.is_active(accounts, "nobody")
    assert not auth.is_active(accounts.parent / "no-store", "lan")


def test_the_login_policy_is_read_from_the_access_table(tmp_path):
    cfg = load_config()
    assert (cfg.login_max_failures, cfg.login_failure_window_minutes) == (5, 15)
    assert (cfg.login_lockout_seconds, cfg.login_max_lockout_minutes) == (60, 60)
    assert auth.LoginPolicy.from_config(cfg) == auth.LoginPolicy()
    data = Path(shutil.copytree(DATA_DIR, tmp_path / "data"))
    text = (data / "config.toml").read_text(encoding="utf-8")
    (data / "config.toml").write_text(text.replace("max_failures = 5", "max_failures = 3"), encoding="utf-8")
    policy = auth.LoginPolicy.from_config(load_config(data))
    assert policy.max_failures == 3 and policy.lockout == dt.timedelta(seconds=60)
    (data / "config.toml").write_text(text.replace("max_failures = 5", "max_failures = 0"), encoding="utf-8")
    with pytest.raises(InputError, match="max_failures"):
        load_config(data)


def test_a_login_leaves_the_store_version_alone(accounts):
    """Logins are logged in a file of their own: attempts do not make every page reload its figures."""
    auth.attempt_login(accounts, "lan", PASSWORD, now=T0)  # the first login re-hashes nothing here
    before = store.version(accounts)
    for i in range(3):
        auth.attempt_login(accounts, "lan", "sai mật khẩu", client="198.51.100.1", now=T0 + i * SECOND)
    assert auth.attempt_login(accounts, "lan", PASSWORD, now=T0 + 10 * SECOND).ok
    assert store.version(accounts) == before
    assert len(auth.login_log(accounts)) == 5


def test_tracker_user_log_lists_the_attempts(capsys, accounts):
    auth.attempt_login(accounts, "lan", "sai mật khẩu", client="198.51.100.7", now=T0)
    auth.attempt_login(accounts, "lan", PASSWORD, client="198.51.100.7", now=T0 + MINUTE)
    auth.attempt_login(accounts, "minh", PASSWORD, now=T0 + 2 * MINUTE)
    code, out, err = run(capsys, "user", "log", "lan", "--store", accounts)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["name"], r["client"], r["outcome"]) for r in rows] == [
        ("lan", "198.51.100.7", "wrong_password"), ("lan", "198.51.100.7", "ok")
    ]  # fmt: skip
    assert rows[0]["attempted_at"] == f"{T0:%Y-%m-%dT%H:%M:%S}Z"
    assert "sai mật khẩu" not in out and PASSWORD not in out
    code, out, err = run(capsys, "user", "log", "--store", accounts, "--format", "json")
    assert [r["name"] for r in json.loads(out)] == ["lan", "lan", "minh"]


def test_an_administrator_ends_a_lockout_with_tracker_user_unlock(capsys, accounts):
    """Anyone who knows a name can keep it locked with wrong passwords: an administrator can end that."""
    for i in range(6):
        auth.attempt_login(accounts, "lan", "sai mật khẩu", now=T0 + i * SECOND)
    assert auth.attempt_login(accounts, "lan", PASSWORD, now=T0 + 10 * SECOND).reason == "locked"
    code, out, err = run(capsys, "user", "unlock", "lan", "--store", accounts, "--uploader", "admin")
    assert code == 0, err
    auth_log = auth.login_log(accounts, "lan")
    assert auth_log["outcome"].iloc[-1] == "unlocked" and auth_log["client"].iloc[-1] == "unlocked by admin"
    assert auth.attempt_login(accounts, "lan", PASSWORD, now=T0 + 11 * SECOND).ok
    code, out, err = run(capsys, "user", "unlock", "nobody", "--store", accounts)
    assert code == 1 and "no enabled user" in err
