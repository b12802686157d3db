"""Scaffold a new plugin project: ``premia sdk new-plugin NAME --kind source|provider|rule``.

The project is rendered from the templates shipped in ``premia_sdk/scaffold/templates``:
``common/`` for every kind, then ``<kind>/``. Files ending in ``.tmpl`` are rendered with
:class:`string.Template` (``${package}``, ``${Prefix}``...; ``$$`` is a literal dollar) and
lose the suffix; other files are copied as they are. A path segment ``__package__`` becomes
the import package's name, and ``gitignore`` becomes ``.gitignore`` (dotfiles would not ship
as package data).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from premia import ConfigError

KINDS = ("source", "provider", "rule")
"""The kinds of plugin the scaffold writes."""

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_DOTFILES = frozenset({"gitignore"})
_RESERVED = frozenset({"premia", "sdk", "csv", "rewards_catalog", "test", "tests"})


@dataclass(frozen=True, slots=True)
class PluginNames:
    """Every name a plugin project derives from its NAME.

    Attributes:
        name: the normalised name, e.g. ``acme_crm``.
        distribution: the distribution (``pip install``) name, e.g. ``premia-acme-crm``.
        package: the import package, e.g. ``premia_acme_crm``.
        type_name: the ``type:`` a program file uses, and the entry point's name.
        prefix: the class-name prefix, e.g. ``AcmeCrm``.
        title: a display name, e.g. ``Acme Crm``.
        host: the placeholder API host's label, e.g. ``acme-crm``.
    """

    name: str
    distribution: str
    package: str
    type_name: str
    prefix: str
    title: str
    host: str

    @classmethod
    def from_name(cls, raw: str) -> PluginNames:
        """Normalise a plugin NAME: ``acme_crm``, ``acme-crm``, ``Acme CRM`` -> ``acme_crm``.

        A leading ``premia`` (``premia-acme-crm``) is dropped.

        Args:
            raw: the name as the user typed it.

        Returns:
            The derived names.

        Raises:
            premia.ConfigError: the name is empty, starts with a digit, or is reserved.
        """
        name = re.sub(r"[\s._-]+", "_", raw.strip().lower()).strip("_")
        name = re.sub(r"^premia_", "", name)
        if not _NAME.match(name):
            raise ConfigError(
                f"plugin name {raw!r} normalises to {name!r}: use ASCII letters, digits, "
                "spaces, '_' or '-', starting with a letter (e.g. acme_crm)"
            )
        if name in _RESERVED:
            raise ConfigError(f"plugin name {raw!r} is reserved; pick another (e.g. acme_{name})")
        words = name.split("_")
        return cls(
            name=name,
            distribution="premia-" + "-".join(words),
            package=f"premia_{name}",
            type_name=name,
            prefix="".join(w.capitalize() for w in words),
            title=" ".join(w.capitalize() for w in words),
            host="-".join(words),
        )


@dataclass(frozen=True, slots=True)
class ScaffoldResult:
    """What :func:`new_plugin` wrote.

    Attributes:
        root: the project folder, ``<directory>/premia-<name>``.
        names: the names derived from NAME.
        kind: ``source``, ``provider`` or ``rule``.
        files: every file written, in path order.
    """

    root: Path
    names: PluginNames
    kind: str
    files: list[Path] = field(default_factory=list)


def template_variables(names: PluginNames, kind: str) -> dict[str, str]:
    """Return the variables the templates may use.

    Args:
        names: the plugin's names.
        kind: the plugin's kind.

    Returns:
        ``name``, ``distribution``, ``package``, ``type_name``, ``Prefix``, ``title``,
        ``host``, ``kind`` and ``hook`` (the registration hook the plugin implements).
    """
    hooks = {
        "source": "premia_register_sources",
        "provider": "premia_register_providers",
        "rule": "premia_register_rules",
    }
    return {
        "name": names.name,
        "distribution": names.distribution,
        "package": names.package,
        "type_name": names.type_name,
        "Prefix": names.prefix,
        "title": names.title,
        "host": names.host,
        "kind": kind,
        "hook": hooks[kind],
    }


def new_plugin(name: str, kind: str, directory: Path | str = ".") -> ScaffoldResult:
    """Write a ready-to-install plugin project ``premia-<name>/`` in ``directory``.

    Args:
        name: the plugin's NAME (normalised by :meth:`PluginNames.from_name`).
        kind: ``source``, ``provider`` or ``rule``.
        directory: the folder to create the project folder in (created if missing).

    Returns:
        What was written.

    Raises:
        premia.ConfigError: a bad name or kind, or the project folder exists and is not
            empty.
    """
    if kind not in KINDS:
        raise ConfigError(f"unknown plugin kind {kind!r}; expected one of {', '.join(KINDS)}")
    names = PluginNames.from_name(name)
    root = Path(directory) / names.distribution
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ConfigError(f"{root} already exists and is not empty; choose another --dir")
    variables = template_variables(names, kind)
    templates = resources.files("premia_sdk.scaffold").joinpath("templates")
    planned: dict[Path, str | bytes] = {}
    for part in ("common", kind):
        for relative, source in _walk(templates.joinpath(part), ()):
            target, content = _render(relative, source, variables, names.package)
            planned[root / target] = content
    result = ScaffoldResult(root=root, names=names, kind=kind)
    for path in sorted(planned):
        path.parent.mkdir(parents=True, exist_ok=True)
        content = planned[path]
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        result.files.append(path)
    return result


def _walk(node: Traversable, parts: tuple[str, ...]) -> list[tuple[tuple[str, ...], Traversable]]:
    """Return every file under ``node`` with its path parts, skipping caches."""
    found: list[tuple[tuple[str, ...], Traversable]] = []
    for child in node.iterdir():
        if child.name in ("__pycache__", ".DS_Store") or child.name.endswith(".pyc"):
            continue
        if child.is_dir():
            found.extend(_walk(child, (*parts, child.name)))
        else:
            found.append(((*parts, child.name), child))
    return found


def _render(
    relative: tuple[str, ...], source: Traversable, variables: dict[str, str], package: str
) -> tuple[Path, str | bytes]:
    """Return the target path and content of one template file."""
    parts = [package if p == "__package__" else p for p in relative]
    if parts[-1].removesuffix(".tmpl") in _DOTFILES:  # dotfiles do not ship as package data
        parts[-1] = "." + parts[-1]
    if parts[-1].endswith(".tmpl"):
        parts[-1] = parts[-1].removesuffix(".tmpl")
        template = string.Template(source.read_text(encoding="utf-8"))
        try:
            content: str | bytes = template.substitute(variables)
        except (KeyError, ValueError) as exc:  # a bug in a shipped template
            raise RuntimeError(f"template {'/'.join(relative)}: {exc}") from exc
    else:
        content = source.read_bytes()
    return Path(*parts), content
