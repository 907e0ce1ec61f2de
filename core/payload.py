"""JSON from outside, parsed within bounds: a hostile document is a ValueError, never a crash.

Python's json parser recurses once per level of nesting, so "[[[[..." 200,000 levels deep raises
RecursionError, which escapes every `except ValueError` written for malformed JSON (and Flask's
`get_json(silent=True)`). Nothing we accept is nested more than a few levels, so deeper documents
are refused before they are parsed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask.json.provider import DefaultJSONProvider

MAX_DEPTH = 32

# The characters that matter to nesting: brackets, and quotes and backslashes that hide them in strings.
_SPECIAL = re.compile(r'[\[\]{}"\\]')


class TooDeep(ValueError):
    """A JSON document nested deeper than allowed."""


def depth_exceeds(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether brackets outside strings nest deeper than `limit`; one linear pass, no parsing."""
    depth = 0
    in_string = False
    escaped_at = -1  # the index a backslash escapes
    for match in _SPECIAL.finditer(text):
        char, at = match.group(), match.start()
        if at == escaped_at:
            continue
        if char == "\\":
            escaped_at = at + 1
        elif char == '"':
            in_string = not in_string
        elif in_string:
            continue
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def loads(data: str | bytes | bytearray, max_depth: int = MAX_DEPTH, **kwargs: Any) -> Any:
    """json.loads that raises ValueError (TooDeep) for documents nested deeper than `max_depth`."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes | bytearray) else data
    if depth_exceeds(text, max_depth):
        raise TooDeep(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(data, **kwargs)
    except RecursionError as error:  # an encoding the scan above could not read: same verdict
        raise TooDeep("JSON nested too deeply") from error


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with request bodies parsed by `loads` above: too deep is malformed (4xx)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse a request body, refusing hostile nesting as malformed JSON."""
        return loads(s, **kwargs)
