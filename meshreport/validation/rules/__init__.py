"""Every rule module, one per object kind; importing this package registers them all.

Modules are discovered, so adding a rule module touches no other file.
"""

from importlib import import_module
from pkgutil import iter_modules

for _m in sorted(m.name for m in iter_modules(__path__)):
    if not _m.startswith("_"):
        import_module(f"{__name__}.{_m}")
