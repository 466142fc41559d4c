"""Errors a user can cause, each tied to the documented CLI exit code (README.md, "Exit codes")."""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_FINDINGS = 3
EXIT_GAPS = 4
EXIT_INPUT = 5


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
