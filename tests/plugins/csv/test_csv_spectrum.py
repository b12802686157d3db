"""csv-spectrum: every edge-case file reads exactly as its JSON twin says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SPECTRUM = Path(__file__).resolve().parents[2] / "data" / "csv-spectrum"
CASES = sorted(p.stem for p in (SPECTRUM / "csvs").glob("*.csv"))


def test_the_spectrum_is_all_there() -> None:
    assert len(CASES) == 11
    assert {"empty", "empty_crlf", "newlines_crlf", "quotes_and_newlines", "utf8"} <= set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_reads_as_the_json_says(case: str, make_source, read_all) -> None:
    expected: list[dict[str, str]] = json.loads((SPECTRUM / "json" / f"{case}.json").read_text())
    columns = list(expected[0])
    source = make_source(
        {
            "rows": {
                "files": f"csvs/{case}.csv",
                "id": columns[0],
                "attributes": {c: c for c in columns},
            }
        },
        base_dir=SPECTRUM,
    )
    result = read_all(source, "rows")
    assert result.bad == []
    assert [dict(f.attributes) for f in result.facts] == expected
    assert [f.external_id for f in result.facts] == [row[columns[0]] for row in expected]


@pytest.mark.parametrize("case", ["empty", "empty_crlf"])
def test_an_empty_quoted_cell_is_an_empty_string(case: str, make_source, read_all) -> None:
    # `1,"",""`: the quotes delimit an empty value; they are not part of it.
    source = make_source(
        {"rows": {"files": f"csvs/{case}.csv", "id": "a", "attributes": {"b": "b", "c": "c"}}},
        base_dir=SPECTRUM,
    )
    first, second = read_all(source, "rows").facts
    assert first.attributes == {"b": "", "c": ""}
    assert second.attributes == {"b": "3", "c": "4"}


def test_an_empty_cell_of_a_fact_field_is_none(make_source, read_all) -> None:
    source = make_source(
        {"rows": {"files": "csvs/empty.csv", "id": "a", "columns": {"product": "b"}}},
        base_dir=SPECTRUM,
    )
    first, second = read_all(source, "rows").facts
    assert first.product is None
    assert second.product == "3"


def test_line_breaks_inside_quotes_are_kept_and_counted(make_source, read_all) -> None:
    # newlines_crlf.csv: header on line 1, "1,2,3" on 2, a cell spanning lines 3-4, "7,8,9"
    # on 5. A bad value in column b of the last row must be reported on line 5.
    source = make_source(
        {
            "rows": {
                "files": "csvs/newlines_crlf.csv",
                "id": "a",
                "columns": {"quantity": "b"},
                "aliases": {"quantity": {"8": "eight"}},
            }
        },
        base_dir=SPECTRUM,
    )
    result = read_all(source, "rows")
    assert [f.external_id for f in result.facts] == ["1", "Once upon \r\na time"]
    [bad] = result.bad
    assert (bad.location, bad.line, bad.column, bad.record_id) == (
        "csvs/newlines_crlf.csv",
        5,
        "b",
        "7",
    )


def test_spectrum_copy_matches_the_shared_data() -> None:
    shared = Path("/work/shared/data/csv-spectrum")
    if not shared.is_dir():
        pytest.skip("shared data not mounted")
    for sub in ("csvs", "json"):
        for path in (shared / sub).iterdir():
            assert (SPECTRUM / sub / path.name).read_bytes() == path.read_bytes()
