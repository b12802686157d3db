"""Benchmark: a full `premia sync` and an incremental re-sync against a floor in the same run.

The floor is the least work any tool must do for the same answer: Python's csv module reads
the rows, sqlite3 executemany stores them in one table, and one GROUP BY per agent and month
sums won revenue. Premia does far more (exact Decimals, timezone-aware dates, upserts keyed
by source id, change detection, several metrics, rules, ledger); the target is a full sync at
most 2x the floor, an incremental re-sync of 1% of rows at most 5% of the full sync, and peak
memory under 300 MB at 1,000,000 rows.

Each measured step runs in its own process, so its peak memory (max RSS) is its own.

    python bench/bench_sync.py                 # 1,000,000 rows
    python bench/bench_sync.py --rows 100000   # quicker
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = 100
AGENTS = 300
REGIONS = ("Central", "East", "West")
PRODUCTS = ("GTX Basic", "GTX Pro", "MG Special", "MG Advanced", "GTX Plus Pro", "GTK 500")
HEADER = [
    "opportunity_id",
    "sales_agent",
    "product",
    "account",
    "deal_stage",
    "close_date",
    "close_value",
]

PROGRAM = """\
name: Benchmark
timezone: America/Chicago
period: month
sources:
  - name: crm
    type: csv
    settings:
      batch_size: 5000
      streams:
        deals:
          files: data/*.csv
          id: opportunity_id
          columns: {owner_ref: sales_agent, product: product, account: account,
                    stage: deal_stage, occurred_at: close_date, amount: close_value}
          constants: {currency: USD}
roster:
  file:
    path: roster.csv
    columns: {name: agent, region: region}
metrics:
  - {name: won_revenue, agg: sum, field: amount, where: {stage: Won}}
  - {name: won_deals, agg: count, where: {stage: Won}}
  - {name: closed_deals, agg: count, where: {stage: [Won, Lost]}}
  - name: win_rate
    ratio: {numerator: won_deals, denominator: closed_deals, min_denominator: 10}
rules:
  - {name: revenue_target, type: threshold, metric: won_revenue, target: 100000, reward: {points: 500}}
  - name: conversion
    type: tiered
    metric: win_rate
    mode: whole
    tiers: [{at: 0.5, reward: {points: 100}}, {at: 0.6, reward: {points: 300}}]
  - {name: top_closer, type: rank, metric: won_revenue, within: region, top: 1, reward: {points: 1000}}
"""


def agent(i: int) -> str:
    return f"Agent {i:04d}"


def generate(folder: Path, rows: int, seed: int = 7) -> None:
    """Write `rows` deals over FILES files (one per slice of ids) and a roster."""
    rnd = random.Random(seed)
    data = folder / "data"
    data.mkdir(parents=True)
    with (folder / "roster.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["agent", "region"])
        for i in range(AGENTS):
            w.writerow([agent(i), REGIONS[i % len(REGIONS)]])
    start = date(2023, 1, 1)
    per_file = -(-rows // FILES)
    days = 730
    for f in range(FILES):
        # Like a CRM export per week: file f holds the deals closing in its slice of time.
        first, last = f * days // FILES, (f + 1) * days // FILES - 1
        with (data / f"deals_{f:03d}.csv").open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(HEADER)
            for i in range(f * per_file, min(rows, (f + 1) * per_file)):
                stage = rnd.choices(("Won", "Lost", "Engaging"), (5, 3, 2))[0]
                closed = stage != "Engaging"
                day = start + timedelta(days=rnd.randint(first, last))
                w.writerow(
                    [
                        f"OPP{i:08d}",
                        agent(rnd.randrange(AGENTS)),
                        rnd.choice(PRODUCTS),
                        f"Account {rnd.randrange(500)}",
                        stage,
                        day.isoformat() if closed else "",
                        f"{rnd.randrange(100, 20000)}.{rnd.randrange(100):02d}"
                        if stage == "Won"
                        else ("0" if closed else ""),
                    ]
                )


def change_rows(folder: Path, fraction: float, concentrated: bool, seed: int = 11) -> int:
    """Flip the stage of `fraction` of all rows.

    Concentrated: all in the newest file (recent deals change: the usual incremental case).
    Spread: over every file, so every file is read again and every period is recomputed
    (the worst case for file-level change detection).
    """
    rnd = random.Random(seed)
    files = sorted((folder / "data").glob("*.csv"))
    total = sum(sum(1 for _ in f.open()) - 1 for f in files)
    wanted = int(total * fraction)
    targets = files[-1:] if concentrated else files
    per_file = -(-wanted // len(targets))
    changed = 0
    for f in targets:
        with f.open(newline="") as fh:
            rows = list(csv.reader(fh))
        picks = rnd.sample(range(1, len(rows)), min(per_file, len(rows) - 1, wanted - changed))
        for i in picks:
            row = rows[i]
            row[4] = "Lost" if row[4] == "Won" else "Won"
            row[5] = row[5] or "2024-12-30"
            row[6] = "0" if row[4] == "Lost" else "1234.50"
        with f.open("w", newline="") as fh:
            csv.writer(fh).writerows(rows)
        changed += len(picks)
    return changed


def floor(folder: Path) -> dict[str, float]:
    """The floor: csv + sqlite3 executemany into one table + one GROUP BY per agent and month."""
    db = folder / "floor.sqlite"
    db.unlink(missing_ok=True)
    t0 = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE deals (id TEXT PRIMARY KEY, agent TEXT, product TEXT, account TEXT, stage TEXT, close_date TEXT, value TEXT)"
    )
    rows = 0
    for f in sorted((folder / "data").glob("*.csv")):
        with f.open(newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            batch = []
            for row in reader:
                batch.append(row)
                if len(batch) == 5000:
                    conn.executemany("INSERT INTO deals VALUES (?,?,?,?,?,?,?)", batch)
                    rows += len(batch)
                    batch = []
            conn.executemany("INSERT INTO deals VALUES (?,?,?,?,?,?,?)", batch)
            rows += len(batch)
    conn.commit()
    result = conn.execute(
        "SELECT agent, substr(close_date, 1, 7), SUM(value) FROM deals WHERE stage = 'Won' GROUP BY 1, 2"
    ).fetchall()
    conn.close()
    return {"seconds": time.perf_counter() - t0, "rows": rows, "groups": len(result)}


def premia_sync(folder: Path) -> dict[str, float]:
    """One `premia sync` through the library, as the CLI runs it."""
    from premia.engine.sync import run_sync
    from premia.runtime import open_runtime

    t0 = time.perf_counter()
    with open_runtime(folder / "program.yaml", database=f"sqlite:///{folder / 'premia.db'}") as rt:
        report = run_sync(rt)
    return {
        "seconds": time.perf_counter() - t0,
        "facts_read": report.facts_read,
        "facts_changed": report.facts_changed,
        "grants": report.grants,
        "reversals": report.reversals,
        "complete": report.complete,
        "timings": report.timings,
    }


def child(step: str, folder: Path) -> dict[str, float]:
    """Run one step in a fresh process; return its result and peak RSS in MB."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", step, "--dir", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{step} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=HERE / "out")
    parser.add_argument("--child", choices=["floor", "sync"])
    args = parser.parse_args()
    if args.child:
        result = floor(args.dir) if args.child == "floor" else premia_sync(args.dir)
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    folder = args.dir.resolve()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"generating {args.rows:,} deal rows in {FILES} files ...", flush=True)
    generate(folder, args.rows)
    (folder / "program.yaml").write_text(PROGRAM)
    base = child("floor", folder)
    full = child("sync", folder)
    changed = change_rows(folder, 0.01, concentrated=True)
    incr = child("sync", folder)
    changed_spread = change_rows(folder, 0.01, concentrated=False)
    spread = child("sync", folder)
    rate = args.rows / full["seconds"]
    print(f"\nrows: {args.rows:,}   (cores: {os.cpu_count()})")
    print(
        f"floor (csv + sqlite3 + GROUP BY): {base['seconds']:8.2f} s   peak {base['peak_mb']:6.0f} MB"
    )
    print(
        f"premia full sync:                 {full['seconds']:8.2f} s   peak {full['peak_mb']:6.0f} MB   "
        f"{rate:,.0f} rows/s   ratio to floor {full['seconds'] / base['seconds']:.2f}x  (target <= 2x)"
    )
    print(
        f"incremental, 1% in one file ({changed:,} rows changed): {incr['seconds']:6.2f} s   "
        f"{100 * incr['seconds'] / full['seconds']:.1f}% of full (target <= 5%)   changed facts {incr['facts_changed']:,}"
    )
    print(
        f"incremental, 1% spread over all files ({changed_spread:,} rows): {spread['seconds']:6.2f} s   "
        f"{100 * spread['seconds'] / full['seconds']:.1f}% of full   changed facts {spread['facts_changed']:,}"
    )
    for label, step in (("full", full), ("incremental", incr), ("spread", spread)):
        print(
            f"  phases of {label}: "
            + ", ".join(f"{k} {v:.2f}s" for k, v in step["timings"].items())
        )
    print(
        f"peak memory (largest step): {max(full['peak_mb'], incr['peak_mb'], spread['peak_mb']):.0f} MB (target < 300 MB)"
    )


if __name__ == "__main__":
    main()
