"""The annotator's typed name, remembered by the browser in a cookie (no log-in).

The sidebar's name is only a label on each finding, not an identity: a server with a log-in
(``--users``, ``--trust-user-header``) takes the name from the log-in and ignores this cookie. The
browser writes it (``web/annotator_cookie.js``, percent-encoded as ``encodeURIComponent`` does);
the server reads it when a reload or a new tab opens a session.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote

COOKIE = "evaldash_annotator"
MAX_AGE = 365 * 24 * 3600  # seconds: a year, renewed each time the name is written
MAX_CHARS = 200


def name_from_cookie(value: object) -> str:
    """The name a cookie value carries: decoded, without control characters, trimmed, at most
    ``MAX_CHARS`` characters ("" when absent, empty or not text)."""
    if not isinstance(value, str) or not value:
        return ""
    text = unquote(value, errors="replace")
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))
    return text.strip()[:MAX_CHARS].strip()
