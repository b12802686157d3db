from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import premia
from premia import CatalogItem, ConfigError
from premia_rewards_catalog import load_catalog

from .conftest import CATALOG, write


def test_good_file_gives_every_item_in_file_order(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path / "catalog.yaml", CATALOG))

    assert [item.sku for item in catalog] == [
        "GC-25",
        "DINNER",
        "HEADPHONES",
        "LAST-ONE",
        "TOP-CLOSER",
    ]
    assert catalog.get("GC-25") == CatalogItem(
        sku="GC-25",
        name="$25 gift card",
        kind="gift_card",
        points=2500,
        value=Decimal("25.00"),
        currency="USD",
        inventory=None,
        regions=None,
        description="",
    )
    headphones = catalog.get("HEADPHONES")
    assert headphones is not None
    assert headphones.inventory == 2
    assert headphones.regions == frozenset({"Central", "East"})
    badge = catalog.get("TOP-CLOSER")
    assert badge is not None
    assert badge.points == 0
    assert catalog.get("NOPE") is None


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("25.1", Decimal("25.1")),  # a YAML float: read from its text, not through float
        ("0.3", Decimal("0.3")),
        ("19.99", Decimal("19.99")),
        ("25.10", Decimal("25.10")),  # trailing zero kept: exactly what the file says
        ("1_000.50", Decimal("1000.50")),
        ("25", Decimal(25)),
        ('"25.00"', Decimal("25.00")),
        ('"0.1"', Decimal("0.1")),
    ],
)
def test_values_are_exact_decimals(tmp_path: Path, written: str, expected: Decimal) -> None:
    path = write(
        tmp_path / "c.yaml",
        f"""
        items:
          - {{sku: A, name: A, kind: gift_card, points: 1, value: {written}, currency: EUR}}
        """,
    )
    item = load_catalog(path).get("A")
    assert item is not None
    assert isinstance(item.value, Decimal)
    assert item.value == expected
    assert str(item.value) == str(expected)


