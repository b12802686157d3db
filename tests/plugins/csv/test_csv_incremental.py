"""Incremental reads: fingerprints, resuming mid-file, changed, new and removed files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from unittest.mock import ANY

import pytest

from premia import SourceError

STREAM = {"files": "data/*.csv", "id": "id", "columns": {"amount": "amount"}}


def rows(prefix: str, count: int) -> str:
    return "id,amount\n" + "".join(f"{prefix}{i},{i}\n" for i in range(1, count + 1))


def fingerprint(path: Path) -> dict[str, object]:
    data = path.read_bytes()
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


@pytest.fixture
def two_files(write):
    return write("data/a.csv", rows("a", 10)), write("data/b.csv", rows("b", 6))


def test_first_read_batches_files_in_path_order(two_files, make_source, read_all) -> None:
    a, b = two_files
    result = read_all(make_source({"s": STREAM}, batch_size=4), "s")
    assert [batch.note for batch in result.batches] == [
        "data/a.csv rows 1-4",
        "data/a.csv rows 5-8",
        "data/a.csv rows 9-10",
        "data/b.csv rows 1-4",
        "data/b.csv rows 5-6",
    ]
    assert [batch.rows for batch in result.batches] == [4, 4, 2, 4, 2]
    assert [f.external_id for f in result.facts] == [f"a{i}" for i in range(1, 11)] + [
        f"b{i}" for i in range(1, 7)
    ]
    # header is line 1, a1..a4 lines 2-5: the next record starts on line 6
    assert result.batches[0].cursor == {
        "version": 1,
        "settings": ANY,
        "files": {"data/a.csv": {**fingerprint(a), "next_line": 6}},
    }
    assert result.cursor == {
        "version": 1,
        "settings": ANY,
        "files": {"data/a.csv": fingerprint(a), "data/b.csv": fingerprint(b)},
    }
    json.dumps(result.cursor)  # cursors are stored as JSON


def test_nothing_new_yields_nothing(two_files, make_source, read_all) -> None:
    source = make_source({"s": STREAM}, batch_size=4)
    first = read_all(source, "s")
    again = read_all(source, "s", json.loads(json.dumps(first.cursor)))
    assert again.batches == []


def test_a_changed_file_is_read_again_whole(two_files, make_source, read_all, write) -> None:
    source = make_source({"s": STREAM}, batch_size=4)
    cursor = read_all(source, "s").cursor
    write("data/b.csv", rows("b", 7).replace("b3,3", "b3,33"))
    again = read_all(source, "s", cursor)
    assert [f.external_id for f in again.facts] == [f"b{i}" for i in range(1, 8)]
    assert again.facts[2].amount == 33
    assert again.cursor["files"]["data/b.csv"] == fingerprint(Path(two_files[1]))
    assert read_all(source, "s", again.cursor).batches == []


def test_a_new_file_is_read_alone(two_files, make_source, read_all, write) -> None:
    source = make_source({"s": STREAM})
    cursor = read_all(source, "s").cursor
    write("data/c.csv", rows("c", 2))
    again = read_all(source, "s", cursor)
    assert [f.external_id for f in again.facts] == ["c1", "c2"]
    assert sorted(again.cursor["files"]) == ["data/a.csv", "data/b.csv", "data/c.csv"]


def test_a_removed_file_leaves_the_cursor(two_files, make_source, read_all) -> None:
    a, b = two_files
    source = make_source({"s": STREAM})
    cursor = read_all(source, "s").cursor
    b.unlink()
    again = read_all(source, "s", cursor)
    [batch] = again.batches  # one empty batch carries the new cursor
    assert batch.facts == []
    assert batch.bad_records == []
    assert batch.cursor == {"version": 1, "settings": ANY, "files": {"data/a.csv": fingerprint(a)}}
    assert read_all(source, "s", batch.cursor).batches == []


def test_resume_from_the_middle_of_a_file(make_source, read_all, write) -> None:
    # 16 rows in batches of 4; row 3 has a cell over two lines, so lines and rows differ.
    content = rows("r", 16).replace("r3,3\n", 'r3,"3\n"\n')
    write("data/r.csv", content)
    source = make_source(
        {"s": {**STREAM, "attributes": {"raw": "amount"}, "columns": {}}}, batch_size=4
    )
    first = read_all(source, "s")
    assert len(first.batches) == 4
    # rows 1-4 are on lines 2-6 (row 3 takes two lines), rows 5-8 on 7-10: next is line 11
    assert first.batches[1].cursor["files"]["data/r.csv"]["next_line"] == 11
    resumed = read_all(source, "s", first.batches[1].cursor)
    expected = [f.external_id for b in first.batches[2:] for f in b.facts]
    assert expected == [f"r{i}" for i in range(9, 17)]
    assert [f.external_id for f in resumed.facts] == expected
    assert [b.note for b in resumed.batches] == ["data/r.csv rows 9-12", "data/r.csv rows 13-16"]
    assert resumed.cursor == first.cursor


def test_a_crash_after_any_batch_loses_and_doubles_nothing(two_files, make_source) -> None:
    source = make_source({"s": STREAM}, batch_size=3)
    everything = [f.external_id for b in source.read("s", None) for f in b.facts]
    for crash_after in range(1, 7):
        seen: list[str] = []
        cursor = None
        for i, batch in enumerate(source.read("s", None)):
            seen += [f.external_id for f in batch.facts]
            cursor = batch.cursor
            if i + 1 == crash_after:
                break  # the engine stored this batch and its cursor, then crashed
        for batch in source.read("s", cursor):
            seen += [f.external_id for f in batch.facts]
        assert seen == everything


def test_a_partly_read_file_that_changed_starts_over(make_source, read_all, write) -> None:
    write("data/r.csv", rows("r", 8))
    source = make_source({"s": STREAM}, batch_size=3)
    cursor = next(iter(source.read("s", None))).cursor
    write("data/r.csv", rows("r", 9))
    again = read_all(source, "s", cursor)
    assert [f.external_id for f in again.facts] == [f"r{i}" for i in range(1, 10)]


def test_an_empty_file_is_recorded_once(make_source, read_all, write) -> None:
    empty = write("data/e.csv", "id,amount\n")
    source = make_source({"s": STREAM})
    first = read_all(source, "s")
    [batch] = first.batches
    assert batch.facts == []
    assert batch.rows == 0
    assert batch.cursor == {
        "version": 1,
        "settings": ANY,
        "files": {"data/e.csv": fingerprint(empty)},
    }
    assert read_all(source, "s", batch.cursor).batches == []


def test_an_unreadable_cursor_reads_everything_again(two_files, make_source, read_all) -> None:
    source = make_source({"s": STREAM})
    for cursor in ({"version": 99}, "garbage", {"version": 1, "files": {"data/a.csv": 3}}):
        assert len(read_all(source, "s", cursor).facts) == 16


def test_a_pattern_matching_nothing_is_an_error(two_files, make_source) -> None:
    source = make_source({"s": {**STREAM, "files": ["data/*.csv", "missing.csv"]}})
    with pytest.raises(SourceError, match=r"stream 's': no file matches 'missing\.csv'"):
        list(source.read("s", None))


def test_an_unknown_stream_is_an_error(make_source) -> None:
    with pytest.raises(SourceError, match="no stream 'nope'"):
        list(make_source({"s": STREAM}).read("nope", None))


def test_streams_have_their_own_cursor(two_files, make_source, read_all) -> None:
    source = make_source(
        {"a": {**STREAM, "files": "data/a.csv"}, "b": {**STREAM, "files": "data/b.csv"}}
    )
    assert list(read_all(source, "a").cursor["files"]) == ["data/a.csv"]
    assert list(read_all(source, "b").cursor["files"]) == ["data/b.csv"]
    assert [(s.name, s.fact_kind) for s in source.streams()] == [("a", "deal"), ("b", "deal")]


def test_changed_settings_read_every_file_again(two_files, make_source, read_all) -> None:
    # Fixing a stream's settings (here: another id column) must re-read unchanged files,
    # or rows quarantined under the old settings would never come back.
    first = read_all(make_source({"s": STREAM}, batch_size=4), "s")
    same = read_all(make_source({"s": STREAM}, batch_size=4), "s", first.cursor)
    assert same.facts == []
    changed = {**STREAM, "attributes": {"copy_of_id": STREAM["id"]}}
    again = read_all(make_source({"s": changed}, batch_size=4), "s", first.cursor)
    assert [f.external_id for f in again.facts] == [f"a{i}" for i in range(1, 11)] + [
        f"b{i}" for i in range(1, 7)
    ]
    assert again.cursor["settings"] != first.cursor["settings"]
