"""Who may reach the dashboard: loopback by default, a log-in beyond it.

Plain ASGI, no Streamlit import. :class:`Guard` is the first middleware every request passes
(``app.py`` installs it): it refuses Host names other than the server's own (DNS rebinding) and
cross-origin WebSocket upgrades, refuses every request that arrived on a non-loopback interface
when no log-in is configured, and, when one is, lets through only requests with a valid session
cookie (from its own log-in page, ``/_evaldash/login``) or a user header from a trusted reverse
proxy. Everything else gets a redirect to the log-in page (pages) or 401 (the rest: Streamlit's
endpoints, media, components, static files) and the WebSocket upgrade is refused, so no page
script runs and no class name, score or image leaves the server.

The identity reaches the page scripts in the header :data:`IDENTITY_HEADER`, which the guard sets
on the requests it lets through and strips from every request it receives.

Passwords are argon2id hashes (``argon2-cffi``); the session cookie is signed with
``itsdangerous`` (HttpOnly, SameSite=Strict, 12 hours).
"""

from __future__ import annotations

import hashlib
import html
import ipaddress
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, quote, unquote, urlsplit

from evaldash.app_config import parse_auth_args
from evaldash.errors import InputError

IDENTITY_HEADER = "x-evaldash-user"
COOKIE = "evaldash_session"
SESSION_SECONDS = 12 * 3600
LOGIN_PATH = "/_evaldash/login"
LOGOUT_PATH = "/_evaldash/logout"
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
DEFAULT_PROXIES = ("127.0.0.1", "::1")
MIN_PASSWORD = 8
MAX_NAME = 64
_MAX_FORM = 16 * 1024
RECHECK_SECONDS = 10.0  # an open WebSocket's session is checked again at most this often
_FAILURES_ALLOWED = 10  # failed log-ins per name per window, then refused until the window ends
_FAILURE_WINDOW = 15 * 60
#: an argon2 check takes 64 MiB for tens of milliseconds: this many at once, this many more waiting;
#: log-ins beyond that are answered 429 at once (a flood of log-ins must not exhaust the memory)
PASSWORD_CHECKS_AT_ONCE = 2
PASSWORD_CHECKS_WAITING = 30


# --- where the server listens ---------------------------------------------------------------

def is_loopback(address: str | None) -> bool:
    """True for an address only this machine reaches (127.0.0.0/8, ::1, localhost); the empty
    address (Streamlit's default) means every interface."""
    host = (address or "").strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


EXPOSURE_HELP = ("listening on {address} (beyond loopback) needs a log-in: give --users FILE (make it with "
                 "`evaldash users add NAME --file FILE`) or --trust-user-header HEADER behind an authenticating "
                 "proxy, or pass --no-auth to serve without one")


# --- the users file ---------------------------------------------------------------------------

def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def check_name(name: str) -> str:
    """A user name as stored: 1-64 printable characters, no spaces around it."""
    if not name or name != name.strip() or len(name) > MAX_NAME or not name.isprintable():
        raise InputError(f"user name {name!r}: expected 1 to {MAX_NAME} printable characters "
                         "without leading or trailing spaces")
    return name


