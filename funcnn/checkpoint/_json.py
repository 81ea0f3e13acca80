"""JSON from untrusted files, bounded before it is parsed.

``json.loads`` spends about 30 bytes of memory per byte of input on a text such as
``[[],[],...]`` and raises ``RecursionError`` on deep nesting. `bounded_loads` first
blanks out every string literal (one regular-expression pass; for valid JSON its
string boundaries are exactly the parser's), then counts the values (an upper bound: every
``,``, ``:``, ``[`` and ``{`` left) and checks the nesting depth on what is left, and
only then parses. Each counted value costs at most about 130 bytes while parsing
(measured: a string of two characters, or a one-entry object), on top of about three
times the text itself.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

# possessive (``*+``): without it the engine keeps state per escape, 250 bytes each
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*+"', re.DOTALL)
_INNERMOST = re.compile(rb"[\[{][^\[\]{}]*[\]}]")
_STRING_STR = re.compile(_STRING.pattern.decode(), re.DOTALL)
_INNERMOST_STR = re.compile(_INNERMOST.pattern.decode())


class JSONLimitError(ValueError):
    """The text is not JSON within the limits; the message says which limit or error."""


def bounded_loads(
    raw: bytes | str,
    *,
    max_depth: int,
    max_values: int,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
) -> Any:
    """Parse ``raw`` (UTF-8 bytes or text) if it nests at most ``max_depth`` containers
    deep and holds at most ``max_values`` values; raise `JSONLimitError` otherwise or
    when it is not JSON."""
    text = isinstance(raw, str)
    string, innermost = (_STRING_STR, _INNERMOST_STR) if text else (_STRING, _INNERMOST)
    zero, marks = ("0", ",:[{") if text else (b"0", b",:[{")
    skeleton = string.sub(zero, raw)
    values = sum(skeleton.count(marks[i : i + 1]) for i in range(4)) + 1
    if values > max_values:
        raise JSONLimitError(f"it holds about {values} values, more than the limit of {max_values}")
    for _ in range(max_depth):
        if marks[2:3] not in skeleton and marks[3:4] not in skeleton:
            break
        skeleton = innermost.sub(zero, skeleton)
    if marks[2:3] in skeleton or marks[3:4] in skeleton:
        raise JSONLimitError(f"it nests deeper than {max_depth} levels or its brackets do not balance")
    del skeleton
    try:
        return json.loads(raw if text else raw.decode("utf-8"), object_pairs_hook=object_pairs_hook)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise JSONLimitError(str(e)) from None
