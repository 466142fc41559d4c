"""Kiali appender test scenarios as fixtures: traffic + config YAML + what Kiali's test asserts.

A scenario file (tests/fixtures/kiali-appenders/*.yaml) holds:

    kiali: {file: graph/telemetry/istio/appender/..._test.go, test: TestName}
    graph: {namespaces: [a], graphType: versionedApp, injectServiceNodes: true,
            includeIdleEdges: false, appenders: [serviceEntry]}
    traffic:                      # one istio metric series each, a constant rate per second
      - {src: "ns/workload app version", dst: "svcNs/svc -> ns/workload app version",
         rate: 1, protocol: http, code: "200", reporter: destination, cluster: Kubernetes,
         labels: {request_operation: Top}}   # labels: extra metric labels (aggregateNode)
    config: |                     # Kubernetes/Istio objects, read with `snapshot --from-files`
    configs: {cluster1: |, ...}   # instead of config: one text per cluster (`--from-files CLUSTER=PATH`)
      ...
    expect:
      nodes: 6                    # node count
      present: {node-id: {edges: 1, isServiceEntry: {...}, isDead: true, healthInbound: {...}, ...}}
      absent: [node-id, ...]

`src`/`dst` workload parts: `ns/workload app version` (app/version optional, `-` for empty);
`unknown` is the unknown source; `dst` without `->` is a service with no workload (`unknown`).
Each scenario gets its own one-hour slot in one Prometheus, so one backfill serves them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kiali-appenders"
#: Slot i covers [BASE + i * SLOT, BASE + i * SLOT + WINDOW]; counters start PREROLL earlier.
BASE = 1_780_000_000
SLOT = 3 * 3600
WINDOW = 3600
PREROLL = 600
STEP = 60
DEFAULT_CLUSTER = "Kubernetes"


@dataclass
class Scenario:
    name: str
    data: dict[str, Any]
    slot: int = 0
    series: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    @property
    def end(self) -> int:
        return BASE + self.slot * SLOT + WINDOW

    @property
    def start(self) -> int:
        return self.end - WINDOW


def load_all() -> list[Scenario]:
    out = []
    for i, path in enumerate(sorted(FIXTURES.glob("*.yaml"))):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        sc = Scenario(path.stem, data, slot=i)
        for t in data.get("traffic") or []:
            sc.series.extend(series_of(t))
        out.append(sc)
    return out


def _end(spec: str) -> dict[str, str]:
    """`ns/workload app version` -> the workload-side labels (without the source_/destination_ prefix)."""
    if spec == "unknown":
        return {"workload_namespace": "unknown", "workload": "unknown", "app": "unknown", "version": "unknown"}
    parts = spec.split()
    ns, _, wl = parts[0].partition("/")
    app = parts[1] if len(parts) > 1 else wl
    version = parts[2] if len(parts) > 2 else "unknown"
    dash = {"-": ""}
    return {"workload_namespace": ns, "workload": wl, "app": dash.get(app, app), "version": dash.get(version, version)}


def series_of(t: dict[str, Any]) -> list[tuple[str, dict[str, str], float]]:
    """The metric series one traffic line stands for: (metric name, labels, rate per second)."""
    src = _end(t["src"])
    svc, _, wl = (p.strip() for p in t["dst"].partition("->"))
    svc_ns, _, svc_name = svc.partition("/")
    dst = _end(wl) if wl else _end("unknown")
    cluster = t.get("cluster", DEFAULT_CLUSTER)
    host = t.get("host") or (svc_name if "." in svc_name else f"{svc_name}.{svc_ns}.svc.cluster.local")
    reporter = t.get("reporter") or ("destination" if wl else "source")
    labels = {
        "reporter": reporter,
        "source_cluster": "unknown" if t["src"] == "unknown" else cluster,
        "source_workload_namespace": src["workload_namespace"],
        "source_workload": src["workload"],
        "source_canonical_service": src["app"],
        "source_canonical_revision": src["version"],
        "source_principal": t.get("source_principal", "unknown"),
        "destination_cluster": t.get("dst_cluster", cluster),
        "destination_service_namespace": svc_ns,
        "destination_service": host,
        "destination_service_name": svc_name,
        "destination_workload_namespace": dst["workload_namespace"],
        "destination_workload": dst["workload"],
        "destination_canonical_service": dst["app"],
        "destination_canonical_revision": dst["version"],
        "destination_principal": t.get("destination_principal", "unknown"),
        "connection_security_policy": t.get("security", "unknown"),
        "response_flags": t.get("flags", "-"),
    }
    rate = float(t.get("rate", 1.0))
    protocol = t.get("protocol", "http")
    if protocol == "tcp":
        return [(m, dict(labels), rate) for m in ("istio_tcp_sent_bytes_total", "istio_tcp_received_bytes_total")]
    labels.update(
        {"request_protocol": protocol, "response_code": str(t.get("code", "200")), "grpc_response_status": "0"}
    )
    labels.update({str(k): str(v) for k, v in (t.get("labels") or {}).items()})
    return [("istio_requests_total", labels, rate)]


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def write_openmetrics(scenarios: list[Scenario], out: Path) -> None:
    """Counters growing at each series' rate over its scenario's slot; families and series contiguous,
    samples in time order (promtool drops out-of-order ones), `# EOF` last."""
    by_metric: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for sc in scenarios:
        for metric, labels, rate in sc.series:
            key = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
            samples = by_metric.setdefault(metric, {}).setdefault(key, [])
            base = (samples[-1][1] + 1.0) if samples else 1.0
            t0 = sc.start - PREROLL
            for t in range(t0, sc.end + 1, STEP):
                samples.append((t, base + rate * (t - t0)))
    lines = []
    for metric in sorted(by_metric):
        family = metric[: -len("_total")]
        lines.append(f"# TYPE {family} counter")
        for key, samples in by_metric[metric].items():
            lines.extend(f"{metric}{{{key}}} {v!r} {t}" for t, v in samples)
    lines.append("# EOF")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def graph_args(sc: Scenario) -> list[str]:
    """`meshreport graph` options for the scenario's graph block (Kiali's parameter names)."""
    g = sc.data["graph"]
    args = ["--namespaces", ",".join(g["namespaces"]), "--graph-type", g.get("graphType", "workload")]
    apps = g.get("appenders")
    args += ["--appenders", ",".join(apps) if apps else "none"]
    for key, flag in (("rateHttp", "--rate-http"), ("rateGrpc", "--rate-grpc")):
        if g.get(key):
            args += [flag, str(g[key])]
    if g.get("injectServiceNodes"):
        args.append("--inject-service-nodes")
    if g.get("includeIdleEdges"):
        args.append("--include-idle-edges")
    for key, flag in (("aggregate", "--aggregate"), ("aggregateValue", "--aggregate-value")):
        if g.get(key):
            args += [flag, str(g[key])]
    return args


def snapshot_args(sc: Scenario) -> list[str]:
    """`meshreport snapshot` options the scenario needs beyond the window (aggregates to collect)."""
    g = sc.data["graph"]
    return ["--aggregate", str(g["aggregate"])] if g.get("aggregate") else []


def compare(sc: Scenario, doc: dict[str, Any]) -> tuple[int, list[str]]:
    """(checks made, failed checks) of the scenario's expectations against a `graph --format json` doc."""
    nodes = {n["id"]: n for n in doc["nodes"]}
    out_edges: dict[str, int] = {}
    for e in doc["edges"]:
        out_edges[e["source"]] = out_edges.get(e["source"], 0) + 1
    exp = sc.data.get("expect") or {}
    checks, failed = 0, []

    def check(ok: bool, what: str) -> None:
        nonlocal checks
        checks += 1
        if not ok:
            failed.append(what)

    if "nodes" in exp:
        check(len(nodes) == exp["nodes"], f"node count {len(nodes)} != {exp['nodes']} ({sorted(nodes)})")
    for nid in exp.get("absent") or []:
        check(nid not in nodes, f"{nid} present")
    for nid, want in (exp.get("present") or {}).items():
        n = nodes.get(nid)
        check(n is not None, f"{nid} missing (have {sorted(nodes)})")
        if n is None:
            continue
        for key, value in (want or {}).items():
            if key == "edges":
                got: Any = out_edges.get(nid, 0)
            elif key == "destServices":
                got = len(n.get("destServices") or [])
            elif key in ("type", "namespace", "cluster", "service", "workload", "app", "version"):
                got = n.get(key)
            elif key == "health":
                got = (n.get("health") or {}).get("status")
            elif key in ("healthInbound", "healthOutbound"):
                direction = "inbound" if key == "healthInbound" else "outbound"
                # no requests in a direction: Kiali's empty map, left out of meshreport's JSON
                got = ((n.get("health") or {}).get("requests") or {}).get(direction) or {}
            elif key == "rates":
                got = {k: round(v, 3) for k, v in (n.get("rates") or {}).items()}
            else:
                got = n["metadata"].get(key)
                if isinstance(value, dict) and isinstance(got, dict):
                    got = {k: got.get(k) for k in value}
            check(got == value, f"{nid}.{key}: {got!r} != {value!r}")
    for spec in exp.get("edges") or []:
        key = (spec["source"], spec["target"], spec.get("protocol", "http"))
        e = next((e for e in doc["edges"] if (e["source"], e["target"], e["protocol"]) == key), None)
        if spec.get("absent"):
            check(e is None, f"edge {key} present")
            continue
        check(e is not None, f"edge {key} missing")
        if e is None:
            continue
        for k, v in spec.items():
            if k in ("source", "target", "protocol"):
                continue
            got = e["metadata"].get(k) if k != "rates" else {a: round(b, 3) for a, b in e["rates"].items()}
            check(got == v, f"edge {key}.{k}: {got!r} != {v!r}")
    return checks, failed
