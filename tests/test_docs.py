"""The documentation site builds from the docstrings with no warnings, and lists every example."""

from __future__ import annotations

import pathlib
import subprocess
import sys

from examples._registry import EXAMPLES

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_site_builds_strict(tmp_path: pathlib.Path) -> None:
    # mkdocs.yml sets strict: a warning (a broken link, a docstring griffe cannot parse) fails the build.
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING" not in proc.stderr, proc.stderr
    assert (tmp_path / "site" / "api" / "nn" / "index.html").is_file()


def test_examples_page_lists_every_example() -> None:
    page = (ROOT / "docs" / "examples.md").read_text()
    missing = [e.name for e in EXAMPLES if f"| `{e.name}` |" not in page]
    assert not missing, f"docs/examples.md does not list {missing}"
