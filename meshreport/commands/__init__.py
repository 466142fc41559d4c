"""One module per CLI subcommand, so adding a command touches no other.

Each module defines a click command and registers it on `meshreport.cli.cli`; importing them
here is what makes them part of the `meshreport` command.
"""

from meshreport.commands import diff, graph, render, run, send, snapshot, synth, validate  # noqa: F401
