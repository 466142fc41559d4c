"""Least-data reduction: keep only what analysis needs, before anything is stored.

A snapshot travels (CI artifacts, bug reports, laptops), so it must never hold Secret data,
environment values or the noise the API server adds (managedFields, last-applied copies).
Pods are reduced hardest: there can be tens of thousands and analysis needs only identity,
ownership, containers and readiness. Both the live collector and the YAML loader call `reduce`.
"""

from __future__ import annotations

from typing import Any

from meshreport.istio_names import ISTIO_INIT_CONTAINER, MULTICLUSTER_SECRET, SIDECAR_CONTAINER

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
_METADATA_KEEP = (
    "name",
    "generateName",
    "namespace",
    "uid",
    "labels",
    "annotations",
    "ownerReferences",
    "creationTimestamp",
    "deletionTimestamp",
    "generation",
)


def reduce(body: dict[str, Any]) -> dict[str, Any]:
    """Return a reduced copy of one object (the input is not modified)."""
    kind = body.get("kind")
    if kind == "Pod":
        return reduce_pod(body)
    if kind == "Secret":
        return reduce_secret(body)
    if kind == "CustomResourceDefinition":
        return reduce_crd(body)
    out = {k: v for k, v in body.items() if k != "metadata"}
    out["metadata"] = reduce_metadata(body.get("metadata") or {})
    if kind == "MutatingWebhookConfiguration" and isinstance(body.get("webhooks"), list):
        out["webhooks"] = [_strip_ca_bundle(w) for w in body["webhooks"]]
    return _strip_env(out)


def reduce_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    """Identity, labels, annotations (minus last-applied), owners; never managedFields."""
    if not isinstance(meta, dict):
        return {}
    out = {k: meta[k] for k in _METADATA_KEEP if k in meta and meta[k] is not None}
    ann = out.get("annotations")
    if isinstance(ann, dict) and LAST_APPLIED in ann:
        out["annotations"] = {k: v for k, v in ann.items() if k != LAST_APPLIED}
    return out


def reduce_secret(body: dict[str, Any]) -> dict[str, Any]:
    """Secrets: name and type, never data. A Secret that arrives with data (read by name for
    `--gateway-certs`, or from a YAML file) keeps derived `certificate` facts instead (certs.py):
    validity, subject, whether the key parses and matches; never a byte of certificate or key."""
    meta = reduce_metadata(body.get("metadata") or {})
    out: dict[str, Any] = {"apiVersion": body.get("apiVersion", "v1"), "kind": "Secret", "metadata": meta}
    if isinstance(body.get("type"), str):
        out["type"] = body["type"]
    from meshreport.collect.certs import certificate_facts, secret_data

    data = secret_data(body)
    if data is not None:
        out["certificate"] = certificate_facts(data)
    if str((meta.get("labels") or {}).get(MULTICLUSTER_SECRET, "")).lower() == "true":
        # a remote secret's keys are the cluster IDs MeshNetworks may name (IST0126); never its kubeconfigs
        keys = [k for field in ("data", "stringData") if isinstance(body.get(field), dict) for k in body[field]]
        out["dataKeys"] = sorted({str(k) for k in keys})
    return out


def reduce_crd(body: dict[str, Any]) -> dict[str, Any]:
    """A CRD's identity, group, names and versions (name, served, storage): never its openAPIV3Schema,
    which is most of a CRD's bytes and which no check reads. The bundle-version annotation stays."""
    spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
    rspec: dict[str, Any] = {}
    for key in ("group", "scope"):
        if isinstance(spec.get(key), str):
            rspec[key] = spec[key]
    if isinstance(spec.get("names"), dict):
        rspec["names"] = {
            k: v for k, v in spec["names"].items() if k in ("kind", "listKind", "plural", "singular", "shortNames")
        }
    rspec["versions"] = [
        {k: v[k] for k in ("name", "served", "storage", "deprecated") if k in v}
        for v in _list(spec.get("versions"))
        if isinstance(v, dict)
    ]
    out: dict[str, Any] = {
        "apiVersion": body.get("apiVersion", "apiextensions.k8s.io/v1"),
        "kind": "CustomResourceDefinition",
        "metadata": reduce_metadata(body.get("metadata") or {}),
        "spec": rspec,
    }
    stored = (body.get("status") or {}).get("storedVersions") if isinstance(body.get("status"), dict) else None
    if isinstance(stored, list):
        out["status"] = {"storedVersions": [str(v) for v in stored]}
    return out


