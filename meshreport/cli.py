"""The `meshreport` command. Thin: options -> settings -> pipeline -> exit code.

Exit codes (README.md "Exit codes"; the mapping is meshreport.errors.exit_code_for): 0 ok, 1 internal
error, 2 usage or unwritable output, 3 findings at or above --fail-on, 4 too many collection gaps,
5 unreadable input, 130 interrupted (SIGINT), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import signal
import sys
from typing import Any

import click

from meshreport import __version__
from meshreport.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_USAGE,
    MeshreportError,
    exit_code_for,
)
from meshreport.visible import one_line

EXIT_CODES_HELP = """\b
Exit codes:
  0  report written; no finding at or above --fail-on
  1  unexpected internal error (a bug; please report it)
  2  usage error, or an output that cannot be written
  3  findings at or above --fail-on (or new findings, regressions vs a baseline)
  4  collection incomplete beyond --max-gaps
  5  input unreadable (bad snapshot or YAML, unreachable API, a size limit exceeded)
  6  report written, but the email could not be sent
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM), temporary files removed
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
    """Entry point: run click, turn every way a command can end into one line and its exit code
    (`meshreport.errors.exit_code_for`)."""
    previous = _on_sigterm()
    try:
        rv = cli.main(args=argv, prog_name="meshreport", standalone_mode=False)
    except click.exceptions.Abort as e:
        # click turns Ctrl-C (and EOF at a prompt) into Abort.
        click.echo("meshreport: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED if not isinstance(e.__context__, EOFError) else EXIT_USAGE)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code if e.exit_code is not None else EXIT_USAGE)
    except MeshreportError as e:
        click.echo(f"meshreport: error: {one_line(e.message)}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("meshreport: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        click.echo(f"meshreport: error: {one_line(where + (e.strerror or str(e)))}", err=True)
        sys.exit(exit_code_for(e))
    except MemoryError:
        click.echo("meshreport: error: out of memory (an input is too large for this machine)", err=True)
        sys.exit(exit_code_for(MemoryError()))
    except Exception as e:  # noqa: BLE001 - the one place a bug becomes a clear message
        click.echo(
            f"meshreport: internal error: {type(e).__name__}: {one_line(str(e))}\n"
            "This is a bug in meshreport. Please report it with the command line and, if you "
            "can, the snapshot file (set MESHREPORT_DEBUG=1 for the traceback).",
            err=True,
        )
        if _debug():
            raise
        sys.exit(EXIT_INTERNAL)
    finally:
        signal.signal(signal.SIGTERM, previous)
    sys.exit(rv if isinstance(rv, int) else 0)


def _on_sigterm() -> Any:
    """SIGTERM (a CronJob's pod being stopped) unwinds like Ctrl-C does, so staging folders and
    temporary files are removed on the way out; exit 143. Returns the previous handler."""

    def handler(signum: int, frame: Any) -> None:
        click.echo("meshreport: terminated", err=True)
        raise SystemExit(EXIT_TERMINATED)

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (an embedding program): leave signals alone
        return signal.getsignal(signal.SIGTERM)


def _debug() -> bool:
    import os

    return os.environ.get("MESHREPORT_DEBUG", "") not in ("", "0")


# Subcommands register themselves on `cli`; importing them here keeps one entry point.
from meshreport import commands  # noqa: E402,F401
