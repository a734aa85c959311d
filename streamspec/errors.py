"""Errors that carry a message meant for the user (the CLI prints it as one line)."""

from __future__ import annotations

__all__ = ["InputError", "OutputError", "StreamspecError"]


class StreamspecError(Exception):
    """A problem the user can fix; ``str(err)`` is a complete one-line explanation."""

    exit_code = 2


class InputError(StreamspecError, ValueError):
    """The input (a file, a device, an option) cannot be used."""


class OutputError(StreamspecError, OSError):
    """The output cannot be written."""
