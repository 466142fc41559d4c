"""One module per CLI subcommand, so adding a command touches no other.

Each module defines a click command and registers it with `@cli.command(...)`.
"""

from importlib import import_module

for _name in ("synth", "render", "snapshot", "graph", "validate"):
    try:
        import_module(f"meshreport.commands.{_name}")
    except ModuleNotFoundError as _e:  # a command not written yet
        if _e.name != f"meshreport.commands.{_name}":
            raise
