"""YAML building blocks shared by the rule tests of the security/workload/ambient modules."""

SHOP = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews, namespace: shop}
spec:
  template:
    metadata: {labels: {app: reviews}}
    spec: {containers: [{name: reviews, image: reviews, ports: [{containerPort: 9080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
"""

AMBIENT = """
apiVersion: v1
kind: Namespace
metadata: {name: amb, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ambw, labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: amb}
spec: {selector: {app: api}, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: amb, labels: {istio.io/use-waypoint: waypoint}}
spec: {selector: {app: web}, ports: [{name: http, port: 80}]}
"""


def obj(kind, name, ns, spec, api="security.istio.io/v1", extra_meta=""):
    """One more YAML document (leading `---`)."""
    return f"""
---
apiVersion: {api}
kind: {kind}
metadata: {{name: {name}, namespace: {ns}{extra_meta}}}
spec:
{spec}
"""
