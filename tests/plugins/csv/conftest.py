"""Fixtures for the csv plugin's tests: building a source and reading a stream whole."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from premia import BadRecord, Batch, Fact, SourceContext
from premia_csv import CsvSettings, CsvSource

REPO = Path(__file__).resolve().parents[3]
SPECTRUM = REPO / "tests" / "data" / "csv-spectrum"
CRM_REPO_COPY = REPO / "core" / "src" / "premia" / "demo" / "data"
CRM_SHARED = Path("/work/shared/data/crm-sales-opportunities")


@dataclass
class ReadResult:
    """Everything one ``read`` yielded."""

    batches: list[Batch] = field(default_factory=list)

    @property
    def facts(self) -> list[Fact]:
        return [f for b in self.batches for f in b.facts]

    @property
    def bad(self) -> list[BadRecord]:
        return [r for b in self.batches for r in b.bad_records]

    @property
    def cursor(self) -> Any:
        return self.batches[-1].cursor if self.batches else None


def read_all(source: CsvSource, stream: str, cursor: Any = None) -> ReadResult:
    """Read ``stream`` to its end from ``cursor``."""
    return ReadResult(list(source.read(stream, cursor)))


@pytest.fixture(name="read_all")
def read_all_fixture() -> Callable[..., ReadResult]:
    """Return :func:`read_all`."""
    return read_all


@pytest.fixture
def spectrum_dir() -> Path:
    """The repository's copy of csv-spectrum."""
    return SPECTRUM


@pytest.fixture
def make_source(tmp_path: Path) -> Callable[..., CsvSource]:
    """Return ``make(streams, batch_size=..., timezone=..., base_dir=...)`` -> CsvSource.

    ``streams`` is the ``streams`` mapping of the settings, as a program file gives it.
    """

    def make(
        streams: dict[str, dict[str, Any]],
        *,
        batch_size: int | None = None,
        timezone: str = "UTC",
        base_dir: Path | None = None,
    ) -> CsvSource:
        raw: dict[str, Any] = {"streams": streams}
        if batch_size is not None:
            raw["batch_size"] = batch_size
        settings = CsvSettings.model_validate(raw)
        context = SourceContext(
            source_name="files",
            base_dir=base_dir or tmp_path,
            sync_started_at=datetime(2024, 6, 1, tzinfo=UTC),
            timezone=timezone,
            logger=logging.getLogger("test.csv"),
        )
        return CsvSource(settings, context)

    return make


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Return ``write(name, content)``: write a file under tmp_path (text as UTF-8, as is)."""

    def write_file(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        path.write_bytes(data)
        return path

    return write_file


@pytest.fixture
def crm_data_dir() -> Iterator[Path]:
    """The CRM Sales Opportunities dataset: the repo's demo copy if present, else the shared one."""
    for folder in (CRM_REPO_COPY, CRM_SHARED):
        if (folder / "sales_pipeline.csv").is_file():
            yield folder
            return
    pytest.skip("the CRM Sales Opportunities dataset is not available")
