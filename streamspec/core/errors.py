"""Errors that carry a message meant for the user (the CLI prints it as one line)."""

from __future__ import annotations

import enum

__all__ = ["ExitStatus", "InputError", "OutputError", "StreamspecError"]


class ExitStatus(enum.IntEnum):
    """The exit statuses of the ``streamspec`` command, in one place."""

    OK = 0
    #: The command ran, but not all of it succeeded (a batch with failed films, a
    #: corpus with unreadable files).
    FAILED = 1
    #: Bad input or a usage error: one line on stderr, nothing written.
    BAD_INPUT = 2
    #: Stopped by Ctrl-C or SIGTERM (128 + SIGINT, the shell's convention); what was
    #: made is saved.
    INTERRUPTED = 130


class StreamspecError(Exception):
    """A problem the user can fix; ``str(err)`` is a complete one-line explanation."""

    exit_code: int = ExitStatus.BAD_INPUT


class InputError(StreamspecError, ValueError):
    """The input (a file, a device, an option) cannot be used."""


class OutputError(StreamspecError, OSError):
    """The output cannot be written."""
