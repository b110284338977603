"""How much work a browser user may give the server: the size of an upload's images once unzipped,
their compression ratio and count, and the pixels of one image.

Set with ``evaldash serve --max-upload-mb`` and friends, which pass them to the app as the
environment variables below (they can also be set directly); read at each use.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import MutableMapping

from evaldash.errors import InputError

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Upload and image limits (defaults in brackets).

    upload_bytes : total uncompressed size of an upload's zip of images [2 GiB]
    upload_ratio : uncompressed / compressed size of the whole zip and of each member, from 1 MiB up [200]
    upload_members : entries of the zip, folders included [50,000]
    image_pixels : width × height of one image, above which it is not decoded [40 megapixels]
    """

    upload_bytes: int = 2048 * MIB
    upload_ratio: float = 200.0
    upload_members: int = 50_000
    image_pixels: int = 40_000_000


# field: (command-line flag, environment variable, unit the flag counts in)
SETTINGS = {
    "upload_bytes": ("--max-upload-mb", "EVALDASH_MAX_UPLOAD_MB", MIB),
    "upload_ratio": ("--max-upload-ratio", "EVALDASH_MAX_UPLOAD_RATIO", 1),
    "upload_members": ("--max-upload-files", "EVALDASH_MAX_UPLOAD_FILES", 1),
    "image_pixels": ("--max-image-megapixels", "EVALDASH_MAX_IMAGE_MEGAPIXELS", 1_000_000),
}
_HELP = {
    "upload_bytes": "largest total size of an upload's images once unzipped, in MiB (default 2048)",
    "upload_ratio": "largest compression ratio of an upload's zip and of each member from 1 MiB (default 200)",
    "upload_members": "most entries in an upload's zip of images (default 50000)",
    "image_pixels": "largest image shown, in megapixels; larger ones show 'too large' (default 40)",
}


def current(env: MutableMapping[str, str] | None = None) -> Limits:
    """The limits in force: the environment's, else the defaults.

    Raises
    ------
    InputError
        When a variable is set to something other than a positive number.
    """
    env = os.environ if env is None else env
    values = {}
    for field, (_, var, unit) in SETTINGS.items():
        text = env.get(var, "").strip()
        if not text:
            continue
        values[field] = _positive(text, var) * unit
        if field != "upload_ratio":
            values[field] = int(values[field])
    return Limits(**values)


def _positive(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise InputError(f"{name}={text}: expected a positive number")
    return value


def add_limit_args(parser: argparse.ArgumentParser) -> None:
    """The ``--max-…`` options of ``evaldash serve``."""
    for field, (flag, _, _) in SETTINGS.items():
        parser.add_argument(flag, dest=field, metavar="N", help=_HELP[field])


def export_limit_args(args: argparse.Namespace, env: MutableMapping[str, str]) -> Limits:
    """Put the ``--max-…`` options given into ``env`` for the app; check every limit now."""
    for field, (flag, var, _) in SETTINGS.items():
        value = getattr(args, field, None)
        if value is not None:
            _positive(value, flag)
            env[var] = str(value)
    return current(env)
