"""A private X server (Xvfb) for the window tests and benchmarks/window.py."""

from __future__ import annotations

import os
import subprocess


def start_xvfb(screen: tuple[int, int]) -> tuple[subprocess.Popen[bytes], str] | None:
    """Start Xvfb with one ``screen``-sized 24-bit screen on a display number it chooses
    itself (``-displayfd``, so parallel runs never collide). Returns the process and
    ``":N"``, or None (nothing left running) when it did not start."""
    r, w = os.pipe()
    size = f"{screen[0]}x{screen[1]}x24"
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(w), "-screen", "0", size, "-nolisten", "tcp"],
        pass_fds=(w,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(w)
    with os.fdopen(r) as fh:
        number = fh.readline().strip()
    if not number:
        proc.kill()
        proc.wait(10)
        return None
    return proc, f":{number}"
