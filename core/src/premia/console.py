"""Rendering for the command line: tables, the sync progress display and summaries.

Kept apart from ``cli.py`` so commands stay thin; nothing here touches the store.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from premia.engine.sync import SyncObserver, SyncReport
from premia.queries import Explanation, LeaderboardEntry, ParticipantStatus


def console(file: TextIO | None = None) -> Console:
    """Return a console writing to ``file`` (stdout by default), plain when not a terminal."""
    stream = file or sys.stdout
    width = None if stream.isatty() else 120
    return Console(file=stream, highlight=False, soft_wrap=True, width=width)


def fmt(value: Decimal | None, places: int = 2) -> str:
    """Format a Decimal for display: integers as is, others rounded to ``places``."""
    if value is None:
        return "-"
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,.{places}f}"


class ProgressDisplay(SyncObserver):
    """A rich progress display on a terminal, plain lines otherwise (both on stderr)."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._console = Console(file=self.stream, highlight=False)
        self._progress: Progress | None = None
        self._tasks: dict[tuple[str, str], Any] = {}
        self._rows: dict[tuple[str, str], int] = {}

    def phase(self, name: str) -> None:
        """Show the phase."""
        if name == "read" and self.tty:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(bar_width=None),
                TextColumn("{task.fields[rows]:,} rows"),
                TimeElapsedColumn(),
                console=self._console,
                transient=False,
            )
            self._progress.start()
        elif self._progress is not None and name != "read":
            self._progress.stop()
            self._progress = None
        if not self.tty:
            print(f"premia: {name}", file=self.stream, flush=True)

    def stream_started(self, source: str, stream: str) -> None:
        """Add a line for the stream."""
        self._rows[(source, stream)] = 0
        if self._progress is not None:
            self._tasks[(source, stream)] = self._progress.add_task(
                f"{source}/{stream}", total=None, rows=0
            )

    def batch_stored(self, source: str, stream: str, rows: int, changed: int, note: str) -> None:
        """Advance the stream's counter."""
        self._rows[(source, stream)] = self._rows.get((source, stream), 0) + rows
        task = self._tasks.get((source, stream))
        if self._progress is not None and task is not None:
            self._progress.update(
                task,
                rows=self._rows[(source, stream)],
                description=f"{source}/{stream} {note}".strip(),
            )

    def stream_finished(self, source: str, stream: str, error: str | None) -> None:
        """Close the stream's line."""
        task = self._tasks.get((source, stream))
        if self._progress is not None and task is not None:
            rows = self._rows[(source, stream)]
            label = f"{source}/{stream}" + (
                f" failed: {error}" if error else "" if rows else " (nothing new)"
            )
            self._progress.update(task, total=1, completed=1, rows=rows, description=label)
        if not self.tty:
            state = f"stopped: {error}" if error else "done"
            print(
                f"premia:   {source}/{stream}: {self._rows.get((source, stream), 0):,} rows, {state}",
                file=self.stream,
                flush=True,
            )


def print_sync_report(out: Console, report: SyncReport) -> None:
    """Print a sync summary: what was read and changed, rewards, problems."""
    state = "complete" if report.complete else "INCOMPLETE"
    seconds = (
        (report.finished_at - report.started_at).total_seconds() if report.finished_at else 0.0
    )
    phases = ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items() if v >= 0.05)
    out.print(
        f"Sync #{report.run_id} {state} in {seconds:.1f}s" + (f" ({phases})" if phases else "")
    )
    out.print(
        f"  facts: {report.facts_read:,} read, {report.facts_changed:,} new or changed; "
        f"metric values: {report.metric_values:,}; periods evaluated: {report.periods_evaluated}"
    )
    out.print(
        f"  rewards: {report.grants:,} grants, {report.reversals:,} reversals, {report.adjustments:,} adjustments; "
        f"orders: {report.orders_submitted} submitted, {report.orders_fulfilled} fulfilled, {report.orders_failed} failed"
    )
    if report.bad_records:
        out.print(
            f"  quarantined records: {report.bad_records:,} (first {len(report.bad_samples)} below)"
        )
        for b in report.bad_samples:
            where = (
                b.location
                + (f" line {b.line}" if b.line else "")
                + (f" column {b.column}" if b.column else "")
            )
            out.print(f"    - {where}: {b.reason}")
    if report.duplicate_ids:
        out.print(
            f"  duplicate ids: {report.duplicate_ids:,} record(s) repeated the id of an earlier "
            "record of the same stream in this sync; the last one read was kept"
        )
    if report.no_owner:
        out.print(f"  facts without an owner: {report.no_owner:,} (they count for nobody)")
    if report.unmatched_owners:
        top = ", ".join(f"{k!r} ({n})" for k, n in report.unmatched_owners.most_common(5))
        out.print(f"  owners not in the roster: {len(report.unmatched_owners)} ({top})")
    for line in report.errors:
        out.print(f"  error: {line}")
    for line in report.notes:
        out.print(f"  note: {line}")