def read_users(path: str | Path) -> dict[str, str]:
    """The users file: name → argon2 hash. Raises :class:`InputError` for a missing or bad file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: users file not found; make it with `evaldash users add NAME --file {path}`") \
            from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a users file of `evaldash users add` ({type(exc).__name__})") from None
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.startswith("$argon2")
                                              for k, v in users.items()):
        raise InputError(f"{path}: not a users file of `evaldash users add` (expected {{\"users\": {{name: hash}}}})")
    return users


def _write_users(path: Path, users: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"users": dict(sorted(users.items()))}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)


def add_user(path: str | Path, name: str, password: str) -> bool:
    """Add ``name`` (or change its password) in the users file, made 0600 if new; True when new.
    Only the argon2id hash of the password is written."""
    path = Path(path)
    check_name(name)
    if len(password) < MIN_PASSWORD:
        raise InputError(f"password of {name!r}: expected at least {MIN_PASSWORD} characters")
    users = read_users(path) if path.exists() else {}
    new = name not in users
    users[name] = _hasher().hash(password)
    _write_users(path, users)
    secret_for(path)  # made now, by the one who may write beside the file
    return new


def remove_user(path: str | Path, name: str) -> None:
    """Remove ``name`` from the users file (its sessions end at their next request)."""
    path = Path(path)
    users = read_users(path)
    if name not in users:
        raise InputError(f"{path}: no user {name!r}")
    del users[name]
    _write_users(path, users)


def secret_for(users_path: str | Path) -> bytes:
    """The key that signs session cookies: ``EVALDASH_SECRET`` if set, else the file
    ``USERS_FILE.secret`` beside the users file (32 random bytes, created 0600 on first use)."""
    env = os.environ.get("EVALDASH_SECRET", "")
    if env:
        if len(env) < 16:
            raise InputError("EVALDASH_SECRET: expected at least 16 characters")
        return env.encode()
    path = Path(f"{users_path}.secret")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise InputError(f"{path}: cannot create the session secret ({exc.strerror}); "
                         "set EVALDASH_SECRET instead") from None
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    try:
        value = path.read_text().strip()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the session secret ({exc.strerror})") from None
    if len(value) < 32:
        raise InputError(f"{path}: the session secret is too short; delete the file to make a new one")
    return value.encode()


def _tag(password_hash: str) -> str:
    # in each session cookie: a changed password (or a removed user) ends the old sessions
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


# --- settings ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuthSettings:
    """What :class:`Guard` enforces. ``users``: name → hash read from ``users_file`` (re-read when
    the file changes)."""

    address: str = "127.0.0.1"
    users_file: Path | None = None
    secret: bytes = b""
    trust_user_header: str | None = None
    trusted_proxies: tuple[str, ...] = DEFAULT_PROXIES
    allowed_hosts: tuple[str, ...] = ()
    no_auth: bool = False
    session_seconds: int = SESSION_SECONDS
    _users: dict = field(default_factory=lambda: {"mtime": None, "users": {}}, compare=False, repr=False)
    #: name → time of the last log-out: sessions of that name signed earlier are over; also kept in
    #: the file ``USERS_FILE.logouts`` (re-read when it changes), so a restart does not revive them
    _logged_out: dict = field(default_factory=dict, compare=False, repr=False)
    _logouts_file: dict = field(default_factory=lambda: {"mtime": None, "times": {}}, compare=False, repr=False)

    @property
    def login_required(self) -> bool:
        return self.users_file is not None or bool(self.trust_user_header)

    def users(self) -> dict[str, str]:
        try:
            mtime = self.users_file.stat().st_mtime_ns
        except OSError:
            return {}  # a users file gone: nobody logs in
        if mtime != self._users["mtime"]:
            try:
                self._users.update(users=read_users(self.users_file), mtime=mtime)
            except InputError:
                return {}
        return self._users["users"]

    @property
    def logouts_path(self) -> Path | None:
        return Path(f"{self.users_file}.logouts") if self.users_file is not None else None

    def logged_out_at(self, name: str) -> float:
        """When ``name`` last logged out (in this process or any other on the same users file)."""
        times = self._logouts_file
        try:
            mtime = self.logouts_path.stat().st_mtime_ns if self.logouts_path is not None else None
        except OSError:
            mtime = None
        if mtime is not None and mtime != times["mtime"]:
            try:
                data = json.loads(self.logouts_path.read_text(encoding="utf-8"))
                times.update(mtime=mtime, times={k: float(v) for k, v in data.items()
                                                 if isinstance(k, str) and isinstance(v, (int, float))})
            except (OSError, ValueError, AttributeError, TypeError):
                pass  # a damaged file: the log-outs of this process still count
        return max(self._logged_out.get(name, float("-inf")), times["times"].get(name, float("-inf")))

    def record_log_out(self, name: str, when: float) -> None:
        self._logged_out[name] = when
        path = self.logouts_path
        if path is None:
            return
        try:  # read, add, replace: two servers logging out at once may lose one (this process keeps it)
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                data = data if isinstance(data, dict) else {}
            except (OSError, ValueError):
                data = {}
            before = data.get(name)
            data[name] = max(when, before) if isinstance(before, (int, float)) else when
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f)
            os.replace(tmp, path)
        except OSError:
            pass  # not writable: the log-out holds in this process only


def settings_from_args(argv: list[str], address: str | None) -> AuthSettings:
    """The settings of the app's arguments (:func:`evaldash.app_config.add_auth_args`) for a server
    listening on ``address``. Raises :class:`InputError` when the server would listen beyond
    loopback without a log-in (and without ``--no-auth``), or for a bad users file."""
    args = parse_auth_args(argv)
    if args.no_auth and (args.users or args.trust_user_header):
        raise InputError("--no-auth with --users or --trust-user-header: choose one")
    users_file = Path(args.users).resolve() if args.users else None
    if users_file is not None:
        if not read_users(users_file):
            raise InputError(f"{users_file}: no users yet; add one with `evaldash users add NAME --file {users_file}`")
    header = (args.trust_user_header or "").strip().lower() or None
    if header is not None and (not header.isascii() or not all(c.isalnum() or c == "-" for c in header)):
        raise InputError(f"--trust-user-header {args.trust_user_header!r}: "
                         "expected a header name like X-Forwarded-User")
    proxies = []
    for proxy in args.trusted_proxy or DEFAULT_PROXIES:
        try:
            proxies.append(str(ipaddress.ip_address(proxy.strip("[]"))))
        except ValueError:
            raise InputError(f"--trusted-proxy {proxy!r}: expected an IP address") from None
    settings = AuthSettings(address=address or "", users_file=users_file,
                            secret=secret_for(users_file) if users_file else b"", trust_user_header=header,
                            trusted_proxies=tuple(proxies),
                            allowed_hosts=tuple(h.strip().strip("[]").lower().rstrip(".") for h in args.allowed_host),
                            no_auth=args.no_auth)
    if not is_loopback(settings.address) and not settings.login_required and not settings.no_auth:
        raise InputError(EXPOSURE_HELP.format(address=settings.address or "every interface"))
    return settings


# --- sessions ---------------------------------------------------------------------------------

def _serializer(secret: bytes):
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(secret, salt="evaldash-session")


def session_cookie_value(settings: AuthSettings, name: str) -> str:
    """A signed session for ``name`` (who must be in the users file)."""
    # "t": the time of signing to the microsecond (the signature's own is to the second), so a
    # log-out in the second of the log-in still ends it
    return _serializer(settings.secret).dumps({"u": name, "h": _tag(settings.users()[name]), "t": time.time()})


def session_user(settings: AuthSettings, value: str) -> str | None:
    """The user of a session cookie's value, or None when it is forged, expired, or its user was
    removed or changed password since."""
    from itsdangerous import BadData

    if not value or settings.users_file is None:
        return None
    try:
        data, signed = _serializer(settings.secret).loads(value, max_age=settings.session_seconds,
                                                          return_timestamp=True)
    except BadData:
        return None
    if not isinstance(data, dict):
        return None
    name, tag = data.get("u"), data.get("h")
    known = settings.users().get(name) if isinstance(name, str) else None
    if known is None or not secrets.compare_digest(str(tag), _tag(known)):
        return None
    issued = data.get("t")
    if not isinstance(issued, (int, float)) or isinstance(issued, bool):
        issued = signed.timestamp()
    return None if issued <= settings.logged_out_at(name) else name


def log_out(settings: AuthSettings, value: str) -> None:
    """End every session of the user of this session cookie (signed until now)."""
    name = session_user(settings, value)
    if name is not None:
        settings.record_log_out(name, time.time())


_DUMMY_HASH: list[str] = []


def verify_password(settings: AuthSettings, name: str, password: str) -> bool:
    """True when ``password`` is ``name``'s; takes as long for an unknown name (no user probing)."""
    from argon2.exceptions import Argon2Error, InvalidHashError

    hasher = _hasher()
    known = settings.users().get(name)
    if known is None:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(hasher.hash(secrets.token_hex(8)))
        known, name = _DUMMY_HASH[0], None
    try:
        return hasher.verify(known, password) and name is not None
    except (Argon2Error, InvalidHashError):
        return False


