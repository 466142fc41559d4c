"""The `meshreport` command. Thin: options -> settings -> pipeline -> exit code.

Exit codes (README.md, "Exit codes"): 0 ok, 1 internal error, 2 usage, 3 findings at or above --fail-on,
4 too many collection gaps, 5 unreadable input.
"""

from __future__ import annotations

import sys

import click

from meshreport import __version__
from meshreport.errors import EXIT_INTERNAL, EXIT_USAGE, MeshreportError

EXIT_CODES_HELP = """\b
Exit codes:
  0  report written; no finding at or above --fail-on
  1  unexpected internal error (a bug; please report it)
  2  usage error
  3  findings at or above --fail-on (or new findings, regressions vs a baseline)
  4  collection incomplete beyond --max-gaps
  5  input unreadable (bad snapshot or YAML, unreachable API)
"""


@click.group(
    help="Turn an Istio service mesh into a report people read: a static HTML site and a PDF "
    "with topology pictures, health tables and config findings for a time window.\n\n" + EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="meshreport")
def cli() -> None:
    pass


def main(argv: list[str] | None = None) -> None:
    """Entry point: run click, turn user errors into one line and their exit code."""
    try:
        rv = cli.main(args=argv, prog_name="meshreport", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("meshreport: aborted", err=True)
        sys.exit(EXIT_INTERNAL)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code if e.exit_code is not None else EXIT_USAGE)
    except MeshreportError as e:
        click.echo(f"meshreport: error: {e.message}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("meshreport: interrupted", err=True)
        sys.exit(130)
    except Exception as e:  # noqa: BLE001 - the one place a bug becomes a clear message
        click.echo(
            f"meshreport: internal error: {type(e).__name__}: {e}\n"
            "This is a bug in meshreport. Please report it with the command line and, if you "
            "can, the snapshot file (set MESHREPORT_DEBUG=1 for the traceback).",
            err=True,
        )
        if _debug():
            raise
        sys.exit(EXIT_INTERNAL)
    sys.exit(rv if isinstance(rv, int) else 0)


def _debug() -> bool:
    import os

    return os.environ.get("MESHREPORT_DEBUG", "") not in ("", "0")


# Subcommands register themselves on `cli`; importing them here keeps one entry point.
from meshreport import commands  # noqa: E402,F401
