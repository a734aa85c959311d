"""The ``streamspec`` command line (private: the public names are in :mod:`streamspec.cli`).

- :mod:`.main` builds the parser from the command modules and runs a command;
- :mod:`.flags` derives every option flag from :mod:`streamspec.core.options`;
- :mod:`.terminal` is all the command line shows besides results: progress, notes,
  escaped names;
- one module per command group holds its flags and runner: :mod:`.render` (render,
  redraw), :mod:`.play` (play, video, devices), :mod:`.page` (page, compare),
  :mod:`.batch` (batch, corpus), :mod:`.quantize`.
"""

from streamspec._cli.flags import per_command_defaults
from streamspec._cli.main import build_parser, main

__all__ = ["build_parser", "main", "per_command_defaults"]
