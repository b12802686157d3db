"""``check``: files exist, decode and have the mapped columns; it never raises."""

from __future__ import annotations

STREAM = {"files": "data/*.csv", "id": "id", "columns": {"amount": "amount"}}


def test_ok_counts_files_and_rows(make_source, write) -> None:
    write("data/a.csv", "id,amount\na1,1\na2,2\n")
    write("data/b.csv", "id,amount\r\nb1,1\r\nb2,2\r\nb3,3")  # no final line break
    result = make_source({"s": STREAM}).check()
    assert result.ok, result.message
    assert result.message == "1 stream, 2 files, about 5 rows"


def test_no_matching_file(make_source) -> None:
    result = make_source({"s": STREAM}).check()
    assert not result.ok
    assert "stream 's': no file matches 'data/*.csv'" in result.message


def test_missing_column_with_a_hint(make_source, write) -> None:
    write("data/a.csv", "id,amout\na1,1\n")
    result = make_source({"s": STREAM}).check()
    assert not result.ok
    assert "data/a.csv" in result.message
    assert "'amount' (did you mean 'amout'?) not in the header" in result.message


def test_header_with_bom_and_spaces_matches(make_source, write) -> None:
    write("data/a.csv", b"\xef\xbb\xbf id , amount \na1,1\n")
    assert make_source({"s": STREAM}).check().ok


def test_undecodable_file(make_source, write) -> None:
    write("data/a.csv", "id,amount\nCafé,1\n".encode("cp1252"))
    result = make_source({"s": STREAM}).check()
    assert not result.ok
    assert "data/a.csv" in result.message
    assert "byte offset 13" in result.message


def test_every_problem_is_listed(make_source, write) -> None:
    write("data/a.csv", "id,amount\na1,1\n")
    write("data/b.csv", "key,amount\nb1,1\n")
    result = make_source({"s": STREAM, "t": {**STREAM, "files": "other/*.csv"}}).check()
    assert not result.ok
    problems = result.message.split("; ")
    assert len(problems) == 2
    assert problems[0].startswith("data/b.csv: stream 's': column 'id' not in the header")
    assert problems[1].startswith("stream 't': no file matches 'other/*.csv'")


def test_a_bad_timezone_is_reported_not_raised(make_source, write) -> None:
    write("data/a.csv", "id,amount\na1,1\n")
    result = make_source({"s": STREAM}, timezone="Not/A_Zone").check()
    assert not result.ok
    assert "unknown timezone 'Not/A_Zone'" in result.message


def test_an_empty_file_is_fine(make_source, write) -> None:
    write("data/a.csv", "")
    result = make_source({"s": STREAM}).check()
    assert result.ok
    assert result.message == "1 stream, 1 file, about 0 rows"
