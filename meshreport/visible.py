"""Untrusted text made visible: what a name, label or server reply shows in a terminal or a
one-line-per-finding text output.

Line breaks, tabs, ANSI escape sequences and other control or invisible format characters are
shown as Python-style escapes (`\\n`, `\\x1b`, `\\u202e`), so a value can neither forge extra
lines nor drive the terminal, and a reader still sees that something odd was there.
"""

from __future__ import annotations


def one_line(text: str) -> str:
    """`text` as one line of printable characters (spaces kept; everything else escaped)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
