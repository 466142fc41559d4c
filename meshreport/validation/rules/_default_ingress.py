"""istioctl's dummy ingress gateway, which Gateway and VirtualService rules count as present.

istioctl analyzes files with a dummy ingress gateway pod (labels `istio: ingressgateway`) and its Service
(ports 80, 443, 31400, 15443) in the Istio namespace (AddDefaultResources, pkg/config/analysis/local/
defaults.go). meshreport assumes the same whenever the input holds no workload with those labels, so
Gateways for the default ingress are judged alike.
"""

from __future__ import annotations

from collections.abc import Mapping

from meshreport.hosts import selector_matches
from meshreport.validation.index import Context

DEFAULT_INGRESS_LABELS = {"istio": "ingressgateway"}
DEFAULT_INGRESS_PORTS = frozenset((80, 443, 31400, 15443))


def dummy_ingress_selected(selector: Mapping[str, str], ctx: Context) -> bool:
    """Does a (non-empty) gateway selector match the dummy ingress pod, present when the input has no
    ingress pods?"""
    if not selector or not selector_matches(dict(selector), DEFAULT_INGRESS_LABELS):
        return False
    real = ctx.memo("default_ingress.present", lambda c: bool(c.index.workloads_matching(DEFAULT_INGRESS_LABELS)))
    return not real


def dummy_ingress_pod(ctx: Context) -> str:
    """The dummy pod's name, as istioctl names it (`<ingress service>-dummypod`)."""
    return f"{ctx.mesh.ingress_service}-dummypod"
