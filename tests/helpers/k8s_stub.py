"""A fake Kubernetes API server for tests: stdlib ThreadingHTTPServer, real API paths, real-shaped JSON.

No API server runs here, so the real `kubernetes` client talks to
this stub instead. It serves discovery (/version, /api, /apis, group and resource lists), List
responses with `limit`/`continue` pagination, single objects by name, Status errors (403 for
forbidden namespaces, 404 for groups, versions and paths that are not served) and metadata-only
lists (PartialObjectMetadataList) when the client asks for them. Every request is recorded so
tests can check what the collector asked for.

The stub's resource table is its own (what a real Istio 1.22+ cluster serves), independent of
the collector's kinds table, so a mistake in one is caught by the other.
"""

from __future__ import annotations

import base64
import copy
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Resource:
    group: str
    kind: str
    plural: str
    versions: tuple[str, ...]
    namespaced: bool = True
    crd: bool = False  # CRD list items carry apiVersion/kind; built-in list items do not


_NET, _SEC, _GW = "networking.istio.io", "security.istio.io", "gateway.networking.k8s.io"
_NETV = ("v1", "v1beta1", "v1alpha3")
RESOURCES: tuple[Resource, ...] = (
    Resource("", "Namespace", "namespaces", ("v1",), namespaced=False),
    Resource("", "Service", "services", ("v1",)),
    Resource("", "Endpoints", "endpoints", ("v1",)),
    Resource("", "Pod", "pods", ("v1",)),
    Resource("", "ConfigMap", "configmaps", ("v1",)),
    Resource("", "Secret", "secrets", ("v1",)),
    Resource("", "ServiceAccount", "serviceaccounts", ("v1",)),
    Resource("discovery.k8s.io", "EndpointSlice", "endpointslices", ("v1",)),
    Resource("apps", "Deployment", "deployments", ("v1",)),
    Resource("apps", "StatefulSet", "statefulsets", ("v1",)),
    Resource("apps", "DaemonSet", "daemonsets", ("v1",)),
    Resource("apps", "ReplicaSet", "replicasets", ("v1",)),
    Resource(
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        ("v1",),
        namespaced=False,
    ),
    Resource(
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        ("v1",),
        namespaced=False,
    ),
    Resource(_NET, "VirtualService", "virtualservices", _NETV, crd=True),
    Resource(_NET, "DestinationRule", "destinationrules", _NETV, crd=True),
    Resource(_NET, "Gateway", "gateways", _NETV, crd=True),
    Resource(_NET, "ServiceEntry", "serviceentries", _NETV, crd=True),
    Resource(_NET, "Sidecar", "sidecars", _NETV, crd=True),
    Resource(_NET, "WorkloadEntry", "workloadentries", _NETV, crd=True),
    Resource(_NET, "WorkloadGroup", "workloadgroups", _NETV, crd=True),
    Resource(_NET, "EnvoyFilter", "envoyfilters", ("v1alpha3",), crd=True),
    Resource(_NET, "ProxyConfig", "proxyconfigs", ("v1beta1",), crd=True),
    Resource(_SEC, "PeerAuthentication", "peerauthentications", ("v1", "v1beta1"), crd=True),
    Resource(_SEC, "AuthorizationPolicy", "authorizationpolicies", ("v1", "v1beta1"), crd=True),
    Resource(_SEC, "RequestAuthentication", "requestauthentications", ("v1", "v1beta1"), crd=True),
    Resource("telemetry.istio.io", "Telemetry", "telemetries", ("v1", "v1alpha1"), crd=True),
    Resource("extensions.istio.io", "WasmPlugin", "wasmplugins", ("v1alpha1",), crd=True),
    Resource(_GW, "GatewayClass", "gatewayclasses", ("v1", "v1beta1"), namespaced=False, crd=True),
    Resource(_GW, "Gateway", "gateways", ("v1", "v1beta1"), crd=True),
    Resource(_GW, "HTTPRoute", "httproutes", ("v1", "v1beta1"), crd=True),
    Resource(_GW, "GRPCRoute", "grpcroutes", ("v1",), crd=True),
    Resource(_GW, "TCPRoute", "tcproutes", ("v1alpha2",), crd=True),
    Resource(_GW, "TLSRoute", "tlsroutes", ("v1alpha2",), crd=True),
    Resource(_GW, "ReferenceGrant", "referencegrants", ("v1", "v1beta1"), crd=True),
)


