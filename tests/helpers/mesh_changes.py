"""Pairs of synthetic bookinfo snapshots with known changes, for the comparison tests.

The old snapshot is the bookinfo sample's hour; the new one is the same hour a day later with
the changes applied to its mesh model (flows) or config objects. Every change is made the way a
deploy would make it, and the snapshots are produced by the real collection plan (synth).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from meshreport.snapshot.model import ConfigObject, Snapshot, Window
from meshreport.synthetic import meshes
from meshreport.synthetic.model import Latency, Mesh, Response

DAY = 86400.0
OLD_WINDOW = meshes.BOOKINFO_WINDOW
NEW_WINDOW = Window(OLD_WINDOW.start + DAY, OLD_WINDOW.end + DAY)

MeshChange = Callable[[Mesh], None]
ObjectChange = Callable[[list[ConfigObject]], None]


def _flow_index(mesh: Mesh, source: str | None, dest: str) -> int:
    for i, f in enumerate(mesh.flows):
        src = f.source.name if f.source else None
        dst = f.dest.name if f.dest else f.service.host if hasattr(f.service, "host") else ""
        if src == source and dst == dest:
            return i
    raise KeyError((source, dest))


def remove_edge(source: str, dest: str) -> MeshChange:
    def change(mesh: Mesh) -> None:
        del mesh.flows[_flow_index(mesh, source, dest)]

    return change


def error_share(source: str, dest: str, share: float) -> MeshChange:
    """That flow answers `share` of its requests with HTTP 500 (same total rate)."""

    def change(mesh: Mesh) -> None:
        i = _flow_index(mesh, source, dest)
        f = mesh.flows[i]
        total = f.rate
        mesh.flows[i] = replace(f, responses=(Response("200", total * (1 - share)), Response("500", total * share)))

    return change


def slower(source: str | None, dest: str, factor: float) -> MeshChange:
    def change(mesh: Mesh) -> None:
        i = _flow_index(mesh, source, dest)
        f = mesh.flows[i]
        mesh.flows[i] = replace(f, latency=Latency(tuple((ms * factor, s) for ms, s in f.latency.points)))

    return change


def plaintext(source: str, dest: str) -> MeshChange:
    def change(mesh: Mesh) -> None:
        i = _flow_index(mesh, source, dest)
        mesh.flows[i] = replace(mesh.flows[i], mtls=False)

    return change


def scale_rates(factor: float) -> MeshChange:
    """Every flow `factor` times as busy (noise when close to 1)."""

    def change(mesh: Mesh) -> None:
        mesh.flows = [
            replace(
                f,
                responses=tuple(replace(r, rate=r.rate * factor) for r in f.responses),
                tcp_request=f.tcp_request * factor,
                tcp_response=f.tcp_response * factor,
                connections=f.connections * factor,
            )
            for f in mesh.flows
        ]

    return change


def edit_object(kind: str, name: str, edit: Callable[[dict], None]) -> ObjectChange:
    def change(objects: list[ConfigObject]) -> None:
        for o in objects:
            if o.kind == kind and o.name == name:
                edit(o.body)
                return
        raise KeyError((kind, name))

    return change


def snapshot(window: Window, mesh_changes=(), object_changes=()) -> Snapshot:
    mesh = meshes.bookinfo_mesh()
    for c in mesh_changes:
        c(mesh)
    objects = meshes.bookinfo_objects(mesh, window)
    for c in object_changes:
        c(objects)
    return meshes.snapshot(mesh, window, objects=objects)


def pair(mesh_changes=(), object_changes=()) -> tuple[Snapshot, Snapshot]:
    return snapshot(OLD_WINDOW), snapshot(NEW_WINDOW, mesh_changes, object_changes)


def jitter(seed: int, share: float) -> MeshChange:
    """Every response rate and TCP byte rate moved by up to ±`share`, independently (night-to-night
    noise; error shares move with them). Latencies stay: the sample's durations sit on histogram
    bucket bounds, where any nudge moves a quantile by a whole bucket."""
    import random

    def change(mesh: Mesh) -> None:
        rng = random.Random(seed)

        def f() -> float:
            return 1 + rng.uniform(-share, share)

        mesh.flows = [
            replace(
                fl,
                responses=tuple(replace(r, rate=r.rate * f()) for r in fl.responses),
                tcp_request=fl.tcp_request * f(),
                tcp_response=fl.tcp_response * f(),
            )
            for fl in mesh.flows
        ]

    return change


def drop_subset(name: str) -> Callable[[dict], None]:
    def edit(body: dict) -> None:
        body["spec"]["subsets"] = [s for s in body["spec"]["subsets"] if s["name"] != name]

    return edit


def add_subset(name: str) -> Callable[[dict], None]:
    def edit(body: dict) -> None:
        body["spec"]["subsets"].append({"name": name, "labels": {"version": name}})

    return edit


def route_prefix(old: str, new: str) -> Callable[[dict], None]:
    """The first HTTP route's `prefix: old` match becomes `prefix: new`."""

    def edit(body: dict) -> None:
        for m in body["spec"]["http"][0]["match"]:
            if m.get("uri", {}).get("prefix") == old:
                m["uri"]["prefix"] = new
                return
        raise KeyError(old)

    return edit


#: The six changes of the issue, made together: an edge removed, a service turned failing, a p95
#: doubled, an mTLS edge turned plaintext, a finding fixed and another introduced, a route changed.
KNOWN_MESH_CHANGES = (
    remove_edge("details-v1", "www.googleapis.com"),
    error_share("reviews-v2", "ratings-v1", 0.3),
    slower("istio-ingressgateway", "productpage-v1", 2.0),
    slower(None, "productpage-v1", 2.0),
    plaintext("reviews-v3", "ratings-v2"),
)
KNOWN_OBJECT_CHANGES = (
    edit_object("DestinationRule", "details", drop_subset("v2")),
    edit_object("DestinationRule", "reviews", add_subset("v4")),
    edit_object("VirtualService", "bookinfo", route_prefix("/static", "/assets")),
)
