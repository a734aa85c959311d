"""``python -m streamspec``."""

import sys

from .cli import main

sys.exit(main())
