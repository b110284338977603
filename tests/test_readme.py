"""The README stays true: its page table lists every page, as one Markdown table."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_page_table_is_one_table_with_a_row_per_page():
    lines = ROOT.joinpath("README.md").read_text(encoding="utf-8").splitlines()
    head = lines.index("| page | for | what it shows |")
    table = []
    for line in lines[head:]:
        if not line.startswith("|"):
            break  # a blank line ends a Markdown table: every row must come before it
        table.append(line)
    listed = {m.group(1) for line in table if (m := re.match(r"\| `(/[a-z]*)`", line))}
    app = ROOT.joinpath("app.py").read_text(encoding="utf-8")
    pages = {"/" + p for p in re.findall(r'url_path="([a-z]+)"', app)} | {"/"}
    assert listed == pages
