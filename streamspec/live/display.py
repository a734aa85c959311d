"""The display beneath the window: which video driver SDL uses, whether an X server has a
window manager, and a last call when the X connection is lost.

These talk to SDL and, on X11, to Xlib itself (through :mod:`ctypes`); the window in
:mod:`streamspec.live.view` uses them to open, go fullscreen and save on a lost display.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from typing import Any

from streamspec.live._pygame import pygame

__all__ = ["display_driver", "on_display_lost", "window_manager_missing"]

_X_HANDLER: list[Any] = []  # the installed Xlib callback (kept alive) and the one before


def on_display_lost(callback: Callable[[], None] | None) -> None:
    """Run ``callback`` when the X connection is lost (the window destroyed from outside,
    the X server gone) -- Xlib then ends the process, so it must save at once. ``None``
    puts the earlier handler back. Does nothing on other video drivers."""
    try:
        lib = ctypes.CDLL("libX11.so.6")
    except OSError:
        return
    set_handler = lib.XSetIOErrorHandler
    set_handler.restype = ctypes.c_void_p
    set_handler.argtypes = [ctypes.c_void_p]
    if callback is None:
        if _X_HANDLER:
            set_handler(_X_HANDLER[1])
            _X_HANDLER.clear()
        return
    if not pygame.display.get_init() or pygame.display.get_driver() != "x11":
        return

    def handler(display: int | None) -> int:
        callback()
        return 0

    c_handler = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)(handler)
    previous = set_handler(ctypes.cast(c_handler, ctypes.c_void_p))
    if _X_HANDLER:  # a second install keeps the first one's predecessor
        previous = _X_HANDLER[1]
    _X_HANDLER[:] = [c_handler, previous]


def display_driver() -> str:
    """The video driver SDL settles on here (the display is opened to tell; a driver
    without a screen is closed again, so nothing is left open). What SDL prints on the
    way to a driver without a screen (its failed attempts) is kept off the terminal."""
    import sys
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as said:
        os.dup2(said.fileno(), 2)
        try:
            pygame.display.init()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        driver = str(pygame.display.get_driver())
        if driver in ("offscreen", "dummy"):
            pygame.display.quit()
        else:  # a real screen: what SDL said may matter
            said.seek(0)
            os.write(2, said.read(64 * 1024))
    return driver


def window_manager_missing() -> bool:
    """True on an X server without a window manager (no ``_NET_SUPPORTING_WM_CHECK``
    on the root window); False elsewhere, or when it cannot be told."""
    if pygame.display.get_driver() != "x11":
        return False
    try:
        x = ctypes.CDLL("libX11.so.6")
    except OSError:
        return False
    vp, ul = ctypes.c_void_p, ctypes.c_ulong
    x.XOpenDisplay.restype, x.XOpenDisplay.argtypes = vp, [ctypes.c_char_p]
    x.XInternAtom.restype, x.XInternAtom.argtypes = ul, [vp, ctypes.c_char_p, ctypes.c_int]
    x.XDefaultRootWindow.restype, x.XDefaultRootWindow.argtypes = ul, [vp]
    x.XGetWindowProperty.argtypes = [vp, ul, ul, ctypes.c_long, ctypes.c_long, ctypes.c_int]
    x.XGetWindowProperty.argtypes += [ul, vp, vp, vp, vp, vp]
    x.XFree.argtypes, x.XCloseDisplay.argtypes = [vp], [vp]
    display = x.XOpenDisplay(None)
    if not display:
        return False
    try:
        atom = x.XInternAtom(display, b"_NET_SUPPORTING_WM_CHECK", 1)
        if not atom:
            return True  # no window manager ever announced itself on this server
        kind, fmt = ul(), ctypes.c_int()
        items, after, data = ul(), ul(), ctypes.c_void_p()
        ok = x.XGetWindowProperty(
            display,
            x.XDefaultRootWindow(display),
            atom,
            0,
            1,
            0,
            0,  # AnyPropertyType
            ctypes.byref(kind),
            ctypes.byref(fmt),
            ctypes.byref(items),
            ctypes.byref(after),
            ctypes.byref(data),
        )
        if data:
            x.XFree(data)
        return ok == 0 and items.value == 0
    finally:
        x.XCloseDisplay(display)
