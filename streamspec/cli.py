"""The ``streamspec`` command line: :func:`main` runs it, :func:`build_parser` is its
parser (the CLI reference is generated from it). The code is in :mod:`streamspec._cli`.
"""

from streamspec._cli import build_parser, main, per_command_defaults

__all__ = ["build_parser", "main", "per_command_defaults"]
