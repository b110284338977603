"""The app's own arguments about exposure and log-in (after ``--`` of ``streamlit run app.py``).

Streamlit-free: the server's middleware (:mod:`evaldash.auth`, built when ``app.py`` is imported)
and the page scripts (``ui.app_args``) read the same arguments, defined once here.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_auth_args(parser: argparse.ArgumentParser) -> None:
    """The arguments of :class:`evaldash.auth.AuthSettings` (also given to ``evaldash serve``)."""
    parser.add_argument("--users", metavar="FILE",
                        help="users file of `evaldash users add`: visitors log in with a name and password")
    parser.add_argument("--trust-user-header", metavar="HEADER",
                        help="the user's name comes in this header from an authenticating reverse proxy "
                             "(e.g. X-Forwarded-User), accepted only from --trusted-proxy addresses")
    parser.add_argument("--trusted-proxy", action="append", default=[], metavar="ADDR",
                        help="address of the reverse proxy (repeatable; default 127.0.0.1 and ::1)")
    parser.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                        help="a host name browsers use to reach the server (repeatable; localhost and IP "
                             "addresses are always allowed)")
    parser.add_argument("--no-auth", action="store_true",
                        help="serve beyond loopback without log-in (anyone who can reach the port sees the data)")


def script_argv(argv: list[str]) -> list[str]:
    """The app's arguments from ``sys.argv``: Streamlit sets it to ``[app.py, args after --]``;
    under any other program (a test runner, an ASGI server) there are none."""
    return list(argv[1:]) if argv and Path(argv[0]).name == "app.py" else []


def parse_auth_args(argv: list[str]) -> argparse.Namespace:
    """Only the arguments of :func:`add_auth_args`; the others (files, ``--positive``…) are ignored."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    add_auth_args(parser)
    args, _ = parser.parse_known_args(list(argv))
    return args
