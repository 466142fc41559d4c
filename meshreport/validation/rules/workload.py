"""Workload rules (Pods and controllers): sidecar presence, UID 1337, `image: auto`, Services sharing a
Deployment, authorization coverage, and the Ambient/sidecar mix-ups Kiali reports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from meshreport.istio_names import AMBIENT_REDIRECTION, DATAPLANE_MODE, INJECT, NAMESPACE_INJECTION, SIDECAR_CONTAINER
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import TEMPLATE_KINDS, Context, Workload
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._common import dicts
from meshreport.validation.rules._policy import (
    USE_WAYPOINT,
    USE_WAYPOINT_NS,
    ambient_namespace,
    match_labels,
    owned,
    target_refs,
    waypoint_names,
)
from meshreport.validation.rules._webhooks import injection_webhooks, webhook_matches

POD = ("Pod",)
WORKLOADS = ("Pod", *TEMPLATE_KINDS)
PROXY_UID = 1337


def pod_spec(obj: ConfigObject) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(pod spec, pod metadata, path prefix) of a Pod or of a controller's pod template."""
    if obj.kind == "Pod":
        return obj.spec, obj.metadata, "spec"
    if obj.kind == "CronJob":
        tmpl = ((obj.spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
        return tmpl.get("spec") or {}, tmpl.get("metadata") or {}, "spec.jobTemplate.spec.template.spec"
    tmpl = obj.spec.get("template") or {}
    return tmpl.get("spec") or {}, tmpl.get("metadata") or {}, "spec.template.spec"


def _workload(obj: ConfigObject, ctx: Context) -> Workload | None:
    def build(c: Context) -> dict[int, Workload]:
        return {id(w.obj): w for w in c.index.workloads}

    return ctx.memo("workload.by_obj", build).get(id(obj))


def _proxy(spec: dict[str, Any]) -> dict[str, Any] | None:
    for c in dicts(spec.get("containers")) + dicts(spec.get("initContainers")):
        if c.get("name") == SIDECAR_CONTAINER:
            return c
    return None


@rule(
    code="IST0103",
    kinds=POD,
    severity="warning",
    title="Pod is missing the Istio proxy",
    doc="The pod runs in a namespace labelled istio-injection=enabled but has no istio-proxy container, "
    "usually because it started before the label was set or injection failed. It is outside the mesh until it "
    "is restarted. Pods that opt out (sidecar.istio.io/inject=false) or use the host network are skipped.",
)
def pod_missing_proxy(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if ctx.index.namespace_injection(obj.namespace) != "enabled" or obj.spec.get("hostNetwork"):
        return
    if str(obj.labels.get(INJECT, obj.annotations.get(INJECT, ""))).lower() == "false":
        return
    if _proxy(obj.spec) is None:
        yield Hit(
            "The pod is missing the Istio proxy. This can often be resolved by restarting or redeploying the workload.",
            path="spec.containers",
        )


@rule(
    code="IST0144",
    kinds=("Pod", "Deployment"),
    severity="warning",
    title="Application runs as UID 1337",
    doc="The pod, or one of its application containers, runs as user 1337, the UID reserved for the Istio "
    "proxy: traffic from the application is then not redirected through the sidecar. Run the application as "
    "another user. Control-plane objects (label `istio`, or release=istio) are skipped.",
)
def application_uid(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if "istio" in obj.labels or obj.labels.get("release") == "istio":
        return
    spec, _, prefix = pod_spec(obj)
    if (spec.get("securityContext") or {}).get("runAsUser") == PROXY_UID:
        yield Hit("User ID (UID) 1337 is reserved for the sidecar proxy.", path=f"{prefix}.securityContext.runAsUser")
    for i, c in enumerate(dicts(spec.get("containers"))):
        if c.get("name") in (SIDECAR_CONTAINER, "istio-operator"):
            continue
        if (c.get("securityContext") or {}).get("runAsUser") == PROXY_UID:
            yield Hit(
                "User ID (UID) 1337 is reserved for the sidecar proxy.",
                path=f"{prefix}.containers[{i}].securityContext.runAsUser",
            )


def _image_auto(obj: ConfigObject) -> bool:
    spec, _, _ = pod_spec(obj)
    p = _proxy(spec)
    return p is not None and str(p.get("image") or "") == "auto"


@rule(
    code="IST0146",
    kinds=("Deployment",),
    severity="warning",
    title="Deployment uses image: auto without injection",
    doc="The Deployment's istio-proxy container uses `image: auto` (a gateway deployment pattern), which only "
    "works when the injection webhook rewrites it, but no Istio injection webhook matches the namespace and pod "
    "labels. Pods would fail to pull the image `auto`. Enable injection for them or set a real image.",
)
def deployment_image_auto(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not _image_auto(obj):
        return
    _, meta, _ = pod_spec(obj)
    ns_labels = ctx.index.namespace_labels.get(obj.namespace or "", {})
    labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    if not any(webhook_matches(w, ns_labels, labels) for _, w in injection_webhooks(ctx)):
        yield Hit(
            "Configuring image:auto but will not be injected: no Istio injection webhook matches this workload",
            path="spec.template.spec.containers",
        )


@rule(
    code="IST0147",
    kinds=POD,
    severity="error",
    title="Pod uses image: auto",
    doc="A running pod's istio-proxy container has `image: auto`. Injection rewrites it only when a pod is "
    "created, so this pod was not injected and its proxy cannot start. Fix injection for the workload and "
    "recreate the pod.",
)
def pod_image_auto(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if _image_auto(obj):
        yield Hit("Configuring image:auto but will not be injected: the pod already exists", path="spec.containers")


def _services_by_workload(ctx: Context) -> dict[int, list[ConfigObject]]:
    """id(workload object) -> the same-namespace Services whose selector matches its pod labels."""
    out: dict[int, list[ConfigObject]] = defaultdict(list)
    for svc in ctx.index.of_kind("Service"):
        sel = svc.spec.get("selector")
        if isinstance(sel, dict) and sel:
            for w in ctx.index.workloads_matching({str(k): str(v) for k, v in sel.items()}, svc.namespace):
                out[id(w.obj)].append(svc)
    return out


def _services_of(obj: ConfigObject, ctx: Context) -> list[ConfigObject]:
    return ctx.memo("workload.services", _services_by_workload).get(id(obj), [])


def _deployment_in_mesh(obj: ConfigObject, ctx: Context) -> bool:
    """istioctl's DeploymentInMesh: an istio-proxy container in the template; else the template's
    `sidecar.istio.io/inject` label, then annotation (only "true" is in); else the namespace's
    `istio-injection=enabled`; a namespace absent from the input counts as not injected."""
    spec, meta, _ = pod_spec(obj)
    if any(c.get("name") == SIDECAR_CONTAINER for c in dicts(spec.get("containers"))):
        return True
    for source in (meta.get("labels"), meta.get("annotations")):
        if isinstance(source, dict) and INJECT in source:
            return str(source[INJECT]) == "true"
    return ctx.index.namespace_labels.get(obj.namespace or "", {}).get(NAMESPACE_INJECTION) == "enabled"


def _candidate(obj: ConfigObject, ctx: Context) -> bool:
    """In-mesh, non-waypoint Deployment (istioctl's filter for the service-association checks)."""
    _, meta, _ = pod_spec(obj)
    waypoint = "gateway.istio.io/managed" in (meta.get("labels") or {}) or "gateway.istio.io/managed" in obj.labels
    return _deployment_in_mesh(obj, ctx) and not waypoint


@rule(
    code="IST0116",
    kinds=("Deployment",),
    severity="warning",
    title="Deployment associated with Services using one port with different protocols",
    doc="Several Services select this Deployment's pods and use the same port number with different protocols. "
    "The sidecar can serve one protocol per port, so one of the Services breaks. Use distinct ports or the same "
    "protocol. Only Deployments in the mesh are checked, as istioctl decides it: an istio-proxy container, else "
    "the template's `sidecar.istio.io/inject` label or annotation, else the namespace's `istio-injection`.",
)
def deployment_multi_service_protocols(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not _candidate(obj, ctx):
        return
    by_port: dict[int, set[str]] = defaultdict(set)
    names: dict[int, set[str]] = defaultdict(set)
    for svc in _services_of(obj, ctx):
        for p in dicts(svc.spec.get("ports")):
            if p.get("port") is None:
                continue
            by_port[int(p["port"])].add(str(p.get("protocol") or "TCP").upper())
            names[int(p["port"])].add(svc.name)
    for port, protos in sorted(by_port.items()):
        if len(protos) > 1:
            yield Hit(
                f"This deployment {obj.name} is associated with multiple services using port {port} but different "
                f"protocols: {', '.join(sorted(names[port]))}"
            )


@rule(
    code="IST0137",
    kinds=("Deployment",),
    severity="warning",
    title="Deployment's Services map one targetPort from different ports",
    doc="Services that select this Deployment send different service ports to the same targetPort; Istio "
    "builds one inbound listener per targetPort and the settings of the ports conflict. Use one service port per "
    "targetPort.",
)
def deployment_conflicting_ports(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if not _candidate(obj, ctx):
        return
    by_target: dict[str, set[int]] = defaultdict(set)
    for svc in _services_of(obj, ctx):
        for p in dicts(svc.spec.get("ports")):
            if p.get("port") is None:
                continue
            by_target[str(p.get("targetPort", p["port"]))].add(int(p["port"]))
    for target, ports in sorted(by_target.items()):
        if len(ports) > 1:
            yield Hit(
                f"This deployment {obj.name} is associated with multiple services that use targetPort {target} "
                f"from different ports: {', '.join(str(p) for p in sorted(ports))}"
            )


# -- Kiali workload checks -----------------------------------------------------------------------


def _reportable(obj: ConfigObject, ctx: Context) -> Workload | None:
    """The workload to report on: controllers and standalone pods (pods/ReplicaSets owned by a controller are
    reported through it)."""
    w = _workload(obj, ctx)
    if w is None or owned(w):
        return None
    return w


def _ap_covered(ctx: Context) -> tuple[set[str | None], set[int], bool]:
    """(namespaces with a selector-less AP, ids of workload objects a selector AP matches, mesh-wide AP present)."""
    root = ctx.mesh.root_namespace
    ns_wide: set[str | None] = set()
    covered: set[int] = set()
    mesh_wide = False
    for ap in ctx.index.of_kind("AuthorizationPolicy"):
        if target_refs(ap):
            continue
        sel = match_labels(ap)
        if not sel:
            if ap.namespace == root:
                mesh_wide = True
            ns_wide.add(ap.namespace)
        else:
            scope = None if ap.namespace == root else ap.namespace
            covered.update(id(w.obj) for w in ctx.index.workloads_matching(sel, scope))
    return ns_wide, covered, mesh_wide


@rule(
    code="KIA1301",
    kinds=WORKLOADS,
    severity="warning",
    title="No AuthorizationPolicy covers the workload",
    doc="No AuthorizationPolicy applies to this workload (none without a selector in its namespace or the root "
    "namespace, none whose selector matches it), so every request is allowed. Kiali ignores this check by "
    "default (validations.ignore: [KIA1301]); it matters in meshes that aim for deny-by-default.",
)
def workload_no_authorization(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    w = _reportable(obj, ctx)
    if w is None or not w.in_mesh:
        return
    ns_wide, covered, mesh_wide = ctx.memo("workload.ap_covered", _ap_covered)
    if mesh_wide or w.namespace in ns_wide or id(obj) in covered:
        return
    yield Hit("This workload is not covered by any authorization policy")


@rule(
    code="KIA1311",
    kinds=WORKLOADS,
    severity="error",
    title="Workload has both sidecar and Ambient labels",
    doc="The workload is labelled for sidecar injection (sidecar.istio.io/inject=true) and for Ambient "
    "(istio.io/dataplane-mode=ambient). A workload uses one data plane; remove one of the labels.",
)
def workload_sidecar_and_ambient_labels(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    w = _reportable(obj, ctx)
    if w and str(w.labels.get(INJECT)).lower() == "true" and w.labels.get(DATAPLANE_MODE) == "ambient":
        yield Hit("Workload has both the sidecar injection label and the Ambient dataplane-mode label")


def _in_ambient(w: Workload, ctx: Context) -> bool:
    return (
        w.ambient
        or w.labels.get(DATAPLANE_MODE) == "ambient"
        or (ambient_namespace(ctx, w.namespace) and w.labels.get(DATAPLANE_MODE) != "none")
    )


@rule(
    code="KIA1312",
    kinds=WORKLOADS,
    severity="warning",
    title="Workload has waypoint labels but is not in Ambient",
    doc="The workload carries istio.io/use-waypoint, but neither it nor its namespace is in Ambient mode, so no "
    "ztunnel sends its traffic to the waypoint. Enroll it in Ambient or remove the label.",
)
def workload_waypoint_not_ambient(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    w = _reportable(obj, ctx)
    if w and USE_WAYPOINT in w.labels and not _in_ambient(w, ctx):
        yield Hit(f"Workload is labelled {USE_WAYPOINT} but is not part of the Ambient mesh")


@rule(
    code="KIA1313",
    kinds=WORKLOADS,
    severity="error",
    title="Referenced waypoint does not exist",
    doc="The workload's istio.io/use-waypoint label (with istio.io/use-waypoint-namespace) names a waypoint, a "
    "Gateway of class istio-waypoint, that does not exist, so its L7 traffic has nowhere to go.",
)
def workload_waypoint_missing(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    w = _reportable(obj, ctx)
    if not w or not w.labels.get(USE_WAYPOINT) or w.labels[USE_WAYPOINT] == "none":
        return
    ns = w.labels.get(USE_WAYPOINT_NS) or w.namespace
    if (ns, w.labels[USE_WAYPOINT]) not in waypoint_names(ctx):
        yield Hit(f"Waypoint {ns}/{w.labels[USE_WAYPOINT]} referenced by {USE_WAYPOINT} does not exist")


@rule(
    code="KIA1314",
    kinds=POD,
    severity="error",
    title="Pod has a sidecar label and Ambient redirection",
    doc="The pod is labelled for sidecar injection but ztunnel also captures its traffic "
    "(ambient.istio.io/redirection=enabled). Traffic would be handled twice; choose one data plane.",
)
def pod_sidecar_label_and_redirection(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if str(obj.labels.get(INJECT)).lower() == "true" and obj.annotations.get(AMBIENT_REDIRECTION) == "enabled":
        yield Hit("Pod has the sidecar injection label and Ambient redirection enabled")


@rule(
    code="KIA1315",
    kinds=POD,
    severity="error",
    title="Pod has a sidecar and Ambient labels",
    doc="The pod runs an istio-proxy sidecar and carries istio.io/dataplane-mode=ambient. Istio keeps Ambient "
    "away from sidecar pods, so the Ambient label has no effect and hides the pod's real mode.",
)
def pod_sidecar_and_ambient_label(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    if _proxy(obj.spec) is not None and obj.labels.get(DATAPLANE_MODE) == "ambient":
        yield Hit("Pod has an istio-proxy sidecar and the Ambient dataplane-mode label")


@rule(
    code="KIA1316",
    kinds=WORKLOADS,
    severity="warning",
    title="Workload has a sidecar in an Ambient namespace",
    doc="The namespace is enrolled in Ambient, but this workload runs (or will be injected with) a sidecar. "
    "It works, but the two modes differ in policy attachment and telemetry; migrate the workload or label "
    "it out of Ambient explicitly.",
)
def workload_sidecar_in_ambient_ns(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    w = _reportable(obj, ctx)
    if w and w.sidecar and ambient_namespace(ctx, w.namespace):
        yield Hit(f"Workload has a sidecar in the Ambient namespace {w.namespace!r}")


def _l7_ap_targets(ctx: Context) -> set[int]:
    """ids of workload objects an L7 AuthorizationPolicy (selector or namespace-wide) applies to."""
    from meshreport.validation.rules.authorizationpolicy import is_l7

    out: set[int] = set()
    for ap in ctx.index.of_kind("AuthorizationPolicy"):
        if is_l7(ap) and not target_refs(ap):
            out.update(id(w.obj) for w in ctx.index.workloads_matching(match_labels(ap), ap.namespace))
    return out


@rule(
    code="KIA1317",
    kinds=WORKLOADS,
    severity="warning",
    title="Workload has L7 AuthorizationPolicies but no waypoint",
    doc="An AuthorizationPolicy with HTTP rules applies to this Ambient workload, but the workload, its "
    "namespace and its Services use no waypoint. ztunnel cannot evaluate HTTP rules, so the policy is not "
    "enforced as written. Deploy a waypoint and enroll the workload.",
)
def workload_l7_policy_without_waypoint(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    w = _reportable(obj, ctx)
    if not w or w.sidecar or not _in_ambient(w, ctx):
        return
    if USE_WAYPOINT in w.labels or USE_WAYPOINT in ctx.index.namespace_labels.get(w.namespace or "", {}):
        return
    if any(USE_WAYPOINT in svc.labels for svc in _services_of(obj, ctx)):
        return
    if id(obj) in ctx.memo("workload.l7_targets", _l7_ap_targets):
        yield Hit("Workload is targeted by L7 authorization policies but has no waypoint")
