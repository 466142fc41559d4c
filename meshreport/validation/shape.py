"""The shape guard: every config object is made well-typed once, where it enters the analysis, so no
rule, schema check or graph builder meets `annotations: 7`, `hosts: 5`, `spec: "oops"` or a list
where a mapping belongs.

Each object is walked against a structural schema: for Istio kinds the OpenAPI schema of Istio's own
CRD (`schema/istio_crds.json`), for the Kubernetes and Gateway API kinds meshreport reads a small one
below (only the fields some check or the graph reads), and `metadata` plus `spec` for every kind. A value of the
wrong type is removed from the copy the checks see and reported as a `ShapeIssue` (IST0106 for
Istio kinds, MR0002 for the others), so the object still gets every other check and the rest of
the input is unaffected. A null mapping value is dropped silently, as the API server does. A
well-typed object is returned as it is (no copy).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from meshreport.snapshot.model import ConfigObject
from meshreport.validation.schema import openapi
from meshreport.visible import one_line

#: The code the shape guard reports under (rules/shape.py documents it); Istio specs use IST0106.
WRONG_TYPE_CODE = "MR0002"
INT64 = 2**63
MAX_SHOWN = 40  # characters of an offending value quoted in a message
_DROP = object()


@dataclass(frozen=True)
class ShapeIssue:
    """One value of the wrong type: where (`spec.hosts`), what was expected and what was there."""

    path: str
    expected: str
    got: str
    read_as: str | None = None  # a scalar in a string map (label, annotation) is read as its text
    out_of_range: bool = False  # an integer beyond 64 bits (no schema type check catches it)
    structural: bool = False  # a mapping or list where the other or a scalar belongs, or the reverse

    @property
    def message(self) -> str:
        if self.read_as is not None:
            return f"{self.path}: {self.got} is not a string (quote it); read as {self.read_as!r}"
        if self.out_of_range:
            return f"{self.path}: {self.got} is beyond a 64-bit integer; the checks ignore this field"
        return f"{self.path}: {self.got} is not of type '{self.expected}'; the checks ignore this field"

    @property
    def severity(self) -> str:
        """A value read as text still works the way it was meant: a warning; a removed one is an error."""
        return "warning" if self.read_as is not None else "error"


def _obj(**props: dict) -> dict:
    return {"type": "object", "properties": props}


def _arr(items: dict) -> dict:
    return {"type": "array", "items": items}


_STR = {"type": "string"}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}
_ANY_OBJ = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
_INT_OR_STR = {"x-kubernetes-int-or-string": True}
# Label, annotation and data values: `version: 1` unquoted is an int in YAML, meant as "1".
_STR_MAP = {"type": "object", "additionalProperties": {"type": "string", "x-meshreport-scalar-as-text": True}}
_SELECTOR = _obj(
    matchLabels=_STR_MAP,
    matchExpressions=_arr(_obj(key=_STR, operator=_STR, values=_arr(_STR))),
)
_META = _obj(
    name=_STR,
    generateName=_STR,
    namespace=_STR,
    labels=_STR_MAP,
    annotations=_STR_MAP,
    ownerReferences=_arr(_obj(apiVersion=_STR, kind=_STR, name=_STR, controller=_BOOL)),
)
_CONTAINER = _obj(
    name=_STR,
    image=_STR,
    args=_arr(_STR),
    command=_arr(_STR),
    ports=_arr(_obj(containerPort=_INT, name=_STR, protocol=_STR)),
    env=_arr(_obj(name=_STR, value=_STR, valueFrom=_ANY_OBJ)),
    securityContext=_obj(runAsUser=_INT, runAsGroup=_INT, runAsNonRoot=_BOOL, privileged=_BOOL),
    resources=_ANY_OBJ,
    readinessProbe=_ANY_OBJ,
    livenessProbe=_ANY_OBJ,
    startupProbe=_ANY_OBJ,
)
_POD_SPEC = _obj(
    containers=_arr(_CONTAINER),
    initContainers=_arr(_CONTAINER),
    serviceAccountName=_STR,
    serviceAccount=_STR,
    hostNetwork=_BOOL,
    nodeSelector=_STR_MAP,
    securityContext=_obj(runAsUser=_INT, runAsGroup=_INT, runAsNonRoot=_BOOL),
    volumes=_arr(_ANY_OBJ),
)
_TEMPLATE = _obj(metadata=_META, spec=_POD_SPEC)
_CONTROLLER_SPEC = _obj(selector=_SELECTOR, template=_TEMPLATE, replicas=_INT)
_WEBHOOKS = _arr(
    _obj(
        name=_STR,
        clientConfig=_obj(url=_STR, service=_obj(name=_STR, namespace=_STR, path=_STR, port=_INT)),
        namespaceSelector=_SELECTOR,
        objectSelector=_SELECTOR,
        rules=_arr(_ANY_OBJ),
    )
)

#: Body schemas (beside metadata) of the Kubernetes kinds meshreport reads fields of.
KUBERNETES: dict[str, dict[str, dict]] = {
    "Pod": {"spec": _POD_SPEC, "status": _obj(podIP=_STR, phase=_STR, podIPs=_arr(_obj(ip=_STR)))},
    **{k: {"spec": _CONTROLLER_SPEC} for k in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")},
    "ReplicationController": {"spec": _obj(selector=_STR_MAP, template=_TEMPLATE, replicas=_INT)},
    "CronJob": {"spec": _obj(jobTemplate=_obj(spec=_obj(template=_TEMPLATE)))},
    "Service": {
        "spec": _obj(
            ports=_arr(
                _obj(port=_INT, name=_STR, protocol=_STR, targetPort=_INT_OR_STR, appProtocol=_STR, nodePort=_INT)
            ),
            selector=_STR_MAP,
            type=_STR,
            externalName=_STR,
            clusterIP=_STR,
            clusterIPs=_arr(_STR),
        )
    },
    "ConfigMap": {"data": _STR_MAP},
    "Secret": {"data": _STR_MAP, "stringData": _STR_MAP, "type": _STR},
    "MutatingWebhookConfiguration": {"webhooks": _WEBHOOKS},
    "ValidatingWebhookConfiguration": {"webhooks": _WEBHOOKS},
}
_ANY_KIND = {"spec": _ANY_OBJ}

_PARENT_REF = _obj(group=_STR, kind=_STR, name=_STR, namespace=_STR, sectionName=_STR, port=_INT)
_ROUTE_SPEC = _obj(
    parentRefs=_arr(_PARENT_REF),
    hostnames=_arr(_STR),
    rules=_arr(
        _obj(
            backendRefs=_arr(_obj(group=_STR, kind=_STR, name=_STR, namespace=_STR, port=_INT, weight=_INT)),
            matches=_arr(_ANY_OBJ),
            filters=_arr(_ANY_OBJ),
        )
    ),
)
#: Body schemas of the Gateway API kinds (group gateway.networking.k8s.io) the checks read.
GATEWAY_API: dict[str, dict[str, dict]] = {
    "Gateway": {
        "spec": _obj(
            gatewayClassName=_STR,
            listeners=_arr(
                _obj(
                    name=_STR,
                    hostname=_STR,
                    port=_INT,
                    protocol=_STR,
                    tls=_ANY_OBJ,
                    allowedRoutes=_obj(namespaces=_obj(**{"from": _STR, "selector": _SELECTOR}), kinds=_arr(_ANY_OBJ)),
                )
            ),
            addresses=_arr(_obj(type=_STR, value=_STR)),
        )
    },
    **{k: {"spec": _ROUTE_SPEC} for k in ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute")},
    "ReferenceGrant": {
        "spec": _obj(
            **{
                "from": _arr(_obj(group=_STR, kind=_STR, namespace=_STR)),
                "to": _arr(_obj(group=_STR, kind=_STR, name=_STR)),
            }
        )
    },
}
GATEWAY_API_GROUP = "gateway.networking.k8s.io"


def guard(obj: ConfigObject, *, scalars: bool = True) -> tuple[ConfigObject, list[ShapeIssue]]:
    """`obj` with every wrong-typed value removed, and what was removed ([] and `obj` itself when
    it is well-typed). With `scalars=False` only structural mismatches are removed (a mapping or list
    where it does not belong, or a scalar where one does): a number where text belongs stays, for
    Istio's schema checks, which read scalars defensively and word such errors as istioctl does."""
    issues: list[ShapeIssue] = []
    body = _walk(_body_schema(obj), obj.body, "", issues, scalars)
    if body is obj.body:
        return obj, issues
    if body is _DROP:
        body = {}
    return replace(obj, body=body), issues


