"""Issue 13, found by QA: holes left by the first implementation, each proved here."""

from __future__ import annotations

import re
import threading
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


def _post_logins(guard, n: int) -> list[int]:
    """``n`` log-ins with wrong passwords (each its own name) sent at once on one event loop, as a
    server receives them; their statuses."""
    import asyncio
    from urllib.parse import quote

    async def one(i: int) -> int:
        body = f"name=u{i}&password={quote('wrong password')}&next=/".encode()
        incoming = [{"type": "http.request", "body": body, "more_body": False}]
        sent = []

        async def receive():
            return incoming.pop(0) if incoming else {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": auth.LOGIN_PATH, "query_string": b"",
                 "headers": [(b"host", b"127.0.0.1:8501"), (b"origin", b"http://127.0.0.1:8501"),
                             (b"content-type", b"application/x-www-form-urlencoded")],
                 "client": ("127.0.0.1", 50000 + i), "server": ("127.0.0.1", 8501), "scheme": "http"}
        await guard(scope, receive, send)
        return sent[0]["status"]

    async def all_of_them():
        return await asyncio.gather(*(one(i) for i in range(n)))

    # in a thread of its own: Playwright (the browser tests, same process) keeps an event loop in this one
    result = []
    worker = threading.Thread(target=lambda: result.append(asyncio.run(all_of_them())))
    worker.start()
    worker.join(120)
    return result[0]


def test_password_checks_run_a_few_at_a_time_so_a_flood_of_log_ins_cannot_exhaust_memory(tmp_path, monkeypatch):
    # each argon2 check takes 64 MiB for tens of milliseconds: 80 log-ins posted at once took the
    # server from 220 MB to 1.8 GB before they were bounded
    guard = _guard(tmp_path)
    running, most = [0], [0]
    lock = threading.Lock()

    def counted(*args):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return False

    monkeypatch.setattr(auth, "verify_password", counted)
    statuses = _post_logins(guard, 12)
    assert most[0] <= auth.PASSWORD_CHECKS_AT_ONCE
    assert set(statuses) <= {401, 429} and statuses.count(401) >= auth.PASSWORD_CHECKS_AT_ONCE


def test_log_ins_beyond_the_queue_are_answered_at_once_with_429(tmp_path, monkeypatch):
    guard = _guard(tmp_path)
    monkeypatch.setattr(auth, "verify_password", lambda *a: time.sleep(0.2) or False)
    n = auth.PASSWORD_CHECKS_AT_ONCE + auth.PASSWORD_CHECKS_WAITING + 5
    statuses = _post_logins(guard, n)
    assert statuses.count(429) >= 5 and statuses.count(401) >= auth.PASSWORD_CHECKS_AT_ONCE


def test_a_logged_out_session_stays_over_after_the_server_restarts(tmp_path):
    # log-outs were kept in the server's memory only: after a restart (or in a second server on
    # the same users file) a cookie taken before the log-out let its holder in again
    from test_auth import call, inner_app

    guard = _guard(tmp_path)
    session = _session(guard)
    time.sleep(0.01)
    call(guard, auth.LOGOUT_PATH, headers=[(b"cookie", COOKIE.encode() + b"=" + session)])
    assert _status(guard, session) == 401
    inner, _ = inner_app()
    restarted = Guard(inner, settings_from_args(["--users", str(tmp_path / "users.json")], "0.0.0.0"))
    assert _status(restarted, session) == 401
    time.sleep(0.01)
    assert _status(restarted, _session(restarted)) == 200  # logging in again works
