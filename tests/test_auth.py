"""evaldash.auth: loopback by default, a log-in beyond it, Host and Origin checks, users and sessions.

The guard is driven as plain ASGI (like ``test_asgi.py``); the command line and the real server
are checked for where they listen (``ss -ltn``; nothing here connects to a non-loopback address).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from evaldash import auth
from evaldash.auth import COOKIE, IDENTITY_HEADER, AuthSettings, Guard, settings_from_args
from evaldash.cli import main
from evaldash.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
BINARY = ROOT / "sample_data" / "digits" / "binary_three.csv"
PASSWORD = "correct horse"
HOST = b"127.0.0.1:8501"


@pytest.fixture(scope="module")
def users_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("users") / "users.json"
    auth.add_user(path, "ana", PASSWORD)
    auth.add_user(path, "bo b", "another password")
    return path


@pytest.fixture
def settings(users_file) -> AuthSettings:
    return settings_from_args(["--users", str(users_file)], "0.0.0.0")


def inner_app():
    """The app behind the guard: it answers 200 'DATA cat dog' and records each scope it got."""
    seen = []

    async def app(scope, receive, send):
        seen.append(scope)
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"DATA cat dog"})

    return app, seen


def call(app, path="/", method="GET", headers=(), kind="http", body=b"", client="127.0.0.1",
         server="127.0.0.1", query=b"", host=HOST):
    """One request through ``app``: (status or 'close'/'accept' for a WebSocket, headers dict, body)."""
    sent = []
    incoming = [{"type": "websocket.connect"}] if kind == "websocket" else \
        [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    hdrs = ([(b"host", host)] if host is not None else []) + [(k.lower(), v) for k, v in headers]
    scope = {"type": kind, "method": method, "path": path, "headers": hdrs, "query_string": query,
             "client": (client, 50000), "server": (server, 8501), "scheme": "http" if kind == "http" else "ws"}
    worker = threading.Thread(target=asyncio.run, args=(app(scope, receive, send),))
    worker.start()
    worker.join()
    if kind == "websocket":
        first = sent[0]
        return ("close" if first["type"] == "websocket.close" else "accept"), {}, b""
    start = sent[0]
    out = {}
    for k, v in start.get("headers", []):
        out.setdefault(k.decode(), v.decode())
    return start["status"], out, b"".join(m.get("body", b"") for m in sent[1:])


def login(guard, name="ana", password=PASSWORD, origin=b"http://127.0.0.1:8501", next_path="/threshold"):
    form = f"name={quote(name)}&password={quote(password)}&next={quote(next_path)}".encode()
    headers = [(b"origin", origin)] if origin is not None else []
    return call(guard, auth.LOGIN_PATH, "POST", [(b"content-type", b"application/x-www-form-urlencoded"),
                                                 *headers], body=form)


def session_of(guard) -> bytes:
    status, headers, _ = login(guard)
    assert status == 303
    return re.match(rf"{COOKIE}=([^;]+);", headers["set-cookie"]).group(1).encode()


# --- exposure: loopback unless a log-in ----------------------------------------------------------

@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"])
def test_loopback_addresses_need_no_log_in(address):
    assert auth.is_loopback(address)
    assert not settings_from_args([], address).login_required


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "", None, "192.168.1.5", "10.0.0.1", "example.org"])
def test_any_other_address_without_a_log_in_is_refused_with_how_to_configure_it(address):
    with pytest.raises(InputError, match=r"needs a log-in: give --users FILE .*--trust-user-header .*--no-auth"):
        settings_from_args([], address)


def test_no_auth_opts_out_and_a_log_in_opts_in(users_file):
    assert settings_from_args(["--no-auth"], "0.0.0.0").no_auth
    assert settings_from_args(["--users", str(users_file)], "0.0.0.0").login_required
    assert settings_from_args(["--trust-user-header", "X-Forwarded-User"], "0.0.0.0").login_required
    with pytest.raises(InputError, match="--no-auth with --users"):
        settings_from_args(["--no-auth", "--users", str(users_file)], "0.0.0.0")


@pytest.mark.parametrize("header", ["X Forwarded User", "X-User:", "Üser", ""])
def test_a_user_header_must_be_a_header_name(header):
    with pytest.raises(InputError, match="expected a header name like X-Forwarded-User|needs a log-in"):
        settings_from_args(["--trust-user-header", header], "0.0.0.0")


def test_the_app_arguments_around_the_log_in_ones_are_ignored(users_file):
    s = settings_from_args(["data.csv", "--positive", "cat", "--users", str(users_file), "--db", "x.db"], "0.0.0.0")
    assert s.users_file == users_file.resolve()


def test_a_request_arriving_on_a_non_loopback_interface_is_refused_without_a_log_in():
    # served another way (an ASGI server bound to 0.0.0.0 with the loopback settings)
    inner, seen = inner_app()
    guard = Guard(inner, settings_from_args([], "127.0.0.1"))
    status, _, body = call(guard, server="192.168.1.5")
    assert status == 403 and b"--users" in body and b"DATA" not in body
    assert call(guard, kind="websocket", server="192.168.1.5")[0] == "close"
    assert seen == []
    assert call(guard, server="127.0.0.1")[0] == 200  # the same server, reached on loopback
    assert call(Guard(inner, settings_from_args(["--no-auth"], "0.0.0.0")), server="192.168.1.5")[0] == 200


# --- Host and Origin (DNS rebinding) -------------------------------------------------------------

@pytest.mark.parametrize("host", [b"127.0.0.1:8501", b"localhost:8501", b"LOCALHOST", b"localhost.:8501",
                                  b"[::1]:8501", b"192.168.1.5:8501", b"team.example:8501"])
def test_the_server_own_names_and_addresses_are_served(host):
    inner, seen = inner_app()
    guard = Guard(inner, settings_from_args(["--allowed-host", "team.example"], "127.0.0.1"))
    assert call(guard, host=host)[0] == 200 and len(seen) == 1


@pytest.mark.parametrize("host", [b"attacker.example", b"attacker.example:8501", b"localhost.attacker.example",
                                  b"127.0.0.1@attacker.example", b"", None, b"local host", b"localhost:notaport"])
def test_any_other_host_name_is_refused(host):
    inner, seen = inner_app()
    guard = Guard(inner, settings_from_args([], "127.0.0.1"))
    status, _, body = call(guard, host=host)
    assert status == 400 and b"--allowed-host" in body
    assert call(guard, kind="websocket", host=host)[0] == "close"
    assert seen == []


@pytest.mark.parametrize("origin,ok", [(b"http://127.0.0.1:8501", True), (b"https://127.0.0.1:8501", True),
                                       (None, True), (b"http://attacker.example", False),
                                       (b"http://127.0.0.1:9999", False), (b"null", False),
                                       (b"http://localhost:8501", False)])
def test_a_websocket_from_another_origin_is_refused(origin, ok):
    inner, seen = inner_app()
    guard = Guard(inner, settings_from_args([], "127.0.0.1"))
    result = call(guard, kind="websocket", headers=[(b"origin", origin)] if origin else [])
    assert result[0] == ("accept" if ok else "close")
    assert len(seen) == int(ok)


# --- without a log-in nothing passes ---------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/threshold", "/errors"])
def test_a_page_redirects_to_the_log_in_page_keeping_where_it_was_going(settings, path):
    inner, seen = inner_app()
    status, headers, body = call(Guard(inner, settings), path, query=b"class=3&t=0.5")
    assert status == 303 and headers["location"] == f"/_evaldash/login?next={quote(path + '?class=3&t=0.5', safe='')}"
    assert seen == [] and b"DATA" not in body


@pytest.mark.parametrize("method,path", [("GET", "/_stcore/health"), ("GET", "/_stcore/host-config"),
                                         ("GET", "/media/abc.png"), ("GET", "/static/js/index.js"),
                                         ("GET", "/component/live_threshold/index.js"), ("GET", "/app/static/x.png"),
                                         ("PUT", "/_stcore/upload_file/s/f"), ("POST", "/"), ("GET", "/favicon.png")])
def test_everything_else_is_401(settings, method, path):
    inner, seen = inner_app()
    status, _, body = call(Guard(inner, settings), path, method)
    assert status == 401 and b"DATA" not in body and seen == []


def test_the_websocket_upgrade_is_refused(settings):
    inner, seen = inner_app()
    assert call(Guard(inner, settings), "/_stcore/stream", kind="websocket",
                headers=[(b"origin", b"http://127.0.0.1:8501")])[0] == "close"
    assert seen == []


def test_a_browser_cannot_name_itself_with_the_identity_header(settings):
    inner, seen = inner_app()
    forged = [(IDENTITY_HEADER.encode(), b"ana")]
    assert call(Guard(inner, settings), "/_stcore/health", headers=forged)[0] == 401
    open_guard = Guard(inner, settings_from_args([], "127.0.0.1"))  # no log-in: the header is dropped
    assert call(open_guard, "/_stcore/health", headers=forged)[0] == 200
    assert all(k != IDENTITY_HEADER.encode() for k, _ in seen[-1]["headers"])


# --- the log-in page --------------------------------------------------------------------------------

def test_the_log_in_page_is_a_plain_form_that_escapes_what_it_is_given(settings):
    inner, seen = inner_app()
    evil = '/x"><script>alert(1)</script>'
    status, headers, body = call(Guard(inner, settings), auth.LOGIN_PATH, query=f"next={quote(evil)}".encode())
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b'<form method="post" action="/_evaldash/login">' in body and b'type="password"' in body
    assert b"<script>" not in body and b"&lt;script&gt;" in body
    assert "default-src 'none'" in headers["content-security-policy"] and seen == []


def test_logging_in_sets_a_signed_http_only_same_site_cookie_and_goes_where_it_was_going(settings):
    inner, seen = inner_app()
    guard = Guard(inner, settings)
    status, headers, _ = login(guard)
    assert status == 303 and headers["location"] == "/threshold"
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert f"Max-Age={auth.SESSION_SECONDS}" in cookie and "Path=/" in cookie
    assert PASSWORD.replace(" ", "") not in cookie
    session = session_of(guard)
    status, _, body = call(guard, "/_stcore/health", headers=[(b"cookie", COOKIE.encode() + b"=" + session)])
    assert status == 200 and body == b"DATA cat dog"
    assert (IDENTITY_HEADER.encode(), b"ana") in seen[-1]["headers"]
    assert call(guard, "/_stcore/stream", kind="websocket",
                headers=[(b"cookie", COOKIE.encode() + b"=" + session), (b"origin", b"http://127.0.0.1:8501")])[0] \
        == "accept"


def test_a_user_name_with_any_characters_reaches_the_app_quoted(users_file, tmp_path):
    inner, seen = inner_app()
    guard = Guard(inner, settings_from_args(["--users", str(users_file)], "0.0.0.0"))
    status, headers, _ = login(guard, "bo b", "another password")
    session = re.match(rf"{COOKIE}=([^;]+);", headers["set-cookie"]).group(1).encode()
    call(guard, "/", headers=[(b"cookie", COOKIE.encode() + b"=" + session)])
    value = dict(seen[-1]["headers"])[IDENTITY_HEADER.encode()]
    assert value == b"bo%20b" and auth.identity_from_header(value.decode()) == "bo b"


@pytest.mark.parametrize("name,password", [("ana", "wrong password"), ("nobody", PASSWORD), ("ana", "")])
def test_a_wrong_name_or_password_shows_the_form_again(settings, name, password):
    inner, seen = inner_app()
    status, headers, body = login(Guard(inner, settings), name, password)
    assert status == 401 and b"Wrong name or password." in body and "set-cookie" not in headers
    assert seen == []


@pytest.mark.parametrize("origin", [b"http://attacker.example", b"null", None])
def test_a_log_in_posted_from_another_site_is_refused(settings, origin):
    inner, _ = inner_app()
    status, headers, _ = login(Guard(inner, settings), origin=origin)
    assert status == 403 and "set-cookie" not in headers


def test_a_same_site_referer_stands_in_for_a_missing_origin(settings):
    inner, _ = inner_app()
    form = f"name=ana&password={quote(PASSWORD)}".encode()
    status, headers, _ = call(Guard(inner, settings), auth.LOGIN_PATH, "POST",
                              [(b"referer", b"http://127.0.0.1:8501/_evaldash/login?next=%2F")], body=form)
    assert status == 303 and "set-cookie" in headers


@pytest.mark.parametrize("target", ["//attacker.example/x", "https://attacker.example", "/\\attacker.example", "x"])
def test_the_redirect_after_log_in_stays_on_this_server(settings, target):
    inner, _ = inner_app()
    status, headers, _ = login(Guard(inner, settings), next_path=target)
    assert status == 303 and headers["location"] == "/"


def test_repeated_failures_for_a_name_are_refused_for_a_while(settings):
    inner, _ = inner_app()
    guard = Guard(inner, settings)
    for _ in range(auth._FAILURES_ALLOWED):
        assert login(guard, password="wrong password")[0] == 401
    status, _, body = login(guard)  # even the right password, until the window ends
    assert status == 429 and b"Too many failed log-ins" in body


@pytest.mark.parametrize("tamper", ["forged", "other secret", "expired", "removed", "password changed"])
def test_a_session_that_is_not_valid_now_lets_nothing_through(users_file, tmp_path, monkeypatch, tamper):
    path = tmp_path / "users.json"
    path.write_bytes(users_file.read_bytes())
    s = settings_from_args(["--users", str(path)], "0.0.0.0")
    inner, seen = inner_app()
    session = session_of(Guard(inner, s))
    guard = Guard(inner, s)
    if tamper == "forged":
        session = session[:-3] + (b"AAA" if not session.endswith(b"AAA") else b"BBB")
    elif tamper == "other secret":
        monkeypatch.setenv("EVALDASH_SECRET", "another secret of 32 characters!")
        guard = Guard(inner, settings_from_args(["--users", str(path)], "0.0.0.0"))
    elif tamper == "expired":
        guard = Guard(inner, AuthSettings(users_file=s.users_file, secret=s.secret, session_seconds=-1))
    elif tamper == "removed":
        time.sleep(0.01)
        auth.remove_user(path, "ana")
    else:
        time.sleep(0.01)
        auth.add_user(path, "ana", "a new password")
    status, _, _ = call(guard, "/_stcore/health", headers=[(b"cookie", COOKIE.encode() + b"=" + session)])
    assert status == 401 and seen == []


def test_logging_out_clears_the_cookie(settings):
    inner, _ = inner_app()
    status, headers, _ = call(Guard(inner, settings), auth.LOGOUT_PATH)
    assert status == 303 and headers["location"] == auth.LOGIN_PATH
    assert headers["set-cookie"].startswith(f"{COOKIE}=;") and "Max-Age=0" in headers["set-cookie"]


def test_logging_out_ends_the_user_s_sessions_also_in_other_browsers(users_file, tmp_path):
    path = tmp_path / "users.json"
    path.write_bytes(users_file.read_bytes())
    inner, _ = inner_app()
    guard = Guard(inner, settings_from_args(["--users", str(path)], "0.0.0.0"))
    here, elsewhere = session_of(guard), session_of(guard)
    time.sleep(1.1)  # sessions are signed to the second
    call(guard, auth.LOGOUT_PATH, headers=[(b"cookie", COOKIE.encode() + b"=" + here)])
    for session in (here, elsewhere):
        assert call(guard, "/_stcore/health", headers=[(b"cookie", COOKIE.encode() + b"=" + session)])[0] == 401
    again = session_of(guard)
    assert call(guard, "/_stcore/health", headers=[(b"cookie", COOKIE.encode() + b"=" + again)])[0] == 200


def test_an_open_websocket_closes_once_its_session_is_over(users_file, tmp_path, monkeypatch):
    monkeypatch.setattr(auth, "RECHECK_SECONDS", 0.0)
    path = tmp_path / "users.json"
    path.write_bytes(users_file.read_bytes())
    guard_settings = settings_from_args(["--users", str(path)], "0.0.0.0")
    got, sent = [], []

    async def app(scope, receive, send):  # Streamlit's side: accept, then read until the end
        await receive()
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            got.append(message["bytes"])
        got.append(message["type"])
        await send({"type": "websocket.close", "code": 1000})

    guard = Guard(app, guard_settings)
    session = session_of(guard)
    incoming = [{"type": "websocket.connect"}, {"type": "websocket.receive", "bytes": b"one"},
                {"type": "websocket.receive", "bytes": b"two"}, {"type": "websocket.receive", "bytes": b"three"}]

    async def receive():
        message = incoming.pop(0)
        if message.get("bytes") == b"two":
            time.sleep(0.01)
            auth.remove_user(path, "ana")  # while the socket is open
        return message

    async def send(message):
        sent.append(message)

    scope = {"type": "websocket", "path": "/_stcore/stream", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8501),
             "headers": [(b"host", HOST), (b"origin", b"http://127.0.0.1:8501"),
                         (b"cookie", COOKIE.encode() + b"=" + session)]}
    worker = threading.Thread(target=asyncio.run, args=(guard(scope, receive, send),))
    worker.start()
    worker.join()
    assert got == [b"one", "websocket.disconnect"]
    assert sent == [{"type": "websocket.accept"}, {"type": "websocket.close", "code": 1008}]


def test_a_base_path_prefixes_the_log_in_page_and_the_cookie(settings):
    inner, _ = inner_app()
    guard = Guard(inner, settings, base_path=lambda: "evaldash/")
    status, headers, _ = call(guard, "/evaldash/confusion")
    assert status == 303 and headers["location"] == "/evaldash/_evaldash/login?next=%2Fevaldash%2Fconfusion"
    assert call(guard, "/evaldash/media/a.png")[0] == 401
    status, headers, _ = call(guard, "/evaldash" + auth.LOGIN_PATH, "POST", [(b"origin", b"http://127.0.0.1:8501")],
                              body=f"name=ana&password={quote(PASSWORD)}".encode())
    assert status == 303 and "Path=/evaldash;" in headers["set-cookie"] and headers["location"] == "/evaldash/"


# --- a trusted reverse proxy's header ----------------------------------------------------------------

def test_the_user_header_is_taken_from_the_proxy_only():
    inner, seen = inner_app()
    guard = Guard(inner, settings_from_args(["--trust-user-header", "X-Forwarded-User"], "0.0.0.0"))
    who = [(b"x-forwarded-user", b"carla")]
    assert call(guard, "/", headers=who, client="127.0.0.1")[0] == 200
    assert (IDENTITY_HEADER.encode(), b"carla") in seen[-1]["headers"]
    assert call(guard, "/", headers=who, client="::ffff:127.0.0.1")[0] == 200
    n = len(seen)
    assert call(guard, "/", headers=who, client="192.168.1.7")[0] == 401  # not the proxy: the header is anyone's
    assert call(guard, "/_stcore/stream", kind="websocket", headers=who, client="192.168.1.7")[0] == "close"
    assert call(guard, "/", client="127.0.0.1")[0] == 401  # the proxy sent no user
    assert call(guard, "/", headers=[(b"x-forwarded-user", b"car\x1bla")], client="127.0.0.1")[0] == 401
    assert len(seen) == n


def test_other_proxy_addresses_can_be_given():
    inner, seen = inner_app()
    guard = Guard(inner, settings_from_args(["--trust-user-header", "X-Forwarded-User", "--trusted-proxy",
                                             "10.0.0.2"], "0.0.0.0"))
    who = [(b"x-forwarded-user", b"carla")]
    assert call(guard, "/", headers=who, client="10.0.0.2")[0] == 200
    assert call(guard, "/", headers=who, client="127.0.0.1")[0] == 401
    with pytest.raises(InputError, match="--trusted-proxy 'proxy.example': expected an IP address"):
        settings_from_args(["--trust-user-header", "X-User", "--trusted-proxy", "proxy.example"], "0.0.0.0")


# --- the users file ---------------------------------------------------------------------------------

def test_the_users_file_holds_argon2_hashes_never_the_password(tmp_path):
    path = tmp_path / "team" / "users.json"
    assert auth.add_user(path, "ana", PASSWORD) is True
    text = path.read_text()
    assert PASSWORD not in text and json.loads(text)["users"]["ana"].startswith("$argon2id$")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = Path(f"{path}.secret")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(secret.read_text().strip()) == 64
    assert auth.add_user(path, "ana", "changed password") is False
    assert auth.verify_password(settings_from_args(["--users", str(path)], "::"), "ana", "changed password")
    auth.remove_user(path, "ana")
    assert auth.read_users(path) == {}
    with pytest.raises(InputError, match="no user 'ana'"):
        auth.remove_user(path, "ana")


@pytest.mark.parametrize("name,password,match", [("ana", "short", "at least 8 characters"),
                                                 (" ana", PASSWORD, "printable characters"),
                                                 ("", PASSWORD, "printable characters"),
                                                 ("a\nb", PASSWORD, "printable characters")])
def test_bad_names_and_short_passwords_are_refused(tmp_path, name, password, match):
    with pytest.raises(InputError, match=match):
        auth.add_user(tmp_path / "users.json", name, password)
    assert not (tmp_path / "users.json").exists()


@pytest.mark.parametrize("content,match", [(None, "users file not found"), ("not json", "not a users file"),
                                           ('{"users": {"ana": "plain password"}}', "not a users file"),
                                           ('{"users": {}}', "no users yet")])
def test_a_missing_or_bad_users_file_stops_the_server(tmp_path, content, match):
    path = tmp_path / "users.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputError, match=match):
        settings_from_args(["--users", str(path)], "0.0.0.0")


def test_the_secret_comes_from_the_environment_when_set(users_file, monkeypatch):
    monkeypatch.setenv("EVALDASH_SECRET", "x" * 40)
    assert settings_from_args(["--users", str(users_file)], "::").secret == b"x" * 40
    monkeypatch.setenv("EVALDASH_SECRET", "short")
    with pytest.raises(InputError, match="EVALDASH_SECRET: expected at least 16"):
        settings_from_args(["--users", str(users_file)], "::")


# --- the command line ---------------------------------------------------------------------------------

def test_users_add_asks_nothing_with_password_stdin_and_writes_a_hash(tmp_path, monkeypatch, capsys):
    path = tmp_path / "users.json"
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "ana", "--file", str(path), "--password-stdin"]) == 0
    assert "added ana" in capsys.readouterr().out
    assert PASSWORD not in path.read_text() and "$argon2id$" in path.read_text()
    assert main(["users", "remove", "ana", "--file", str(path)]) == 0
    assert auth.read_users(path) == {}


def test_users_add_asks_the_password_twice(tmp_path, monkeypatch, capsys):
    answers = iter([PASSWORD, "something else"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["users", "add", "ana", "--file", str(tmp_path / "users.json")]) == 2
    assert "the two passwords differ" in capsys.readouterr().err
    assert not (tmp_path / "users.json").exists()


@pytest.fixture
def execv(monkeypatch):
    """Stands in for ``os.execv`` in ``evaldash serve``: records the command instead of becoming it."""
    calls = []
    monkeypatch.setattr(os, "execv", lambda exe, cmd: calls.append(cmd))
    return calls


def _option(cmd: list[str], name: str) -> str:
    return cmd[cmd.index(name) + 1]


def test_serve_listens_on_loopback_by_default(execv):
    assert main(["serve", str(BINARY), "--port", "8600"]) == 0
    assert _option(execv[0], "--server.address") == "127.0.0.1"


def test_serve_beyond_loopback_without_a_log_in_exits_2_with_one_line(execv, capsys):
    assert main(["serve", str(BINARY), "--address", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: listening on 0.0.0.0 (beyond loopback) needs a log-in")
    assert "--users FILE" in err and "evaldash users add" in err and "--no-auth" in err
    assert execv == []


def test_serve_passes_the_address_and_the_log_in_to_the_app(execv, users_file):
    assert main(["serve", str(BINARY), "--address", "0.0.0.0", "--users", str(users_file), "--allowed-host",
                 "team.example", "--positive", "three"]) == 0
    cmd = execv[0]
    assert _option(cmd, "--server.address") == "0.0.0.0"
    app_args = cmd[cmd.index("--") + 1:]
    assert _option(app_args, "--users") == str(users_file.resolve())
    assert _option(app_args, "--allowed-host") == "team.example" and _option(app_args, "--positive") == "three"
    # the app reads them back with the same parser
    assert settings_from_args(app_args, "0.0.0.0").allowed_hosts == ("team.example",)
    assert main(["serve", str(BINARY), "--address", "0.0.0.0", "--no-auth"]) == 0
    assert "--no-auth" in execv[1]


def test_the_pages_parse_the_log_in_arguments_as_options_not_as_files(users_file):
    from evaldash import ui

    args = ui.sources._parse_app_args(("data.csv", "--users", str(users_file), "--trust-user-header", "X-User"))
    assert args.paths == ["data.csv"] and args.users == str(users_file)


def _start_sh(tmp_path, *args) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run scripts/start.sh with a python3 whose pip installs nothing and whose server does not start
    (os.execv is replaced by a note of the command), from ``tmp_path``; the calls it made."""
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    log = tmp_path / "calls"
    (fake / "python3").write_text(
        f'#!/bin/sh\necho "$@" >> {log}\n[ "$1 $2" = "-m pip" ] && exit 0\nshift 2\n'
        f'exec {sys.executable} -c "import os, sys; os.execv = lambda exe, cmd: print(\' \'.join(cmd)); '
        f'from evaldash.cli import main; sys.exit(main(sys.argv[1:]))" "$@"\n')
    (fake / "python3").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    done = subprocess.run(["bash", str(ROOT / "scripts" / "start.sh"), *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    return done, log.read_text().splitlines()


def test_start_sh_serves_on_loopback_with_the_port_asked_for(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text(BINARY.read_text())
    done, calls = _start_sh(tmp_path, "data.csv", "--port", "8617")
    assert done.returncode == 0, done.stderr
    assert calls[-1].endswith("serve data.csv --port 8617")
    assert "--server.address 127.0.0.1 " in done.stdout and "--server.port 8617 " in done.stdout
    assert f"-- {data}" in done.stdout  # the path as typed, from the folder start.sh was run in


def test_start_sh_refuses_an_unknown_argument(tmp_path):
    done, _ = _start_sh(tmp_path, "--server.port", "8617")
    assert done.returncode == 2
    assert done.stderr.strip() == "error: unrecognized arguments: --server.port"


# --- the real server: where it listens ---------------------------------------------------------------

def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> list[str]:
    """The local addresses listening on ``port`` (``ss -ltn``: sockets only, no connection)."""
    out = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=True).stdout
    return [line.split()[3].rsplit(":", 1)[0] for line in out.splitlines() if line.split()[3].endswith(f":{port}")]


def _start(cmd: list[str], tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "EVALDASH_PREDICTIONS"}
    env["PYTHONPATH"] = f"{ROOT / 'src'}{os.pathsep}{env.get('PYTHONPATH', '')}"
    env["EVALDASH_DB"] = str(tmp_path / "annotations.db")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stop(proc) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


STREAMLIT = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--browser.serverAddress", "localhost",
             "--server.fileWatcherType", "none"]


@pytest.mark.parametrize("how", ["streamlit run app.py", "evaldash serve"])
def test_the_server_listens_on_loopback_only(how, tmp_path):
    port = _free_port()
    cmd = [*STREAMLIT, "--server.port", str(port)] if how == "streamlit run app.py" else \
        [sys.executable, "-m", "evaldash.cli", "serve", str(BINARY), "--port", str(port)]
    proc = _start(cmd, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        assert _listening(port) == ["127.0.0.1"]
    finally:
        _stop(proc)


def test_streamlit_run_beyond_loopback_without_a_log_in_stops_before_serving(tmp_path):
    port = _free_port()
    proc = _start([*STREAMLIT, "--server.port", str(port), "--server.address", "0.0.0.0", "--", str(BINARY)], tmp_path)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        _stop(proc)
    assert proc.returncode == 2
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert lines == ["error: listening on 0.0.0.0 (beyond loopback) needs a log-in: give --users FILE (make it with "
                     "`evaldash users add NAME --file FILE`) or --trust-user-header HEADER behind an authenticating "
                     "proxy, or pass --no-auth to serve without one"]
    assert "Traceback" not in err and _listening(port) == []


# --- the pages: the logged-in user is the annotator and the approver ----------------------------------

@pytest.fixture
def signed_in_app(monkeypatch, tmp_path, users_file):
    """The app run by AppTest for a user the guard let in as 'ana' (its header, as ui reads it)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from evaldash import ui

    monkeypatch.setattr(sys, "argv", ["app.py", "--users", str(users_file)])
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    monkeypatch.setattr(ui.annotation_panel, "signed_in_user", lambda: "ana")
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    yield at
    st.cache_resource.clear()


def test_the_sidebar_names_the_user_instead_of_asking_a_name(signed_in_app):
    at = signed_in_app
    assert "Signed in as ana" in [t.value for t in at.sidebar.text]
    assert [w for w in at.sidebar.text_input if w.key == "annotator"] == []
    assert any('href="/_evaldash/logout"' in m.value and ">Log out</a>" in m.value for m in at.sidebar.markdown)


def test_a_decision_record_is_approved_by_the_user(signed_in_app, tmp_path):
    from evaldash.annotations import AnnotationStore, database_url
    from evaldash.dataset import load_predictions

    at = signed_in_app
    at.switch_page("pages/decision.py").run()
    assert not at.exception, at.exception
    assert [w for w in at.text_input if w.key == "dec_approver"] == []
    assert "Approver: ana" in [t.value for t in at.text]
    at.button(key="dec_save").click().run()
    assert any("approved by ana" in s.value for s in at.success)
    sample = ROOT / "sample_data" / "digits" / "predictions.csv"
    saved = AnnotationStore(database_url(str(tmp_path / "annotations.db"))).decisions(
        load_predictions(str(sample)).fingerprint())
    assert [r.approver for r in saved] == ["ana"]


def _get(url: str, headers: dict) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_serve_behind_a_proxy_takes_the_user_header_even_with_x_forwarded_for(tmp_path):
    # uvicorn would put the X-Forwarded-For client in place of the proxy's address (127.0.0.1)
    port = _free_port()
    proc = _start([sys.executable, "-m", "evaldash.cli", "serve", str(BINARY), "--port", str(port),
                   "--trust-user-header", "X-Forwarded-User"], tmp_path)
    url = f"http://127.0.0.1:{port}/_stcore/health"
    try:
        deadline = time.monotonic() + 60
        while _get(url, {})[0] != 401 if _listening(port) else True:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        proxied = {"X-Forwarded-User": "carla", "X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https"}
        assert _get(url, proxied) == (200, b"ok")
        assert _get(url, {"X-Forwarded-For": "203.0.113.5"})[0] == 401
        assert _get(url, {**proxied, "Host": "attacker.example"})[0] == 400
    finally:
        _stop(proc)
