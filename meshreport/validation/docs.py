"""docs/validation.md, generated from the rule registry so the documentation cannot drift from the code.

Regenerate: `python -m meshreport.validation.docs > docs/validation.md` (a test checks it is in step).
"""

from __future__ import annotations

from collections import defaultdict

from meshreport.validation.registry import all_rules

#: The heading of the rules raised from traffic (validation/traffic.py), after the object kinds.
TRAFFIC = "~Traffic"

INTRO = """\
# Validation rules

`meshreport validate` checks Istio configuration with the union of Kiali's validations (KIA codes)
and `istioctl analyze`'s analyzers (IST codes). A finding's code is the IST code where istioctl has
the check, else the KIA code, else a meshreport code (`MRnnnn`); *equivalents* lists the other
tool's code for the same check, and suppressions by either code apply. Severities follow the
source tool, including Kiali's modifiers (some KIA checks drop from error to warning when the mesh's
`outboundTrafficPolicy.mode` is `ALLOW_ANY`).

The mesh config comes from the `istio` ConfigMap in the snapshot, or from `--mesh-config FILE` (which
also takes a MeshNetworks file, like istioctl's meshNetworks).

Like istioctl, IST checks report nothing about objects in `kube-system`, `kube-public`,
`kube-node-lease` and `local-path-storage` (istioctl does not read those namespaces); KIA checks do.

## Odd files and wrong types

`validate -f DIR` reads every `.yaml`, `.yml` and `.json` file below DIR (hidden files and folders
left out). A document that is not a Kubernetes object (a Helm `Chart.yaml` or values file, a
kustomization, a template with `{{ }}` that is not valid YAML, invalid YAML), an object without
`metadata.name`, a file that is not UTF-8 and a folder or file that cannot be read are each reported
on stderr with their file:line (`meshreport: warning: not collected: FILE:LINE: ...; skipped`; in a
snapshot made from files they are config gaps) and everything else is validated. Only when nothing
at all could be read is it exit 5; a path that does not exist is exit 5 at once.

Before any rule runs, each object passes a shape guard (`meshreport/validation/shape.py`): a field of
the wrong type (`annotations: 7`, `hosts: 5`, `spec: "oops"`, a list where a mapping belongs, an
integer beyond 64 bits) is left out of the copy the rules see and reported, IST0106 for an Istio spec
(against the CRD schema) and MR0002 for everything else; a number or boolean where a label, annotation
or ConfigMap value belongs is read as its text with an MR0002 warning. The object still gets every
other check, and the rest of the input is unaffected.

## Suppressing findings

- Annotation `galley.istio.io/analyze-suppress: "IST0101,KIA1107"` (or `*`) on the object.
- Annotation `kiali.io/ignore-validations` on the object: empty means all codes, or a comma list.
- `-S 'CODE=Kind namespace/name'` on the command line (repeatable; `*` wildcards in code and resource).
- The config file (`--config`, or `$MESHREPORT_CONFIG`):

  ```yaml
  validation:
    suppressions:
    - code: IST0101                      # or codes: [IST0101, KIA1101]
      resource: "VirtualService shop/*"  # Kind namespace/name, `*` wildcards; default `*`
      reason: "legacy host, removed in ticket 123"
      expires: 2026-12-31                # optional; afterwards it no longer applies and is reported
  ```

Suppressed findings are counted in every output and listed with `--show-suppressed`
(SARIF carries them as `suppressions`, JUnit as skipped test cases). `--ignore-annotations`
makes CI ignore the annotations.

## mTLS: one resolver, Istio's reading

Every mTLS-dependent rule (KIA0105, KIA0204-KIA0208, KIA0401, KIA0501, KIA0505, KIA0506) and the
report's mTLS section read one resolver, `meshreport/mtls.py`, which follows istiod:

- Server mode (PeerAuthentication): workload policy (selector whose labels are a subset of the
  workload's, not in the root namespace) > namespace-wide > mesh-wide (root namespace, no selector)
  > Istio's default PERMISSIVE. UNSET inherits from the wider scope; port-level modes
  (`portLevelMtls`, container ports) count only on a workload policy and UNSET there inherits the
  workload's mode. Among policies of one scope the oldest (creationTimestamp, then name) wins.
- Client mode (DestinationRule `trafficPolicy.tls`, a matching `portLevelSettings` entry first): the
  most specific host match in the client's namespace, then the service's namespace, then the root
  namespace (rules elsewhere apply only to their own namespace's clients). A `tls` block without a
  mode is DISABLE. Without a TLS setting, auto mTLS (`enableAutoMtls`, on by default) sends mTLS to
  sidecar endpoints whose port is not DISABLE; with auto mTLS off the client sends plain text.
- Without mesh config in the input or `--mesh-config`, Istio's defaults apply (root namespace
  `istio-system`, auto mTLS on).

Where Kiali reads the config differently, meshreport follows Istio:

- Two policies in one scope: Kiali takes the first in list order; Istio the oldest
  (creationTimestamp, then name).
- Port-level modes: Kiali ignores them; here they count per port, and KIA0105 names the port that
  gets no mTLS.
- A workload policy in PERMISSIVE: Kiali looks up the DestinationRules of matching Services to call
  it enabled or not; here the server accepts both, and whether mTLS arrives is the clients' answer
  (DestinationRule, auto mTLS).
- Which DestinationRule clients use: Kiali treats any `*.local` rule as mesh-wide and any
  `*.<ns>.svc.<domain>` rule as namespace-wide wherever it lives; here, as in istiod, a rule applies
  to clients of its own namespace, and to everyone only from the service's or the root namespace.
- No PeerAuthentication at all, auto mTLS off, an ISTIO_MUTUAL DestinationRule: Kiali reports
  KIA0105 (mTLS "not enabled"); Istio's default PERMISSIVE accepts the mTLS clients send, so
  meshreport does not (Kiali's KIA0105 fixtures 6 and 12 with auto mTLS off).
- AuthorizationPolicy without a selector: Kiali reads the namespace status; here every sidecar
  workload of the namespace counts (a workload-level DISABLE too). In the root namespace it covers
  every matching workload of the mesh. Without workloads in the input the selector's labels stand
  for the workload, as in Kiali.

KIA0205/KIA0206 keep Kiali's intent of an explicit PeerAuthentication: Istio's built-in PERMISSIVE
default would accept the mTLS the DestinationRule sends, but the rule still asks for a policy that
says so. KIA0401/KIA0501 fire only when no DestinationRule sets a TLS mode (auto mTLS off); a
DestinationRule with DISABLE against STRICT is KIA0207 (namespace STRICT) or KIA0208 (STRICT
inherited from the mesh), so one misconfiguration is reported once. istioctl has no IST analyzer for
mTLS consistency today (IST0113 MTLSPolicyConflict is retired), so no IST code depends on it.

## Findings from traffic: MR0101-MR0103

Three codes come from the report's comparison of the configured mTLS mode with the traffic of the
window (`meshreport/mtls_traffic.py`): MR0101 *Ready for STRICT* (info), MR0102 *Blocks STRICT*
(warning, the plain-text callers named) and MR0103 *Will break* (error; a warning when a port of the
workload accepts plain text). They are findings like any other: in the report's findings page,
counts and PDF, `summary.json`, the SARIF and JUnit files of `meshreport run`, `--fail-on` of
`render` and `run`, and every suppression above applies to them (the object is the `Namespace`, or
the workload's controller, e.g. `-S 'MR0102=Deployment billing/*'`). They need traffic and config
in one snapshot and at least the traffic floor (the config file's `mtls:` section,
[configuration.md](configuration.md#mtls-traffic-floors)); a metrics-only snapshot gets none.

`meshreport validate` checks configuration only (`-f`, `--context` or the config objects of a
SNAPSHOT) and never reports them, even for a snapshot with metrics: its input has no traffic window
to compare with, and its JSON shape stays that of the config checks.

## Not covered

- Installer prechecks (`istioctl x precheck`): IST0141 InsufficientPermissions, IST0142
  UnsupportedKubernetesVersion, IST0156 UnsupportedGatewayAPIVersion, IST0169 UpdateIncompatibility,
  IST0172 FutureUnsupportedGatewayAPIVersion.
- Codes istioctl defines but never emits from analysis: IST0001 InternalError, IST0143
  LocalhostListener, IST0168 UnknownUpgradeCompatibility.
- IST0106/IST0133 (Istio's own validation) cover the 14 Istio kinds meshreport collects (see each kind's
  rules below), but not everything istioctl checks: EnvoyFilter patch values are not decoded against Envoy's
  protos (unknown type URLs and fields, deprecated types, filters without typed_config); the OpenAPI
  schemas of Istio's CRDs (`meshreport/validation/schema/istio_crds.json`, copied from istio/istio's
  `manifests/charts/base/files/crd-all.gen.yaml` at commit 86c9f01fd735, 2026-08-22, Apache-2.0) are
  applied in full except their CEL rules (`x-kubernetes-validations`); regexes are checked for RE2
  syntax with Python's engine plus a list of constructs RE2 lacks, not with RE2 itself; ServiceEntry
  auto-allocation is judged by IST0134.
  Two IST0133 warnings are reported under another code so they do not repeat: ServiceEntry addresses
  for TCP ports (IST0134) and the legacy `name.namespace` gateway form (KIA1108).
"""