def guard_all(objects: Iterable[ConfigObject]) -> list[ConfigObject]:
    """Every object made well-typed (for the graph and mTLS, which report nothing about shapes)."""
    return [guard(o)[0] for o in objects]


def guard_each(objects: Iterable[ConfigObject]) -> list[tuple[ConfigObject, list[ShapeIssue]]]:
    """`guard` of every object, in order: the analysis guards a snapshot's objects once, for the graph
    and mTLS and for the validation runner, which reports the issues (`validate(guarded=...)`)."""
    return [guard(o) for o in objects]


def is_istio(obj: ConfigObject) -> bool:
    """Whether the object's shape comes from an Istio CRD (its issues are IST0106)."""
    return openapi.spec_schema(obj.api_version, obj.kind) is not None


def _body_schema(obj: ConfigObject) -> dict:
    table = GATEWAY_API if obj.group == GATEWAY_API_GROUP else KUBERNETES
    props: dict[str, dict] = {"metadata": _META, **table.get(obj.kind, _ANY_KIND)}
    spec = openapi.spec_schema(obj.api_version, obj.kind)
    if spec is not None:
        props["spec"] = spec
    return {"type": "object", "properties": props}


def _walk(schema: dict, value: Any, path: str, issues: list[ShapeIssue], scalars: bool = True) -> Any:
    """The value with wrong-typed parts removed (the same object when nothing changed), or _DROP."""
    expected = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        if not (isinstance(value, str) or _is_int(value)):
            issues.append(ShapeIssue(path, "integer or string", _shown(value)))
            return _DROP
        return value
    if not isinstance(expected, str):
        return value
    if not _has_type(value, expected):
        structural = expected in ("object", "array") or isinstance(value, (dict, list))
        if not scalars and not structural:
            return value
        if schema.get("x-meshreport-scalar-as-text") and (isinstance(value, (bool, float)) or _is_int(value)):
            text = json.dumps(value) if isinstance(value, bool) else str(value)
            issues.append(ShapeIssue(path, expected, _shown(value), read_as=text))
            return text
        big = isinstance(value, int) and not isinstance(value, bool) and expected in ("integer", "number")
        issues.append(ShapeIssue(path, expected, _shown(value), out_of_range=big, structural=structural))
        return _DROP
    if expected == "object" and not schema.get("x-kubernetes-preserve-unknown-fields"):
        return _walk_object(schema, value, path, issues, scalars)
    if expected == "array" and isinstance(schema.get("items"), dict):
        return _walk_array(schema["items"], value, path, issues, scalars)
    return value


