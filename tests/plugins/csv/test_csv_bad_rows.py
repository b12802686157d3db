"""Bad rows are quarantined with file, line and column; the rows around them still count."""

from __future__ import annotations

from decimal import Decimal

STREAM = {
    "files": "data/deals.csv",
    "id": "id",
    "columns": {"owner_ref": "owner", "amount": "amount", "occurred_at": "date"},
}

# Physical lines, counted by hand (the header is line 1):
CONTENT = (
    "id,owner,amount,date\n"  # 1
    "A1,Ann,10.5,2024-01-02\n"  # 2  good
    "A2,Bob,abc,2024-01-03\n"  # 3  bad number
    "A3,Cid,7,2024-13-45\n"  # 4  bad date
    ",Dan,8,2024-01-04\n"  # 5  empty id
    "A5,Eve,9\n"  # 6  too few cells
    "A6,Fay,1.23456,2024-01-05\n"  # 7  five decimals
    'A7,"Gil\n'  # 8  good, a quoted cell over lines 8-9
    'Grant",3,2024-01-06\n'  # 9
    "A8,Gus,x,2024-01-07\n"  # 10 bad number
    "A9,Hal,1.50000,2024-01-08\n"  # 11 good: trailing zeros fit 4 places
    "\n"  # 12 blank: skipped
    "A10,Ivy,2,2024-01-09,extra\n"  # 13 too many cells
    "A11,Joe,-3.2500,2024-01-10\n"  # 14 good
)


def test_each_bad_row_is_reported_where_it_is(make_source, read_all, write) -> None:
    write("data/deals.csv", CONTENT)
    result = read_all(make_source({"deals": STREAM}, batch_size=3), "deals")
    found = [(b.location, b.line, b.column, b.record_id) for b in result.bad]
    assert found == [
        ("data/deals.csv", 3, "amount", "A2"),
        ("data/deals.csv", 4, "date", "A3"),
        ("data/deals.csv", 5, "id", None),
        ("data/deals.csv", 6, None, "A5"),
        ("data/deals.csv", 7, "amount", "A6"),
        ("data/deals.csv", 10, "amount", "A8"),
        ("data/deals.csv", 13, None, "A10"),
    ]
    assert [(f.external_id, f.amount) for f in result.facts] == [
        ("A1", Decimal("10.5")),
        ("A7", Decimal(3)),
        ("A9", Decimal("1.5")),
        ("A11", Decimal("-3.25")),
    ]
    assert result.facts[1].owner_ref == "Gil\nGrant"
    # every record is counted once, in a batch of at most 3
    assert [b.rows for b in result.batches] == [3, 3, 3, 2]
    assert sum(b.rows for b in result.batches) == 4 + 7


def test_reasons_say_what_is_wrong(make_source, read_all, write) -> None:
    write("data/deals.csv", CONTENT)
    bad = {b.line: b for b in read_all(make_source({"deals": STREAM}), "deals").bad}
    assert "'abc' is not a number" in bad[3].reason
    assert "'2024-13-45' is not a date" in bad[4].reason
    assert bad[5].reason == "the id is empty"
    assert bad[6].reason == "expected 4 cells as in the header, found 3"
    assert "more than 4 decimal places" in bad[7].reason
    assert bad[13].reason == "expected 4 cells as in the header, found 5"


def test_raw_is_the_cells_joined(make_source, read_all, write) -> None:
    write("data/deals.csv", CONTENT)
    bad = {b.line: b for b in read_all(make_source({"deals": STREAM}), "deals").bad}
    assert bad[3].raw == "A2,Bob,abc,2024-01-03"
    assert bad[6].raw == "A5,Eve,9"


def test_an_unterminated_quote_is_one_bad_record(make_source, read_all, write) -> None:
    write(
        "data/deals.csv",
        'id,owner,amount,date\nA1,Ann,1,2024-01-01\nA2,"Bob,2,2024-01-02\nA3,Cid,3,2024-01-03\n',
    )
    result = read_all(make_source({"deals": STREAM}), "deals")
    assert [f.external_id for f in result.facts] == ["A1"]
    [bad] = result.bad
    assert bad.line == 3
    assert "quote left open" in bad.reason


def test_composite_ids(make_source, read_all, write) -> None:
    write("lines.csv", "order,line,sku\nO1,1,X\nO1,2,Y\nO2,,Z\n")
    stream = {
        "files": "lines.csv",
        "kind": "line_item",
        "id": ["order", "line"],
        "columns": {"product": "sku"},
    }
    result = read_all(make_source({"lines": stream}), "lines")
    assert [(f.external_id, f.kind, f.product) for f in result.facts] == [
        ("O1:1", "line_item", "X"),
        ("O1:2", "line_item", "Y"),
    ]
    [bad] = result.bad
    assert (bad.line, bad.column, bad.reason) == (4, "line", "part of the id is empty")


def test_deleted_flags(make_source, read_all, write) -> None:
    write(
        "data.csv",
        "id,gone\nD1,true\nD2,YES\nD3,x\nD4,1\nD5,Y\nD6,\nD7,no\nD8,False\nD9,0\nD10,maybe\nD11,removed\n",
    )
    stream = {
        "files": "data.csv",
        "id": "id",
        "columns": {"deleted": "gone"},
        "aliases": {"deleted": {"removed": "true"}},
    }
    result = read_all(make_source({"s": stream}), "s")
    assert {f.external_id: f.deleted for f in result.facts} == {
        "D1": True,
        "D2": True,
        "D3": True,
        "D4": True,
        "D5": True,
        "D6": False,
        "D7": False,
        "D8": False,
        "D9": False,
        "D11": True,
    }
    [bad] = result.bad
    assert (bad.line, bad.column, bad.record_id) == (11, "gone", "D10")


def test_rows_of_empty_cells_are_skipped_like_blank_lines(make_source, read_all, write) -> None:
    # Spreadsheets leave rows like ",,," behind: they hold no record, so they are no bad record.
    write(
        "data/deals.csv",
        "id,owner,amount,date\nA1,Ann,1,2024-01-01\n,,,\n  \n\nA2,Bob,2,2024-01-02\n,,x,\n",
    )
    result = read_all(make_source({"deals": STREAM}), "deals")
    assert [f.external_id for f in result.facts] == ["A1", "A2"]
    [bad] = result.bad
    assert (bad.line, bad.column, bad.reason) == (7, "id", "the id is empty")
    assert [b.rows for b in result.batches] == [3]
