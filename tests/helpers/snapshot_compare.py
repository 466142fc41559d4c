"""Two snapshots of the same data, compared after the normalisation docs/snapshot-format.md
documents ("Comparing snapshots"): the collector facts (timings, request records) are left
out, each query's series are sorted by their labels (Prometheus answers some queries, e.g.
histogram_quantile, in no fixed order), and label values are compared as text, not as ids into
the file's string table."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any


def _num(x: float | None) -> Any:
    return "NaN" if x is not None and math.isnan(x) else x


def normalised(snap) -> dict[str, Any]:
    """Everything a snapshot says about the mesh, in a canonical order."""
    queries = []
    for q in snap.queries:
        rows = []
        for s in q.series:
            pts = None if s.points is None else [[t, _num(v)] for t, v in s.points]
            rows.append([sorted(s.labels.items()), _num(s.value), pts])
        rows.sort(key=repr)
        queries.append(
            {
                "key": q.key,
                "namespace": q.namespace,
                "promql": q.promql,
                "kind": q.kind,
                "time": q.time,
                "start": q.start,
                "step": q.step,
                "params": q.params,
                "series": rows,
            }
        )
    return {
        "schema_version": snap.schema_version,
        "window": [snap.window.start, snap.window.end],
        "source": asdict(snap.source),
        "namespaces": snap.namespaces,
        "queries": queries,
        "objects": [[o.api_version, o.kind, o.namespace, o.name, o.cluster, o.body] for o in snap.objects],
        "gaps": [asdict(g) for g in snap.gaps],
        "diagnostics": [asdict(d) for d in snap.diagnostics],
    }
