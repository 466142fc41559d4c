"""Errors a user can cause, each tied to the documented CLI exit code (README.md "Exit codes").

This is the one mapping from error class to exit code: every command raises these and
`exit_code_for` (used by `meshreport.cli.main`) turns any exception into its code.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_FINDINGS = 3
EXIT_GAPS = 4
EXIT_INPUT = 5
EXIT_DELIVERY = 6
EXIT_INTERRUPTED = 130  # SIGINT (Ctrl-C), 128 + 2 as shells report it
EXIT_TERMINATED = 143  # SIGTERM, 128 + 15


class MeshreportError(Exception):
    """A problem the user can fix; the CLI prints one line and exits with `exit_code`."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(MeshreportError):
    """Unreadable input: bad snapshot, bad YAML, unreachable API when nothing was collected."""

    exit_code = EXIT_INPUT


class GapsError(MeshreportError):
    """Collection finished, but more gaps than --max-gaps allows."""

    exit_code = EXIT_GAPS


class FindingsError(MeshreportError):
    """Findings at or above --fail-on."""

    exit_code = EXIT_FINDINGS


class UsageError(MeshreportError):
    """A bad option value found after click's own parsing (same code as click's usage errors)."""

    exit_code = EXIT_USAGE


class DeliveryError(MeshreportError):
    """The report was written, but sending it (email) failed."""

    exit_code = EXIT_DELIVERY


class OutputError(MeshreportError):
    """An output (`-o` file or report folder) cannot be written: a missing or read-only folder, a full
    disk, a folder where a file was asked for. The user picks another place, so the usage code."""

    exit_code = EXIT_USAGE


def exit_code_for(exc: BaseException) -> int:
    """The documented exit code for an exception that ended a command.

    Errors the tool raises on purpose carry their code; an `OSError` nobody turned into one is
    the machine refusing a read (exit 5, said in one line); anything else is a bug."""
    if isinstance(exc, MeshreportError):
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, (OSError, MemoryError)):
        return EXIT_INPUT
    return EXIT_INTERNAL
