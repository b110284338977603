"""Show user text as text: Markdown escaping, class names for widgets."""

from __future__ import annotations

import re

from evaldash.evaluation import Evaluation

# every character with a meaning in Streamlit's Markdown: emphasis, links and images, HTML,
# headings and lists, tables, strikethrough, LaTeX, icons (:name:), entities (&lt;), setext (===)
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>()#+-.!|~$:&="})

# Streamlit's GFM turns web addresses into links, and :material/name: into an icon, whatever the
# escapes: an invisible word joiner inside "://", "www." and ":material" keeps them text
_AUTOLINK = re.compile(r"(?<=:)(?=//|material[/_])|(?<=www)(?=\.)", re.IGNORECASE)

WORD_JOINER = "\u2060"


def md(text) -> str:
    """Escape a class name or value so Markdown shows it as typed (as text: no link, image, icon
    or HTML); web addresses and icon names get an invisible :data:`WORD_JOINER`."""
    return _AUTOLINK.sub(WORD_JOINER, str(text)).translate(_MD_SPECIAL)


def images(n: int, thousands: bool = False) -> str:
    """``n`` images as a caption counts them: "1 image", "24 images" (``thousands``: "2,400 images")."""
    return f"{n:,} image" if n == 1 else (f"{n:,} images" if thousands else f"{n} images")


def class_label(evaluation: Evaluation):
    """A ``format_func`` that shows class indices as their names."""
    classes = evaluation.dataset.classes
    return lambda i: classes[i]
