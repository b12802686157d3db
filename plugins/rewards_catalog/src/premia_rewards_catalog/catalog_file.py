"""Reading and validating a catalog file (YAML).

A catalog file is a mapping with one key, ``items``, a list of items::

    items:
      - sku: GC-25
        name: "$25 gift card"
        kind: gift_card
        points: 2500
        value: "25.00"
        currency: USD
        inventory: 40
        regions: [East, West]
        description: "Redeemable at most retailers"

Every problem is reported as a :class:`premia.ConfigError` naming the file, the location
inside it (``items[3].points``) and the item's SKU. Face values are exact
:class:`~decimal.Decimal` numbers, read from the file's text, never through a float.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, ScalarNode

from premia import CatalogItem, ConfigError

KINDS = ("gift_card", "experience", "merchandise", "donation", "badge")
"""The kinds of item a catalog may hold."""

FIELDS = (
    "sku",
    "name",
    "kind",
    "points",
    "value",
    "currency",
    "inventory",
    "regions",
    "description",
)
"""The fields an item may have, in the order they are checked."""

_CURRENCY = re.compile(r"[A-Z]{3}")
_QUOTE_HINT = "quote values YAML reads as something else, such as NO, yes, 1001 or 2024-01-01"


@dataclass(frozen=True)
class Catalog:
    """The items of one catalog file, in file order.

    Attributes:
        path: the file the items were read from.
        items: the items; ``inventory`` is the stock the file declares, not what is left.
    """

    path: Path
    items: tuple[CatalogItem, ...]
    _by_sku: dict[str, CatalogItem] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_sku", {item.sku: item for item in self.items})

    def get(self, sku: str) -> CatalogItem | None:
        """Return the item with ``sku``, or None if the catalog has none."""
        return self._by_sku.get(sku)

    def __iter__(self) -> Iterator[CatalogItem]:
        """Iterate over the items in file order."""
        return iter(self.items)

    def __len__(self) -> int:
        """Return the number of items."""
        return len(self.items)


def load_catalog(path: Path) -> Catalog:
    """Read and validate the catalog file at ``path``.

    Args:
        path: the YAML file.

    Returns:
        The validated catalog.

    Raises:
        premia.ConfigError: the file cannot be read, is not valid YAML, or an item is wrong.
            ``file`` is ``path`` and ``location`` the first wrong place (``items[3].points``);
            the message also lists any further problems.
    """
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            "catalog file not found (the provider's `catalog` setting; a relative path is "
            "read from the program file's folder)",
            file=file,
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"catalog file is not UTF-8 text: {exc.reason}", file=file) from None
    except OSError as exc:
        raise ConfigError(f"cannot read catalog file: {exc.strerror or exc}", file=file) from None
    return parse_catalog(text, file=file, path=path)


def parse_catalog(text: str, *, file: str, path: Path | None = None) -> Catalog:
    """Validate catalog YAML ``text``; errors name ``file``.

    Args:
        text: the YAML document.
        file: the name errors give the document.
        path: recorded in the result (default: ``Path(file)``).

    Returns:
        The validated catalog.

    Raises:
        premia.ConfigError: as :func:`load_catalog`.
    """
    try:
        document = yaml.load(text, Loader=_CatalogLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"not valid YAML: {problem}", file=file, location=where) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=file) from None

    problems = _Problems()
    items: list[CatalogItem] = []
    if not isinstance(document, dict):
        problems.add(None, "a catalog file is a mapping with a list under `items:`")
    else:
        for key in document:
            if key != "items":
                problems.add(str(key), "is not a catalog key; the only key is `items`")
        raw_items = document.get("items")
        if not isinstance(raw_items, list):
            problems.add("items", "must be a list of items (each with sku, name, kind, points)")
        else:
            first_index: dict[str, int] = {}
            for index, raw in enumerate(raw_items):
                item = _parse_item(raw, index, problems)
                if item is None:
                    continue
                if item.sku in first_index:
                    problems.add(
                        f"items[{index}].sku",
                        f"duplicate SKU {item.sku!r}: items[{first_index[item.sku]}] already "
                        "uses it; each SKU must be unique",
                    )
                    continue
                first_index[item.sku] = index
                items.append(item)
    problems.raise_if_any(file)
    return Catalog(path=path if path is not None else Path(file), items=tuple(items))


# -- items ---------------------------------------------------------------------------------
def _parse_item(raw: object, index: int, problems: _Problems) -> CatalogItem | None:
    """Return the item ``raw`` describes, or None after adding its problems to ``problems``."""
    here = f"items[{index}]"
    if not isinstance(raw, dict):
        problems.add(here, "each item must be a mapping with sku, name, kind and points")
        return None
    before = len(problems)
    sku_raw = raw.get("sku")
    label = f"item {sku_raw!r}" if isinstance(sku_raw, str) and sku_raw else f"item #{index}"
    check = _Checker(raw, here, label, problems)

    for key in raw:
        if key not in FIELDS:
            check.fail(str(key), f"is not an item field; expected one of {', '.join(FIELDS)}")

    sku = check.text("sku", required=True)
    if sku is not None and sku != sku.strip():
        check.fail("sku", "must not start or end with spaces")
    name = check.text("name", required=True)
    kind = check.text("kind", required=True)
    if kind is not None and kind not in KINDS:
        check.fail("kind", f"must be one of {', '.join(KINDS)}; got {kind!r}")
    points = check.whole("points", required=True)
    if points is not None and points == 0 and kind is not None and kind != "badge":
        check.fail("points", "must be greater than 0 (only a badge may cost 0 points)")
    value = check.money("value")
    currency = check.text("currency")
    if currency is not None and not _CURRENCY.fullmatch(currency):
        check.fail("currency", f"must be an ISO 4217 code such as USD or EUR; got {currency!r}")
    if value is not None and currency is None and "currency" not in check.failed:
        check.fail("currency", "is required when `value` is given")
    if currency is not None and value is None and "value" not in check.failed:
        check.fail("value", "is required when `currency` is given")
    inventory = check.whole("inventory")
    regions = check.regions("regions")
    description = check.text("description", allow_empty=True)

    if len(problems) > before:
        return None
    assert sku is not None
    assert name is not None
    assert kind is not None
    assert points is not None
    return CatalogItem(
        sku=sku,
        name=name,
        kind=kind,
        points=points,
        value=value,
        currency=currency,
        inventory=inventory,
        regions=regions,
        description=description or "",
    )


class _Checker:
    """Reads the fields of one raw item, recording each problem with its location."""

    def __init__(self, raw: Mapping[Any, Any], here: str, label: str, problems: _Problems):
        self.raw = raw
        self.here = here
        self.label = label
        self.problems = problems
        self.failed: set[str] = set()

    def fail(self, name: str, message: str) -> None:
        self.failed.add(name)
        self.problems.add(f"{self.here}.{name}", f"{self.label}: `{name}` {message}")

    def _get(self, name: str, required: bool) -> Any:
        value = self.raw.get(name)
        if value is None and required:
            self.fail(name, "is required")
        return value

    def text(self, name: str, *, required: bool = False, allow_empty: bool = False) -> str | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(name, f"must be text; got {_shown(value)} ({_QUOTE_HINT})")
            return None
        if not allow_empty and not value.strip():
            self.fail(name, "must not be empty")
            return None
        return value

    def whole(self, name: str, *, required: bool = False) -> int | None:
        value = self._get(name, required)
        if value is None:
            return None
        if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral():
            value = int(value)  # 2500.0 is a whole number too
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, f"must be a whole number; got {_shown(value)}")
            return None
        if value < 0:
            self.fail(name, f"must not be negative; got {value}")
            return None
        return value

    def money(self, name: str) -> Decimal | None:
        value = self._get(name, False)
        if value is None:
            return None
        amount: Decimal | None = None
        if isinstance(value, Decimal):
            amount = value
        elif isinstance(value, int) and not isinstance(value, bool):
            amount = Decimal(value)
        elif isinstance(value, str):
            try:
                amount = Decimal(value.strip())
            except InvalidOperation:
                amount = None
        if amount is None or not amount.is_finite():
            self.fail(name, f'must be a decimal amount such as "25.00"; got {_shown(value)}')
            return None
        if amount < 0:
            self.fail(name, f"must not be negative; got {amount}")
            return None
        return amount

    def regions(self, name: str) -> frozenset[str] | None:
        value = self._get(name, False)
        if value is None:
            return None
        if not isinstance(value, list) or not value:
            self.fail(
                name,
                "must be a non-empty list of region names (leave it out for everywhere); "
                f"got {_shown(value)}",
            )
            return None
        bad = [v for v in value if not isinstance(v, str) or not v.strip()]
        if bad:
            self.fail(name, f"must hold region names as text; got {_shown(bad[0])} ({_QUOTE_HINT})")
            return None
        return frozenset(value)


class _Problems:
    """Collects every problem of a file so one error can report them all."""

    def __init__(self) -> None:
        self.found: list[tuple[str | None, str]] = []

    def add(self, location: str | None, message: str) -> None:
        self.found.append((location, message))

    def __len__(self) -> int:
        return len(self.found)

    def raise_if_any(self, file: str) -> None:
        if not self.found:
            return
        (location, message), rest = self.found[0], self.found[1:]
        if rest:
            more = "; ".join(f"{loc}: {msg}" if loc else msg for loc, msg in rest[:9])
            extra = f" (and {len(rest) - 9} more)" if len(rest) > 9 else ""
            message = f"{message} [{len(rest)} more problem(s): {more}{extra}]"
        raise ConfigError(message, file=file, location=location)


def _shown(value: object) -> str:
    """Return ``value`` as an error message shows it (type and a short repr)."""
    if isinstance(value, Decimal):
        return str(value)
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{text} ({type(value).__name__})" if not isinstance(value, str | int) else text


# -- YAML ----------------------------------------------------------------------------------
class _CatalogLoader(yaml.SafeLoader):
    """A safe YAML loader that reads floats as exact Decimals and refuses duplicate keys."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Hashable] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                raise ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"duplicate key {key!r}",
                    key_node.start_mark,
                )
            if isinstance(key, Hashable):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _construct_decimal(loader: yaml.SafeLoader, node: ScalarNode) -> Decimal:
    """Build a Decimal from a YAML float's own text (``25.1`` is ``Decimal("25.1")``)."""
    text = loader.construct_scalar(node)
    try:
        return Decimal(text.replace("_", ""))
    except InvalidOperation:  # .inf, .nan, sexagesimal 1:30.5: let validation judge it
        return Decimal(str(loader.construct_yaml_float(node)))


_CatalogLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
