"""Only here to map top-level data folders into the wheel: templates/ as meshreport/templates and
samples/ (the bookinfo sample snapshot and the manifests it is built from) as meshreport/samples, plus the
package data inside meshreport (Istio's CRD schemas)."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["meshreport", "meshreport.*"]) + ["meshreport.templates", "meshreport.samples"],
    package_dir={"meshreport.templates": "templates", "meshreport.samples": "samples"},
    package_data={
        "meshreport.templates": ["*", "**/*"],
        "meshreport.samples": ["*", "**/*"],
        # Istio's CRD OpenAPI schemas (see meshreport/validation/schema/openapi.py)
        "meshreport.validation.schema": ["istio_crds.json"],
    },
)
