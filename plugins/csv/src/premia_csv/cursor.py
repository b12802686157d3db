"""The cursor of a ``csv`` stream: which files were read, and where a partly read one stopped.

The cursor is plain JSON::

    {
      "version": 1,
      "settings": "5d41402abc4b2a76",
      "files": {
        "data/2024-01.csv": {"size": 81234, "sha256": "9f86d0..."},
        "data/2024-02.csv": {"size": 90211, "sha256": "2c26b4...", "next_line": 5003}
      }
    }

``files`` holds one entry per file, keyed by its name relative to the program's folder. An
entry without ``next_line`` is a file read to its end with that fingerprint: while the file
keeps it, the file is skipped. An entry with ``next_line`` is a file read up to (not
including) the record starting on that physical line: a read resumes there if the file still
has that fingerprint, and starts the file over otherwise. A file no longer found is dropped.

``settings`` is a digest of the stream's settings (mapping, locale, encoding, timezone...).
When the settings change, say to fix a wrong decimal separator that quarantined rows, every
file is read again with the new settings, even though no file changed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from premia.facts import JSONValue
from premia_csv.reader import Fingerprint

CURSOR_VERSION = 1
"""The version of the cursor format written by this plugin."""


@dataclass(frozen=True, slots=True)
class FileState:
    """What the cursor knows of one file.

    Attributes:
        fingerprint: the file's size and SHA-256 when it was read.
        next_line: the physical line of the next record to read; ``None`` once the file was
            read to its end.
    """

    fingerprint: Fingerprint
    next_line: int | None = None

    @property
    def done(self) -> bool:
        """Return True when the file was read to its end."""
        return self.next_line is None


@dataclass(slots=True)
class StreamCursor:
    """The decoded cursor of one stream: a :class:`FileState` per file name."""

    files: dict[str, FileState] = field(default_factory=dict)
    settings: str | None = None

    @classmethod
    def load(cls, raw: JSONValue | None, logger: logging.Logger | None = None) -> StreamCursor:
        """Decode a saved cursor; ``None`` (first sync) gives an empty one.

        A cursor this plugin cannot read (another format, hand-edited) is logged and
        ignored: every file is then read again, which is safe because facts upsert.

        Args:
            raw: the saved cursor.
            logger: where to warn about an unreadable cursor.

        Returns:
            The cursor.
        """
        if raw is None:
            return cls()
        try:
            settings = raw.get("settings") if isinstance(raw, Mapping) else None
            return cls(_decode_files(raw), settings if isinstance(settings, str) else None)
        except (TypeError, ValueError, KeyError) as exc:
            (logger or logging.getLogger(__name__)).warning(
                "ignoring an unreadable csv cursor (%s); every file is read again", exc
            )
            return cls()

    def dump(self) -> dict[str, Any]:
        """Return the cursor as a fresh JSON-ready dict (files in name order)."""
        files: dict[str, dict[str, Any]] = {}
        for name in sorted(self.files):
            state = self.files[name]
            entry: dict[str, Any] = {
                "size": state.fingerprint.size,
                "sha256": state.fingerprint.sha256,
            }
            if state.next_line is not None:
                entry["next_line"] = state.next_line
            files[name] = entry
        dumped: dict[str, Any] = {"version": CURSOR_VERSION, "files": files}
        if self.settings is not None:
            dumped["settings"] = self.settings
        return dumped


def _decode_files(raw: JSONValue) -> dict[str, FileState]:
    if not isinstance(raw, Mapping):
        raise TypeError(f"expected an object, got {type(raw).__name__}")
    if raw.get("version") != CURSOR_VERSION:
        raise ValueError(f"unknown version {raw.get('version')!r}")
    entries = raw["files"]
    if not isinstance(entries, Mapping):
        raise TypeError("files is not an object")
    files: dict[str, FileState] = {}
    for name, entry in entries.items():
        size, sha256 = entry["size"], entry["sha256"]
        next_line = entry.get("next_line")
        if not isinstance(name, str) or not isinstance(size, int) or not isinstance(sha256, str):
            raise TypeError(f"bad entry for {name!r}")
        if next_line is not None and (not isinstance(next_line, int) or next_line < 2):
            raise ValueError(f"bad next_line for {name!r}")
        files[name] = FileState(Fingerprint(size, sha256), next_line)
    return files
