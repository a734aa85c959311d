"""``python -m streamspec`` and the ``streamspec`` command."""

import sys

# First of all: Ctrl-C and SIGTERM become stop requests before anything heavy is
# imported (a signal during the imports is then answered at the first safe point).
from streamspec.pipeline import _signals


def run() -> int:
    """The command line's entry point: the signal handler first, then the command;
    once its exit status is decided, later signals are ignored (the interpreter's
    shutdown would otherwise die of them, with another status)."""
    _signals.install()
    from streamspec.cli import main

    code = main()
    _signals.finished()
    return code


if __name__ == "__main__":
    sys.exit(run())