def reduce_pod(body: dict[str, Any]) -> dict[str, Any]:
    """What workload health, sidecar checks and the graph need from a Pod, and nothing else."""
    spec = body.get("spec") or {}
    status = body.get("status") if isinstance(body.get("status"), dict) else {}
    if not isinstance(spec, dict):  # kept for the shape guard to report (a list emptied: it could hold env)
        meta = reduce_metadata(body.get("metadata") or {})
        return {
            "apiVersion": body.get("apiVersion", "v1"),
            "kind": "Pod",
            "metadata": meta,
            "spec": [] if isinstance(spec, list) else spec,
        }
    rspec: dict[str, Any] = {}
    if spec.get("serviceAccountName"):
        rspec["serviceAccountName"] = spec["serviceAccountName"]
    if isinstance(spec.get("nodeName"), str) and spec["nodeName"]:
        rspec["nodeName"] = spec["nodeName"]  # its Node's topology labels count for subsets (IST0173)
    if spec.get("hostNetwork") is True:
        rspec["hostNetwork"] = True  # such pods are never injected (istioctl's IST0103 skips them)
    if (uid := _run_as_user(spec)) is not None:
        rspec["securityContext"] = {"runAsUser": uid}  # UID 1337 is the proxy's (IST0144)
    rspec["containers"] = _reduce_containers(spec.get("containers") or [])
    if spec.get("initContainers"):
        rspec["initContainers"] = _reduce_containers(spec["initContainers"], init=True)
    rstatus: dict[str, Any] = {}
    if status.get("phase"):
        rstatus["phase"] = status["phase"]
    conds = [
        {k: c[k] for k in ("type", "status") if k in c}
        for c in _list(status.get("conditions"))
        if isinstance(c, dict) and c.get("type") in ("Ready", "ContainersReady", "PodScheduled", "Initialized")
    ]
    if conds:
        rstatus["conditions"] = conds
    for key in ("containerStatuses", "initContainerStatuses"):
        if status.get(key):
            rstatus[key] = [
                {k: cs[k] for k in ("name", "ready", "started", "restartCount") if k in cs}
                for cs in _list(status[key])
                if isinstance(cs, dict)
            ]
    out: dict[str, Any] = {
        "apiVersion": body.get("apiVersion", "v1"),
        "kind": "Pod",
        "metadata": reduce_metadata(body.get("metadata") or {}),
        "spec": rspec,
    }
    if rstatus:
        out["status"] = rstatus
    return out


def _list(v: Any) -> list:
    return v if isinstance(v, list) else []


def _reduce_containers(cs: Any, *, init: bool = False) -> Any:
    """Each container reduced. A value of the wrong type stays for the shape guard to report (a
    scalar as it is, a list or mapping emptied: it could hold env values)."""
    if not isinstance(cs, list):
        return cs if not isinstance(cs, (dict, list)) else {}
    return [
        _reduce_container(c, init=init) if isinstance(c, dict) else (c if not isinstance(c, (dict, list)) else [])
        for c in cs
    ]


def _reduce_container(c: dict[str, Any], *, init: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"name": c.get("name")}
    if c.get("image"):
        out["image"] = c["image"]
    ports = [
        {k: p[k] for k in ("name", "containerPort", "protocol") if k in p}
        for p in c.get("ports") or []
        if isinstance(p, dict)
    ]
    if ports:
        out["ports"] = ports
    if (uid := _run_as_user(c)) is not None:
        out["securityContext"] = {"runAsUser": uid}
    if init and c.get("restartPolicy"):
        # restartPolicy: Always marks a native sidecar (how Istio injects on Kubernetes >= 1.29).
        out["restartPolicy"] = c["restartPolicy"]
    return out


def _run_as_user(node: dict[str, Any]) -> int | None:
    sc = node.get("securityContext")
    uid = sc.get("runAsUser") if isinstance(sc, dict) else None
    return uid if isinstance(uid, int) and not isinstance(uid, bool) else None


def _strip_ca_bundle(webhook: Any) -> Any:
    """caBundle is not secret but large and useless to analysis; keep that one was set."""
    if not isinstance(webhook, dict):
        return webhook
    cc = webhook.get("clientConfig")
    if isinstance(cc, dict) and "caBundle" in cc:
        webhook = dict(webhook)
        webhook["clientConfig"] = {k: v for k, v in cc.items() if k != "caBundle"}
    return webhook


def _strip_env(node: Any) -> Any:
    """Replace every container's env by its variable names, wherever a pod template sits."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k in _CONTAINER_LISTS and isinstance(v, list):
                out[k] = [_container_without_env(c) for c in v]
            else:
                out[k] = _strip_env(v)
        return out
    if isinstance(node, list):
        return [_strip_env(x) for x in node]
    return node


def _container_without_env(c: Any) -> Any:
    if not isinstance(c, dict) or "env" not in c:
        return c
    c = dict(c)
    env = c.get("env")
    c["env"] = [_env_name(e) for e in env if isinstance(e, dict) and "name" in e] if isinstance(env, list) else []
    return c


# Variables whose having a value (never the value) analysis needs: istioctl's IST0175 asks whether istiod sets
# BLOCKED_CIDRS_IN_JWKS_URIS to something.
ENV_VALUE_PRESENCE = frozenset({"BLOCKED_CIDRS_IN_JWKS_URIS"})


def _env_name(e: dict[str, Any]) -> dict[str, Any]:
    """A variable's name; for ENV_VALUE_PRESENCE also `valueSet` when it has a non-empty literal value."""
    out: dict[str, Any] = {"name": e["name"]}
    if e["name"] in ENV_VALUE_PRESENCE and isinstance(e.get("value"), str) and e["value"].strip():
        out["valueSet"] = True
    return out


def has_sidecar(pod_body: dict[str, Any]) -> bool:
    """An istio-proxy container, or an istio-proxy native sidecar among the init containers."""
    spec = pod_body.get("spec") if isinstance(pod_body.get("spec"), dict) else {}
    cs = _list(spec.get("containers")) + _list(spec.get("initContainers"))
    return SIDECAR_CONTAINER in [c.get("name") for c in cs if isinstance(c, dict)]


def has_istio_init(pod_body: dict[str, Any]) -> bool:
    """The istio-init container that sets up iptables (absent with the CNI plugin)."""
    spec = pod_body.get("spec") if isinstance(pod_body.get("spec"), dict) else {}
    return any(isinstance(c, dict) and c.get("name") == ISTIO_INIT_CONTAINER for c in _list(spec.get("initContainers")))
