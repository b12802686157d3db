"""Memory stays bounded: it depends on the batch size, not on the file size."""

from __future__ import annotations

import tracemalloc

from premia_csv import reader


def peak_while_reading(source) -> tuple[int, int]:
    rows = 0
    tracemalloc.start()
    try:
        for batch in source.read("s", None):  # the engine stores each batch, then drops it
            rows += batch.rows
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return rows, peak


def test_peak_memory_does_not_grow_with_the_file(make_source, write, monkeypatch) -> None:
    monkeypatch.setattr(reader, "CHUNK_SIZE", 1 << 16)
    line = "{i},Agent {a},2024-01-{d:02d},{i}.25\n"
    body = [line.format(i=i, a=i % 30, d=i % 28 + 1) for i in range(40_000)]
    write("small.csv", "id,owner,date,amount\n" + "".join(body[:10_000]))
    write("large.csv", "id,owner,date,amount\n" + "".join(body))
    stream = {"id": "id", "columns": {"owner_ref": "owner", "occurred_at": "date"}}
    small = make_source({"s": {**stream, "files": "small.csv"}}, batch_size=500)
    large = make_source({"s": {**stream, "files": "large.csv"}}, batch_size=500)
    small_rows, small_peak = peak_while_reading(small)
    large_rows, large_peak = peak_while_reading(large)
    assert (small_rows, large_rows) == (10_000, 40_000)
    assert large_peak < small_peak * 1.5
