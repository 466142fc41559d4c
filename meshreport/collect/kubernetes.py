"""Config collection from live clusters with the official `kubernetes` client.

Why raw JSON through `ApiClient` rather than the typed `CoreV1Api` models: one code path serves
built-in kinds and Istio/Gateway API CRDs alike, and 10,000 pods are reduced page by page
without building 10,000 pydantic models first. Lists are paginated (`limit`/`continue`); a
forbidden namespace (403) or an API group that is not installed (404) becomes a recorded Gap
and collection goes on. Only when a cluster cannot be reached at all, or refuses the credentials
(401), does it raise InputError.

Every request ends by its deadline (`request_timeout`, body included) and by the run's
(`collect.http`); nothing is retried by urllib3 behind our back. A list that is slow, fails
mid-way or is cut by a deadline becomes a gap and what was listed before is kept. Pagination
stops at a continue token it has seen before, and relists from the start (at most
`MAX_RELISTS` times) when a continue token has expired (410 Gone).
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import urllib3
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from meshreport import __version__
from meshreport.collect import http
from meshreport.collect.kinds import ISTIO_CONFIGMAPS, Kind, collected
from meshreport.collect.least_data import reduce
from meshreport.collect.manifests import METRICS_NOT_COLLECTED
from meshreport.collect.prometheus import Redactor
from meshreport.errors import InputError
from meshreport.istio_names import ISTIO_NAMESPACE, SIDECAR_CONTAINER
from meshreport.snapshot.model import ConfigObject, Gap, Snapshot, Source, Window

DEFAULT_CLUSTER = "Kubernetes"  # Istio's default cluster id, as in metric labels and Kiali
# Secret names only: the API server sends metadata, never `data`, for this Accept header.
METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
#: How often a list whose continue token expired (410 Gone) is started again.
MAX_RELISTS = 3
#: Pages of one list before it is treated as endless (500 items a page: 5 million objects).
MAX_PAGES = 10_000
#: Requests in a row without an answer (refused, reset, timed out) before the cluster is given up.
MAX_FAILED_IN_A_ROW = 3


class HttpError(Exception):
    """A request that failed: a non-2xx answer (with the Status message when it sent one), or
    (status 0) no usable answer at all."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status
        self.message = message


class Unreachable(HttpError):
    """The API server did not answer (connection refused or reset, DNS, TLS)."""

    def __init__(self, message: str) -> None:
        super().__init__(0, message)


class TimedOut(HttpError):
    """No complete answer within the request deadline (a slow or trickling list)."""

    def __init__(self, message: str) -> None:
        super().__init__(0, message)


