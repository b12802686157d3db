"""The ``csv`` KPI source: facts from CSV files, read incrementally and file by file."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from premia import BadRecord, Batch, CheckResult, Fact, JSONValue, Source, SourceError, StreamInfo
from premia_csv.cursor import FileState, StreamCursor
from premia_csv.mapping import StreamPlan, is_blank
from premia_csv.reader import (
    DataFile,
    Fingerprint,
    Record,
    iter_records,
    open_text,
    resolve_files,
    scan_file,
)
from premia_csv.settings import CsvSettings


class CsvSource(Source[CsvSettings]):
    """Reads facts from CSV files: one stream per configured group of files.

    Each stream maps columns to :class:`premia.Fact` fields, reads numbers and dates the way
    its locale writes them, and keeps a cursor of file fingerprints, so a sync reads only new
    and changed files and a crashed one resumes right after its last stored batch. Rows that
    cannot become facts are quarantined as :class:`premia.BadRecord` with their file, line
    and column; the rows around them are still read.
    """

    type_name = "csv"
    Settings = CsvSettings

    # -- the contract ---------------------------------------------------------------------
    def streams(self) -> list[StreamInfo]:
        """Return one stream per entry of ``streams`` in the settings."""
        infos = []
        for name, stream in self.settings.streams.items():
            files = ", ".join(stream.patterns)
            infos.append(StreamInfo(name, f"{stream.kind} facts from {files}", stream.kind))
        return infos

    def check(self) -> CheckResult:
        """Check every stream's files: they exist, decode, and have the mapped columns.

        Headers are read, not whole files, except for the encoding check, which scans each
        file once in chunks. Never raises for a bad setup.

        Returns:
            ``ok=False`` with every problem found, or ``ok=True`` with what was checked.
        """
        problems: list[str] = []
        file_count = row_count = 0
        for name, stream in self.settings.streams.items():
            try:
                plan = self._plan(name)
            except SourceError as exc:
                problems.append(str(exc))
                continue
            files, unmatched = resolve_files(stream.patterns, self.context.base_dir)
            problems.extend(self._unmatched(name, unmatched))
            for file in files:
                try:
                    scan = scan_file(file, stream.encoding)
                    header = _read_header(file, plan)
                    if header is not None:
                        plan.bind(header, file.key)
                except SourceError as exc:
                    problems.append(str(exc))
                    continue
                file_count += 1
                row_count += max(scan.lines - 1, 0)
        if problems:
            return CheckResult(False, "; ".join(problems))
        streams = len(self.settings.streams)
        return CheckResult(
            True,
            f"{streams} stream{'s' * (streams != 1)}, {file_count} file"
            f"{'s' * (file_count != 1)}, about {row_count:,} rows",
        )

    def read(self, stream: str, cursor: JSONValue | None) -> Iterator[Batch]:
        """Read ``stream`` from ``cursor``: new and changed files, in path order.

        A file whose fingerprint (size and SHA-256) is in the cursor as fully read is skipped;
        a changed file is read again from its first row (facts upsert); a partly read file
        with an unchanged fingerprint resumes at its saved line; a file that is gone leaves
        the cursor. Each batch holds at most ``batch_size`` rows of one file, and its cursor
        resumes right after it. When nothing else was yielded but the cursor changed (e.g. a
        file was removed), one empty batch carries the new cursor; when nothing changed,
        nothing is yielded.

        Args:
            stream: the stream's name.
            cursor: the cursor of the last stored batch, ``None`` on the first sync.

        Yields:
            Batches of facts and bad records.

        Raises:
            SourceError: the stream is unknown, a pattern matches no file, a file cannot be
                read or decoded, or a mapped column is missing from a header. Decoding is
                checked before any batch of the file is yielded.
        """
        plan = self._plan(stream)
        files, unmatched = resolve_files(plan.settings.patterns, self.context.base_dir)
        if unmatched:
            raise SourceError("; ".join(self._unmatched(stream, unmatched)))
        log = self.context.logger
        state = StreamCursor.load(cursor, log)
        emitted = state.dump() if cursor is not None else None
        digest = self._settings_digest(stream, plan)
        if state.settings != digest:
            if state.files:
                log.info("stream %s: settings changed; reading every file again", stream)
            state.files.clear()
            state.settings = digest
        present = {f.key for f in files}
        for key in [k for k in state.files if k not in present]:
            log.info("stream %s: %s is gone; dropped from the cursor", stream, key)
            del state.files[key]
        for file in files:
            fingerprint = scan_file(file, plan.settings.encoding).fingerprint
            known = state.files.get(file.key)
            start_line = None
            if known is not None and known.fingerprint == fingerprint:
                if known.done:
                    log.debug("stream %s: %s unchanged, skipped", stream, file.key)
                    continue
                start_line = known.next_line
                log.info("stream %s: %s resumes at line %s", stream, file.key, start_line)
            elif known is not None:
                log.info("stream %s: %s changed; reading it again", stream, file.key)
            for batch in self._read_file(plan, file, fingerprint, start_line, state):
                emitted = batch.cursor
                yield batch
        final = state.dump()
        if final != emitted:
            yield Batch(facts=[], cursor=final, note=f"{stream}: no new rows", rows=0)

    # -- helpers --------------------------------------------------------------------------
    def _settings_digest(self, stream: str, plan: StreamPlan) -> str:
        """Return a digest of what decides how this stream's rows become facts."""
        text = (
            plan.settings.model_dump_json()
            + "|"
            + (plan.settings.timezone or self.context.timezone)
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _plan(self, stream: str) -> StreamPlan:
        """Return the compiled plan of ``stream``; raise SourceError when it is unknown."""
        settings = self.settings.streams.get(stream)
        if settings is None:
            known = ", ".join(sorted(self.settings.streams))
            raise SourceError(f"{self.context.source_name}: no stream {stream!r} (known: {known})")
        zone_name = settings.timezone or self.context.timezone
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise SourceError(f"stream {stream!r}: unknown timezone {zone_name!r}") from None
        return StreamPlan(stream, settings, zone)

    def _unmatched(self, stream: str, patterns: list[str]) -> list[str]:
        return [
            f"stream {stream!r}: no file matches {p!r} (relative to {self.context.base_dir})"
            for p in patterns
        ]

    def _read_file(
        self,
        plan: StreamPlan,
        file: DataFile,
        fingerprint: Fingerprint,
        start_line: int | None,
        state: StreamCursor,
    ) -> Iterator[Batch]:
        """Yield the batches of one file from ``start_line``, updating ``state`` as it goes."""
        key = file.key
        size = self.settings.batch_size
        try:
            with open_text(file, plan.settings.encoding) as text:
                records = iter_records(text, plan.delimiter)
                header = _first_record(records, key)
                if header is None:  # an empty file: nothing to read, but it is read
                    state.files[key] = FileState(fingerprint)
                    return
                mapper = plan.bind(header, key)
                map_row = mapper.map_row
                rows_before = 0  # data rows of the file before the current batch
                if start_line is not None:
                    rows_before, records = _skip(records, start_line)
                facts: list[Fact] = []
                bad: list[BadRecord] = []
                pending = 0
                for line, cells, error in records:
                    result: Fact | BadRecord | None
                    if error is None:
                        result = map_row(line, cells)
                        if result is None:  # a blank row
                            continue
                    else:
                        result = BadRecord(key, f"malformed CSV: {error}", line=line)
                    if pending == size:
                        state.files[key] = FileState(fingerprint, next_line=line)
                        yield _batch(key, facts, bad, rows_before + 1, state)
                        rows_before += pending
                        facts, bad, pending = [], [], 0
                    pending += 1
                    if isinstance(result, Fact):
                        facts.append(result)
                    else:
                        bad.append(result)
                state.files[key] = FileState(fingerprint)
                if pending:
                    yield _batch(key, facts, bad, rows_before + 1, state)
        except OSError as exc:
            raise SourceError(f"{key}: cannot read the file: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:  # the file changed since it was checked
            raise SourceError(
                f"{key}: byte offset {exc.start} of a read chunk is not valid "
                f"{plan.settings.encoding}; was the file changed during the sync?"
            ) from None


def _batch(
    key: str, facts: list[Fact], bad: list[BadRecord], first_row: int, state: StreamCursor
) -> Batch:
    rows = len(facts) + len(bad)
    note = f"{key} rows {first_row}-{first_row + rows - 1}"
    if bad:
        note += f" ({len(bad)} bad)"
    return Batch(facts=facts, cursor=state.dump(), bad_records=bad, note=note, rows=rows)


def _skip(records: Iterator[Record], start_line: int) -> tuple[int, Iterator[Record]]:
    """Skip the records before physical line ``start_line`` (a resumed read).

    Returns:
        How many data rows were skipped, and the records from ``start_line`` on.
    """
    skipped = 0
    for record in records:
        line, cells, error = record
        if line >= start_line:
            return skipped, itertools.chain([record], records)
        if error is not None or not is_blank(cells):
            skipped += 1
    return skipped, iter(())


def _first_record(records: Iterator[Record], key: str) -> list[str] | None:
    """Return the header (the first non-blank record), or ``None`` for an empty file."""
    for line, cells, error in records:
        if error is not None:
            raise SourceError(f"{key}: line {line}: the header is not valid CSV: {error}")
        if not is_blank(cells):
            return cells
    return None


def _read_header(file: DataFile, plan: StreamPlan) -> list[str] | None:
    """Return the header of ``file`` (reading nothing past it), or ``None`` when empty."""
    try:
        with open_text(file, plan.settings.encoding) as text:
            return _first_record(iter_records(text, plan.delimiter), file.key)
    except OSError as exc:
        raise SourceError(f"{file.key}: cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"{file.key}: not valid {plan.settings.encoding}: {exc}") from None
