"""Validate a synthetic mesh of ~10,000 config objects; target under 10 seconds. Run by hand:

    .venv/bin/python benchmarks/validate_scale.py [--objects 10000]

Each namespace holds an app with two versions: Service, two Deployments, VirtualService, DestinationRule,
PeerAuthentication, AuthorizationPolicy, Sidecar, ServiceEntry and a Gateway, with a few deliberate
mistakes so rules actually fire.
"""

from __future__ import annotations

import argparse
import time

from meshreport.report.machine import render
from meshreport.snapshot.model import ConfigObject, SourceRef
from meshreport.validation import suppress, validate
from meshreport.validation.registry import all_rules


def _obj(kind: str, api: str, name: str, ns: str | None, body: dict, line: int) -> ConfigObject:
    doc = {"apiVersion": api, "kind": kind, "metadata": {"name": name, **({"namespace": ns} if ns else {})}, **body}
    return ConfigObject(api, kind, name, ns, doc, source=SourceRef(f"mesh/{ns or 'cluster'}.yaml", line))


def namespace_objects(i: int) -> list[ConfigObject]:
    ns = f"ns{i:04d}"
    app = f"app{i}"
    nxt = f"app{i + 1}.ns{i + 1:04d}.svc.cluster.local"
    sel = {"app": app}
    out = [
        _obj("Namespace", "v1", ns, None, {"metadata": {"name": ns, "labels": {"istio-injection": "enabled"}}}, 1),
        _obj("Service", "v1", app, ns, {"spec": {"selector": sel, "ports": [{"name": "http", "port": 8080}]}}, 5),
    ]
    for v in ("v1", "v2"):
        tmpl = {
            "metadata": {"labels": {**sel, "version": v}},
            "spec": {"containers": [{"name": app, "ports": [{"containerPort": 8080}]}]},
        }
        out.append(
            _obj(
                "Deployment",
                "apps/v1",
                f"{app}-{v}",
                ns,
                {"spec": {"selector": {"matchLabels": sel}, "template": tmpl}},
                10,
            )
        )
    subset = "v3" if i % 50 == 0 else "v2"  # every 50th namespace routes to a missing subset
    out += [
        _obj(
            "VirtualService",
            "networking.istio.io/v1",
            app,
            ns,
            {
                "spec": {
                    "hosts": [app],
                    "http": [
                        {
                            "match": [{"headers": {"x-canary": {"exact": "1"}}}],
                            "route": [{"destination": {"host": app, "subset": subset}}],
                        },
                        {
                            "route": [
                                {"destination": {"host": app, "subset": "v1"}, "weight": 90},
                                {
                                    "destination": {"host": nxt if i % 7 else "missing", "port": {"number": 8080}},
                                    "weight": 10,
                                },
                            ]
                        },
                    ],
                }
            },
            40,
        ),
        _obj(
            "DestinationRule",
            "networking.istio.io/v1",
            app,
            ns,
            {
                "spec": {
                    "host": app,
                    "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}},
                    "subsets": [
                        {"name": "v1", "labels": {"version": "v1"}},
                        {"name": "v2", "labels": {"version": "v2"}},
                    ],
                }
            },
            60,
        ),
        _obj("PeerAuthentication", "security.istio.io/v1", "default", ns, {"spec": {"mtls": {"mode": "STRICT"}}}, 80),
        _obj(
            "AuthorizationPolicy",
            "security.istio.io/v1",
            app,
            ns,
            {
                "spec": {
                    "selector": {"matchLabels": sel},
                    "rules": [
                        {"from": [{"source": {"namespaces": [ns]}}], "to": [{"operation": {"methods": ["GET"]}}]}
                    ],
                }
            },
            90,
        ),
        _obj(
            "Sidecar",
            "networking.istio.io/v1",
            "default",
            ns,
            {"spec": {"egress": [{"hosts": ["./*", "istio-system/*"]}]}},
            100,
        ),
        _obj(
            "ServiceEntry",
            "networking.istio.io/v1",
            f"ext-{i}",
            ns,
            {
                "spec": {
                    "hosts": [f"api{i}.example.com"],
                    "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
                    "resolution": "DNS",
                    "location": "MESH_EXTERNAL",
                }
            },
            110,
        ),
        _obj(
            "Gateway",
            "networking.istio.io/v1",
            f"gw-{i}",
            ns,
            {
                "spec": {
                    "selector": {"istio": "ingressgateway"},
                    "servers": [
                        {
                            "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                            "hosts": [f"{app}.example.com"],
                            "tls": {"mode": "SIMPLE", "credentialName": f"{app}-cert"},
                        }
                    ],
                }
            },
            120,
        ),
    ]
    return out


def build(target: int) -> list[ConfigObject]:
    objs: list[ConfigObject] = []
    i = 0
    while len(objs) < target:
        objs.extend(namespace_objects(i))
        i += 1
    return objs[:target]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=10_000)
    args = ap.parse_args()
    objs = build(args.objects)
    all_rules()  # import the rule modules outside the timing
    t0 = time.perf_counter()
    findings = validate(objs)
    t1 = time.perf_counter()
    result = suppress.apply(findings, objs)
    t2 = time.perf_counter()
    sarif = render(result, "sarif")
    t3 = time.perf_counter()
    c = result.counts()
    print(f"objects:     {len(objs)} ({len({o.namespace for o in objs})} namespaces), rules: {len(all_rules())}")
    print(f"findings:    {len(findings)} ({c['error']} errors, {c['warning']} warnings, {c['info']} info)")
    print(f"validate:    {t1 - t0:.2f} s")
    print(f"suppress:    {t2 - t1:.2f} s")
    print(f"sarif:       {t3 - t2:.2f} s ({len(sarif) / 1e6:.1f} MB)")
    print(f"total:       {t3 - t0:.2f} s (target < 10 s)")


if __name__ == "__main__":
    main()
