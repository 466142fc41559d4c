"""Findings from the window's traffic, not from config alone: mTLS configured vs seen (MR0101-MR0103).

The comparison itself is meshreport.mtls_traffic; this module registers its codes (so the codes table,
SARIF, `--fail-on` and suppressions know them) and turns its findings into validation `Finding`s, which
then pass through the same suppressions as every other finding. `meshreport validate` reads config only
and never raises them; the report (`render`, `run`) does when the snapshot holds traffic and config.
"""

from __future__ import annotations

from collections.abc import Iterable

from meshreport.mtls_traffic import CODES, MtlsAnalysis, MtlsFinding
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.model import Finding
from meshreport.validation.registry import Rule, traffic_rule

KINDS = ("Namespace", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Workload")
MODULE = "traffic"
_READY_FLOOR = (
    "Needs at least the traffic floor in the window (the config file's `mtls:` section, docs/configuration.md; "
    "by default 100 requests or 1 MB of TCP bytes into the namespace or workload)."
)
_CALLER_FLOOR = (
    "A caller counts from the caller floor (the config file's `mtls:` section, docs/configuration.md; by "
    "default 1 request or 1 KiB of TCP bytes in the window)."
)

RULES: dict[str, Rule] = {
    "ready-for-strict": traffic_rule(
        code=CODES["ready-for-strict"][0],
        name="mtls_ready_for_strict",
        module=MODULE,
        kinds=KINDS,
        severity=CODES["ready-for-strict"][1],
        title="Ready for STRICT mTLS",
        doc="A namespace (or a workload with its own PeerAuthentication) is PERMISSIVE, or inherits Istio's "
        "PERMISSIVE default, and all its inbound requests and TCP bytes in the window were mutual TLS "
        "(`connection_security_policy=mutual_tls`): switching it to STRICT rejects no caller seen. The message "
        "and the report give the PeerAuthentication to apply. Reported on the Namespace, or on the workload "
        f"with the PERMISSIVE policy. {_READY_FLOOR}",
    ),
    "blocks-strict": traffic_rule(
        code=CODES["blocks-strict"][0],
        name="mtls_blocks_strict",
        module=MODULE,
        kinds=KINDS,
        severity=CODES["blocks-strict"][1],
        title="Plain-text callers block STRICT mTLS",
        doc="A PERMISSIVE workload received plain-text traffic (`connection_security_policy=none`) or traffic "
        "from outside the mesh in the window; the message names each caller (`namespace/workload`, or "
        "`unknown`). These callers must send mTLS (a sidecar, no DestinationRule with `tls.mode: DISABLE` "
        f"towards the workload) before the workload or its namespace can switch to STRICT. {_CALLER_FLOOR}",
    ),
    "will-break": traffic_rule(
        code=CODES["will-break"][0],
        name="mtls_will_break",
        module=MODULE,
        kinds=KINDS,
        severity=CODES["will-break"][1],
        title="Plain-text traffic into a STRICT workload",
        doc="A workload whose configured mode is STRICT received plain-text or unknown-source traffic in the "
        "window, which STRICT rejects: the policy changed during the window, or the callers fail. The message "
        "names the callers. A warning instead of an error when a port-level setting of the workload's policy "
        "accepts plain text (Istio's metrics do not say which port a call used). "
        f"{_CALLER_FLOOR}",
    ),
}


def mtls_findings(analysis: MtlsAnalysis | None, objects: Iterable[ConfigObject] = ()) -> list[Finding]:
    """The comparison's findings as validation findings (not yet suppressed), about the Namespace or the
    workload's controller, with its source file and cluster when the config has the object."""
    if analysis is None or not analysis.findings:
        return []
    objs = list(objects)
    by_key = {(o.kind, o.namespace, o.name): o for o in objs}
    default_cluster = objs[0].cluster if objs else "Kubernetes"
    return [_finding(f, by_key, default_cluster) for f in analysis.findings]


def _finding(f: MtlsFinding, by_key: dict, default_cluster: str) -> Finding:
    rule = RULES[f.kind]
    namespace = f.namespace if f.workload else None
    obj = by_key.get((f.object_kind, namespace, f.object_name))
    return Finding(
        code=rule.code,
        severity=f.severity,
        kind=f.object_kind,
        name=f.object_name,
        namespace=namespace,
        cluster=obj.cluster if obj is not None else default_cluster,
        message=f.message,
        source=obj.source if obj is not None else None,
        doc=rule.doc,
        rule=rule.name,
    )
