"""Only here to map the top-level templates/ folder into the wheel as meshreport/templates."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["meshreport", "meshreport.*"]) + ["meshreport.templates"],
    package_dir={"meshreport.templates": "templates"},
    package_data={"meshreport.templates": ["*", "**/*"]},
)
