"""Locale profiles: delimiters, decimal and thousands separators, day- or month-first dates."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

MAPPING = {
    "id": "id",
    "columns": {"owner_ref": "owner", "amount": "amount", "occurred_at": "date", "quantity": "qty"},
}


def stream(locale: str, **extra: object) -> dict[str, object]:
    return {"files": "data.csv", "locale": locale, **MAPPING, **extra}


def test_pt_br(make_source, read_all, write) -> None:
    write(
        "data.csv",
        "id;owner;amount;date;qty\n"
        "A1;Ana;1.234,56;31/01/2024;2\n"
        "A2;Bruno;-12,5;01/02/2024;1.000\n"
        'A3;"Silva; Carla";1.000.000,00;15/03/2024 14:30;0,25\n',
    )
    zone = ZoneInfo("America/Sao_Paulo")
    result = read_all(make_source({"s": stream("pt-BR")}, timezone="America/Sao_Paulo"), "s")
    assert result.bad == []
    rows = [(f.external_id, f.owner_ref, f.amount, f.occurred_at, f.quantity) for f in result.facts]
    assert rows == [
        ("A1", "Ana", Decimal("1234.56"), datetime(2024, 1, 31, tzinfo=zone), Decimal(2)),
        ("A2", "Bruno", Decimal("-12.5"), datetime(2024, 2, 1, tzinfo=zone), Decimal(1000)),
        (
            "A3",
            "Silva; Carla",
            Decimal(1000000),
            datetime(2024, 3, 15, 14, 30, tzinfo=zone),
            Decimal("0.25"),
        ),
    ]
    assert all(type(f.amount) is Decimal for f in result.facts)


def test_es_co(make_source, read_all, write) -> None:
    write(
        "data.csv",
        "id;owner;amount;date;qty\r\n"
        "C1;Juan;2.500.000,75;05/12/2023;3\r\n"
        "C2;Luisa;999,9;28/02/2024 08:05:09;\r\n",
    )
    zone = ZoneInfo("America/Bogota")
    facts = read_all(make_source({"s": stream("es-CO")}, timezone="America/Bogota"), "s").facts
    assert [(f.amount, f.occurred_at, f.quantity) for f in facts] == [
        (Decimal("2500000.75"), datetime(2023, 12, 5, tzinfo=zone), Decimal(3)),
        (Decimal("999.9"), datetime(2024, 2, 28, 8, 5, 9, tzinfo=zone), None),
    ]


def test_es_mx(make_source, read_all, write) -> None:
    write(
        "data.csv",
        'id,owner,amount,date,qty\nM1,Sofía,"1,234.56",05/12/2023,1\nM2,Diego,87.5,13/01/2024,\n',
    )
    zone = ZoneInfo("America/Mexico_City")
    facts = read_all(make_source({"s": stream("es-MX")}, timezone="America/Mexico_City"), "s").facts
    assert [(f.owner_ref, f.amount, f.occurred_at) for f in facts] == [
        ("Sofía", Decimal("1234.56"), datetime(2023, 12, 5, tzinfo=zone)),
        ("Diego", Decimal("87.5"), datetime(2024, 1, 13, tzinfo=zone)),
    ]


def test_en_us(make_source, read_all, write) -> None:
    write(
        "data.csv",
        "id,owner,amount,date,qty\n"
        'U1,Moses,"1,234.56",3/1/2017,"12,000"\n'
        "U2,Darcel,4514,12/31/2017 23:59,7\n"
        "U3,Anna,0.5,2017-03-11,\n",
    )
    utc = ZoneInfo("UTC")
    facts = read_all(make_source({"s": stream("en-US")}), "s").facts
    assert [(f.amount, f.occurred_at, f.quantity) for f in facts] == [
        (Decimal("1234.56"), datetime(2017, 3, 1, tzinfo=utc), Decimal(12000)),
        (Decimal(4514), datetime(2017, 12, 31, 23, 59, tzinfo=utc), Decimal(7)),
        (Decimal("0.5"), datetime(2017, 3, 11, tzinfo=utc), None),
    ]


def test_en_us_is_the_default_locale(make_source, read_all, write) -> None:
    write("data.csv", 'id,owner,amount,date,qty\nU1,Moses,"1,000.5",2/3/2020,1\n')
    settings = dict(MAPPING, files="data.csv")
    [fact] = read_all(make_source({"s": settings}), "s").facts
    assert fact.amount == Decimal("1000.5")
    assert fact.occurred_at == datetime(2020, 2, 3, tzinfo=ZoneInfo("UTC"))  # month first


def test_a_number_in_another_locale_is_a_bad_record(make_source, read_all, write) -> None:
    # In pt-BR "." groups thousands: "1234.56" is not a valid grouping, so it is quarantined
    # rather than read as 123456.
    write(
        "data.csv",
        "id;owner;amount;date;qty\nB1;Ana;1234.56;31/01/2024;1\nB2;Bia;10;31/01/2024;1\n",
    )
    result = read_all(make_source({"s": stream("pt-BR")}), "s")
    assert [f.external_id for f in result.facts] == ["B2"]
    [bad] = result.bad
    assert (bad.line, bad.column, bad.record_id) == (2, "amount", "B1")
    assert "1234.56" in bad.reason


def test_a_day_first_date_in_a_month_first_locale_is_a_bad_record(
    make_source, read_all, write
) -> None:
    write("data.csv", "id,owner,amount,date,qty\nD1,Ann,1,31/01/2024,1\n")
    result = read_all(make_source({"s": stream("en-US")}), "s")
    assert result.facts == []
    [bad] = result.bad
    assert (bad.line, bad.column) == (2, "date")
    assert "31/01/2024" in bad.reason


def test_overrides_win_over_the_locale(make_source, read_all, write) -> None:
    write(
        "data.csv",
        "id|owner|amount|date|qty\n"
        "O1|Ann|1 234,5|31.01.2024|2\n"
        "O2|Ben|7|2024-02-29T10:00:00+01:00|3\n",
    )
    settings = stream("en-US", delimiter="|", decimal=",", thousands=" ", date_formats=["%d.%m.%Y"])
    facts = read_all(make_source({"s": settings}), "s").facts
    assert [f.amount for f in facts] == [Decimal("1234.5"), Decimal(7)]
    assert facts[0].occurred_at == datetime(2024, 1, 31, tzinfo=ZoneInfo("UTC"))
    # ISO 8601 is accepted whatever the formats say
    assert facts[1].occurred_at is not None
    assert facts[1].occurred_at.isoformat() == "2024-02-29T10:00:00+01:00"
