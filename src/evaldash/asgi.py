"""ASGI middleware for the dashboard's server (``app.py`` serves the app through ``st.App``).

Plain ASGI, no Streamlit import: :class:`BackendBaseURL` tells Streamlit's page where the server
is, so that a deep link (``/threshold?class=…&t=…``) connects at once.

Why: Streamlit's page does not know the server's base path. Opened at ``/threshold`` it first
asks ``/threshold/_stcore/health`` and ``/threshold/_stcore/host-config`` (both 404), waits, and
only then tries ``/_stcore/…``: 50-150 ms of every first view of a page other than the first
one. The page reads ``window.__streamlit.BACKEND_BASE_URL`` (the hook Streamlit gives hosts that
embed it) before it connects; this middleware sets it in each HTML page it serves, to this
server's root (``server.baseUrlPath`` included), unless the host has set it already.
"""

from __future__ import annotations

import json
from typing import Callable

_HEAD = b"<head>"


def base_url_script(base_path: str) -> bytes:
    """The ``<script>`` that sets ``window.__streamlit.BACKEND_BASE_URL`` to the page's origin plus
    ``base_path`` (e.g. ``"/"`` or ``"/evaldash/"``), keeping anything a host has set."""
    path = "/" + base_path.strip("/") + "/" if base_path.strip("/") else "/"
    return (b"<script>window.__streamlit=Object.assign({BACKEND_BASE_URL:location.origin+"
            + json.dumps(path).encode() + b"},window.__streamlit||{});</script>")


def _is_page_request(scope) -> bool:
    """A GET for a page (``/``, ``/threshold``), not for a file, an ``_stcore`` endpoint or media."""
    if scope.get("type") != "http" or scope.get("method") != "GET":
        return False
    path = scope.get("path", "")
    return "/_stcore/" not in path and "." not in path.rsplit("/", 1)[-1]


class BackendBaseURL:
    """ASGI middleware: adds :func:`base_url_script` after ``<head>`` of every HTML page served
    with status 200 (Content-Length corrected); every other request and response passes through
    untouched. Page requests are asked for uncompressed (their ``Accept-Encoding`` is dropped:
    the page is a few KiB) so the HTML can be edited.

    ``base_path``: the server's ``server.baseUrlPath``, or a callable returning it (read at the
    first page request, once the server's configuration is loaded).
    """

    def __init__(self, app, base_path: str | Callable[[], str] = ""):
        self.app = app
        self._base_path = base_path
        self._script: bytes | None = None

    def script(self) -> bytes:
        if self._script is None:
            base = self._base_path() if callable(self._base_path) else self._base_path
            self._script = base_url_script(base or "")
        return self._script

    async def __call__(self, scope, receive, send) -> None:
        if not _is_page_request(scope):
            await self.app(scope, receive, send)
            return
        scope = {**scope, "headers": [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"accept-encoding"]}
        start: dict = {}
        body: list[bytes] = []

        async def edit(message) -> None:
            if message["type"] == "http.response.start":
                headers = {k.lower(): v for k, v in message.get("headers", [])}
                if message.get("status") == 200 and headers.get(b"content-type", b"").startswith(b"text/html") \
                        and b"content-encoding" not in headers:
                    start["message"] = message  # held until the whole page is here
                else:
                    start["pass"] = True
                    await send(message)
                return
            if message["type"] != "http.response.body" or start.get("pass") or "message" not in start:
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            html = b"".join(body)
            if _HEAD in html:
                html = html.replace(_HEAD, _HEAD + self.script(), 1)
            held = start["message"]
            headers = [(k, v) for k, v in held.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(html)).encode()))
            await send({**held, "headers": headers})
            await send({"type": "http.response.body", "body": html, "more_body": False})

        await self.app(scope, receive, edit)
