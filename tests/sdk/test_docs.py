"""The plugin author guide stays true: every hook and public name is documented and tested."""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

import premia
import premia_sdk
import premia_sdk.testing
from premia import hookspecs

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "sdk" / "docs"
GUIDE = [REPO / "sdk" / "README.md", *sorted(DOCS.glob("*.md"))]
REFERENCE = (DOCS / "reference.md").read_text(encoding="utf-8")
TESTING = (DOCS / "testing.md").read_text(encoding="utf-8")
HOOKS = sorted(
    name
    for name in dir(hookspecs)
    if name.startswith("premia_") and callable(getattr(hookspecs, name))
)


def _test_functions() -> set[str]:
    names: set[str] = set()
    for path in (REPO / "tests").rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names.update(n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))
    return names


def _headings(text: str) -> set[str]:
    return {m.group(1).strip() for m in re.finditer(r"^#{2,4} (.+)$", text, re.MULTILINE)}


def test_there_are_hooks_to_check() -> None:
    assert len(HOOKS) == 8


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_section_in_the_reference(hook: str) -> None:
    assert hook in _headings(REFERENCE), f"sdk/docs/reference.md has no '### {hook}' section"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test_of_its_own(hook: str) -> None:
    assert f"test_hook_{hook}" in _test_functions(), f"no test named test_hook_{hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hookspec_has_a_docstring(hook: str) -> None:
    doc = getattr(hookspecs, hook).__doc__ or ""
    assert len(doc.strip()) > 40
    assert "versionadded" in doc


@pytest.mark.parametrize("name", sorted(set(premia_sdk.__all__) - {"__version__"}))
def test_every_sdk_name_has_a_section_in_the_reference(name: str) -> None:
    assert name in _headings(REFERENCE), f"sdk/docs/reference.md has no '### {name}' section"


@pytest.mark.parametrize("name", sorted(premia.__all__))
def test_every_contract_name_is_in_the_reference(name: str) -> None:
    assert f"premia.{name}" in REFERENCE or name in _headings(REFERENCE), name


@pytest.mark.parametrize("name", sorted(premia_sdk.testing.__all__))
def test_every_kit_name_is_in_the_testing_guide(name: str) -> None:
    assert f"`{name}`" in TESTING or f"testing.{name}`" in TESTING or name in _headings(TESTING), (
        name
    )


@pytest.mark.parametrize("page", GUIDE, ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#]+?)(?:#[^)]*)?\)", text):
        if "://" in target:
            continue
        assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


@pytest.mark.parametrize("page", GUIDE, ids=lambda p: p.name)
def test_python_examples_parse(page: Path) -> None:
    """Complete examples must be valid Python (excerpts that elide code with ``...`` are not)."""
    text = page.read_text(encoding="utf-8")
    for block in re.findall(r"```python\n(.*?)```", text, re.DOTALL):
        if not re.search(r"^\s*\.\.\.", block, re.MULTILINE):
            ast.parse(textwrap.dedent(block))
