"""WorkloadGroup rules (Kiali KIA1701/1702): the template's ServiceAccount and duplicate label sets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule

WG = ("WorkloadGroup",)


@rule(
    code="KIA1701",
    kinds=WG,
    severity="warning",
    title="WorkloadGroup ServiceAccount not found",
    doc="The WorkloadGroup template's serviceAccount does not exist in its namespace, so VMs registering "
    "through this group cannot get an identity (certificate). Create the ServiceAccount or fix the name. "
    "Checked only when the input holds ServiceAccounts.",
)
def workload_group_service_account(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    sa = str((obj.spec.get("template") or {}).get("serviceAccount") or "")
    if sa and ctx.index.service_accounts and (obj.namespace, sa) not in ctx.index.service_accounts:
        yield Hit(
            f"ServiceAccount {sa!r} not found in namespace {obj.namespace!r}", path="spec.template.serviceAccount"
        )


def _by_labels(ctx: Context) -> dict[tuple, list[str]]:
    out: dict[tuple, list[str]] = defaultdict(list)
    for wg in ctx.index.of_kind("WorkloadGroup"):
        labels = (wg.spec.get("metadata") or {}).get("labels") or {}
        if labels:
            out[(wg.namespace, tuple(sorted((str(k), str(v)) for k, v in labels.items())))].append(wg.name)
    return out


@rule(
    code="KIA1702",
    kinds=WG,
    severity="warning",
    title="WorkloadGroups with identical labels",
    doc="Another WorkloadGroup in the namespace gives its workloads exactly the same labels, so Services and "
    "policies cannot tell the two groups' VMs apart. Give each group a distinguishing label.",
)
def workload_group_duplicate_labels(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    labels = (obj.spec.get("metadata") or {}).get("labels") or {}
    if not labels:
        return
    key = (obj.namespace, tuple(sorted((str(k), str(v)) for k, v in labels.items())))
    others = sorted(n for n in ctx.memo("workloadgroup.labels", _by_labels).get(key, []) if n != obj.name)
    if others:
        yield Hit(f"WorkloadGroup {', '.join(others)} has the same labels", path="spec.metadata.labels")