def load_yaml_objects(*paths: str | Path, namespace: str | None = None) -> list[dict[str, Any]]:
    """Raw objects (List kinds expanded) from YAML files or folders, as a cluster would store them.

    `namespace` is given to namespaced objects that have none (the Istio samples have none).
    """
    out: list[dict[str, Any]] = []
    for p in paths:
        p = Path(p)
        files = sorted(f for f in p.rglob("*") if f.suffix in (".yaml", ".yml")) if p.is_dir() else [p]
        for f in files:
            for doc in yaml.load_all(f.read_text(), Loader=_Loader):
                if not isinstance(doc, dict):
                    continue
                if doc.get("kind", "").endswith("List") and isinstance(doc.get("items"), list):
                    out.extend(doc["items"])
                else:
                    out.append(doc)
    if namespace is not None:
        cluster_scoped = {r.kind for r in RESOURCES if not r.namespaced}
        for o in out:
            meta = o.setdefault("metadata", {})
            if o.get("kind") not in cluster_scoped and not meta.get("namespace"):
                meta["namespace"] = namespace
    return out


@dataclass
class Request:
    path: str
    query: dict[str, str]
    accept: str
    authorization: str


@dataclass
class StubCluster:
    """The state the stub serves. Change the knobs before or between requests.

    - `forbidden_namespaces`: lists in these namespaces answer 403, and so (as with a per-namespace
      RoleBinding) do cluster-wide lists of namespaced resources.
    - `missing_groups`: groups that are not installed (absent from /apis, 404 on their paths).
    - `drop_versions`: {group: {versions}} not served, e.g. {"networking.istio.io": {"v1"}} for Istio < 1.22.
    - `discovery_broken`: /apis answers 503, so a client must find versions by trying them (404 fallback).
    - `forbidden_resources`: plurals (e.g. `customresourcedefinitions`) every request for answers 403, as when
      the ClusterRole does not grant them.
    - `faults`: {plural: mode} for lists of that resource, as failing servers behave:
      `continue-loop` (every page sends the same continue token), `gone` (410 Gone for the first
      `gone_times` continue requests, then normal), `gone-always`, `500-later` (pages after the first
      answer 500), `malformed` (items that are not objects with a name mixed in), `huge` (items padded
      to `huge_bytes`), `hang` (no answer for `hang_seconds`), `trickle` (one body byte every
      `trickle_seconds`).
    - `unauthorized_after`: every request after this many answers 401 (a token that expires mid-run).
    - `reset_after`: every connection after this many requests is reset without an answer (the API
      server went away mid-run).
    """

    objects: list[dict[str, Any]] = field(default_factory=list)
    git_version: str = "v1.29.4"
    default_namespace: str = "default"
    forbidden_namespaces: set[str] = field(default_factory=set)
    missing_groups: set[str] = field(default_factory=set)
    drop_versions: dict[str, set[str]] = field(default_factory=dict)
    discovery_broken: bool = False
    forbidden_resources: set[str] = field(default_factory=set)
    tokens: set[str] | None = None  # accepted bearer tokens; None accepts any
    faults: dict[str, str] = field(default_factory=dict)
    gone_times: int = 1
    huge_bytes: int = 4 * 1024 * 1024
    hang_seconds: float = 30.0
    trickle_seconds: float = 0.2
    unauthorized_after: int | None = None
    reset_after: int | None = None
    echo_auth: bool = False  # error Status messages repeat the Authorization header, as a careless proxy might
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_resource: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        res_by_kind = {(r.group, r.kind): r for r in RESOURCES}
        for i, obj in enumerate(self.objects):
            group = obj["apiVersion"].split("/")[0] if "/" in obj["apiVersion"] else ""
            res = res_by_kind.get((group, obj["kind"]))
            if res is None:
                continue
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            if res.namespaced:
                meta.setdefault("namespace", self.default_namespace)
            meta.setdefault("uid", f"00000000-0000-0000-0000-{i:012d}")
            meta.setdefault("resourceVersion", str(1000 + i))
            # what a real server adds and the collector must not store
            meta.setdefault("managedFields", [{"manager": "kubectl", "operation": "Update", "fieldsV1": {}}])
            self._by_resource.setdefault((group, res.plural), []).append(obj)
        for items in self._by_resource.values():
            items.sort(key=lambda o: (o["metadata"].get("namespace") or "", o["metadata"]["name"]))

    # --- what is served --------------------------------------------------------------------

    def served_versions(self, group: str) -> list[str]:
        if group in self.missing_groups:
            return []
        versions: list[str] = []
        for r in RESOURCES:
            if r.group == group:
                for v in r.versions:
                    if v not in versions and v not in self.drop_versions.get(group, set()):
                        versions.append(v)
        return versions

    def resource(self, group: str, version: str, plural: str) -> Resource | None:
        if version not in self.served_versions(group):
            return None
        for r in RESOURCES:
            if r.group == group and r.plural == plural and version in r.versions:
                return r
        return None

    # --- responses -------------------------------------------------------------------------

    def handle(self, path: str, query: dict[str, str], accept: str) -> tuple[int, Any]:
        parts = [p for p in path.strip("/").split("/") if p]
        if parts == ["version"]:
            major, minor = self.git_version.lstrip("v").split(".")[:2]
            return 200, {"major": major, "minor": minor, "gitVersion": self.git_version, "platform": "linux/amd64"}
        if parts == ["api"]:
            return 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
        if parts == ["apis"]:
            if self.discovery_broken:
                return self._status(503, "ServiceUnavailable", "discovery is temporarily unavailable")
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": self._groups()}
        if parts[:1] == ["api"] and len(parts) >= 2:
            return self._resource_path("", parts[1], parts[2:], query, accept)
        if parts[:1] == ["apis"] and len(parts) >= 3:
            return self._resource_path(parts[1], parts[2], parts[3:], query, accept)
        if parts[:1] == ["apis"] and len(parts) == 2 and self.served_versions(parts[1]):
            return 200, self._group(parts[1])
        return self._status(404, "NotFound", "the server could not find the requested resource")

    def _groups(self) -> list[dict[str, Any]]:
        names = list(dict.fromkeys(r.group for r in RESOURCES if r.group))
        return [self._group(g) for g in names if self.served_versions(g)]

    def _group(self, g: str) -> dict[str, Any]:
        vs = self.served_versions(g)
        gv = [{"groupVersion": f"{g}/{v}", "version": v} for v in vs]
        return {"kind": "APIGroup", "apiVersion": "v1", "name": g, "versions": gv, "preferredVersion": gv[0]}

    def _resource_path(
        self, group: str, version: str, rest: list[str], query: dict[str, str], accept: str
    ) -> tuple[int, Any]:
        gv = f"{group}/{version}" if group else version
        if not rest:
            if not self.served_versions(group) or version not in self.served_versions(group):
                return self._status(404, "NotFound", "the server could not find the requested resource")
            resources = [
                {"name": r.plural, "kind": r.kind, "namespaced": r.namespaced, "verbs": ["get", "list"]}
                for r in RESOURCES
                if r.group == group and version in r.versions
            ]
            return 200, {"kind": "APIResourceList", "groupVersion": gv, "resources": resources}
        namespace = None
        name = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        if len(rest) == 2:
            name, rest = rest[1], rest[:1]
        if len(rest) != 1:
            return self._status(404, "NotFound", "the server could not find the requested resource")
        res = self.resource(group, version, rest[0])
        if res is None:
            return self._status(404, "NotFound", "the server could not find the requested resource")
        if res.plural in self.forbidden_resources or (
            res.namespaced
            and (
                (namespace is not None and namespace in self.forbidden_namespaces)
                or (namespace is None and self.forbidden_namespaces)
            )
        ):
            where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
            return self._status(
                403,
                "Forbidden",
                f'{res.plural} is forbidden: User "system:serviceaccount:meshreport:meshreport" cannot list '
                f'resource "{res.plural}" in API group "{group}"{where}',
            )
        items = self._by_resource.get((group, res.plural), [])
        if namespace is not None and res.namespaced:
            items = [o for o in items if o["metadata"].get("namespace") == namespace]
        if name is not None:
            for o in items:
                if o["metadata"]["name"] == name:
                    return 200, self._as_version(o, gv, always_kind=True)
            return self._status(404, "NotFound", f'{res.plural} "{name}" not found')
        mode = self.faults.get(res.plural)
        if mode and query.get("continue"):
            if mode == "gone-always" or (mode == "gone" and self._gone_left() > 0):
                return self._status(
                    410, "Expired", "The provided continue parameter is too old to display a consistent list result."
                )
            if mode == "500-later":
                return self._status(500, "InternalError", "etcdserver: request timed out")
        if mode == "malformed":
            items = [*items[:1], 7, "x", {"metadata": "oops"}, {"metadata": {"name": 5}}, *items[1:]]
        if mode == "huge":
            pad = "x" * 1024
            items = [
                {
                    **o,
                    "metadata": {
                        **o["metadata"],
                        "annotations": {"pad": pad * (self.huge_bytes // 1024 // max(1, len(items)))},
                    },
                }
                for o in items
            ]
        code, body = self._list(res, gv, items, query, accept)
        if mode == "continue-loop" and code == 200:
            body["metadata"]["continue"] = base64.urlsafe_b64encode(b'{"start": 1}').decode()
        return code, body

    def _gone_left(self) -> int:
        with self._lock:
            self.gone_times -= 1
            return self.gone_times + 1

    def transport_fault(self, path: str) -> str | None:
        """`hang` or `trickle` when `path` lists a resource with that fault."""
        parts = [p for p in path.strip("/").split("/") if p]
        for plural, mode in self.faults.items():
            if mode in ("hang", "trickle") and parts and parts[-1] == plural:
                return mode
        return None

    def _list(
        self, res: Resource, gv: str, items: list[dict[str, Any]], query: dict[str, str], accept: str
    ) -> tuple[int, Any]:
        start = 0
        if query.get("continue"):
            try:
                start = json.loads(base64.urlsafe_b64decode(query["continue"]))["start"]
            except (ValueError, KeyError):
                return self._status(400, "BadRequest", "continue key is not valid")
        limit = int(query["limit"]) if query.get("limit") else 0
        end = start + limit if limit > 0 else len(items)
        page = items[start:end]
        meta: dict[str, Any] = {"resourceVersion": "99999"}
        if end < len(items):
            # real tokens are opaque base64 that needs URL-encoding (contains '=' and may contain '/')
            meta["continue"] = base64.urlsafe_b64encode(json.dumps({"start": end, "rv": 99999}).encode()).decode()
            meta["remainingItemCount"] = len(items) - end
        if "as=PartialObjectMetadataList" in accept:
            return 200, {
                "kind": "PartialObjectMetadataList",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": meta,
                "items": [
                    {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}
                    for o in page
                ],
            }
        return 200, {
            "kind": f"{res.kind}List",
            "apiVersion": gv,
            "metadata": meta,
            "items": [self._as_version(o, gv, always_kind=res.crd) for o in page],
        }

    @staticmethod
    def _as_version(obj: Any, gv: str, *, always_kind: bool) -> Any:
        if not isinstance(obj, dict):
            return obj  # a malformed item (fault mode) goes out as it is
        out = dict(obj)
        if always_kind:
            out["apiVersion"] = gv  # the server converts stored objects to the requested version
        else:
            out.pop("apiVersion", None)
            out.pop("kind", None)
        return out

    @staticmethod
    def _status(code: int, reason: str, message: str) -> tuple[int, Any]:
        return code, {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }


class _Handler(BaseHTTPRequestHandler):
    cluster: StubCluster  # set on the per-server subclass
    protocol_version = "HTTP/1.1"  # keep-alive, as a real API server; every answer has a Content-Length
    disable_nagle_algorithm = True  # headers and body are separate writes: Nagle + delayed ACK cost 40 ms each

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"  # the client asks for discovery at `/apis/`
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        accept = self.headers.get("Accept", "")
        auth = self.headers.get("Authorization", "")
        with self.cluster._lock:
            self.cluster.requests.append(Request(path=path, query=query, accept=accept, authorization=auth))
        if self.cluster.reset_after is not None and len(self.cluster.requests) > self.cluster.reset_after:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        tokens = self.cluster.tokens
        after = self.cluster.unauthorized_after
        if (tokens is not None and auth.removeprefix("Bearer ") not in tokens) or (
            after is not None and len(self.cluster.requests) > after
        ):
            code, body = StubCluster._status(401, "Unauthorized", "Unauthorized")
        else:
            code, body = self.cluster.handle(path, query, accept)
        if self.cluster.echo_auth and code >= 400 and isinstance(body, dict):
            body["message"] = f"{body.get('message')} (request had Authorization: {auth})"
        data = json.dumps(body).encode()
        fault = self.cluster.transport_fault(path) if code == 200 else None
        try:
            if fault == "hang":
                time.sleep(self.cluster.hang_seconds)
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if fault == "trickle":
                for i in range(len(data)):
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
                    time.sleep(self.cluster.trickle_seconds)
            else:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class StubServer:
    """Runs a StubCluster on 127.0.0.1 in a daemon thread; use as a context manager."""

    def __init__(self, cluster: StubCluster) -> None:
        self.cluster = cluster
        handler = type("Handler", (_Handler,), {"cluster": cluster})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        # a client that hangs up mid-answer (deadline, size limit) is expected, not a stub error
        self.httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        # a short poll interval: shutdown() waits for it, and tests start many servers
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> StubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def write_kubeconfig(path: Path, contexts: dict[str, tuple[str, str]], current: str | None = None) -> Path:
    """A kubeconfig with one cluster+user per context: {context: (server URL, bearer token)}."""
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": f"{c}-cluster", "cluster": {"server": url}} for c, (url, _t) in contexts.items()],
        "users": [{"name": f"{c}-user", "user": {"token": tok}} for c, (_u, tok) in contexts.items()],
        "contexts": [{"name": c, "context": {"cluster": f"{c}-cluster", "user": f"{c}-user"}} for c in contexts],
        "current-context": current or next(iter(contexts)),
    }
    path.write_text(yaml.safe_dump(doc))
    return path