# --- HTTP pieces ------------------------------------------------------------------------------

def _headers(scope) -> dict[bytes, bytes]:
    return {k.lower(): v for k, v in scope.get("headers", [])}


def _hostname(host: str) -> str | None:
    """The name in a Host header (``name``, ``name:port``, ``[v6]:port``), lower case; None if malformed."""
    try:
        parts = urlsplit(f"//{host}")
        hostname, _ = parts.hostname, parts.port
    except ValueError:
        return None
    if not hostname or parts.username is not None or parts.password is not None or parts.path or "@" in host:
        return None
    return hostname.lower().rstrip(".")


def host_allowed(settings: AuthSettings, host: str | None) -> bool:
    """A Host header naming this server: localhost, an IP address (a browser that typed an address
    is on this server's own origin), the listening address or an ``--allowed-host`` name. Any other
    name may be a DNS-rebinding attacker's."""
    name = _hostname(host) if host else None
    if name is None:
        return False
    if name in LOCAL_NAMES or name == settings.address.strip("[]").lower() or name in settings.allowed_hosts:
        return True
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def same_origin(origin: str | None, host: str | None) -> bool:
    """True when ``origin`` (an Origin header, ``scheme://host[:port]``) is the page's own server."""
    if not origin or not host or origin == "null":
        return False
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