def _error(tmp_path: Path, text: str) -> ConfigError:
    path = write(tmp_path / "bad.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_catalog(path)
    assert caught.value.file == str(path)
    assert str(path) in str(caught.value)
    return caught.value


@pytest.mark.parametrize("points", ["-5", "12.5", '"many"', "true"])
def test_bad_points_name_the_file_the_item_and_the_field(tmp_path: Path, points: str) -> None:
    err = _error(
        tmp_path,
        f"""
        items:
          - {{sku: OK, name: Fine, kind: gift_card, points: 10}}
          - {{sku: GC-50, name: Gift, kind: gift_card, points: {points}}}
        """,
    )
    assert err.location == "items[1].points"
    assert "items[1].points" in str(err)
    assert "'GC-50'" in str(err)


def test_zero_points_only_for_badges(tmp_path: Path) -> None:
    err = _error(
        tmp_path,
        """
        items:
          - {sku: B, name: Badge, kind: badge, points: 0}
          - {sku: M, name: Mug, kind: merchandise, points: 0}
        """,
    )
    assert err.location == "items[1].points"
    assert "only a badge" in str(err)


def test_duplicate_sku_is_an_error(tmp_path: Path) -> None:
    err = _error(
        tmp_path,
        """
        items:
          - {sku: GC-25, name: A, kind: gift_card, points: 1}
          - {sku: GC-50, name: B, kind: gift_card, points: 2}
          - {sku: GC-25, name: C, kind: gift_card, points: 3}
        """,
    )
    assert err.location == "items[2].sku"
    assert "duplicate SKU 'GC-25'" in str(err)
    assert "items[0]" in str(err)


@pytest.mark.parametrize(
    ("item", "location", "words"),
    [
        ("{name: A, kind: gift_card, points: 1}", "items[0].sku", "required"),
        ("{sku: A, kind: gift_card, points: 1}", "items[0].name", "required"),
        ("{sku: A, name: A, kind: voucher, points: 1}", "items[0].kind", "must be one of"),
        (
            "{sku: A, name: A, kind: gift_card, points: 1, colour: red}",
            "items[0].colour",
            "not an item field",
        ),
        (
            "{sku: A, name: A, kind: gift_card, points: 1, value: 5}",
            "items[0].currency",
            "required when",
        ),
        (
            "{sku: A, name: A, kind: gift_card, points: 1, value: 5, currency: usd}",
            "items[0].currency",
            "ISO 4217",
        ),
        (
            "{sku: A, name: A, kind: gift_card, points: 1, value: abc, currency: USD}",
            "items[0].value",
            "decimal",
        ),
        (
            "{sku: A, name: A, kind: gift_card, points: 1, value: -1, currency: USD}",
            "items[0].value",
            "negative",
        ),
        (
            "{sku: A, name: A, kind: gift_card, points: 1, value: .nan, currency: USD}",
            "items[0].value",
            "decimal",
        ),
        (
            "{sku: A, name: A, kind: gift_card, points: 1, inventory: -1}",
            "items[0].inventory",
            "negative",
        ),
        (
            "{sku: A, name: A, kind: gift_card, points: 1, regions: []}",
            "items[0].regions",
            "non-empty",
        ),
        (
            "{sku: A, name: A, kind: gift_card, points: 1, regions: [East, NO]}",
            "items[0].regions",
            "quote",
        ),
        ("{sku: 1001, name: A, kind: gift_card, points: 1}", "items[0].sku", "quote"),
        ("{sku: ' A', name: A, kind: gift_card, points: 1}", "items[0].sku", "spaces"),
        ("just text", "items[0]", "mapping"),
    ],
)
def test_each_field_is_checked(tmp_path: Path, item: str, location: str, words: str) -> None:
    err = _error(tmp_path, f"items:\n  - {item}\n")
    assert err.location == location
    assert words in str(err)


def test_every_problem_is_listed_in_one_error(tmp_path: Path) -> None:
    err = _error(
        tmp_path,
        """
        items:
          - {sku: A, name: A, kind: gift_card, points: -1}
          - {sku: B, name: B, kind: nothing, points: 1}
        """,
    )
    assert err.location == "items[0].points"
    assert "1 more problem(s)" in str(err)
    assert "items[1].kind" in str(err)


@pytest.mark.parametrize(
    ("text", "location", "words"),
    [
        ("- a\n- b\n", None, "mapping"),
        ("", None, "mapping"),
        ("items: 3\n", "items", "list"),
        ("items: []\nextra: 1\n", "extra", "only key"),
        ("items: [\n", "line 2, column 1", "not valid YAML"),
        ("items:\n  - sku: A\n    sku: B\n", "line 3, column 5", "duplicate key 'sku'"),
    ],
)
def test_file_level_problems(tmp_path: Path, text: str, location: str | None, words: str) -> None:
    err = _error(tmp_path, text)
    assert err.location == location
    assert words in str(err)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ConfigError, match="catalog file not found") as caught:
        load_catalog(path)
    assert caught.value.file == str(path)


def test_empty_catalog_is_allowed(tmp_path: Path) -> None:
    assert len(load_catalog(write(tmp_path / "c.yaml", "items: []\n"))) == 0


def test_demo_catalog_is_valid() -> None:
    path = Path(premia.__file__).parent / "demo" / "catalog.yaml"
    catalog = load_catalog(path)

    assert len(catalog) == 8
    assert {item.kind for item in catalog} == {
        "gift_card",
        "experience",
        "merchandise",
        "donation",
        "badge",
    }
    cards = {item.value: item.points for item in catalog if item.kind == "gift_card"}
    assert cards == {Decimal(25): 2500, Decimal(50): 5000, Decimal(100): 10000}
    dinner = catalog.get("EXP-TEAM-DINNER")
    assert dinner is not None
    assert (dinner.points, dinner.inventory) == (15000, 5)
    headphones = catalog.get("MER-HEADPHONES")
    assert headphones is not None
    assert headphones.inventory == 10
    assert headphones.regions == frozenset({"Central", "East"})
    badge = catalog.get("BADGE-TOP-CLOSER")
    assert badge is not None
    assert (badge.name, badge.kind, badge.points) == ("Top Closer", "badge", 0)
    regions = set().union(*(item.regions or set() for item in catalog))
    assert regions <= {"Central", "East", "West"}
