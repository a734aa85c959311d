"""``python -m streamspec``."""

import sys

# First of all: Ctrl-C and SIGTERM become stop requests before anything heavy is
# imported (a signal during the imports is then answered at the first safe point).
from ._signals import install

install()

from .cli import main  # noqa: E402

sys.exit(main())