def rules_markdown() -> str:
    """The whole document: intro, an index table, then every rule grouped by object kind."""
    rules = all_rules()
    by_kind: dict[str, list] = defaultdict(list)
    for r in rules:
        if r.check is None:
            by_kind[TRAFFIC].append(r)  # raised from traffic, about several kinds of object
        else:
            by_kind[r.kinds[0] if len(r.kinds) == 1 else ", ".join(r.kinds)].append(r)
    out = [INTRO, "## All rules", "", f"{len(rules)} rules.", ""]
    out += ["| code | severity | equivalents | object kinds | title |", "|---|---|---|---|---|"]
    for r in rules:
        eq = ", ".join(r.equivalents) or "-"
        out.append(f"| {r.code} | {r.severity} | {eq} | {', '.join(r.kinds)} | {r.title} |")
    out.append("")
    for kind in sorted(by_kind):
        out += [f"## {'Traffic (mTLS configured vs seen)' if kind == TRAFFIC else kind}", ""]
        for r in sorted(by_kind[kind], key=lambda r: (r.code, r.name)):
            eq = f"; equivalent: {', '.join(r.equivalents)}" if r.equivalents else ""
            opt = "; off by default, run it with `--enable " + r.code + "`" if not r.default else ""
            if r.check is None:
                opt += "; raised from the window's traffic by the report, not by `validate`"
            out += [
                f"### {r.code}: {r.title}",
                "",
                f"*{r.severity}*{eq}; rule `{r.module}.{r.name}`{opt}",
                "",
                r.doc,
                "",
            ]
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(rules_markdown(), end="")
