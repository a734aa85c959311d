"""Old public names that still work, with a warning: the one way streamspec renames.

A module lists its renamed names and gets a module ``__getattr__`` that returns the new
object under the old name and warns once per use site (``DeprecationWarning``, pointing at
the caller's line). The renames and when they happened are in the changelog.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["renamed", "warn_renamed"]


def warn_renamed(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn that ``old`` is now called ``new``."""
    warnings.warn(
        f"{old} is deprecated and will be removed; use {new} (same behaviour)",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def renamed(
    module: str, namespace: dict[str, Any], names: Mapping[str, str]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving each old name in ``names`` (old -> new) from
    ``namespace`` (the module's ``globals()``), with a :class:`DeprecationWarning`."""

    def getattr_(name: str) -> Any:
        if name in names:
            warn_renamed(f"{module}.{name}", f"{module}.{names[name]}")
            return namespace[names[name]]
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return getattr_
