"""The installed version of premia-sdk (for the User-Agent header)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("premia-sdk")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"
