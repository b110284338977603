"""evaldash.asgi.BackendBaseURL: the page's base URL set in the HTML, everything else untouched."""

from __future__ import annotations

import asyncio
import threading

import pytest

from evaldash.asgi import BackendBaseURL, base_url_script

PAGE = b"<!doctype html><html><head><title>x</title></head><body>app</body></html>"


def fake_app(status=200, content_type=b"text/html; charset=utf-8", chunks=(PAGE,), extra_headers=()):
    """An inner ASGI app answering with ``chunks``; it records the scope it was called with."""
    seen = {}

    async def app(scope, receive, send):
        seen["scope"] = scope
        body = b"".join(chunks)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                                *extra_headers]})
        for i, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1})

    return app, seen


def call(middleware, path="/threshold", method="GET", headers=((b"accept-encoding", b"gzip, br"),),
         kind="http"):
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():  # pragma: no cover - the fake apps never read a body
        return {"type": "http.request", "body": b""}

    scope = {"type": kind, "method": method, "path": path, "headers": list(headers)}
    # in a thread of its own: the browser tests' Playwright keeps an event loop in this one
    worker = threading.Thread(target=asyncio.run, args=(middleware(scope, receive, send),))
    worker.start()
    worker.join()
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start, body, sent


def header(start, name: bytes) -> bytes | None:
    return next((v for k, v in start["headers"] if k == name), None)


@pytest.mark.parametrize("path", ["/", "/threshold", "/confusion"])
def test_a_page_gets_the_base_url_after_head_with_its_length_corrected(path):
    inner, seen = fake_app()
    start, body, _ = call(BackendBaseURL(inner), path)
    script = base_url_script("")
    assert body == PAGE.replace(b"<head>", b"<head>" + script, 1)
    assert header(start, b"content-length") == str(len(body)).encode()
    assert [k for k, _ in start["headers"]].count(b"content-length") == 1
    assert b'location.origin+"/"' in script and b"window.__streamlit||{}" in script
    # asked uncompressed, so that the HTML can be edited
    assert all(k != b"accept-encoding" for k, _ in seen["scope"]["headers"])


def test_a_page_sent_in_several_chunks_is_edited_whole():
    inner, _ = fake_app(chunks=(PAGE[:10], PAGE[10:30], PAGE[30:]))
    start, body, sent = call(BackendBaseURL(inner))
    assert body == PAGE.replace(b"<head>", b"<head>" + base_url_script(""), 1)
    assert header(start, b"content-length") == str(len(body)).encode()
    assert sent[-1].get("more_body") is False


@pytest.mark.parametrize("base,expected", [("", b'"/"'), ("evaldash", b'"/evaldash/"'), ("/a/b/", b'"/a/b/"')])
def test_the_server_base_path_is_part_of_the_url_and_read_once(base, expected):
    calls = []
    inner, _ = fake_app()
    middleware = BackendBaseURL(inner, base_path=lambda: calls.append(1) or base)
    for _ in range(3):
        _, body, _ = call(middleware)
    assert b"location.origin+" + expected in body
    assert calls == [1]


@pytest.mark.parametrize("path", ["/static/js/index.js", "/_stcore/health", "/_stcore/host-config",
                                  "/threshold/_stcore/health", "/favicon.png", "/media/abc.png"])
def test_files_and_endpoints_pass_untouched(path):
    inner, seen = fake_app(content_type=b"text/html")  # even if one said it were HTML
    start, body, _ = call(BackendBaseURL(inner), path)
    assert body == PAGE
    assert seen["scope"]["headers"] == [(b"accept-encoding", b"gzip, br")]


@pytest.mark.parametrize("kw", [{"status": 304, "chunks": (b"",)}, {"status": 404},
                                {"content_type": b"application/json", "chunks": (b'{"a": "<head>"}',)},
                                {"extra_headers": ((b"content-encoding", b"gzip"),)}])
def test_other_responses_pass_untouched(kw):
    inner, _ = fake_app(**kw)
    start, body, _ = call(BackendBaseURL(inner))
    assert body == b"".join(kw.get("chunks", (PAGE,)))
    assert start["status"] == kw.get("status", 200)


@pytest.mark.parametrize("method,kind", [("HEAD", "http"), ("POST", "http"), ("GET", "websocket")])
def test_other_methods_and_websockets_pass_untouched(method, kind):
    inner, seen = fake_app()
    start, body, _ = call(BackendBaseURL(inner), method=method, kind=kind)
    assert body == PAGE
    assert seen["scope"]["headers"] == [(b"accept-encoding", b"gzip, br")]


def test_a_page_without_head_is_sent_as_it_is():
    page = b"<html><body>no head</body></html>"
    inner, _ = fake_app(chunks=(page,))
    start, body, _ = call(BackendBaseURL(inner))
    assert body == page and header(start, b"content-length") == str(len(page)).encode()
