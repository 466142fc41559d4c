"""Does a pattern compile as Go RE2 (what Envoy and Istio use)? Python's `re` is the engine here.

RE2 lacks lookaround, backreferences, atomic groups and conditionals; Python has them, so they are
rejected first. RE2-only syntax Python lacks (`(?<name>`, `\\z`, `\\pN`, `[[:alpha:]]`, `\\Q..\\E`,
flags mid-pattern) is translated before compiling, so valid RE2 is not reported.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

RE2_HINT = "Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)"

_UNSUPPORTED = re.compile(r"\(\?(?:=|!|<=|<!|>|\(|P=|#)|\\[1-9]|\\k<|\\[GZ]")
_REPEAT = re.compile(r"\{(\d+)(?:,(\d*))?\}")


@lru_cache(maxsize=4096)
def re2_error(pattern: str) -> str | None:
    """Go's `error parsing regexp: ...` text for an invalid pattern, else None."""
    if m := _UNSUPPORTED.search(pattern):
        return f"error parsing regexp: invalid or unsupported Perl syntax: `{m.group(0)}`"
    for m in _REPEAT.finditer(pattern):
        if any(g and int(g) > 1000 for g in m.groups()):
            return f"error parsing regexp: invalid repeat count: `{m.group(0)}`"
    py = _translate(pattern)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(py)
    except re.error as e:
        if "global flags not at the start" in str(e):
            return None  # RE2 allows (?i) anywhere
        return f"error parsing regexp: {e.msg}: `{pattern}`"
    return None


def _translate(p: str) -> str:
    p = re.sub(r"\\Q(.*?)(?:\\E|$)", lambda m: re.escape(m.group(1)), p)
    p = p.replace("(?<", "(?P<").replace("\\z", "\\Z")
    p = re.sub(r"\\[pP](?:\{\^?\w+\}|\w)", ".", p)
    return re.sub(r"\[:\^?\w+:\]", "a-z", p)


def regex(pattern: str, where: str) -> str | None:
    """Istio's validateStringRegexp: at most 1024 characters and valid RE2."""
    if len(pattern) > 1024:
        return f'"{where}": regex is too large, max length allowed is 1024'
    if e := re2_error(pattern):
        return f'"{where}": {e}; {RE2_HINT}'
    return None
