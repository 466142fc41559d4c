"""Hand-built Istio series and snapshots for graph tests (labels exactly as Istio reports them)."""

from __future__ import annotations

from typing import Any

from meshreport.snapshot.model import ConfigObject, QueryResult, Series, Snapshot, Source, Window

WINDOW = Window(start=1_700_000_000.0, end=1_700_000_600.0)


def labels(
    src: tuple[str, str, str, str] | None,
    dst: tuple[str, str, str, str] | None,
    svc: str | None = None,
    *,
    svc_ns: str | None = None,
    protocol: str | None = "http",
    code: str | None = "200",
    flags: str | None = "-",
    grpc: str | None = None,
    cluster: str = "east",
    dst_cluster: str | None = None,
    host: str | None = None,
) -> dict[str, str]:
    """Series labels. `src`/`dst` = (namespace, workload, app, version); None = `unknown`.

    `svc` is destination_service_name; the FQDN host is derived unless `host` is given.
    """
    s = src or ("unknown", "unknown", "unknown", "unknown")
    d = dst or ("unknown", "unknown", "unknown", "unknown")
    sns = svc_ns if svc_ns is not None else d[0]
    svc = svc if svc is not None else (d[2] if dst else "unknown")
    out = {
        "source_cluster": cluster if src else "unknown",
        "source_workload_namespace": s[0],
        "source_workload": s[1],
        "source_canonical_service": s[2],
        "source_canonical_revision": s[3],
        "destination_cluster": dst_cluster or cluster,
        "destination_service_namespace": sns,
        "destination_service": host or (f"{svc}.{sns}.svc.cluster.local" if sns != "unknown" else svc),
        "destination_service_name": svc,
        "destination_workload_namespace": d[0],
        "destination_workload": d[1],
        "destination_canonical_service": d[2],
        "destination_canonical_revision": d[3],
    }
    if src is None:
        out.pop("source_cluster")
    for k, v in (("request_protocol", protocol), ("response_code", code), ("response_flags", flags)):
        if v is not None:
            out[k] = v
    if grpc is not None:
        out["grpc_response_status"] = grpc
    return out


def tcp_labels(src, dst, svc=None, **kw) -> dict[str, str]:
    lb = labels(src, dst, svc, protocol=None, code=None, **kw)
    return lb


def wl(ns: str, app: str, version: str = "v1") -> tuple[str, str, str, str]:
    """(namespace, workload, app, version) for a workload named `<app>-<version>`."""
    return (ns, f"{app}-{version}", app, version)


def snapshot(
    results: dict[tuple[str, str], list[tuple[dict[str, str], float]]],
    namespaces: list[str],
    objects: list[ConfigObject] | None = None,
) -> Snapshot:
    """A snapshot with query results {(key, namespace): [(labels, value)]}."""
    queries = [
        QueryResult(
            key=key,
            promql=f"<{key}>",
            namespace=ns,
            kind="instant",
            time=WINDOW.end,
            series=[Series(dict(lb), value) for lb, value in series],
        )
        for (key, ns), series in results.items()
    ]
    return Snapshot(
        window=WINDOW,
        source=Source(kind="synthetic"),
        namespaces=namespaces,
        queries=queries,
        objects=objects or [],
    )


def obj(
    kind: str, name: str, namespace: str | None, body: dict[str, Any] | None = None, api: str = "v1"
) -> ConfigObject:
    body = dict(body or {})
    meta = dict(body.get("metadata") or {})
    meta.setdefault("name", name)
    if namespace:
        meta.setdefault("namespace", namespace)
    body["metadata"] = meta
    body.setdefault("kind", kind)
    body.setdefault("apiVersion", api)
    return ConfigObject(api_version=api, kind=kind, name=name, namespace=namespace, body=body, cluster="east")


def deployment(ns: str, name: str, labels: dict[str, str], replicas: int = 1, annotations=None) -> ConfigObject:
    tmpl = {"metadata": {"labels": labels, "annotations": annotations or {}}, "spec": {"containers": [{"name": "app"}]}}
    return obj("Deployment", name, ns, {"spec": {"replicas": replicas, "template": tmpl}}, api="apps/v1")


SIDECAR_STATUS = '{"initContainers":["istio-init"],"containers":["istio-proxy"],"revision":"default"}'


def pod(ns: str, name: str, owner: tuple[str, str], labels: dict[str, str], sidecar: bool = True) -> ConfigObject:
    containers = [{"name": "app"}] + ([{"name": "istio-proxy"}] if sidecar else [])
    meta: dict[str, Any] = {"labels": labels, "ownerReferences": [{"kind": owner[0], "name": owner[1]}]}
    if sidecar:  # what the injector writes; the mesh check reads it, not the container list
        meta["annotations"] = {"sidecar.istio.io/status": SIDECAR_STATUS}
    return obj("Pod", name, ns, {"metadata": meta, "spec": {"containers": containers}})


def workload_objects(ns: str, app: str, version: str = "v1", pods: int = 1, sidecar: bool = True) -> list[ConfigObject]:
    """A Deployment `<app>-<version>` with `pods` pods through a ReplicaSet."""
    name = f"{app}-{version}"
    lb = {"app": app, "version": version}
    out = [deployment(ns, name, lb, replicas=pods)]
    rs = obj(
        "ReplicaSet", f"{name}-5d4f", ns, {"metadata": {"ownerReferences": [{"kind": "Deployment", "name": name}]}}
    )
    out.append(rs)
    out += [pod(ns, f"{name}-5d4f-{i}", ("ReplicaSet", rs.name), lb, sidecar) for i in range(pods)]
    return out
