"""Mesh config validation: the union of Kiali's KIA checks and `istioctl analyze`'s IST checks.

`validate(objects, mesh_config=None, *, cluster=None) -> list[Finding]`; suppression is applied
afterwards by `suppress.apply`. Pure: no I/O beyond what the caller passes in.
"""

from meshreport.validation.model import Finding, Hit, ValidationResult
from meshreport.validation.runner import validate

__all__ = ["Finding", "Hit", "ValidationResult", "validate"]