def _walk_object(schema: dict, value: dict, path: str, issues: list[ShapeIssue], scalars: bool) -> dict:
    props = schema.get("properties")
    extra = schema.get("additionalProperties")
    out: dict | None = None
    for key, item in value.items():
        sub = props.get(key) if isinstance(props, dict) else None
        if sub is None and isinstance(extra, dict):
            sub = extra
        if sub is None:
            continue
        new = _DROP if item is None else _walk(sub, item, f"{path}.{key}" if path else str(key), issues, scalars)
        if new is not item:
            if out is None:
                out = dict(value)
            if new is _DROP:
                del out[key]
            else:
                out[key] = new
    return value if out is None else out


def _walk_array(items: dict, value: list, path: str, issues: list[ShapeIssue], scalars: bool) -> list:
    out: list | None = None
    for i, item in enumerate(value):
        if item is None:
            issues.append(ShapeIssue(f"{path}[{i}]", str(items.get("type", "value")), "null", structural=True))
            new = _DROP
        else:
            new = _walk(items, item, f"{path}[{i}]", issues, scalars)
        if new is not item and out is None:
            out = list(value[:i])
        if out is not None and new is not _DROP:
            out.append(new)
    return value if out is None else out


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and -INT64 <= v < INT64


def _has_type(v: Any, expected: str) -> bool:
    if expected == "object":
        return isinstance(v, dict)
    if expected == "array":
        return isinstance(v, list)
    if expected == "string":
        return isinstance(v, str)
    if expected == "integer":
        return _is_int(v)
    if expected == "number":
        return _is_int(v) or isinstance(v, float)
    if expected == "boolean":
        return isinstance(v, bool)
    return True


def _shown(v: Any) -> str:
    """The offending value, short and on one line (it is untrusted)."""
    if isinstance(v, int) and not isinstance(v, bool) and not -INT64 <= v < INT64:
        return f"an integer of about {int(v.bit_length() * 0.30103) + 1} digits"
    if isinstance(v, (dict, list)):
        return f"a {'mapping' if isinstance(v, dict) else 'list'}"
    text = one_line(repr(v if not isinstance(v, str) else v[: MAX_SHOWN * 2]))
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"
