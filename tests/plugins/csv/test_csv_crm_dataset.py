"""The real CRM Sales Opportunities dataset (8,800 deals, CRLF), checked against the stdlib."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

DEALS = {
    "kind": "deal",
    "id": "opportunity_id",
    "columns": {
        "owner_ref": "sales_agent",
        "product": "product",
        "account": "account",
        "stage": "deal_stage",
        "occurred_at": "close_date",
        "amount": "close_value",
    },
    "attributes": {"engage_date": "engage_date"},
    "constants": {"currency": "USD"},
    "aliases": {"product": {"GTXPro": "GTX Pro"}},
}


def stdlib_rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def pipeline(crm_data_dir, make_source, read_all):
    source = make_source(
        {"deals": {**DEALS, "files": "sales_pipeline.csv"}},
        base_dir=crm_data_dir,
        timezone="America/Chicago",
    )
    return read_all(source, "deals")


def test_every_deal_is_read(pipeline, crm_data_dir) -> None:
    expected = stdlib_rows(crm_data_dir / "sales_pipeline.csv")
    assert len(expected) == 8800
    assert len(pipeline.facts) == 8800
    assert pipeline.bad == []
    assert [f.external_id for f in pipeline.facts] == [r["opportunity_id"] for r in expected]
    assert sum(b.rows for b in pipeline.batches) == 8800
    assert [b.note for b in pipeline.batches] == [
        "sales_pipeline.csv rows 1-5000",
        "sales_pipeline.csv rows 5001-8800",
    ]


def test_open_deals_have_no_close_date(pipeline, crm_data_dir) -> None:
    expected = stdlib_rows(crm_data_dir / "sales_pipeline.csv")
    open_deals = sum(1 for r in expected if r["close_date"] == "")
    assert open_deals == 2089
    assert sum(1 for f in pipeline.facts if f.occurred_at is None) == 2089
    assert sum(1 for f in pipeline.facts if f.amount is None) == 2089


def test_product_aliases(pipeline, crm_data_dir) -> None:
    counts = Counter(r["product"] for r in stdlib_rows(crm_data_dir / "sales_pipeline.csv"))
    products = Counter(f.product for f in pipeline.facts)
    assert products["GTX Pro"] == counts["GTXPro"] + counts["GTX Pro"]
    assert products["GTXPro"] == 0
    assert sum(products.values()) == 8800


def test_won_revenue_is_exact(pipeline, crm_data_dir) -> None:
    expected = sum(
        (
            Decimal(r["close_value"])
            for r in stdlib_rows(crm_data_dir / "sales_pipeline.csv")
            if r["deal_stage"] == "Won"
        ),
        Decimal(0),
    )
    won = [f.amount for f in pipeline.facts if f.stage == "Won"]
    assert len(won) == 4238
    assert all(type(a) is Decimal for a in won)
    assert sum(won, Decimal(0)) == expected


def test_fields_of_the_first_deal(pipeline) -> None:
    first = pipeline.facts[0]
    assert first.external_id == "1C1I7A6R"
    assert first.owner_ref == "Moses Frase"
    assert first.product == "GTX Plus Basic"
    assert first.account == "Cancity"
    assert first.stage == "Won"
    assert first.occurred_at == datetime(2017, 3, 1, tzinfo=ZoneInfo("America/Chicago"))
    assert first.amount == Decimal(1054)
    assert first.currency == "USD"
    assert first.attributes == {"engage_date": "2016-10-20"}


def test_us_dates_variant_gives_the_same_close_dates(crm_data_dir, make_source, read_all) -> None:
    if not (crm_data_dir / "sales_pipeline_us_dates_variant.csv").is_file():
        pytest.skip("the US-dates variant is not in this copy of the dataset")
    source = make_source(
        {
            "iso": {**DEALS, "files": "sales_pipeline.csv"},
            "us": {**DEALS, "files": "sales_pipeline_us_dates_variant.csv", "locale": "en-US"},
        },
        base_dir=crm_data_dir,
    )
    iso = {f.external_id: f.occurred_at for f in read_all(source, "iso").facts}
    us = read_all(source, "us")
    assert us.bad == []
    assert {f.external_id: f.occurred_at for f in us.facts} == iso
    assert len(iso) == 8800
