"""docs/validation.md, generated from the rule registry so the documentation cannot drift from the code.

Regenerate: `python -m meshreport.validation.docs > docs/validation.md` (a test checks it is in step).
"""

from __future__ import annotations

from collections import defaultdict

from meshreport.validation.registry import all_rules

INTRO = """\
# Validation rules

`meshreport validate` checks Istio configuration with the union of Kiali's validations (KIA codes)
and `istioctl analyze`'s analyzers (IST codes). A finding's code is the IST code where istioctl has
the check, else the KIA code, else a meshreport code (`MRnnnn`); *equivalents* lists the other
tool's code for the same check, and suppressions by either code apply. Severities follow the
source tool, including Kiali's modifiers (some KIA checks drop from error to warning when the mesh's
`outboundTrafficPolicy.mode` is `ALLOW_ANY`).

The mesh config comes from the `istio` ConfigMap in the snapshot, or from `--mesh-config FILE`.

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

## Not covered

- Installer prechecks (`istioctl x precheck`): IST0141 InsufficientPermissions, IST0142
  UnsupportedKubernetesVersion, IST0156 UnsupportedGatewayAPIVersion, IST0169 UpdateIncompatibility,
  IST0172 FutureUnsupportedGatewayAPIVersion.
- Codes istioctl defines but never emits from analysis: IST0001 InternalError, IST0143
  LocalhostListener, IST0168 UnknownUpgradeCompatibility.
- IST0106/IST0133 (Istio's own validation) cover the 14 Istio kinds meshreport collects (see each kind's
  rules below), but not everything istioctl checks: EnvoyFilter patch values are not decoded against Envoy's
  protos (unknown type URLs and fields, deprecated types, filters without typed_config); the OpenAPI
  schema is applied as enums and types of the fields the checks read plus unknown top-level spec fields,
  not as a full structural validation; regexes are checked for RE2 syntax with Python's engine plus a
  list of constructs RE2 lacks, not with RE2 itself; ServiceEntry auto-allocation is judged by IST0134.
  Two IST0133 warnings are reported under another code so they do not repeat: ServiceEntry addresses
  for TCP ports (IST0134) and the legacy `name.namespace` gateway form (KIA1108).
"""


def rules_markdown() -> str:
    """The whole document: intro, an index table, then every rule grouped by object kind."""
    rules = all_rules()
    by_kind: dict[str, list] = defaultdict(list)
    for r in rules:
        by_kind[r.kinds[0] if len(r.kinds) == 1 else ", ".join(r.kinds)].append(r)
    out = [INTRO, "## All rules", "", f"{len(rules)} rules.", ""]
    out += ["| code | severity | equivalents | object kinds | title |", "|---|---|---|---|---|"]
    for r in rules:
        eq = ", ".join(r.equivalents) or "-"
        out.append(f"| {r.code} | {r.severity} | {eq} | {', '.join(r.kinds)} | {r.title} |")
    out.append("")
    for kind in sorted(by_kind):
        out += [f"## {kind}", ""]
        for r in sorted(by_kind[kind], key=lambda r: (r.code, r.name)):
            eq = f"; equivalent: {', '.join(r.equivalents)}" if r.equivalents else ""
            opt = "; off by default, run it with `--enable " + r.code + "`" if not r.default else ""
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
