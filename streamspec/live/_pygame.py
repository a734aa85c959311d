"""pygame, imported without its start-up banner.

pygame prints a banner when first imported unless ``PYGAME_HIDE_SUPPORT_PROMPT`` is set.
Setting that variable would change the environment of the whole process, and of every
program it starts, merely because streamspec was imported; the banner is swallowed
instead. Every module that needs pygame imports it from here.
"""

from __future__ import annotations

import contextlib
import io

with contextlib.redirect_stdout(io.StringIO()):
    import pygame

__all__ = ["pygame"]