def print_leaderboard(
    out: Console, title: str, metric: str, entries: list[LeaderboardEntry], limit: int | None = None
) -> None:
    """Print one leaderboard table."""
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("participant")
    table.add_column(metric, justify="right")
    table.add_column("points", justify="right")
    for e in entries[:limit] if limit else entries:
        table.add_row(str(e.rank), e.participant.name, fmt(e.value), f"{e.points:,}")
    out.print(table)


def print_status(out: Console, status: ParticipantStatus) -> None:
    """Print a participant's balance, badges and progress per rule."""
    p = status.participant
    out.print(f"{p.name} ({p.key}) - region {p.region or '-'}, manager {p.manager or '-'}")
    out.print(
        f"  balance: {status.balance:,} points (earned {status.earned:,}); badges: {', '.join(status.badges) or 'none'}"
    )
    table = Table(title_justify="left")
    for col, just in (
        ("period", "left"),
        ("rule", "left"),
        ("value", "right"),
        ("target", "right"),
        ("left", "right"),
        ("points", "right"),
        ("status", "left"),
    ):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in status.progress:
        table.add_row(
            r.period,
            r.rule,
            fmt(r.value, 3),
            fmt(r.target, 3),
            fmt(r.remaining, 3),
            f"{r.points:,}",
            r.note,
        )
    out.print(table)


def print_orders(out: Console, orders: list[dict[str, Any]]) -> None:
    """Print orders."""
    table = Table(title="Orders", title_justify="left")
    for col in ("key", "participant", "sku", "points", "provider", "provider order", "status"):
        table.add_column(col)
    for o in orders:
        table.add_row(
            o["key"],
            o["participant_name"],
            o["sku"],
            f"{o['points']:,}",
            o["provider"],
            o["provider_order_id"] or "-",
            o["status"] + (f" ({o['last_error']})" if o["last_error"] else ""),
        )
    out.print(table)


def print_explanation(out: Console, e: Explanation) -> None:
    """Print an explanation, from the facts to the ledger."""
    out.print(
        f"{e.participant.name} - rule {e.rule} ({e.rule_type}, version {e.rule_version}) - {e.period}"
    )
    for m in e.metrics:
        line = f"  metric {m['metric']} = {m['value']}   [{m['definition']}]"
        if "fact_count" in m:
            line += f" from {m['fact_count']} fact(s)"
        out.print(line)
        for f in m.get("sample", []):
            out.print(
                f"      {f['source']}/{f['stream']} {f['id']}: {f['occurred_at'] or '-'} {f['stage'] or ''} {f['product'] or ''} amount {f['amount'] or '-'}"
            )
    if e.progress:
        p = e.progress
        out.print(
            f"  progress: value {p['value']}, target {p['target']}, remaining {p['remaining']}, achieved {p['achieved']}"
            + (f", rank {p['rank']}" if p["rank"] else "")
        )
    for g in e.grants:
        out.print(
            f"  grant {g['step']}: {g['points']} points{' + badge ' + g['badge'] if g['badge'] else ''}{' + item ' + g['item'] if g['item'] else ''} [{g['status']}] - {g['reason']}"
        )
    for entry in e.ledger:
        out.print(f"    ledger {entry['type']} {entry['points']:+,} ({entry['at']})")
    out.print(f"  => {e.verdict}")
