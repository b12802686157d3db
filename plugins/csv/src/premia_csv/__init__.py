"""Premia KPI source for CSV files: column mappings, locales, encodings, incremental reads.

Install ``premia-csv`` and a program file can declare sources of ``type: csv``; see the
package README for the settings. The public names are :class:`CsvSource` and its settings
models :class:`CsvSettings` and :class:`StreamSettings`.
"""

from __future__ import annotations

from premia_csv.settings import LOCALES, CsvSettings, LocaleProfile, StreamSettings
from premia_csv.source import CsvSource

__all__ = ["LOCALES", "CsvSettings", "CsvSource", "LocaleProfile", "StreamSettings"]
