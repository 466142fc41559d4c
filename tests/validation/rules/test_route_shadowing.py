"""IST0130/IST0131 across http, tcp and tls routes, as Istio's analyzeUnreachable*Rules reports them."""

import pytest

from meshreport.validation.rules._route_shadowing import INEFFECTIVE, UNREACHABLE, shadowed

from .cases import Case, assert_case, run


def vs(routes: str, name: str = "r") -> str:
    return f"""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: {name}, namespace: shop}}
spec:
  hosts: [r.shop.svc.cluster.local]
{routes}"""


DEST = "route: [{destination: {host: r}}]"


def http_prefixes(*prefixes: str) -> str:
    return "  http:\n" + "".join(f"  - match: [{{uri: {{prefix: {p}}}}}]\n    {DEST}\n" for p in prefixes)


CASES = [
    # tcp: the same match twice; a second rule with no match after a catch-all
    Case(
        "vs_unreachable_rule",
        "IST0130",
        "VirtualService shop/r",
        vs(f"  tcp:\n  - match: [{{port: 9000}}]\n    {DEST}\n  - match: [{{port: 9000}}]\n    {DEST}"),
        vs(f"  tcp:\n  - match: [{{port: 9000}}]\n    {DEST}\n  - match: [{{port: 9001}}]\n    {DEST}"),
    ),
    Case(
        "vs_unreachable_rule",
        "IST0130",
        "VirtualService shop/r",
        vs(f"  tcp:\n  - {DEST}\n  - {DEST}"),
        vs(f"  tcp:\n  - match: [{{port: 9000}}]\n    {DEST}\n  - {DEST}"),
    ),
    # tls: sniHosts repeated
    Case(
        "vs_unreachable_rule",
        "IST0130",
        "VirtualService shop/r",
        vs(f"  tls:\n  - match: [{{sniHosts: [a.com]}}]\n    {DEST}\n  - match: [{{sniHosts: [a.com]}}]\n    {DEST}"),
        vs(f"  tls:\n  - match: [{{sniHosts: [a.com]}}]\n    {DEST}\n  - match: [{{sniHosts: [b.com]}}]\n    {DEST}"),
    ),
    # a match that differs only by fields at their zero value is a repeat
    Case(
        "vs_ineffective_match",
        "IST0131",
        "VirtualService shop/r",
        vs(
            f"  tcp:\n  - match: [{{port: 9000}}]\n    {DEST}\n"
            f"  - match: [{{port: 9000, sourceLabels: {{}}}}, {{port: 9001}}]\n    {DEST}"
        ),
        vs(
            f"  tcp:\n  - match: [{{port: 9000}}]\n    {DEST}\n"
            f"  - match: [{{port: 9000, sourceLabels: {{app: x}}}}, {{port: 9001}}]\n    {DEST}"
        ),
    ),
    # an earlier, shorter URI prefix with the same method covers a later one
    Case(
        "vs_ineffective_match",
        "IST0131",
        "VirtualService shop/r",
        vs(http_prefixes("/api", "/api/v1")),
        vs(http_prefixes("/api/v1", "/api")),
    ),
    # a prefix match without a method counts as GET, so a POST-only later match is not covered
    Case(
        "vs_ineffective_match",
        "IST0131",
        "VirtualService shop/r",
        vs(
            f"  http:\n  - match: [{{uri: {{prefix: /a}}}}]\n    {DEST}\n"
            f"  - match: [{{uri: {{prefix: /ab}}, method: {{exact: GET}}}}]\n    {DEST}"
        ),
        vs(
            f"  http:\n  - match: [{{uri: {{prefix: /a}}}}]\n    {DEST}\n"
            f"  - match: [{{uri: {{prefix: /ab}}, method: {{exact: POST}}}}]\n    {DEST}"
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_class(case):
    assert_case(case)


def test_matches_after_a_catch_all_read_alike_and_are_one_finding():
    """Istio reports each match after a catch-all; istioctl then keeps one of messages that read alike."""
    spec = {"http": [{"route": []}, {"match": [{"uri": {"exact": "/a"}}, {"uri": {"exact": "/b"}}]}]}
    out = shadowed(spec)
    assert [s.what for s in out] == [UNREACHABLE, UNREACHABLE]
    assert {s.path for s in out} == {"spec.http[1].match[0]", "spec.http[1].match[1]"}
    assert all("route without matches defined before" in s.message for s in out)
    found = run(vs(f"  http:\n  - {DEST}\n  - match: [{{uri: {{exact: /a}}}}, {{uri: {{exact: /b}}}}]\n    {DEST}"))
    assert len([f for f in found if f.code == "IST0130"]) == 1


def test_http_match_name_does_not_count_and_names_the_rule():
    spec = {
        "http": [
            {"name": "first", "match": [{"name": "m1", "uri": {"exact": "/a"}}]},
            {"name": "second", "match": [{"name": "m2", "uri": {"exact": "/a"}}]},
        ]
    }
    out = shadowed(spec)
    assert [s.what for s in out] == [INEFFECTIVE, UNREACHABLE]
    assert out[0].message == (
        'VirtualService rule "second" match "m2" is not used (duplicate/overlapping match in rule "first").'
    )
    assert out[1].message == 'VirtualService rule "second" not used (all matches used by prior rules).'


def test_route_kinds_are_walked_separately():
    """The same match in an http and a tcp rule does not shadow anything."""
    assert shadowed({"http": [{"match": [{"port": 80}]}], "tcp": [{"match": [{"port": 80}]}]}) == []
