"""What the command line shows on the terminal: progress, notes, and names made safe.

Progress goes through :class:`Progress` only: a tqdm bar on stderr when it is a terminal,
nothing when stderr is piped or redirected (or the user said ``--no-progress`` /
``-q``). Every name that reaches the terminal passes through :func:`shown`.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["PROG", "Progress", "say_sampling", "short", "shown"]

PROG = "streamspec"


class Progress:
    """One progress bar on stderr: tqdm on a terminal, nothing otherwise.

    ``show`` None lets the terminal decide (shown only when stderr is a TTY); True or
    False forces it. ``total`` None counts without a bar. Use as a context manager, or
    :meth:`close` it.
    """

    def __init__(
        self, *, unit: str, desc: str = "", total: int | None = None, show: bool | None = None
    ) -> None:
        from tqdm import tqdm

        self._bar: Any = tqdm(
            total=total,
            unit=unit,
            desc=desc,
            disable=None if show is None else not show,  # None: off when not a TTY
            dynamic_ncols=True,
            leave=False,
            mininterval=0.2,
        )

    def update(self, n: int = 1) -> None:
        """``n`` more done."""
        self._bar.update(n)

    def set(self, done: int, total: int | None = None) -> None:
        """``done`` of ``total`` (None: the total is unchanged) done so far."""
        if total is not None and self._bar.total != total:
            self._bar.total = total
        self._bar.update(done - self._bar.n)

    def clear(self) -> None:
        """Take the bar off the screen, to print a line of its own (it comes back with
        the next update)."""
        self._bar.clear()

    def reset(self) -> None:
        """Start counting again from zero (the same total)."""
        self._bar.reset()

    def close(self) -> None:
        """Remove the bar for good."""
        self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def say_sampling(command: str, note: str | None) -> None:
    """The one line saying what the default sampling chose (nothing if the user chose)."""
    if note:
        print(f"{PROG} {command}: {note}", file=sys.stderr, flush=True)


def short(name: str, n: int = 40) -> str:
    """A film's name for a progress bar or a summary line: its base name, escaped
    (:func:`shown`), at most ``n`` characters."""
    import os.path

    base = shown(os.path.basename(name) if os.path.sep in name else name)
    return base if len(base) <= n else base[: n - 1] + "…"


def shown(text: object, *, lines: bool = False) -> str:
    """``text`` safe for the terminal: control characters escaped, so a file name can
    never move the cursor, retitle the terminal or forge a line (``lines``: keep the
    text's own line breaks, escape the rest)."""
    from streamspec.core._io import shown as escaped

    if lines:
        return "\n".join(escaped(line) for line in str(text).split("\n"))
    return escaped(text)
