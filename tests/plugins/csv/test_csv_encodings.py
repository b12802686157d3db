"""Encodings: UTF-8 with or without BOM, cp1252 and latin-1; bad bytes are never dropped."""

from __future__ import annotations

from decimal import Decimal

import pytest

from premia import SourceError
from premia_csv import reader

MAPPING = {"id": "id", "columns": {"owner_ref": "name", "amount": "amount"}}
CP1252 = "id,name,amount\nE1,Café €,10\nE2,Zoë,20\n".encode("cp1252")


def stream(**extra: object) -> dict[str, object]:
    return {"files": "data.csv", **MAPPING, **extra}


def test_utf8_with_bom(make_source, read_all, write) -> None:
    write("data.csv", b"\xef\xbb\xbfid,name,amount\r\nB1,J\xc3\xbcrgen,5\r\n")
    result = read_all(make_source({"s": stream()}), "s")
    assert result.bad == []
    [fact] = result.facts
    assert (fact.external_id, fact.owner_ref, fact.amount) == ("B1", "Jürgen", Decimal(5))


def test_utf8_sig_reads_files_without_bom_too(make_source, read_all, write) -> None:
    write("data.csv", "id,name,amount\nB1,Ana,5\n")
    [fact] = read_all(make_source({"s": stream(encoding="utf-8-sig")}), "s").facts
    assert fact.external_id == "B1"


def test_cp1252(make_source, read_all, write) -> None:
    write("data.csv", CP1252)
    facts = read_all(make_source({"s": stream(encoding="cp1252")}), "s").facts
    assert [(f.external_id, f.owner_ref) for f in facts] == [("E1", "Café €"), ("E2", "Zoë")]


def test_latin1(make_source, read_all, write) -> None:
    write("data.csv", "id,name,amount\nL1,Façade,1\n".encode("latin-1"))
    [fact] = read_all(make_source({"s": stream(encoding="latin-1")}), "s").facts
    assert fact.owner_ref == "Façade"


def test_cp1252_read_as_utf8_names_the_first_bad_byte(make_source, write) -> None:
    write("data.csv", CP1252)
    # "id,name,amount\n" is 15 bytes and "E1,Caf" 6 more: "é" (0xE9) is at offset 21.
    with pytest.raises(SourceError) as caught:
        list(make_source({"s": stream()}).read("s", None))
    message = str(caught.value)
    assert "data.csv" in message
    assert "byte offset 21 " in message
    assert "0xe9" in message
    assert "line 2" in message
    assert "encoding:" in message


def test_the_offset_counts_the_bom(make_source, write) -> None:
    # BOM (3 bytes) + "id\n" (3) + "A" (1): the 0xFF byte is at offset 7.
    write("data.csv", b"\xef\xbb\xbfid\nA\xff\n")
    with pytest.raises(SourceError, match="byte offset 7 "):
        list(make_source({"s": {"files": "data.csv", "id": "id"}}).read("s", None))


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 4, 7])
def test_the_offset_is_exact_whatever_the_chunk_size(
    chunk_size: int, make_source, write, monkeypatch
) -> None:
    monkeypatch.setattr(reader, "CHUNK_SIZE", chunk_size)
    # BOM 3 + "id\n" 3 + "é" 2 + "\n" 1 + "ab" 2: the lone continuation byte 0xA9 is at 11.
    write("data.csv", b"\xef\xbb\xbfid\n\xc3\xa9\nab\xa9\n")
    with pytest.raises(SourceError, match=r"byte 0xa9 at byte offset 11 \(line 3\)"):
        list(make_source({"s": {"files": "data.csv", "id": "id"}}).read("s", None))


def test_a_truncated_character_at_the_end_is_an_error(make_source, write) -> None:
    # "id\nA" is 4 bytes; 0xC3 starts a 2-byte character the file never finishes.
    write("data.csv", b"id\nA\xc3")
    with pytest.raises(SourceError, match="byte offset 4 "):
        list(make_source({"s": {"files": "data.csv", "id": "id"}}).read("s", None))


def test_offsets_are_right_across_read_chunks(make_source, write, monkeypatch) -> None:
    # Small chunks split multi-byte characters between reads; the offset must still be exact.
    monkeypatch.setattr(reader, "CHUNK_SIZE", 5)
    content = "id\nção\n€€€\nñ".encode() + b"\x80" + b"x\n"
    write("data.csv", content)
    # "id\n" 3 bytes + "ção\n" 6 + "€€€\n" 10 + "ñ" 2: the stray 0x80 is at offset 21.
    expected = content.index(b"\x80")
    assert expected == 21
    with pytest.raises(SourceError, match=f"byte offset {expected} \\(line 4\\)"):
        list(make_source({"s": {"files": "data.csv", "id": "id"}}).read("s", None))


def test_no_batch_of_an_undecodable_file_is_yielded(make_source, write) -> None:
    # The bad byte is at the very end of a file of many batches: the error comes first.
    rows = "".join(f"R{i},n{i},{i}\n" for i in range(50))
    write("data.csv", ("id,name,amount\n" + rows).encode() + b"R50,\xe9,1\n")
    batches = make_source({"s": stream()}, batch_size=10).read("s", None)
    with pytest.raises(SourceError, match="byte offset"):
        next(batches)


def test_files_before_the_bad_one_are_still_read(make_source, write) -> None:
    write("a.csv", "id,name,amount\nA1,Ann,1\n")
    write("b.csv", CP1252)
    batches = make_source({"s": stream(files="*.csv")}).read("s", None)
    first = next(batches)
    assert [f.external_id for f in first.facts] == ["A1"]
    with pytest.raises(SourceError, match=r"b\.csv"):
        next(batches)
