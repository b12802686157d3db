"""Settings of the ``rewards_catalog`` provider and where its files live."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from premia import ProviderContext


class LocalCatalogSettings(BaseModel):
    """What a program file says about a ``rewards_catalog`` provider.

    Relative paths resolve against the program file's folder
    (:attr:`premia.ProviderContext.base_dir`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    catalog: Path = Field(description="The YAML catalog file.")
    state: Path | None = Field(
        default=None,
        description=(
            "The SQLite file holding orders (and so the inventory already used). Default: "
            "`<provider name>-catalog.sqlite` in the engine's state folder "
            "(`PREMIA_STATE_DIR`, else `.premia` in the program's folder)."
        ),
    )
    auto_fulfil: bool = Field(
        default=True,
        description=(
            "Fulfil orders at once. When false, orders stay `submitted` until someone "
            "calls `fulfil` (and may be cancelled until then)."
        ),
    )

    def catalog_path(self, context: ProviderContext) -> Path:
        """Return the catalog file's path, resolved against ``context.base_dir``."""
        return _resolve(self.catalog, context.base_dir)

    def state_path(self, context: ProviderContext) -> Path:
        """Return the state file's path: ``state`` if given, else the default.

        The default lives in the engine's state folder (:attr:`premia.ProviderContext.state_folder`)
        rather than beside the catalog, because the catalog may sit in a read-only folder (a
        package, a mounted config volume) and the state file must stay where it is from one
        run to the next.
        """
        if self.state is not None:
            return _resolve(self.state, context.base_dir)
        return context.state_folder / f"{_file_safe(context.provider_name)}-catalog.sqlite"


def _resolve(path: Path, base_dir: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else base_dir / path


def _file_safe(name: str) -> str:
    """Return ``name`` with every character a file name should not hold replaced by ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name).strip(".") or "rewards_catalog"
