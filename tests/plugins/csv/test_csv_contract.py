"""The csv source passes the SDK's source contract kit.

Two streams over small files (one bad row, two deal files so a read crosses a file
boundary), batches of two rows; newer records arrive as a new file in the glob or as rows
appended to a file already read.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from premia import SourceContext
from premia_csv import CsvSettings, CsvSource
from premia_sdk.testing import SourceContract

DEALS_DECEMBER = """\
id,owner,close_date,amount,stage,product
D-0,Cy Diaz,2023-12-28,40,Won,GTX Basic
D-00,Ana Silva,2023-12-30,60.10,Won,MG Special
"""

DEALS_JANUARY = """\
id,owner,close_date,amount,stage,product
D-1,Ana Silva,2024-01-03,100.50,Won,GTX Pro
D-2,Bo Chen,2024-01-04,2000,Won,MG Special
D-3,Ana Silva,2024-01-09,not a number,Won,GTX Pro
D-4,Cy Diaz,2024-01-15,75.25,Lost,GTX Basic
D-5,Bo Chen,2024-01-20,10,Won,GTX Pro
"""

NEWER_ROWS = """\
D-6,Ana Silva,2024-02-02,300,Won,GTX Pro
D-7,Cy Diaz,2024-02-05,12.75,Won,MG Special
"""

ACTIVITIES = """\
activity_id,owner,at
A-1,Ana Silva,2024-01-02 09:30
A-2,Bo Chen,2024-01-02 10:00
A-3,Ana Silva,2024-01-05 16:45
"""


def _settings(deals: str = "deals/*.csv", amount: str = "amount") -> CsvSettings:
    return CsvSettings.model_validate(
        {
            "batch_size": 2,
            "streams": {
                "deals": {
                    "files": deals,
                    "kind": "deal",
                    "id": "id",
                    "columns": {
                        "owner_ref": "owner",
                        "occurred_at": "close_date",
                        "amount": amount,
                        "stage": "stage",
                        "product": "product",
                    },
                    "constants": {"currency": "USD"},
                },
                "activities": {
                    "files": "activities.csv",
                    "kind": "activity",
                    "id": "activity_id",
                    "columns": {"owner_ref": "owner", "occurred_at": "at"},
                    "timezone": "America/Mexico_City",
                },
            },
        }
    )


class TestCsvSourceContract(SourceContract):
    @pytest.fixture
    def source_factory(
        self, tmp_path: Path, source_context: SourceContext
    ) -> Callable[[], CsvSource]:
        (tmp_path / "deals").mkdir()
        (tmp_path / "deals" / "2023-12.csv").write_text(DEALS_DECEMBER, encoding="utf-8")
        (tmp_path / "deals" / "2024-01.csv").write_text(DEALS_JANUARY, encoding="utf-8")
        (tmp_path / "activities.csv").write_text(ACTIVITIES, encoding="utf-8")
        settings = _settings()
        return lambda: CsvSource(settings, source_context)

    @pytest.fixture(params=["no-matching-file", "missing-column"])
    def bad_credentials_source(
        self,
        request: pytest.FixtureRequest,
        source_factory: Callable[[], CsvSource],  # writes the files
        source_context: SourceContext,
    ) -> CsvSource:
        """A csv source has no credentials: a wrong configuration is what check() catches."""
        if request.param == "no-matching-file":
            return CsvSource(_settings(deals="exports/*.csv"), source_context)
        return CsvSource(_settings(amount="Amount (USD)"), source_context)

    @pytest.fixture(params=["new-file", "rows-appended"])
    def add_newer_records(
        self, request: pytest.FixtureRequest, tmp_path: Path
    ) -> Callable[[], dict[str, Any]]:
        header = DEALS_JANUARY.splitlines(keepends=True)[0]

        def add() -> dict[str, Any]:
            if request.param == "new-file":
                (tmp_path / "deals" / "2024-02.csv").write_text(
                    header + NEWER_ROWS, encoding="utf-8"
                )
                return {"deals": {"D-6", "D-7"}}
            with (tmp_path / "deals" / "2024-01.csv").open("a", encoding="utf-8") as file:
                file.write(NEWER_ROWS)
            # A changed file is read again from its first row (facts upsert): every good
            # row of it comes back, the unchanged December file does not.
            return {"deals": {"D-1", "D-2", "D-4", "D-5", "D-6", "D-7"}}

        return add
