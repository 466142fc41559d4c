"""Settings of `meshreport run` and `meshreport send`, declared once (flag, MESHREPORT_* env, config file).

Importing this module registers them with meshreport.settings, so the precedence rule, the
environment names and docs/configuration.md cover them like every other setting: a CronJob can
drive a whole run from environment variables and a mounted config file.
"""

from __future__ import annotations

from meshreport.settings import SETTINGS, Setting, register

RUN_SETTINGS = [
    Setting(
        "output", "str", None, "Report folder, replaced atomically by each run (instead of an archive).", "--output"
    ),
    Setting(
        "archive.dir",
        "str",
        None,
        "Dated report archive: one folder per run, a `latest` link, an index page (docs/archive.md).",
        "--archive",
    ),
    Setting("archive.keep", "int", 30, "Runs the archive keeps; older ones are deleted (0 keeps all).", "--keep"),
    Setting(
        "title", "str", "Service mesh report", "Title on every page, in the email subject and the index.", "--title"
    ),
    Setting(
        "graph_type",
        "str",
        "versionedApp",
        "Kiali graph type of the report: app, versionedApp, workload, service.",
        "--graph-type",
    ),
    Setting("pdf", "bool", True, "Write report.pdf (needed for the email attachment).", "--pdf"),
    Setting(
        "fail_on",
        "list",
        [],
        "Gates that make the run exit 3 after the report is published: error, warning, info (findings), failure, "
        "degraded (health), error-share>N%, p95>DURATION (docs/ci.md).",
        "--fail-on",
    ),
    Setting("outputs.sarif", "bool", False, "Also write findings.sarif (SARIF 2.1.0, for code scanning).", "--sarif"),
    Setting("outputs.junit", "bool", False, "Also write findings.xml (JUnit XML).", "--junit"),
    Setting(
        "outputs.markdown",
        "bool",
        False,
        "Also write summary.md: headline numbers and findings in Markdown, under 1 MiB (CI step summaries).",
        "--markdown",
    ),
    Setting(
        "mesh_config", "str", None, "MeshConfig YAML for validation [the snapshot's istio ConfigMap].", "--mesh-config"
    ),
    Setting(
        "config.from_files",
        "list",
        [],
        "Read config from these YAML files or folders instead of the Kubernetes API.",
        "--from-files",
    ),
    Setting("config.skip", "bool", False, "Do not collect config (metrics only, no findings).", "--no-config"),
    Setting("kubernetes.contexts", "list", [], "Kubeconfig contexts to collect config from.", "--context"),
    Setting("kubernetes.kubeconfig", "str", None, "Kubeconfig file [KUBECONFIG or ~/.kube/config].", "--kubeconfig"),
    Setting("kubernetes.in_cluster", "bool", False, "Use the pod's service account (CronJob).", "--in-cluster"),
    Setting(
        "kubernetes.secret_names",
        "bool",
        False,
        "Also list Secret names (metadata only) for gateway certificate checks; needs the opt-in role.",
        "--secret-names",
    ),
    Setting(
        "kubernetes.gateway_certs",
        "bool",
        False,
        "Also read Secrets named by Gateways, keeping only certificate facts; needs both opt-in roles.",
        "--gateway-certs",
    ),
]

EMAIL_SETTINGS = [
    Setting(
        "email.to",
        "list",
        [],
        "Recipients of the report email (comma-separated in flag and environment).",
        "--email-to",
    ),
    Setting("email.from", "str", "meshreport@localhost", "Sender address.", "--email-from"),
    Setting(
        "email.subject",
        "str",
        "{title}: {failing} failing, {errors} config errors ({end})",
        "Subject template; fields: {title} {start} {end} {window} {failing} {degraded} {errors} {warnings} "
        "{findings} {error_share} {request_rate} {gaps}.",
        "--email-subject",
    ),
    Setting("email.smtp.host", "str", None, "SMTP server host name.", "--smtp-host"),
    Setting(
        "email.smtp.port",
        "int",
        None,
        "SMTP port [465 with implicit TLS, else 587 with STARTTLS, else 25].",
        "--smtp-port",
    ),
    Setting("email.smtp.tls", "str", "starttls", "starttls, tls (implicit, usually port 465) or none.", "--smtp-tls"),
    Setting(
        "email.smtp.ca_file", "str", None, "PEM CA bundle to verify the SMTP server [system CAs].", "--smtp-ca-file"
    ),
    Setting("email.smtp.username", "str", None, "SMTP user name (AUTH only over TLS).", "--smtp-username"),
    Setting("email.smtp.password", "str", None, "SMTP password.", "--smtp-password", secret=True),
    Setting(
        "email.smtp.password_file",
        "str",
        None,
        "File holding the SMTP password (a mounted Secret); read when sending.",
        "--smtp-password-file",
    ),
    Setting("email.smtp.timeout", "duration", 30.0, "Timeout of each SMTP operation.", "--smtp-timeout"),
    Setting(
        "email.max_attachment",
        "int",
        10 * 1024 * 1024,
        "Largest PDF attached, in bytes; a bigger one is replaced by a note in the body (default 10 MiB).",
        "--max-attachment",
    ),
    Setting("email.report_url", "str", None, "Link to the published report, shown in the email body.", "--report-url"),
]

for _s in RUN_SETTINGS + EMAIL_SETTINGS:
    if not any(s.key == _s.key for s in SETTINGS):
        register(_s)
