"""Premia reward provider ``rewards_catalog``: a local catalog of rewards with its own stock.

Use it in a program file::

    rewards:
      providers:
        - name: catalog
          type: rewards_catalog
          settings:
            catalog: catalog.yaml
"""

from __future__ import annotations

from premia_rewards_catalog.catalog_file import KINDS, Catalog, load_catalog, parse_catalog
from premia_rewards_catalog.provider import LocalCatalog
from premia_rewards_catalog.settings import LocalCatalogSettings
from premia_rewards_catalog.store import OrderEvent, StateStore, StoredOrder

__all__ = [
    "KINDS",
    "Catalog",
    "LocalCatalog",
    "LocalCatalogSettings",
    "OrderEvent",
    "StateStore",
    "StoredOrder",
    "load_catalog",
    "parse_catalog",
]
