"""Reading YAML files safely and exactly.

Safe loading only (no tag can construct an object or run code), numbers with a fraction become
``Decimal`` parsed from their text (never a binary float), and every location can be mapped
back to a line for error messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from premia.errors import ConfigError


class _ExactLoader(yaml.SafeLoader):
    """SafeLoader whose floats are Decimals."""


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal | float:
    text = str(loader.construct_scalar(node)).replace("_", "")  # type: ignore[arg-type]
    lowered = text.lower()
    if lowered in {".inf", "+.inf", "-.inf", ".nan"}:
        raise yaml.constructor.ConstructorError(
            None, None, f"{text!r} is not a usable number", node.start_mark
        )
    return Decimal(text)


_ExactLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def format_location(loc: Sequence[str | int]) -> str:
    """Return ``rules[2].tiers[0].at`` for ``("rules", 2, "tiers", 0, "at")``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


class YamlDocument:
    """A parsed YAML file: its data and a way to find the line of any location in it.

    Args:
        path: the file to read.

    Raises:
        ConfigError: the file is missing or is not valid YAML.
    """

    def __init__(self, path: Path):
        self.path = path
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ConfigError("file not found", file=str(path)) from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"not UTF-8 text (byte offset {exc.start})", file=str(path)) from None
        try:
            self.node = yaml.compose(text, Loader=_ExactLoader)
            self.data: Any = yaml.load(text, Loader=_ExactLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
            problem = getattr(exc, "problem", None) or str(exc)
            raise ConfigError(f"invalid YAML: {problem}", file=str(path), location=where) from None

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """Return the 1-based line of the value at ``loc``, or of its closest parent."""
        node = self.node
        line = node.start_mark.line + 1 if node is not None else None
        for part in loc:
            child = None
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if key_node.value == part:
                        child = value_node
                        break
            elif (
                isinstance(node, yaml.SequenceNode)
                and isinstance(part, int)
                and 0 <= part < len(node.value)
            ):
                child = node.value[part]
            if child is None:
                break
            node = child
            line = node.start_mark.line + 1
        return line
