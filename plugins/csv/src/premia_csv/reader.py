"""Files: finding them, fingerprinting them, checking their encoding and streaming records.

Nothing here loads a whole file: the fingerprint pass reads fixed-size chunks, and records
are read one at a time through :mod:`csv` from a text stream.
"""

from __future__ import annotations

import codecs
import csv
import glob
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO, TypeAlias

from premia import SourceError

CHUNK_SIZE = 1 << 20
"""Bytes read at a time when fingerprinting a file."""

_UTF8_NAMES = frozenset({"utf-8", "utf-8-sig"})


@dataclass(frozen=True, slots=True)
class DataFile:
    """A file a stream reads.

    Attributes:
        key: its name in cursors and bad records: the path relative to the program's folder
            (``/``-separated), or the absolute path for a file outside it.
        path: where it is.
    """

    key: str
    path: Path


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What identifies a file's content: its size and the SHA-256 of its bytes."""

    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The outcome of :func:`scan_file`.

    Attributes:
        fingerprint: the file's fingerprint.
        lines: its physical lines (a last line without a line break counts).
    """

    fingerprint: Fingerprint
    lines: int


def resolve_files(patterns: Iterable[str], base_dir: Path) -> tuple[list[DataFile], list[str]]:
    """Return the files matching ``patterns``, sorted by key, and the patterns matching none.

    Args:
        patterns: paths or globs (``*``, ``?``, ``[...]``, ``**``), relative to ``base_dir``
            unless absolute; ``~`` is expanded.
        base_dir: the program file's folder.

    Returns:
        The matched regular files (each once) in key order, and the patterns that matched
        nothing.
    """
    found: dict[str, DataFile] = {}
    unmatched: list[str] = []
    for pattern in patterns:
        full = os.path.join(base_dir, os.path.expanduser(pattern))
        paths = [Path(p) for p in glob.glob(full, recursive=True) if os.path.isfile(p)]
        if not paths:
            unmatched.append(pattern)
        for path in paths:
            key = file_key(path, base_dir)
            found.setdefault(key, DataFile(key, path))
    return sorted(found.values(), key=lambda f: f.key), unmatched


def file_key(path: Path, base_dir: Path) -> str:
    """Return the name of ``path`` in cursors and bad records (see :attr:`DataFile.key`)."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(os.path.abspath(base_dir)).as_posix()
    except ValueError:
        return absolute.as_posix()


def codec_name(encoding: str) -> str:
    """Return the canonical codec name of ``encoding`` (``UTF8`` -> ``utf-8``)."""
    return codecs.lookup(encoding).name


def scan_file(file: DataFile, encoding: str) -> ScanResult:
    """Read ``file`` once, in chunks: fingerprint it and check that it decodes.

    With ``utf-8`` (the default) or ``utf-8-sig`` a leading byte-order mark is accepted. No
    byte is ever dropped or replaced: the first byte that does not decode is an error.

    Args:
        file: the file.
        encoding: the stream's ``encoding`` setting.

    Returns:
        The fingerprint and the number of physical lines.

    Raises:
        SourceError: the file cannot be read, or a byte does not decode; the message names
            the file, the byte offset (0-based) and line of the first bad byte, and the
            ``encoding`` setting.
    """
    check = _DecodeCheck(file, encoding)
    digest = hashlib.sha256()
    size = 0
    last = b""
    try:
        with open(file.path, "rb") as handle:
            while chunk := handle.read(CHUNK_SIZE):
                digest.update(chunk)
                check.feed(chunk)
                size += len(chunk)
                last = chunk[-1:]
    except OSError as exc:
        raise SourceError(f"{file.key}: cannot read the file: {exc.strerror or exc}") from None
    check.finish()
    lines = check.newlines + (1 if last not in (b"", b"\n") else 0)
    return ScanResult(Fingerprint(size, digest.hexdigest()), lines)


class _DecodeCheck:
    """Decodes a file chunk by chunk, only to find the first byte that does not decode.

    Offsets are exact across chunks: a character split between two chunks is buffered by the
    incremental decoder, and an error's position is relative to that buffer plus the chunk.
    ``utf-8-sig`` is checked as ``utf-8``: a byte-order mark is valid UTF-8 (U+FEFF), and
    its bytes must count in offsets.
    """

    def __init__(self, file: DataFile, encoding: str):
        codec = codec_name(encoding)
        self.file = file
        self.encoding = encoding
        utf8 = codec in _UTF8_NAMES
        self.decoder = codecs.getincrementaldecoder("utf-8" if utf8 else codec)()
        self.position = 0  # file offset of the next byte to feed
        self.newlines = 0  # line breaks before ``position``

    def feed(self, chunk: bytes) -> None:
        """Decode the next ``chunk`` of the file; raise SourceError on a bad byte."""
        self._decode(chunk, final=False)
        self.newlines += chunk.count(b"\n")
        self.position += len(chunk)

    def finish(self) -> None:
        """Flush the decoder: a character left unfinished at the end of the file is an error."""
        self._decode(b"", final=True)

    def _decode(self, chunk: bytes, *, final: bool) -> None:
        buffered = len(self.decoder.getstate()[0])  # bytes of an unfinished character
        try:
            self.decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            # exc.start counts from the first buffered byte, `buffered` bytes before the chunk
            offset = self.position - buffered + exc.start
            before = chunk[: max(0, offset - self.position)]
            line = self.newlines + before.count(b"\n") + 1
            bad = exc.object[exc.start : exc.start + 1]
            raise SourceError(
                f"{self.file.key}: byte 0x{bad.hex()} at byte offset {offset} (line {line}) "
                f"is not valid {self.encoding} ({exc.reason}); set the stream's `encoding:` to "
                "the file's encoding (e.g. encoding: cp1252 or encoding: latin-1)"
            ) from None


def open_text(file: DataFile, encoding: str) -> TextIO:
    """Open ``file`` for :mod:`csv` (``newline=""``), skipping a UTF-8 byte-order mark.

    Args:
        file: the file.
        encoding: the stream's ``encoding`` setting.

    Returns:
        A text stream; decoding errors raise (nothing is replaced).
    """
    codec = codec_name(encoding)
    if codec in _UTF8_NAMES:
        codec = "utf-8-sig"  # reads files with and without a BOM alike
    return open(file.path, encoding=codec, errors="strict", newline="")


Record: TypeAlias = tuple[int, list[str], str | None]
"""One CSV record: the physical line it starts on (header = 1), its cells (empty for a blank
line) and the :mod:`csv` module's complaint when it is malformed (else ``None``)."""


def iter_records(text: TextIO, delimiter: str) -> Iterator[Record]:
    """Yield every record of ``text`` (the header first) with the line it starts on.

    Line numbers stay right when quoted cells hold line breaks. A record the :mod:`csv`
    module rejects is yielded with no cells and its error, and reading goes on after it.

    Args:
        text: a stream opened with ``newline=""`` (see :func:`open_text`).
        delimiter: the cell delimiter.

    Yields:
        ``(line, cells, error)`` for each record, in file order.
    """
    reader = csv.reader(text, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
    end = 0
    while True:
        try:
            for cells in reader:
                yield end + 1, cells, None
                end = reader.line_num
            return
        except csv.Error as exc:
            yield end + 1, [], str(exc)
            end = max(end + 1, reader.line_num)