def _cookies(headers: dict[bytes, bytes]) -> dict[str, str]:
    from http.cookies import CookieError, SimpleCookie

    jar = SimpleCookie()
    try:
        jar.load(headers.get(b"cookie", b"").decode("latin-1"))
    except CookieError:
        return {}
    return {k: m.value for k, m in jar.items()}


def _client_ip(scope) -> str:
    client = scope.get("client") or ("", 0)
    try:
        ip = ipaddress.ip_address(str(client[0]))
    except ValueError:
        return str(client[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)


_LOGIN_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>evaldash · log in</title>
<style>
body{{font-family:system-ui,sans-serif;background:#f7f7f9;color:#262730;display:flex;justify-content:center;
margin:0;padding-top:12vh}}
form{{background:#fff;border:1px solid #ddd;border-radius:8px;padding:28px 32px;width:300px}}
h1{{font-size:1.4rem;margin:0 0 18px}} label{{display:block;margin:12px 0 4px;font-size:.9rem}}
input[type=text],input[type=password]{{width:100%;box-sizing:border-box;padding:8px;border:1px solid #bbb;
border-radius:6px;font-size:1rem}}
button{{margin-top:20px;width:100%;padding:9px;border:0;border-radius:6px;background:#ff4b4b;color:#fff;
font-size:1rem;cursor:pointer}} p.error{{color:#b00020;margin:12px 0 0}} p.note{{color:#555;margin:12px 0 0}}
</style></head>
<body><form method="post" action="{action}">
<h1>evaldash</h1>
<label for="name">Name</label><input id="name" name="name" type="text" autocomplete="username" required autofocus
 value="{name}">
<label for="password">Password</label><input id="password" name="password" type="password"
 autocomplete="current-password" required>
<input type="hidden" name="next" value="{next}">
{message}<button type="submit">Log in</button>
</form></body></html>
"""


def login_page(action: str, next_path: str, name: str = "", error: str = "", note: str = "") -> bytes:
    """The log-in form (every value escaped); it needs no other file."""
    message = (f'<p class="error" role="alert">{html.escape(error)}</p>' if error else "") + \
              (f'<p class="note">{html.escape(note)}</p>' if note else "")
    return _LOGIN_HTML.format(action=html.escape(action), next=html.escape(next_path), name=html.escape(name),
                              message=message).encode()


def _safe_next(value: str | None, root: str) -> str:
    """A redirect target on this server only (a path, never ``//host`` or a URL)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value \
            or any(c < " " for c in value):
        return root
    return value


class Guard:
    """ASGI middleware: exposure, Host and Origin checks, log-in (see the module's docstring).

    ``settings``: :class:`AuthSettings`. ``base_path``: the server's ``server.baseUrlPath``, or a
    callable returning it (read at the first request).
    """

    def __init__(self, app, settings: AuthSettings, base_path: str | Callable[[], str] = ""):
        self.app = app
        self.settings = settings
        self._base_path = base_path
        self._prefix: str | None = None
        self._failures: dict[str, list[float]] = {}
        self._checks = None  # anyio.CapacityLimiter of the password checks, made in the server's loop
        self._checking = 0  # log-ins checking or waiting to check a password

    @property
    def prefix(self) -> str:
        """The base path without its trailing slash (``""`` or ``"/evaldash"``)."""
        if self._prefix is None:
            base = self._base_path() if callable(self._base_path) else self._base_path
            self._prefix = "/" + base.strip("/") if (base or "").strip("/") else ""
        return self._prefix

    async def __call__(self, scope, receive, send) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket"):  # lifespan
            await self.app(scope, receive, send)
            return
        s = self.settings
        headers = _headers(scope)
        host = headers.get(b"host", b"").decode("latin-1") or None
        if not host_allowed(s, host):
            await self._refuse(scope, receive, send, 400, "Unknown host name: add it with --allowed-host NAME.")
            return
        origin = headers.get(b"origin")  # browsers always send it; other clients may not
        if kind == "websocket" and origin is not None and not same_origin(origin.decode("latin-1"), host):
            await self._refuse(scope, receive, send, 403, "Cross-origin WebSocket refused.")
            return
        server = (scope.get("server") or ("127.0.0.1", 0))[0]
        if not s.login_required and not s.no_auth and not is_loopback(str(server)):
            # started some other way (an ASGI server of its own) on a non-loopback address
            await self._refuse(scope, receive, send, 403,
                               "error: " + EXPOSURE_HELP.format(address=f"{server}"))
            return
        path = scope.get("path", "")
        if kind == "http" and s.users_file is not None and path == self.prefix + LOGIN_PATH:
            await self._login(scope, receive, send, headers, host)
            return
        if kind == "http" and path == self.prefix + LOGOUT_PATH:
            if s.users_file is not None:
                log_out(s, _cookies(headers).get(COOKIE, ""))
            await self._redirect(send, self.prefix + (LOGIN_PATH if s.users_file is not None else "/"),
                                 cookie=self._cookie(scope, "", 0))
            return
        user = self._user(scope, headers) if s.login_required else None
        if s.login_required and user is None:
            if kind == "websocket":
                await self._refuse(scope, receive, send, 401, "")
            elif s.users_file is not None and scope.get("method") in ("GET", "HEAD") \
                    and _is_page(path[len(self.prefix):] if path.startswith(self.prefix) else path):
                query = scope.get("query_string", b"").decode("latin-1")
                target = path + ("?" + query if query else "")
                await self._redirect(send, f"{self.prefix}{LOGIN_PATH}?next={quote(target, safe='')}")
            else:
                await self._plain(send, 401, "Log in first.")
            return
        # the identity header only ever comes from here
        clean = [(k, v) for k, v in scope.get("headers", []) if k.lower() != IDENTITY_HEADER.encode()]
        if user is not None:
            clean.append((IDENTITY_HEADER.encode(), quote(user, safe="").encode("ascii")))
            session = _cookies(headers).get(COOKIE, "")
            if kind == "websocket" and session and session_user(s, session) == user:
                receive, send = self._watch(session, receive, send)
        await self.app({**scope, "headers": clean}, receive, send)

    def _watch(self, session: str, receive, send):
        """A session's WebSocket outlives the request that opened it: at the browser's messages,
        check the session again (at most every RECHECK_SECONDS) and close the socket once it has
        expired, been logged out, or its user was removed or changed password."""
        state = {"checked": time.monotonic(), "closed": False}

        async def watched_receive():
            message = await receive()
            if message.get("type") == "websocket.receive" and time.monotonic() - state["checked"] >= RECHECK_SECONDS:
                state["checked"] = time.monotonic()
                if session_user(self.settings, session) is None:
                    state["closed"] = True
                    await send({"type": "websocket.close", "code": 1008})
                    return {"type": "websocket.disconnect", "code": 1008}
            return message

        async def guarded_send(message):
            if not state["closed"]:  # nothing more after the close
                await send(message)

        return watched_receive, guarded_send

    # who is asking
    def _user(self, scope, headers: dict[bytes, bytes]) -> str | None:
        s = self.settings
        if s.trust_user_header and _client_ip(scope) in s.trusted_proxies:
            value = headers.get(s.trust_user_header.encode(), b"").decode("utf-8", "replace").strip()
            if value and value.isprintable():
                return value[:MAX_NAME]
        if s.users_file is not None:
            return session_user(s, _cookies(headers).get(COOKIE, ""))
        return None

    # the log-in page
    async def _login(self, scope, receive, send, headers, host) -> None:
        action = self.prefix + LOGIN_PATH
        root = self.prefix + "/"
        method = scope.get("method")
        if method in ("GET", "HEAD"):
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            next_path = _safe_next(query.get("next", [""])[0], root)
            if self._user(scope, headers) is not None:
                await self._redirect(send, next_path)
                return
            await self._html(send, 200, login_page(action, next_path))
            return
        if method != "POST":
            await self._plain(send, 405, "Method not allowed.")
            return
        # a form posted from another site (log-in CSRF) is refused: the Origin (or, without one,
        # the Referer) must be this server
        origin = headers.get(b"origin", b"").decode("latin-1") or None
        referer = headers.get(b"referer", b"").decode("latin-1")
        if origin is not None:
            ok = same_origin(origin, host)
        else:
            parts = urlsplit(referer) if referer else None
            ok = parts is not None and same_origin(f"{parts.scheme}://{parts.netloc}", host)
        if not ok:
            await self._plain(send, 403, "Cross-site log-in refused.")
            return
        body = await _read_body(receive, _MAX_FORM)
        if body is None:
            await self._plain(send, 413, "Form too large.")
            return
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        name = form.get("name", [""])[0].strip()[:MAX_NAME]
        password = form.get("password", [""])[0]
        next_path = _safe_next(form.get("next", [""])[0], root)
        now = time.monotonic()
        recent = [t for t in self._failures.get(name, []) if now - t < _FAILURE_WINDOW]
        if len(recent) >= _FAILURES_ALLOWED:
            await self._html(send, 429, login_page(action, next_path, name,
                                                   "Too many failed log-ins for this name: try again later."))
            return
        import anyio
        import anyio.to_thread

        if self._checking >= PASSWORD_CHECKS_AT_ONCE + PASSWORD_CHECKS_WAITING:
            await self._html(send, 429, login_page(action, next_path, name,
                                                   "Too many log-ins at once: try again in a moment."))
            return
        if self._checks is None:
            self._checks = anyio.CapacityLimiter(PASSWORD_CHECKS_AT_ONCE)
        # argon2 takes tens of milliseconds of CPU and 64 MiB: off the event loop, a few at a time
        self._checking += 1
        try:
            ok = await anyio.to_thread.run_sync(verify_password, self.settings, name, password, limiter=self._checks)
        finally:
            self._checking -= 1
        if not ok:
            if len(self._failures) > 10_000:  # names tried at random must not grow it without end
                self._failures = {k: v for k, v in self._failures.items() if now - v[-1] < _FAILURE_WINDOW}
            self._failures[name] = [*recent, now]
            await self._html(send, 401, login_page(action, next_path, name, "Wrong name or password."))
            return
        self._failures.pop(name, None)
        await self._redirect(send, next_path, cookie=self._cookie(scope, session_cookie_value(self.settings, name),
                                                                   self.settings.session_seconds))

    def _cookie(self, scope, value: str, max_age: int) -> bytes:
        secure = "; Secure" if scope.get("scheme") in ("https", "wss") else ""
        return (f"{COOKIE}={value}; Path={self.prefix or '/'}; Max-Age={max_age}; HttpOnly; "
                f"SameSite=Strict{secure}").encode("latin-1")

    # answers
    async def _refuse(self, scope, receive, send, status: int, text: str) -> None:
        if scope.get("type") == "websocket":
            message = await receive()  # websocket.connect
            if message.get("type") == "websocket.connect":
                await send({"type": "websocket.close", "code": 1008})  # the server answers 403
            return
        await self._plain(send, status, text)

    @staticmethod
    async def _plain(send, status: int, text: str) -> None:
        body = (text + "\n").encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _html(send, status: int, body: bytes) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/html; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store"),
                                (b"x-frame-options", b"DENY"),
                                (b"content-security-policy",
                                 b"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                 b"frame-ancestors 'none'")]})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _redirect(send, location: str, cookie: bytes | None = None) -> None:
        headers = [(b"location", location.encode("latin-1", "replace")), (b"content-length", b"0"),
                   (b"cache-control", b"no-store")]
        if cookie is not None:
            headers.append((b"set-cookie", cookie))
        await send({"type": "http.response.start", "status": 303, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def _is_page(path: str) -> bool:
    """A page of the app (``/``, ``/threshold``), not a file or an endpoint (those get 401)."""
    return "/_stcore/" not in path and "/_evaldash/" not in path and "." not in path.rsplit("/", 1)[-1] \
        and not path.startswith(("/media/", "/component", "/app/static", "/static/"))


async def _read_body(receive, limit: int) -> bytes | None:
    """The request body, or None when it is longer than ``limit`` bytes."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message.get("type") != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def identity_from_header(value: str | None) -> str | None:
    """The user name in :data:`IDENTITY_HEADER` as the guard set it (None when absent)."""
    return unquote(value) if value else None
