"""Small files that expand enormously, shared by the hostile-input tests and
benchmarks/hostile_limits.py (the tests check the outcome, the benchmark how fast)."""

from __future__ import annotations

import zlib
from pathlib import Path

#: The start of a snapshot document whose `collector` string the bomb's fill then extends.
SNAPSHOT_HEAD = b'{"format":"meshreport-snapshot","schema_version":3,"window":{"start":0,"end":60},"collector":"'


def gzip_bomb(path: Path, head: bytes, fill: bytes, megabytes: int, tail: bytes, members: int = 1) -> Path:
    """A gzip file of `head`, `megabytes` MB of `fill` and `tail` (in `members` gzip members, ~1 MB on disk)."""
    block = fill * (1 << 20)
    with open(path, "wb") as f:
        for _ in range(members):
            c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            f.write(c.compress(head))
            for _ in range(megabytes // members):
                f.write(c.compress(block))
            f.write(c.compress(tail) + c.flush())
    return path


def laughs(levels: int = 12, width: int = 10) -> str:
    """The "billion laughs" shape as a Kubernetes object: each level is `width` aliases of the last
    (12 levels of 10: 10^12 nodes once expanded, under 2 KB of text)."""
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: lol, namespace: default}", "data:"]
    lines.append('  l0: &l0 ["lol"]')
    for i in range(1, levels + 1):
        lines.append(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"
