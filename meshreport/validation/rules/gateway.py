"""Istio Gateway (networking.istio.io) rules: selected pods, their Services' ports, credentials, conflicts.

Gateway API Gateways are rule kind `K8sGateway` and never reach these rules.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from meshreport.hosts import selector_matches, split_namespaced_host, suffixes
from meshreport.snapshot.model import ConfigObject
from meshreport.validation.index import Context, Workload
from meshreport.validation.model import Hit
from meshreport.validation.registry import rule
from meshreport.validation.rules._common import as_list, dicts
from meshreport.validation.rules._default_ingress import DEFAULT_INGRESS_PORTS, dummy_ingress_selected

GW = ("Gateway",)


def _selector(gw: ConfigObject) -> dict[str, str]:
    return {str(k): str(v) for k, v in (gw.spec.get("selector") or {}).items()}


def _sel_text(sel: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(sel.items()))


def _pods(gw: ConfigObject, ctx: Context) -> list[Workload]:
    """Workloads the selector matches in any namespace (istioctl), pods first when there are any."""
    sel = _selector(gw)
    if not sel:
        return []
    found = ctx.index.workloads_matching(sel)
    pods = [w for w in found if w.is_pod]
    return pods or found


def _dummy_ingress(gw: ConfigObject, ctx: Context) -> bool:
    return dummy_ingress_selected(_selector(gw), ctx)


def _is_default_ingress(gw: ConfigObject, ctx: Context) -> bool:
    return _selector(gw) == {"istio": ctx.mesh.ingress_selector}


@rule(
    code="IST0101",
    kinds=GW,
    severity="error",
    equivalents=("KIA0302",),
    title="Gateway selector matches no pods",
    doc="The Gateway's `selector` matches no gateway pod (or workload) in any namespace, so no proxy serves its "
    "servers. Fix the selector labels or deploy the gateway. As in istioctl, an input without ingress gateway "
    "pods is taken to have the default one (labels `istio: ingressgateway`, in the Istio namespace), and the "
    "mesh's ingress selector always counts as present.",
)
def gw_selector_no_pods(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    sel = _selector(obj)
    if not sel or _is_default_ingress(obj, ctx) or _dummy_ingress(obj, ctx):
        return
    if not _pods(obj, ctx):
        yield Hit(f'Referenced selector not found: "{_sel_text(sel)}"', path="spec.selector")


def _service_ports(w: Workload, ctx: Context) -> set[int] | None:
    """Port numbers a gateway server may use on this workload, as istioctl counts them: each TCP port of the
    Services (in the workload's namespace) that select it, as its numeric targetPort and as the port itself.
    None when no Service selects it."""
    ports: set[int] = set()
    found = False
    for svc in ctx.index.services_by_ns.get(w.namespace, ()):
        sel = svc.spec.get("selector")
        if not sel or not selector_matches({str(k): str(v) for k, v in sel.items()}, w.labels):
            continue
        found = True
        for p in dicts(svc.spec.get("ports")):
            if str(p.get("protocol") or "TCP").upper() != "TCP":  # the API server defaults protocol to TCP
                continue
            for v in (p.get("port"), p.get("targetPort")):
                if isinstance(v, int) or (isinstance(v, str) and v.isdigit()):
                    ports.add(int(v))
    return ports if found else None


@rule(
    code="IST0162",
    kinds=GW,
    severity="warning",
    title="Gateway port not exposed by the gateway's Service",
    doc="A server port of the Gateway is neither a port nor a TCP targetPort of any Service that selects the "
    "gateway pods, so clients cannot reach that listener through the gateway Service. Add the port to the "
    "Service or use a port it exposes. As in istioctl, gateway pods that no Service selects expose no port, and "
    "the default ingress assumed for inputs without one exposes 80, 443, 31400 and 15443. When the input has "
    "only the gateway's Deployment (no pods), it is checked against the Services that select its template, if "
    "any do.",
)
def gw_port_not_on_service(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    found = _pods(obj, ctx)
    pods = [w for w in found if w.is_pod]
    ports: set[int] = set(DEFAULT_INGRESS_PORTS) if _dummy_ingress(obj, ctx) else set()
    if pods:
        for w in pods:
            ports |= _service_ports(w, ctx) or set()
    elif found:
        per_template = [p for w in found if (p := _service_ports(w, ctx)) is not None]
        if not per_template and not ports:
            return
        for p in per_template:
            ports |= p
    elif not ports:
        return
    for i, s in enumerate(dicts(obj.spec.get("servers"))):
        num = (s.get("port") or {}).get("number")
        if isinstance(num, int) and num not in ports:
            yield Hit(
                f"The gateway is listening on a target port (port {num}) that is not defined in the Service "
                f"associated with its workload instances (Pod selector {_sel_text(_selector(obj))}). If you need "
                "to access the gateway port through the gateway Service, it will not be available.",
                path=f"spec.servers[{i}].port.number",
            )


@rule(
    code="IST0101",
    kinds=GW,
    severity="error",
    title="Gateway credential Secret not found",
    doc="A server's `tls.credentialName` names no Secret in the gateway's namespace (the namespace of the pods the "
    "selector matches). The listener has no certificate and TLS handshakes fail. Create the Secret there or fix "
    "the name. Checked only when the input includes Secrets (meshreport collects Secret names only on request).",
)
def gw_secret_not_found(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for i, ns, cred in _credentials(obj, ctx):
        if (ns, cred) not in ctx.index.secrets:
            yield Hit(f'Referenced credentialName not found: "{cred}"', path=f"spec.servers[{i}].tls.credentialName")


def _credentials(obj: ConfigObject, ctx: Context) -> Iterator[tuple[int, str | None, str]]:
    """(server index, gateway namespace, credentialName) of each server with one; nothing when the input has
    no Secrets, or when the selector matches no pod (reported as such instead, like istioctl). The gateway
    namespace is that of the first pod the selector matches (the Istio namespace for the default ingress)."""
    if not ctx.index.secrets:
        return
    pods = _pods(obj, ctx)
    if pods:
        ns = pods[0].namespace
    elif _dummy_ingress(obj, ctx) or _is_default_ingress(obj, ctx):
        ns = ctx.mesh.root_namespace
    elif _selector(obj):
        return
    else:
        ns = obj.namespace
    for i, s in enumerate(dicts(obj.spec.get("servers"))):
        cred = str((s.get("tls") or {}).get("credentialName") or "") if isinstance(s.get("tls"), dict) else ""
        if cred:
            yield i, ns, cred


def _credential_problem(facts: dict, now: float) -> str | None:
    """Why istioctl finds the credential invalid, from the facts `reduce` kept (None when it would serve it):
    no cert/key pair, a certificate that does not parse, or one outside its validity period."""
    if not facts.get("keys"):
        return str(facts.get("error") or "no certificate and key found")
    if not facts.get("parsed"):
        return f"the certificate in {facts['keys'].split('/')[0]} cannot be parsed"
    not_before, not_after = fact_time(facts.get("notBefore")), fact_time(facts.get("notAfter"))
    if not_after is not None and now > not_after:
        return f"the certificate expired at {facts['notAfter']}"
    if not_before is not None and now < not_before:
        return f"the certificate is not valid before {facts['notBefore']}"
    return None


def _key_problem(facts: dict) -> str | None:
    """A private key Envoy would reject although istioctl, which reads only the certificate, accepts it."""
    if facts.get("keyParsed") is False:
        return f"the private key in {facts['keys'].split('/')[1]} cannot be parsed"
    if facts.get("keyMatches") is False:
        return "the private key does not match the certificate"
    return None


def _credential_facts(obj: ConfigObject, ctx: Context) -> Iterator[tuple[int, str | None, str, dict]]:
    for i, ns, cred in _credentials(obj, ctx):
        secret = ctx.index.get("Secret", ns, cred)
        facts = secret.body.get("certificate") if secret is not None else None
        if isinstance(facts, dict):
            yield i, ns, cred, facts


@rule(
    code="IST0161",
    kinds=GW,
    severity="error",
    title="Gateway credential is invalid",
    doc="The Secret a server's `tls.credentialName` names exists in the gateway namespace but Istio cannot serve "
    "it: no non-empty `cert`/`key` or `tls.crt`/`tls.key` pair (the generic pair wins, the Secret type does not "
    "matter), the first PEM block of the certificate does not parse, or the certificate is expired or not yet "
    "valid, as istioctl checks (a bad private key is MR0001). Validity is judged at the snapshot's window "
    "end (the current time for files and live clusters), so a report rebuilt from the same snapshot says the "
    "same. Needs `--gateway-certs` for clusters (Secrets in `-f` files are always checked); meshreport keeps "
    "only facts about the certificate, never its bytes or the key. Silent for Secrets known by name only.",
)
def gw_invalid_credential(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for i, ns, cred, facts in _credential_facts(obj, ctx):
        problem = _credential_problem(facts, ctx.now)
        if problem:
            yield Hit(
                f"The credential referenced by the Gateway {obj.name} in namespace {ns} is invalid, which can "
                f"cause the traffic not to work as expected (Secret {ns}/{cred}: {problem}).",
                path=f"spec.servers[{i}].tls.credentialName",
            )


@rule(
    code="MR0001",
    kinds=GW,
    severity="error",
    title="Gateway credential private key is unusable",
    doc="The Secret a server's `tls.credentialName` names holds a certificate istioctl accepts (IST0161 is "
    "silent), but its private key does not parse (or is password-protected) or does not match the certificate, "
    "so Envoy rejects the credential and the listener fails TLS handshakes. Put the matching, unencrypted key "
    "in the Secret. Same inputs as IST0161; meshreport keeps only whether the key parses and matches.",
)
def gw_credential_key(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    for i, ns, cred, facts in _credential_facts(obj, ctx):
        if _credential_problem(facts, ctx.now) is None and (problem := _key_problem(facts)):
            yield Hit(
                f"The private key of the credential referenced by the Gateway {obj.name} in namespace {ns} is "
                f"unusable (Secret {ns}/{cred}: {problem}).",
                path=f"spec.servers[{i}].tls.credentialName",
            )


class _HostTable:
    """Gateways by host for one port, so overlap lookups need no scan of every gateway."""

    def __init__(self) -> None:
        self.exact: dict[str, list[ConfigObject]] = defaultdict(list)
        self.exact_under: dict[str, list[ConfigObject]] = defaultdict(list)  # exact hosts by their suffixes
        self.wild: dict[str, list[ConfigObject]] = defaultdict(list)  # `*.x` by `x`
        self.wild_under: dict[str, list[ConfigObject]] = defaultdict(list)  # `*.x` by `x` and x's suffixes
        self.star: list[ConfigObject] = []

    def add(self, host: str, gw: ConfigObject) -> None:
        if host == "*":
            self.star.append(gw)
        elif host.startswith("*."):
            self.wild[host[2:]].append(gw)
            for s in [host[2:], *suffixes(host[2:])]:
                self.wild_under[s].append(gw)
        else:
            self.exact[host].append(gw)
            for s in suffixes(host):
                self.exact_under[s].append(gw)

    def overlapping(self, host: str) -> list[ConfigObject]:
        if host == "*":
            found = [g for d in (self.exact, self.wild) for gs in d.values() for g in gs] + self.star
        elif host.startswith("*."):
            x = host[2:]
            found = self.star + self.exact_under.get(x, []) + self.wild_under.get(x, [])
            found += [g for s in suffixes(x) for g in self.wild.get(s, [])]
        else:
            found = self.star + self.exact.get(host, []) + [g for s in suffixes(host) for g in self.wild.get(s, [])]
        return list({id(g): g for g in found}.values())


def _server_hosts(s: dict) -> list[str]:
    return [split_namespaced_host(str(h))[1].lower() for h in as_list(s.get("hosts"))]


def _by_port(ctx: Context) -> dict[int, _HostTable]:
    out: dict[int, _HostTable] = defaultdict(_HostTable)
    for gw in ctx.index.of_kind("Gateway"):
        for s in dicts(gw.spec.get("servers")):
            num = (s.get("port") or {}).get("number")
            if isinstance(num, int):
                for h in _server_hosts(s):
                    out[num].add(h, gw)
    return out


def _selectors_conflict(a: ConfigObject, b: ConfigObject, ctx: Context) -> bool:
    sa, sb = _selector(a), _selector(b)
    if sa == sb:
        return True
    if not (selector_matches(sa, sb) or selector_matches(sb, sa)):
        return False
    pa = {id(w.obj) for w in _pods(a, ctx)}
    return any(id(w.obj) in pa for w in _pods(b, ctx))


@rule(
    code="IST0145",
    kinds=GW,
    severity="error",
    equivalents=("KIA0301",),
    title="Conflicting gateways",
    doc="Another Gateway with the same selector (or an overlapping one that selects a common pod) declares the "
    "same port with overlapping hosts. The gateway proxy keeps only one of the conflicting servers, so some "
    "routes silently disappear. Merge the Gateways or use distinct hosts or ports.",
)
def gw_conflicting(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    table = ctx.memo("gateway.by_port", _by_port)
    for i, s in enumerate(dicts(obj.spec.get("servers"))):
        num = (s.get("port") or {}).get("number")
        if not isinstance(num, int):
            continue
        hosts = _server_hosts(s)
        hosts_table = table.get(num)
        if hosts_table is None:
            continue
        conflicts = sorted(
            {
                f"{gw.namespace}/{gw.name}"
                for h in hosts
                for gw in hosts_table.overlapping(h)
                if gw is not obj and _selectors_conflict(obj, gw, ctx)
            }
        )
        if conflicts:
            yield Hit(
                f"Conflict with gateways {', '.join(conflicts)} (workload selector {_sel_text(_selector(obj))}, "
                f"port {num}, hosts {', '.join(hosts)}).",
                path=f"spec.servers[{i}]",
            )


def _same_certificate(a: dict, b: dict) -> bool:
    """istioctl's haveSameCertificate: equal credentialNames, or (both without one) equal certificate and key
    file paths."""
    if a.get("credentialName") and b.get("credentialName"):
        return a["credentialName"] == b["credentialName"]
    if a.get("credentialName") or b.get("credentialName"):
        return False
    cert, key = a.get("serverCertificate"), a.get("privateKey")
    return bool(cert and key and cert == b.get("serverCertificate") and key == b.get("privateKey"))


def _tls(gw: ConfigObject) -> list[dict]:
    return [s["tls"] for s in dicts(gw.spec.get("servers")) if isinstance(s.get("tls"), dict)]


def _selector_within(mine: dict[str, str], other: dict[str, str]) -> bool:
    """Every label of `mine` is in `other` with the same value (an empty selector is within anything)."""
    return all(other.get(k) == v for k, v in mine.items())


@rule(
    code="IST0138",
    kinds=GW,
    severity="warning",
    title="Duplicate certificate in gateways",
    doc="Another Gateway, in any namespace, whose selector includes all of this Gateway's selector labels (any "
    "Gateway when this one has no selector) serves the same certificate: the same credentialName, or the same "
    "certificate and key files. With HTTP/2 connection reuse, browsers send requests for one host over the "
    "other's connection and get 404s. Merge the servers into one Gateway or use distinct certificates. As in "
    "istioctl, reported once for each such other Gateway.",
)
def gw_duplicate_certificate(obj: ConfigObject, ctx: Context) -> Iterator[Hit]:
    mine = _tls(obj)
    if not mine:
        return
    gateways, by_certificate = ctx.memo("gateway.by_certificate", _by_certificate)
    sharing = {i for tls in mine if (key := _certificate(tls)) is not None for i in by_certificate.get(key, ())}
    sel = _selector(obj)
    for i in sorted(sharing):  # the index's order, as when every Gateway was looked at
        gw = gateways[i]
        if gw is obj or not _selector_within(sel, _selector(gw)):
            continue
        yield Hit(
            f"Duplicate certificate in multiple gateways [{obj.namespace}/{obj.name} {gw.namespace}/{gw.name}] "
            "may cause 404s if clients re-use HTTP2 connections."
        )


def _certificate(tls: dict) -> tuple | None:
    """What `_same_certificate` compares, as a key two servers share exactly when it calls them the same:
    the credentialName when set, else the certificate and key files when both are set; None: matches none."""
    name = tls.get("credentialName")
    if name:
        return ("credentialName", _hashable(name))
    cert, key = tls.get("serverCertificate"), tls.get("privateKey")
    if cert and key:
        return ("files", _hashable(cert), _hashable(key))
    return None


def _hashable(v: Any) -> Any:
    return v if isinstance(v, (str, int, float, bool)) else repr(v)


def _by_certificate(ctx: Context) -> tuple[list[ConfigObject], dict[tuple, list[int]]]:
    """Every Gateway (the index's order) and, per certificate key, the positions of the Gateways serving it:
    each Gateway finds the others with its certificate in one lookup instead of comparing with every Gateway."""
    gateways = list(ctx.index.of_kind("Gateway"))
    out: dict[tuple, list[int]] = defaultdict(list)
    for i, gw in enumerate(gateways):
        for key in {k for tls in _tls(gw) if (k := _certificate(tls)) is not None}:
            out[key].append(i)
    return gateways, out


def fact_time(value: Any) -> float | None:
    """An RFC 3339 time from the certificate facts (written by meshreport.collect.certs) as unix
    seconds; None when absent or malformed."""
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
