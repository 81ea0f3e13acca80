"""The documentation site builds cleanly, and its examples page lists every example.

The API pages are generated from the docstrings, so a docstring that griffe cannot
parse (an ``Args:`` entry naming two parameters, an unindented continuation line, a
parameter the signature lacks) fails the strict build here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from examples._registry import EXAMPLES

ROOT = Path(__file__).resolve().parents[1]


def test_mkdocs_strict_build_has_no_warnings(tmp_path: Path) -> None:
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "WARNING" not in proc.stderr, log
    assert (site / "api" / "nn" / "index.html").is_file(), log


def _group_tables(markdown: str) -> dict[str, str]:
    """Map each group named in a heading (``## ... (`run GROUP`)``) to its section's text."""
    sections: dict[str, str] = {}
    for match in re.finditer(r"^## [^\n]*\(`run (\w+)`\)[ \t]*$(.*?)(?=^## |\Z)", markdown, re.M | re.S):
        sections[match.group(1)] = match.group(2)
    return sections


def test_examples_page_lists_every_registered_example_in_its_group() -> None:
    tables = _group_tables((ROOT / "docs" / "examples.md").read_text(encoding="utf-8"))
    missing = [
        f"{ex.name} (group {ex.group!r})" for ex in EXAMPLES if f"| `{ex.name}` |" not in tables.get(ex.group, "")
    ]
    assert not missing, f"docs/examples.md lacks a table row in the right group for: {', '.join(missing)}"
