"""Issue 13, found by QA: holes left by the first implementation, each proved here."""

from __future__ import annotations

import re
import time

from evaldash import auth
from evaldash.auth import COOKIE, Guard, settings_from_args

PASSWORD = "correct horse"


def _guard(tmp_path):
    from test_auth import inner_app

    path = tmp_path / "users.json"
    auth.add_user(path, "ana", PASSWORD)
    inner, _ = inner_app()
    return Guard(inner, settings_from_args(["--users", str(path)], "0.0.0.0"))


def _session(guard) -> bytes:
    from test_auth import login

    status, headers, _ = login(guard)
    assert status == 303
    return re.match(rf"{COOKIE}=([^;]+);", headers["set-cookie"]).group(1).encode()


def _status(guard, session: bytes) -> int:
    from test_auth import call

    return call(guard, "/_stcore/health", headers=[(b"cookie", COOKIE.encode() + b"=" + session)])[0]


def test_a_cookie_logged_out_in_the_second_it_was_signed_is_over(tmp_path, monkeypatch):
    from test_auth import call

    guard = _guard(tmp_path)
    clock = [1_800_000_000.2]
    monkeypatch.setattr(time, "time", lambda: clock[0])  # log-in and log-out in the same second
    session = _session(guard)
    assert _status(guard, session) == 200
    clock[0] += 0.3
    call(guard, auth.LOGOUT_PATH, headers=[(b"cookie", COOKIE.encode() + b"=" + session)])
    assert _status(guard, session) == 401
    clock[0] += 0.3  # logging in again at once works
    again = _session(guard)
    assert _status(guard, again) == 200 and _status(guard, session) == 401