class ClusterDown(Exception):
    """A cluster that cannot be used at all: unreachable, or refusing the credentials (401)."""

    def __init__(self, reason: str, *, refused: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.refused = refused


class _Stopped(Exception):
    """Collection from this cluster ends here (401, the server gone, the run's deadline)."""

    def __init__(self, reason: str, *, refused: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.refused = refused


class _Expired(Exception):
    """410 Gone on a continue token: the list must start again."""


class _Loop(Exception):
    """Pagination that does not end."""


@dataclass
class ClusterResult:
    """What one cluster gave: objects, gaps and facts (versions, API versions used, counts)."""

    name: str
    objects: list[ConfigObject] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    kubernetes_version: str | None = None
    istio_version: str | None = None
    api_versions: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0


def collect_config(
    contexts: list[str] | None,
    namespaces: list[str] | None,
    *,
    in_cluster: bool = False,
    kubeconfig: str | None = None,
    secret_names: bool = False,
    gateway_certs: bool = False,
    page_size: int = 500,
    istio_namespace: str = ISTIO_NAMESPACE,
    request_timeout: float = 60.0,
    run: http.RunDeadline | None = None,
) -> tuple[list[ConfigObject], list[Gap], dict[str, Any]]:
    """Collect from every cluster: in-cluster, each `--context`, or the kubeconfig's current context.

    `gateway_certs` (implies `secret_names`) also reads the Secrets Gateways name in `tls.credentialName`
    and keeps derived certificate facts only (see gateway_credentials).
    Returns (objects, gaps, facts). `facts` has `clusters`, `versions` (kubernetes/istio, suffixed
    `@<cluster>` when there are several), `api_versions` per cluster, `counts`, `seconds`.
    Raises InputError when the configuration is unusable or no cluster could be used (unreachable,
    or every one refused the credentials).
    """
    clients = make_clients(contexts, in_cluster=in_cluster, kubeconfig=kubeconfig)
    results: list[ClusterResult] = []
    unreachable: list[Gap] = []
    refused = False
    for name, api in clients:
        try:
            results.append(
                collect_cluster(
                    api,
                    name,
                    namespaces,
                    secret_names=secret_names,
                    gateway_certs=gateway_certs,
                    page_size=page_size,
                    istio_namespace=istio_namespace,
                    request_timeout=request_timeout,
                    run=run,
                )
            )
        except ClusterDown as e:
            refused = refused or e.refused
            unreachable.append(Gap(phase="config", what="cluster", reason=e.reason, cluster=name))
        finally:
            api.close()
    if not results:
        g = unreachable[0]
        if refused:
            raise InputError(
                f"Kubernetes API of cluster {g.cluster} {g.reason}: check the kubeconfig's user or the "
                "service account token"
            )
        raise InputError(f"Kubernetes API {g.reason} (cluster {g.cluster})")
    return merge_results(results, unreachable)


def config_snapshot_from_cluster(
    contexts: list[str] | None,
    namespaces: list[str] | None,
    *,
    now: float | None = None,
    window_s: float = 600.0,
    metrics_gap: bool = True,
    **kw: Any,
) -> Snapshot:
    """A config-only snapshot from live clusters (`kw` as for `collect_config`).

    `metrics_gap` adds the gap saying metrics were not collected; turn it off when the objects
    are merged into a metrics snapshot.
    """
    objects, gaps, facts = collect_config(contexts, namespaces, **kw)
    end = time.time() if now is None else now
    if namespaces:
        names = list(dict.fromkeys(namespaces))
    else:
        names = sorted(
            {o.name for o in objects if o.kind == "Namespace"} | {o.namespace for o in objects if o.namespace}
        )
    if metrics_gap:
        gaps = [*gaps, Gap(phase="metrics", what=METRICS_NOT_COLLECTED, reason="not collected: config-only snapshot")]
    return Snapshot(
        window=Window(start=end - window_s, end=end),
        source=Source(
            kind="kubernetes",
            clusters=list(facts["clusters"]),
            versions=dict(facts["versions"]),
            description=f"config from Kubernetes API ({', '.join(facts['clusters'])})",
        ),
        namespaces=names,
        objects=objects,
        gaps=gaps,
        collector={"config": facts},
    )


def merge_results(
    results: list[ClusterResult], extra_gaps: list[Gap] | None = None
) -> tuple[list[ConfigObject], list[Gap], dict[str, Any]]:
    """Flatten per-cluster results into the (objects, gaps, facts) the snapshot stores."""
    objects = [o for r in results for o in r.objects]
    gaps = [g for r in results for g in r.gaps] + list(extra_gaps or [])
    several = len(results) > 1
    versions: dict[str, str] = {}
    for r in results:
        suffix = f"@{r.name}" if several else ""
        if r.kubernetes_version:
            versions["kubernetes" + suffix] = r.kubernetes_version
        if r.istio_version:
            versions["istio" + suffix] = r.istio_version
    facts = {
        "clusters": [r.name for r in results],
        "versions": versions,
        "api_versions": {r.name: r.api_versions for r in results},
        "counts": {r.name: r.counts for r in results},
        "requests": sum(r.requests for r in results),
        "seconds": round(sum(r.seconds for r in results), 3),
    }
    return objects, gaps, facts


def make_clients(
    contexts: list[str] | None, *, in_cluster: bool = False, kubeconfig: str | None = None
) -> list[tuple[str, k8s_client.ApiClient]]:
    """(cluster name, ApiClient) pairs. Named contexts tag objects with the context name."""
    try:
        if in_cluster:
            if contexts:
                raise InputError("--in-cluster and --context cannot be used together")
            cfg = k8s_client.Configuration()
            k8s_config.load_incluster_config(client_configuration=cfg)
            return [(DEFAULT_CLUSTER, _client(cfg))]
        if not contexts:
            api = k8s_config.new_client_from_config(config_file=kubeconfig, persist_config=False)
            api.user_agent = _user_agent()
            return [(DEFAULT_CLUSTER, api)]
        out = []
        for ctx in dict.fromkeys(contexts):
            api = k8s_config.new_client_from_config(config_file=kubeconfig, context=ctx, persist_config=False)
            api.user_agent = _user_agent()
            out.append((ctx, api))
        return out
    except (ConfigException, OSError) as e:
        where = "in-cluster service account" if in_cluster else f"kubeconfig {kubeconfig or '(default)'}"
        raise InputError(f"cannot load {where}: {_one_line(str(e))}") from None


def client_for(host: str, token: str | None = None, *, verify_ssl: bool = True) -> k8s_client.ApiClient:
    """An ApiClient for a URL and bearer token (tests, benchmarks, custom setups)."""
    cfg = k8s_client.Configuration(host=host)
    cfg.verify_ssl = verify_ssl
    if token:
        cfg.api_key = {"authorization": token}
        cfg.api_key_prefix = {"authorization": "Bearer"}
    return _client(cfg)


def _client(cfg: k8s_client.Configuration) -> k8s_client.ApiClient:
    api = k8s_client.ApiClient(cfg)
    api.user_agent = _user_agent()
    return api


def _guarded(api: k8s_client.ApiClient) -> k8s_client.ApiClient:
    """No retries inside urllib3 (a slow list used to cost four full timeouts) and connections
    watched by the request deadline."""
    pool = api.rest_client.pool_manager
    pool.connection_pool_kw["retries"] = urllib3.Retry(total=None, connect=1, read=0, redirect=0, status=0, other=0)
    http.guard(pool)
    return api


def _user_agent() -> str:
    return f"meshreport/{__version__}"


def collect_cluster(
    api: k8s_client.ApiClient,
    cluster: str,
    namespaces: list[str] | None,
    *,
    secret_names: bool = False,
    gateway_certs: bool = False,
    page_size: int = 500,
    istio_namespace: str = ISTIO_NAMESPACE,
    request_timeout: float = 60.0,
    run: http.RunDeadline | None = None,
) -> ClusterResult:
    """Collect one cluster. Raises ClusterDown only if the API server does not answer /version or
    refuses the credentials before anything was listed."""
    c = _Collector(
        _guarded(api), cluster, namespaces, secret_names or gateway_certs, page_size, istio_namespace, request_timeout
    )
    c.gateway_certs = gateway_certs
    c.run_deadline = run or http.RunDeadline(None)
    return c.run()


class _Collector:
    def __init__(
        self,
        api: k8s_client.ApiClient,
        cluster: str,
        namespaces: list[str] | None,
        secret_names: bool,
        page_size: int,
        istio_namespace: str,
        request_timeout: float,
    ) -> None:
        self.api = api
        self.result = ClusterResult(name=cluster)
        self.requested = list(dict.fromkeys(namespaces)) if namespaces else None
        self.secret_names = secret_names
        self.page_size = max(1, page_size)
        self.istio_namespace = istio_namespace
        self.timeout = request_timeout
        self.served: dict[str, list[str]] | None = None  # group -> versions; None if discovery failed
        self.all_namespaces: list[str] | None = None  # names from the Namespace list, for per-namespace fallback
        self.forbidden: dict[str, list[str]] = {}  # namespace -> resources it answered 403 for
        self.gateway_certs = False  # read the Secrets Gateways reference, by name (certificate facts only)
        self.run_deadline = http.RunDeadline(None)
        self.failed_in_a_row = 0
        self.step = "version"  # what is being collected, for the gap when collection stops

    # --- the run ---------------------------------------------------------------------------

    def run(self) -> ClusterResult:
        t0 = time.perf_counter()
        try:
            try:
                version = self.get("/version")
            except (Unreachable, TimedOut) as e:
                raise ClusterDown(self.redact(f"unreachable: {e}")) from None
            except HttpError as e:
                version = {}
                self.gap("version", f"cannot read /version: {e}")
            self.result.kubernetes_version = version.get("gitVersion") if isinstance(version, dict) else None
            self.step = "discovery"
            self.served = self.discover()
            done: set[str] = set()
            for kind in collected(secret_names=self.secret_names):
                if kind.fallback_for and kind.fallback_for in done:
                    continue
                self.step = resource_key(kind)
                if self.collect_kind(kind, quiet=any(k.fallback_for == kind.kind for k in collected())):
                    done.add(kind.kind)
            self.step = "configmaps"
            self.collect_configmaps()
            if self.gateway_certs:
                self.step = "secrets"
                self.collect_gateway_credentials()
        except _Stopped as e:
            if e.refused and not self.result.objects:
                raise ClusterDown(self.redact(e.reason), refused=True) from None
            self.gap("cluster", f"{e.reason}; not collected: {self.step} and every kind after it")
        for ns, keys in self.forbidden.items():
            # one gap per forbidden namespace, not one per resource: that is what a reader acts on
            self.gap(f"namespace/{ns}", f"forbidden (403): cannot list {len(keys)} resource(s): {', '.join(keys)}", ns)
        self.result.istio_version = istio_version(self.result.objects, self.istio_namespace)
        self.result.seconds = time.perf_counter() - t0
        return self.result

    def discover(self) -> dict[str, list[str]] | None:
        """Served versions per group from /api and /apis; None means "unknown, try each version"."""
        try:
            groups = self.get("/apis")
        except HttpError:
            return None
        served: dict[str, list[str]] = {"": ["v1"]}
        listed = groups.get("groups") if isinstance(groups, dict) else None
        if not isinstance(listed, list):
            return None
        for g in listed:
            if isinstance(g, dict) and isinstance(g.get("name"), str) and isinstance(g.get("versions"), list):
                served[g["name"]] = [str(v.get("version")) for v in g["versions"] if isinstance(v, dict)]
        return served

    def collect_kind(self, kind: Kind, *, quiet: bool = False) -> bool:
        """List one kind in its first served version; True if anything could be listed."""
        key = resource_key(kind)
        if self.served is not None and kind.group not in self.served:
            if not quiet:
                self.group_gap(kind.group)
            return False
        versions = [v for v in kind.versions if self.served is None or v in self.served[kind.group]]
        if not versions:
            if not quiet:
                served = ", ".join(self.served[kind.group]) if self.served else ""
                self.gap(key, f"not served: tried {', '.join(kind.versions)}; {kind.group} serves {served}")
            return False
        for version in versions:
            try:
                ok = self.list_kind(kind, version)
            except HttpError as e:
                if e.status == 404:
                    continue  # this version (or the CRD) is not served: try the next one
                self.gap(key, str(e))
                return False
            if ok:
                self.result.api_versions[key] = kind.api_version(version)
            return ok
        if not quiet:
            self.gap(key, f"not installed: HTTP 404 for {', '.join(versions)}")
        return False

    def list_kind(self, kind: Kind, version: str) -> bool:
        """Cluster-wide when possible; per namespace when asked or when cluster-wide is forbidden.

        Raises HttpError(404) only from the first request, so the caller can try the next version.
        """
        if not kind.namespaced:
            self.add_all(kind, version, kind.path(version))
            return True
        if self.requested is None:
            try:
                self.add_all(kind, version, kind.path(version))
                return True
            except HttpError as e:
                if e.status != 403:
                    raise
                if self.all_namespaces is None:
                    self.gap(resource_key(kind), f"forbidden cluster-wide and namespaces unknown: {e.message}")
                    return False
                namespaces = self.all_namespaces
        else:
            namespaces = self.namespaces_in_scope()
        any_ok = False
        first = True
        for ns in namespaces:
            try:
                self.add_all(kind, version, kind.path(version, ns), ns)
                any_ok = True
            except HttpError as e:
                if e.status == 404 and first:
                    raise
                if e.status == 403:
                    self.forbidden.setdefault(ns, []).append(resource_key(kind))
                else:
                    self.gap(resource_key(kind), _reason(e), namespace=ns)
            first = False
        return any_ok or not namespaces

    def namespaces_in_scope(self) -> list[str]:
        """The requested namespaces plus Istio's root namespace (mesh-wide policy and istiod live there)."""
        assert self.requested is not None
        return list(dict.fromkeys([*self.requested, self.istio_namespace]))

    def add_all(self, kind: Kind, version: str, path: str, namespace: str | None = None) -> None:
        """List `path` completely and keep its objects.

        A failure after the first page keeps what was listed and records a gap; an expired continue
        token starts the list again (at most MAX_RELISTS times). Errors of the first page propagate
        (the caller tells 404 and 403 apart)."""
        key = resource_key(kind)
        for attempt in range(MAX_RELISTS + 1):
            objects: list[ConfigObject] = []
            names: list[str] = []
            malformed: list[str] = []
            ids: set[tuple[str | None, str]] = set()  # (namespace, name) listed so far
            pages = 0
            try:
                for page in self.paged(path, kind):
                    pages += 1
                    for item in page:
                        self._add_item(kind, version, item, objects, names, malformed, ids)
            except _Expired:
                if attempt < MAX_RELISTS:
                    continue
                self.gap(
                    key,
                    f"list incomplete: its continue token expired (410 Gone) {MAX_RELISTS + 1} times in a row; "
                    f"kept the {len(objects)} objects of the last attempt",
                    namespace,
                )
            except HttpError as e:
                if not pages:
                    raise
                self.gap(key, f"list incomplete after {len(objects)} objects: {_reason(e)}", namespace)
            except _Stopped:
                self._keep(kind, objects, names, malformed, namespace)
                raise
            except _Loop as e:
                self.gap(key, f"list stopped: {e}; kept {len(objects)} objects", namespace)
            break
        self._keep(kind, objects, names, malformed, namespace)

    def _add_item(
        self,
        kind: Kind,
        version: str,
        item: Any,
        objects: list[ConfigObject],
        names: list[str],
        malformed: list[str],
        ids: set[tuple[str | None, str]],
    ) -> None:
        """One list item as a ConfigObject; an item that is not an object with a name is skipped and counted,
        one the list already had (a page sent twice) is skipped."""
        meta = item.get("metadata") if isinstance(item, dict) else None
        name = meta.get("name") if isinstance(meta, dict) else None
        ns = meta.get("namespace") if isinstance(meta, dict) and kind.namespaced else None
        if not isinstance(name, str) or not name or (ns is not None and not isinstance(ns, str)):
            malformed.append(f"item {len(objects) + len(malformed) + 1}")
            return
        if (ns, name) in ids:
            return  # a page the server sent twice (pagination loop): keep one copy
        ids.add((ns, name))
        assert isinstance(item, dict)
        api_version = kind.api_version(version)
        # List items of built-in kinds carry no apiVersion/kind; metadata-only Secrets carry the wrong ones.
        item["apiVersion"] = api_version
        item["kind"] = kind.kind
        if not kind.keeps(item):
            return  # e.g. CRDs of groups no check reads
        if kind.kind == "Namespace":
            names.append(name)
            if self.requested is not None and name not in self.namespaces_in_scope():
                return
        try:
            body = reduce(item)
        except (TypeError, AttributeError, ValueError, KeyError):
            # untrusted shapes deeper in the object (a container that is not a mapping, ...)
            malformed.append(f"{name} (fields of the wrong type)")
            return
        objects.append(
            ConfigObject(
                api_version=api_version, kind=kind.kind, name=name, namespace=ns, body=body, cluster=self.result.name
            )
        )

    def _keep(
        self, kind: Kind, objects: list[ConfigObject], names: list[str], malformed: list[str], namespace: str | None
    ) -> None:
        key = resource_key(kind)
        self.result.objects.extend(objects)
        if kind.kind == "Namespace":
            self.all_namespaces = sorted(names)
        self.result.counts[key] = self.result.counts.get(key, 0) + len(objects)
        if malformed:
            shown = ", ".join(malformed[:5]) + (", ..." if len(malformed) > 5 else "")
            reason = f"{len(malformed)} malformed list item(s) skipped (no object with a name): {shown}"
            self.gap(key, reason, namespace)

    def paged(self, path: str, kind: Kind) -> Iterator[list[Any]]:
        """The pages of one list (their items). Raises _Expired on 410 Gone for a continue token and
        _Loop on a continue token seen before or more than MAX_PAGES pages."""
        accept = METADATA_ONLY if kind.kind == "Secret" else "application/json"
        token: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            query: list[tuple[str, Any]] = [("limit", self.page_size)]
            if token:
                query.append(("continue", token))
            try:
                page = self.get(path, query, accept=accept)
            except HttpError as e:
                if token and e.status == 410:
                    raise _Expired() from None
                raise
            items = page.get("items") if isinstance(page, dict) else None
            if items is None and isinstance(page, dict) and "items" in page:
                items = []  # `items: null` is how Go writes an empty list
            if not isinstance(items, list):
                raise HttpError(200, "the answer is not a List (no items)")
            yield items
            meta = page.get("metadata")
            token = meta.get("continue") if isinstance(meta, dict) else None
            if not token:
                return
            if not isinstance(token, str):
                raise HttpError(200, "the continue token is not a string")
            if token in seen:
                raise _Loop("the API server sent a continue token it had sent before (a pagination loop)")
            seen.add(token)
        raise _Loop(f"more than {MAX_PAGES} pages")

    def collect_configmaps(self) -> None:
        """The mesh config and sidecar injector config, read by name in Istio's namespace."""
        for name in ISTIO_CONFIGMAPS:
            path = f"/api/v1/namespaces/{self.istio_namespace}/configmaps/{name}"
            try:
                body = self.get(path)
            except HttpError as e:
                self.gap(f"configmaps/{name}", _reason(e), namespace=self.istio_namespace)
                continue
            body["apiVersion"], body["kind"] = "v1", "ConfigMap"
            self.result.objects.append(
                ConfigObject(
                    api_version="v1",
                    kind="ConfigMap",
                    name=name,
                    namespace=self.istio_namespace,
                    body=reduce(body),
                    cluster=self.result.name,
                )
            )
            self.result.api_versions["configmaps"] = "v1"
            self.result.counts["configmaps"] = self.result.counts.get("configmaps", 0) + 1

    def collect_gateway_credentials(self) -> None:
        """Each Secret a Gateway's `tls.credentialName` names, read by name in the gateway namespace.

        Only these Secrets are read with data, and `reduce` turns the data into certificate facts
        before the object is stored; the metadata-only copy from the list is replaced. Not found
        (404) is left to IST0101; forbidden (403) is a gap.
        """
        by_key = {(o.namespace, o.name): i for i, o in enumerate(self.result.objects) if o.kind == "Secret"}
        for ns, name in gateway_credentials(self.result.objects):
            path = f"/api/v1/namespaces/{ns}/secrets/{name}"
            try:
                body = self.get(path)
            except HttpError as e:
                if e.status != 404:
                    self.gap(f"secrets/{name}", _reason(e), namespace=ns)
                continue
            body["apiVersion"], body["kind"] = "v1", "Secret"
            obj = ConfigObject(
                api_version="v1", kind="Secret", name=name, namespace=ns, body=reduce(body), cluster=self.result.name
            )
            if (ns, name) in by_key:
                self.result.objects[by_key[(ns, name)]] = obj
            else:
                self.result.objects.append(obj)
                self.result.counts["secrets"] = self.result.counts.get("secrets", 0) + 1

    # --- HTTP ------------------------------------------------------------------------------

    def get(self, path: str, query: list[tuple[str, Any]] | None = None, *, accept: str = "application/json") -> Any:
        """GET `path` as JSON, within the request and run deadlines.

        Raises HttpError (Unreachable, TimedOut: status 0) for this request, _Stopped when the cluster
        should not be asked again: 401, the run's deadline, or the server gone."""
        if self.run_deadline.passed:
            raise _Stopped(self.run_deadline.reason())
        method, url, headers, _body, _post = self.api.param_serialize(
            "GET",
            path,
            query_params=query or [],
            header_params={"Accept": accept},
            auth_settings=["BearerToken"],
        )
        self.result.requests += 1
        timeout = self.timeout
        try:
            with self.run_deadline.request(timeout) as d:
                try:
                    resp = self.api.call_api(
                        method, url, header_params=headers, _request_timeout=(min(timeout, 10.0), timeout + 1)
                    )
                    try:
                        data = http.read_body(resp.response, d)
                    finally:
                        resp.response.release_conn()
                except (ApiException, urllib3.exceptions.HTTPError, OSError):
                    if d.expired:
                        raise d.exceeded() from None
                    raise
        except http.DeadlineExceeded as e:
            if e.by_run:
                raise _Stopped(f"stopped: {e}") from None
            self._failed(TimedOut(str(e)))
        except http.ResponseTooLarge as e:
            raise HttpError(0, str(e)) from None
        except ApiException as e:
            if e.status in (0, None):
                self._failed(Unreachable(_one_line(str(e.reason))))
            raise HttpError(e.status, _one_line(str(e.reason))) from None
        except urllib3.exceptions.MaxRetryError as e:
            if isinstance(e.reason, urllib3.exceptions.ReadTimeoutError):
                self._failed(TimedOut(f"no answer within the {timeout:g}s timeout"))
            self._failed(Unreachable(_connection_reason(e.reason or e)))
        except (urllib3.exceptions.HTTPError, OSError) as e:
            self._failed(Unreachable(_connection_reason(e)))
        self.failed_in_a_row = 0
        if resp.status == 401:
            raise _Stopped(f"refused the credentials (HTTP 401: {_status_message(data, resp.reason)})", refused=True)
        if not 200 <= resp.status < 300:
            raise HttpError(resp.status, _status_message(data, resp.reason))
        try:
            return json.loads(data)
        except (ValueError, RecursionError):
            raise HttpError(resp.status, f"response for {path} is not JSON") from None

    def _failed(self, e: HttpError) -> None:
        """Raise `e` (no usable answer to this request), or _Stopped when the server that answered
        before has now failed MAX_FAILED_IN_A_ROW requests in a row."""
        self.failed_in_a_row += 1
        if self.failed_in_a_row >= MAX_FAILED_IN_A_ROW and self.result.requests > self.failed_in_a_row:
            raise _Stopped(f"the API server stopped answering ({self.failed_in_a_row} requests in a row: {e})")
        raise e

    # --- gaps ------------------------------------------------------------------------------

    def gap(self, what: str, reason: str, namespace: str | None = None) -> None:
        self.result.gaps.append(
            Gap(phase="config", what=what, reason=self.redact(reason), namespace=namespace, cluster=self.result.name)
        )

    def redact(self, text: str) -> str:
        """`text` without the credentials this client sends (a server may echo them in a Status message)."""
        cfg = self.api.configuration
        secrets = [str(v).removeprefix("Bearer ").strip() for v in (cfg.api_key or {}).values() if v]
        if cfg.password:
            secrets.append(cfg.password)
            secrets.append(base64.b64encode(f"{cfg.username or ''}:{cfg.password}".encode()).decode())
        return Redactor(secrets)(text) if secrets else text

    def group_gap(self, group: str) -> None:
        what = f"apigroup/{group}"
        if not any(g.what == what for g in self.result.gaps):
            self.gap(what, "API group not installed (404)")


def gateway_credentials(objects: list[ConfigObject]) -> list[tuple[str, str]]:
    """(namespace, name) of the Secrets Istio Gateways name in `tls.credentialName`.

    The namespace is the gateway namespace as istioctl's SecretAnalyzer and IST0101 see it: where the
    pods the selector matches run (pod templates when there are no pods), else the Gateway's own.
    """
    pods: list[tuple[str | None, dict[str, Any]]] = []
    templates: list[tuple[str | None, dict[str, Any]]] = []
    for o in objects:
        if o.kind == "Pod":
            pods.append((o.namespace, o.labels))
        elif o.kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
            tmpl = (o.spec.get("template") or {}).get("metadata") or {}
            templates.append((o.namespace, tmpl.get("labels") or {}))
    out: dict[tuple[str, str], None] = {}
    for gw in objects:
        if gw.kind != "Gateway" or gw.group != "networking.istio.io" or not gw.namespace:
            continue
        sel = gw.spec.get("selector")
        sel = {str(k): str(v) for k, v in sel.items()} if isinstance(sel, dict) else {}
        ns = gw.namespace
        if sel:
            for group in (pods, templates):
                hit = next((pns for pns, labels in group if _matches(sel, labels)), None)
                if hit:
                    ns = hit
                    break
        for s in gw.spec.get("servers") or []:
            tls = s.get("tls") if isinstance(s, dict) else None
            cred = tls.get("credentialName") if isinstance(tls, dict) else None
            if isinstance(cred, str) and cred:
                out[(ns, cred)] = None
    return list(out)


def _matches(selector: dict[str, str], labels: Any) -> bool:
    return isinstance(labels, dict) and all(k in labels and str(labels[k]) == v for k, v in selector.items())


def resource_key(kind: Kind) -> str:
    """`plural.group` as kubectl names resources (`virtualservices.networking.istio.io`, `pods`)."""
    return f"{kind.plural}.{kind.group}" if kind.group else kind.plural


_TAG = re.compile(r":([0-9][^@:/]*)$")


def image_version(image: str) -> str | None:
    """`docker.io/istio/pilot:1.22.3-distroless` -> `1.22.3`; None for digests or `latest`."""
    m = _TAG.search(image.split("@")[0])
    if not m:
        return None
    return m.group(1).removesuffix("-distroless")


def istio_version(objects: list[ConfigObject], istio_namespace: str = ISTIO_NAMESPACE) -> str | None:
    """Istio's version from istiod's image tag, else the most common istio-proxy sidecar tag."""
    for o in objects:
        if o.kind == "Deployment" and o.namespace == istio_namespace and o.labels.get("app") == "istiod":
            for c in (o.spec.get("template") or {}).get("spec", {}).get("containers") or []:
                v = image_version(c.get("image") or "")
                if v:
                    return v
    tags: dict[str, int] = {}
    for o in objects:
        if o.kind != "Pod":
            continue
        for c in (o.spec.get("containers") or []) + (o.spec.get("initContainers") or []):
            if c.get("name") == SIDECAR_CONTAINER:
                v = image_version(c.get("image") or "")
                if v:
                    tags[v] = tags.get(v, 0) + 1
    return max(tags, key=lambda t: (tags[t], t)) if tags else None


def _status_message(data: bytes, reason: str | None) -> str:
    try:
        status = json.loads(data)
        if isinstance(status, dict) and status.get("message"):
            return _one_line(str(status["message"]))
    except ValueError:
        pass
    return reason or "error"


def _reason(e: HttpError) -> str:
    if e.status == 403:
        return f"forbidden (403): {e.message}"
    if e.status == 404:
        return f"not found (404): {e.message}"
    return str(e)


def _connection_reason(e: object) -> str:
    """A short reason for a failed connection (urllib3's own text repeats the pool and the URL)."""
    text = str(e)
    for needle, reason in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "host name not found"),
        ("Temporary failure in name resolution", "host name not found"),
        ("No route to host", "no route to host"),
        ("Network is unreachable", "network unreachable"),
        ("RemoteDisconnected", "connection closed without an answer"),
        ("Connection reset", "connection reset"),
        ("Connection aborted", "connection closed without an answer"),
        ("IncompleteRead", "connection closed in the middle of the answer"),
        ("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted"),
        ("SSL", "TLS error"),
    ):
        if needle in text:
            return reason
    return _one_line(text)


def _one_line(s: str) -> str:
    return " ".join(s.split())[:300]
