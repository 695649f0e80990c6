"""Analyst accounts: salted scrypt hashes only, constant-time checks, and `tracker user …`."""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clitools import run, snapshot
from tracker import auth, cli, store
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
    assert (lan["kdf"], lan["n"], lan["r"], lan["p"], lan["dklen"]) == ("scrypt", 2**14, 8, 1, 32)
    assert len(lan["salt"]) == 16 and len(lan["hash"]) == 32
    assert PASSWORD.encode() not in lan["hash"] and lan["hash"] != PASSWORD.encode()
    # the same password, two users: different salts, different hashes
    assert lan["salt"] != minh["salt"] and lan["hash"] != minh["hash"]
    expected = hashlib.scrypt(PASSWORD.encode(), salt=bytes(lan["salt"]), n=2**14, r=8, p=1, dklen=32)
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
    monkeypatch.setattr(cli, "_terminal", lambda: True)  # as when an operator types it
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
