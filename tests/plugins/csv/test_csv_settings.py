"""Settings: defaults, the README's example, and clear validation errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from premia_csv import LOCALES, CsvSettings, StreamSettings

README = Path(__file__).resolve().parents[3] / "plugins" / "csv" / "README.md"
MINIMAL = {"files": "a.csv", "id": "id"}


def errors(raw: dict) -> str:
    with pytest.raises(ValidationError) as caught:
        CsvSettings.model_validate(raw)
    return str(caught.value)


def test_the_readme_example_is_valid() -> None:
    block = re.search(r"```yaml\n(.*?)```", README.read_text(), re.S)
    assert block is not None
    program = yaml.safe_load(block.group(1))
    [source] = program["sources"]
    assert source["type"] == "csv"
    settings = CsvSettings.model_validate(source["settings"])
    deals = settings.streams["deals"]
    assert deals.columns["amount"] == "close_value"
    assert deals.aliases == {"product": {"GTXPro": "GTX Pro"}}


def test_defaults() -> None:
    settings = CsvSettings.model_validate({"streams": {"s": MINIMAL}})
    assert settings.batch_size == 5000
    stream = settings.streams["s"]
    assert (stream.kind, stream.locale, stream.encoding, stream.timezone) == (
        "deal",
        "en-US",
        "utf-8",
        None,
    )
    assert (stream.cell_delimiter, stream.decimal_separator, stream.thousands_separator) == (
        ",",
        ".",
        ",",
    )
    assert "%m/%d/%Y" in stream.effective_date_formats


@pytest.mark.parametrize(
    ("locale", "delimiter", "decimal", "thousands", "day_first"),
    [
        ("en-US", ",", ".", ",", False),
        ("es-MX", ",", ".", ",", True),
        ("pt-BR", ";", ",", ".", True),
        ("es-CO", ";", ",", ".", True),
    ],
)
def test_locale_profiles(locale, delimiter, decimal, thousands, day_first) -> None:
    stream = StreamSettings.model_validate({**MINIMAL, "locale": locale})
    assert (stream.cell_delimiter, stream.decimal_separator, stream.thousands_separator) == (
        delimiter,
        decimal,
        thousands,
    )
    assert ("%d/%m/%Y" in stream.effective_date_formats) is day_first
    assert ("%m/%d/%Y" in stream.effective_date_formats) is not day_first
    assert set(LOCALES) == {"en-US", "es-MX", "pt-BR", "es-CO"}


def test_overrides() -> None:
    stream = StreamSettings.model_validate(
        {
            **MINIMAL,
            "locale": "pt-BR",
            "delimiter": "\t",
            "thousands": "",
            "date_formats": ["%Y%m%d"],
        }
    )
    assert (stream.cell_delimiter, stream.decimal_separator, stream.thousands_separator) == (
        "\t",
        ",",
        "",
    )
    assert stream.effective_date_formats == ("%Y%m%d",)


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        ({**MINIMAL, "colums": {}}, "colums"),
        ({**MINIMAL, "columns": {"amout": "x"}}, "columns.amout"),
        ({**MINIMAL, "kind": "sale"}, "unknown fact kind"),
        ({**MINIMAL, "locale": "fr-FR"}, "locale"),
        ({**MINIMAL, "files": []}, "non-empty list"),
        ({**MINIMAL, "id": ""}, "id column"),
        ({**MINIMAL, "attributes": {"product": "p"}}, "is a Fact field"),
        ({**MINIMAL, "aliases": {"product": {"a": "b"}}}, "not mapped"),
        (
            {**MINIMAL, "columns": {"currency": "c"}, "constants": {"currency": "USD"}},
            "either a column or a constant",
        ),
        ({**MINIMAL, "constants": {"amount": "abc"}}, "constants.amount"),
        ({**MINIMAL, "constants": {"occurred_at": "31/01/2024"}}, "constants.occurred_at"),
        ({**MINIMAL, "delimiter": ";;"}, "exactly one character"),
        ({**MINIMAL, "decimal": ",", "thousands": ","}, "both ','"),
        ({**MINIMAL, "date_formats": ["dd/mm/yyyy"]}, "strptime"),
        ({**MINIMAL, "encoding": "klingon"}, "unknown encoding"),
        ({**MINIMAL, "encoding": "base64"}, "not a text encoding"),
        ({**MINIMAL, "timezone": "Mars/Olympus"}, "unknown IANA timezone"),
    ],
)
def test_invalid_streams_are_explained(stream: dict, expected: str) -> None:
    assert expected in errors({"streams": {"s": stream}})


def test_invalid_source_settings_are_explained() -> None:
    assert "at least one stream" in errors({"streams": {}})
    assert "batch_size" in errors({"streams": {"s": MINIMAL}, "batch_size": 0})
    assert "extra" in errors({"streams": {"s": MINIMAL}, "path": "x"}).lower()


def test_yaml_dates_and_numbers_are_fine_constants() -> None:
    raw = yaml.safe_load(
        "files: a.csv\nid: id\nconstants: {occurred_at: 2024-01-31, amount: 12.5, deleted: false}\n"
    )
    stream = StreamSettings.model_validate(raw)
    assert set(stream.constants) == {"occurred_at", "amount", "deleted"}
