"""Run every rule over every object of its kinds, once per cluster, with one shared Context."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from meshreport.hosts import DEFAULT_DOMAIN
from meshreport.mesh_index import MeshIndex, rule_kind
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import ClusterIndex, Context
from meshreport.validation.meshconfig import MeshConfig
from meshreport.validation.model import SEVERITIES, Finding, Hit
from meshreport.validation.registry import Rule, rules_by_code, rules_for
from meshreport.validation.shape import WRONG_TYPE_CODE, ShapeIssue, guard, is_istio

SCHEMA_RULES = "schema"  # Rule.module of rules/schema.py

# istioctl drops every object in these namespaces (and these Namespaces) when it reads its input
# (inject.IgnoredNamespaces), so no IST finding is ever about one of them.
ISTIOCTL_IGNORED_NAMESPACES = frozenset(("kube-system", "kube-public", "kube-node-lease", "local-path-storage"))


def mesh_networks_object(mesh: MeshConfig) -> ConfigObject:
    """The MeshNetworks given with --mesh-config as the object istioctl reports on (`MeshNetworks
    <root namespace>/meshnetworks`)."""
    body = {"kind": "MeshNetworks", "metadata": {"name": "meshnetworks", "namespace": mesh.root_namespace}}
    body["networks"] = mesh.networks or {}
    return ConfigObject("v1alpha1", "MeshNetworks", "meshnetworks", mesh.root_namespace, body)


def _istioctl_ignores(obj: ConfigObject) -> bool:
    ns = obj.name if obj.kind == "Namespace" else obj.namespace
    return ns in ISTIOCTL_IGNORED_NAMESPACES


def validate(
    objects: Iterable[ConfigObject],
    mesh_config: MeshConfig | None = None,
    *,
    cluster: str | None = None,
    domain: str = DEFAULT_DOMAIN,
    enable: Iterable[str] = (),
    now: float | None = None,
    index: MeshIndex | None = None,
    guarded: Sequence[tuple[ConfigObject, list[ShapeIssue]]] | None = None,
) -> list[Finding]:
    """All findings (none suppressed yet; see suppress.py), sorted like istioctl.

    Objects are grouped by their cluster and each group gets its own index: cross-object
    references never cross clusters, except through `ctx.clusters` (multi-cluster rules).
    `cluster` overrides the objects' cluster name. Rules registered with `default=False`
    (istioctl's opt-in analyzers) run only when their code is in `enable`. `now` (unix seconds) is
    what certificate expiry is judged against: pass a snapshot's window end; default the current time.
    `index` is the shared MeshIndex of exactly these `objects` (`pipeline.analyse` builds it once);
    its per-cluster indexes are used unless `cluster` regroups the objects or a MeshNetworks
    object joins them. `guarded`: `shape.guard_each(objects)`, when the caller made it (the
    analysis guards a snapshot's objects once for everything); otherwise each object is guarded here.
    """
    enabled = set(enable)
    groups: dict[str, list[ConfigObject]] = defaultdict(list)
    objects = list(objects)
    if guarded is not None and len(guarded) != len(objects):
        raise ValueError("guarded: one (object, issues) pair per object, in order")
    shared = index if cluster is None else None
    if mesh_config is not None and mesh_config.networks is not None:
        objects.append(mesh_networks_object(mesh_config))
        shared = None
    # The shape guard: rules and the index only ever see well-typed objects; what it removed is reported.
    # Istio's own schema validation (rules.schema) sees an Istio object with only its structural
    # mismatches removed, so it words a scalar of the wrong type (`timeout: 10`) as istioctl does.
    shapes: dict[int, list[ShapeIssue]] = {}
    written: dict[int, ConfigObject] = {}
    for i, o in enumerate(objects):
        shaped, issues = guarded[i] if guarded is not None and i < len(guarded) else guard(o)  # MeshNetworks last
        if shaped is not o:
            istio = is_istio(o)
            if istio:
                written[id(shaped)] = guard(o, scalars=False)[0]
            said = [i for i in issues if not (istio and i.path.startswith("spec") and not i.structural)]
            shapes[id(shaped)] = [i for i in issues if i in said or i.out_of_range]
        groups[cluster or o.cluster].append(shaped)
    if shapes:
        shared = None  # the shared index holds the objects as written: index the well-typed copies
    seen: set[tuple] = set()
    out: list[Finding] = []
    every = ClusterIndex(groups)
    for cl, objs in groups.items():
        ctx = Context(
            shared.cluster(cl) if shared is not None else objs,
            mesh_config,
            cluster=cl,
            domain=domain,
            clusters=every,
            now=now,
        )
        for obj in objs:
            ignored = _istioctl_ignores(obj)
            for r, hits in _shape_hits(obj, shapes.get(id(obj), [])):
                for h in hits:
                    _add(out, seen, r, h, obj, cl)
            for r in rules_for(rule_kind(obj)):
                if not r.default and r.code not in enabled:
                    continue
                if ignored and r.code.startswith("IST"):
                    continue
                target = written.get(id(obj), obj) if written and r.module == SCHEMA_RULES else obj
                try:
                    hits = list(r.check(target, ctx))
                except Exception as e:  # a bug in a rule: say which rule and object
                    raise RuntimeError(f"rule {r.code} ({r.name}) failed on {obj.ref()}: {e}") from e
                for h in hits:
                    _add(out, seen, r, h, obj, cl)
    out.sort(key=Finding.sort_key)
    return out


def _shape_hits(obj: ConfigObject, issues: list[ShapeIssue]) -> list[tuple[Rule, list[Hit]]]:
    """The shape guard's issues as hits: IST0106 in an Istio spec (a scalar of the wrong type there is
    rules.schema's to report), MR0002 everywhere else."""
    if not issues:
        return []
    out = []
    schema = [r for r in rules_for(rule_kind(obj)) if r.code == "IST0106"] if is_istio(obj) else []
    in_spec = [i for i in issues if schema and i.path.startswith("spec")]
    if in_spec:
        out.append((schema[0], [Hit(f"Schema validation error: {i.message}", path=i.path) for i in in_spec]))
    rest = [i for i in issues if i not in in_spec]
    if rest:
        out.append(
            (rules_by_code()[WRONG_TYPE_CODE][0], [Hit(i.message, path=i.path, severity=i.severity) for i in rest])
        )
    return out


def _add(out: list[Finding], seen: set[tuple], r: Rule, h: Hit, obj: ConfigObject, cl: str) -> None:
    sev = h.severity or r.severity
    if sev not in SEVERITIES:
        raise ValueError(f"rule {r.code} ({r.name}) yielded severity {sev!r}")
    f = Finding(
        code=r.code,
        severity=sev,
        kind=obj.kind,
        name=obj.name,
        namespace=obj.namespace,
        cluster=cl,
        message=h.message,
        equivalents=r.equivalents,
        source=obj.source,
        path=h.path,
        doc=r.doc,
        rule=r.name,
    )
    # istioctl keeps one of messages that read alike (level, code, origin, text), wherever
    # they point; Kiali lists each path.
    key = (f.code, f.resource_key, f.message, None if f.code.startswith("IST") else f.path)
    if key not in seen:
        seen.add(key)
        out.append(f)
