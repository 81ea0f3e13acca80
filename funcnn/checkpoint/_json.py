"""JSON from untrusted files, bounded before it is parsed.

``json.loads`` spends about 30 bytes of memory per byte of input on a text such as
``[[],[],...]`` and raises ``RecursionError`` on deep nesting. `bounded_loads` first
blanks out every string literal (one regular-expression pass; for valid JSON its
string boundaries are exactly the parser's), then counts the values and checks the
nesting depth on what is left, and only then parses. The cost of the parse is then at
most about ``max_values * 72`` bytes on top of the text itself.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_INNERMOST = re.compile(rb"[\[{][^\[\]{}]*[\]}]")


class JSONLimitError(ValueError):
    """The text is not JSON within the limits; the message says which limit or error."""


def bounded_loads(
    raw: bytes,
    *,
    max_depth: int,
    max_values: int,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
) -> Any:
    """Parse ``raw`` (UTF-8 JSON) if it nests at most ``max_depth`` containers deep and
    holds at most ``max_values`` values; raise `JSONLimitError` otherwise or when it is
    not JSON."""
    skeleton = _STRING.sub(b"0", raw)
    values = skeleton.count(b",") + skeleton.count(b"[") + skeleton.count(b"{") + 1
    if values > max_values:
        raise JSONLimitError(f"it holds about {values} values, more than the limit of {max_values}")
    for _ in range(max_depth):
        if b"[" not in skeleton and b"{" not in skeleton:
            break
        skeleton = _INNERMOST.sub(b"0", skeleton)
    if b"[" in skeleton or b"{" in skeleton:
        raise JSONLimitError(f"it nests deeper than {max_depth} levels or its brackets do not balance")
    del skeleton
    try:
        text = raw.decode("utf-8")
        return json.loads(text, object_pairs_hook=object_pairs_hook)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise JSONLimitError(str(e)) from None
