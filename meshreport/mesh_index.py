"""The mesh index: a snapshot's config objects keyed every way the analysis looks them up.

Built once per snapshot (`pipeline.analyse`) and shared by the graph, health, mTLS and
validation, so no one scans all objects per question and all read the same facts: objects by
kind, by namespace and by name, the namespaces and their labels, each cluster's share, and pod
templates. The readers' own views are thin and built from it, never from the objects again:

- the graph's Kiali workloads (a controller with its pods, app/version, sidecar as Kiali's
  injection status annotation says): `graph/config_index.py`, also read by health;
- validation's selector targets (every pod, pod template and WorkloadEntry, sidecar as istioctl
  sees an istio-proxy container), hosts and import scopes: `validation/index.py`;
- mTLS's PeerAuthentications and DestinationRules: `mtls.MtlsResolver`.

The two workload views differ on purpose: Kiali and istioctl answer "is this workload in the
mesh" differently, and each output follows its source.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from meshreport.snapshot.model import ConfigObject

GATEWAY_API_GROUP = "gateway.networking.k8s.io"
#: Controllers Kiali lists as workloads.
CONTROLLER_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "ReplicationController", "DeploymentConfig")
#: Kinds whose pod template describes the workload's pods (file inputs carry no Pods).
TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "ReplicationController")


def rule_kind(obj: ConfigObject) -> str:
    """The kind an object is indexed (and validation rules registered) under: a Gateway API
    `Gateway` is `K8sGateway` (Kiali's name), so it is never taken for an Istio Gateway; every
    other kind is its own name. Findings still show `obj.kind`."""
    if obj.kind == "Gateway" and obj.group == GATEWAY_API_GROUP:
        return "K8sGateway"
    return obj.kind


def pod_template(obj: ConfigObject) -> dict[str, Any]:
    """The pod template of a controller (a CronJob's is inside its job template); {} if none."""
    spec = obj.spec
    if obj.kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    template = spec.get("template")
    return template if isinstance(template, dict) else {}


def owner(obj: ConfigObject) -> tuple[str, str] | None:
    """(kind, name) of the first complete owner reference."""
    for ref in obj.metadata.get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("kind") and ref.get("name"):
            return ref["kind"], ref["name"]
    return None


class MeshIndex:
    """Objects by kind, namespace and name, namespaces and clusters, in one pass.

    Kinds are rule kinds (`rule_kind`). Lists keep the objects' order, so every reader sees
    objects in the order the snapshot holds them.
    """

    def __init__(self, objects: Iterable[ConfigObject]) -> None:
        self.objects: list[ConfigObject] = list(objects)
        self.by_kind: dict[str, list[ConfigObject]] = defaultdict(list)
        self._by_key: dict[tuple[str, str | None, str], ConfigObject] = {}
        self._by_kind_ns: dict[tuple[str, str | None], list[ConfigObject]] = defaultdict(list)
        self._by_cluster: dict[str, list[ConfigObject]] = defaultdict(list)
        #: Namespace name -> its labels (declared Namespace objects; the last one of a name wins).
        self.namespace_labels: dict[str, dict[str, str]] = {}
        #: Namespaces known to exist: declared ones plus those any object lives in.
        self.namespace_names: set[str] = set()
        for o in self.objects:
            k = rule_kind(o)
            self.by_kind[k].append(o)
            self._by_key[(k, o.namespace, o.name)] = o
            self._by_kind_ns[(k, o.namespace)].append(o)
            self._by_cluster[o.cluster].append(o)
            if o.namespace:
                self.namespace_names.add(o.namespace)
            if k == "Namespace":
                self.namespace_labels[o.name] = dict(o.labels)
                self.namespace_names.add(o.name)
        self._clusters: dict[str, MeshIndex] = {}

    def of_kind(self, kind: str) -> list[ConfigObject]:
        return self.by_kind.get(kind, [])

    def in_namespace(self, kind: str, namespace: str | None) -> list[ConfigObject]:
        return self._by_kind_ns.get((kind, namespace), [])

    def get(self, kind: str, namespace: str | None, name: str) -> ConfigObject | None:
        return self._by_key.get((kind, namespace, name))

    @property
    def cluster_names(self) -> list[str]:
        """The clusters of the objects, in order of first appearance."""
        return list(self._by_cluster)

    def cluster(self, name: str) -> MeshIndex:
        """The index of one cluster's objects (validation never crosses clusters); itself when
        every object is in that cluster, else built once."""
        if list(self._by_cluster) == [name]:
            return self
        found = self._clusters.get(name)
        if found is None:
            found = self._clusters[name] = MeshIndex(self._by_cluster.get(name, []))
        return found


def index_of(objects: MeshIndex | Iterable[ConfigObject]) -> MeshIndex:
    """The shared index when given one, else one built from the objects (callers with a list)."""
    return objects if isinstance(objects, MeshIndex) else MeshIndex(objects)
