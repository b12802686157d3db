"""`premia sdk new-plugin`: names, the project tree, clean code, errors."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from premia import ConfigError
from premia_sdk.cli import sdk
from premia_sdk.scaffold import KINDS, PluginNames, new_plugin

BIN = Path(sys.executable).parent

EXPECTED_TREES = {
    "source": [
        ".gitignore",
        "README.md",
        "pyproject.toml",
        "src/premia_acme_crm/__init__.py",
        "src/premia_acme_crm/plugin.py",
        "src/premia_acme_crm/py.typed",
        "src/premia_acme_crm/settings.py",
        "src/premia_acme_crm/source.py",
        "tests/cassettes/deals-newer.json",
        "tests/cassettes/deals.json",
        "tests/test_source.py",
    ],
    "provider": [
        ".gitignore",
        "README.md",
        "pyproject.toml",
        "src/premia_acme_crm/__init__.py",
        "src/premia_acme_crm/plugin.py",
        "src/premia_acme_crm/provider.py",
        "src/premia_acme_crm/py.typed",
        "src/premia_acme_crm/settings.py",
        "tests/cassettes/rewards.json",
        "tests/test_provider.py",
    ],
    "rule": [
        ".gitignore",
        "README.md",
        "pyproject.toml",
        "src/premia_acme_crm/__init__.py",
        "src/premia_acme_crm/plugin.py",
        "src/premia_acme_crm/py.typed",
        "src/premia_acme_crm/rule.py",
        "tests/test_rule.py",
    ],
}


def _run(
    *args: str | Path, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PREMIA_")}
    environ.update(env)
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture
def generate(tmp_path: Path) -> Callable[[str], Path]:
    """Generate the `acme_crm` plugin of a kind; return its project folder."""

    def make(kind: str) -> Path:
        return new_plugin("acme_crm", kind, tmp_path).root

    return make


@pytest.mark.parametrize(
    ("raw", "distribution", "package", "type_name", "prefix"),
    [
        ("acme_crm", "premia-acme-crm", "premia_acme_crm", "acme_crm", "AcmeCrm"),
        ("acme-crm", "premia-acme-crm", "premia_acme_crm", "acme_crm", "AcmeCrm"),
        ("Acme CRM", "premia-acme-crm", "premia_acme_crm", "acme_crm", "AcmeCrm"),
        ("premia-acme-crm", "premia-acme-crm", "premia_acme_crm", "acme_crm", "AcmeCrm"),
        ("  hub2spot  ", "premia-hub2spot", "premia_hub2spot", "hub2spot", "Hub2spot"),
    ],
)
def test_names_are_normalised(
    raw: str, distribution: str, package: str, type_name: str, prefix: str
) -> None:
    names = PluginNames.from_name(raw)
    assert (names.distribution, names.package, names.type_name, names.prefix) == (
        distribution,
        package,
        type_name,
        prefix,
    )


@pytest.mark.parametrize("raw", ["", "---", "2fast", "premia", "csv", "sdk", "élan"])
def test_unusable_names_are_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match="plugin name"):
        PluginNames.from_name(raw)


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown plugin kind 'exporter'"):
        new_plugin("acme", "exporter", tmp_path)


def test_an_existing_project_is_never_overwritten(tmp_path: Path) -> None:
    new_plugin("acme", "rule", tmp_path)
    readme = tmp_path / "premia-acme" / "README.md"
    readme.write_text("mine", encoding="utf-8")

    with pytest.raises(ConfigError, match="already exists and is not empty"):
        new_plugin("acme", "source", tmp_path)
    assert readme.read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize("kind", KINDS)
def test_the_project_tree(generate: Callable[[str], Path], kind: str) -> None:
    root = generate(kind)
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert files == EXPECTED_TREES[kind]
    assert (root / "src" / "premia_acme_crm" / "py.typed").read_bytes() == b""
    assert "${" not in "".join(p.read_text(encoding="utf-8") for p in root.rglob("*.py"))


@pytest.mark.parametrize("kind", KINDS)
def test_pyproject_declares_the_entry_point_and_test_extra(
    generate: Callable[[str], Path], kind: str
) -> None:
    project = tomllib.loads((generate(kind) / "pyproject.toml").read_text(encoding="utf-8"))
    meta = project["project"]
    assert meta["name"] == "premia-acme-crm"
    assert meta["entry-points"]["premia"] == {"acme_crm": "premia_acme_crm.plugin"}
    assert {d.split(">")[0] for d in meta["dependencies"]} == {"premia", "premia-sdk"}
    assert any(d.startswith("pytest") for d in meta["optional-dependencies"]["test"])


@pytest.mark.parametrize("kind", KINDS)
def test_the_plugin_module_declares_its_hookspec_version(
    generate: Callable[[str], Path], kind: str
) -> None:
    plugin = (generate(kind) / "src" / "premia_acme_crm" / "plugin.py").read_text(encoding="utf-8")
    assert "PREMIA_HOOKSPEC_VERSION = 1" in plugin
    assert "@premia.hookimpl" in plugin


@pytest.mark.parametrize("kind", KINDS)
def test_the_generated_code_is_lint_clean(generate: Callable[[str], Path], kind: str) -> None:
    root = generate(kind)
    for args in (("check", "--no-cache", "."), ("format", "--no-cache", "--check", ".")):
        done = _run(BIN / "ruff", *args, cwd=root)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_the_generated_tests_pass_from_the_source_tree(
    generate: Callable[[str], Path], kind: str
) -> None:
    """The generated tests, not installed yet: all but the registration check pass."""
    root = generate(kind)
    done = _run(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-k",
        "not test_registered_by_an_installed_plugin",
        cwd=root,
        PYTHONPATH=str(root / "src"),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout
    assert "failed" not in done.stdout


def test_the_command_prints_the_tree_and_next_steps(tmp_path: Path) -> None:
    done = _run(
        BIN / "premia", "sdk", "new-plugin", "Acme CRM", "--kind", "source", "--dir", tmp_path
    )

    assert done.returncode == 0, done.stderr
    assert f"created {tmp_path / 'premia-acme-crm'} (source plugin 'acme_crm'):" in done.stdout
    assert "  src/premia_acme_crm/source.py" in done.stdout
    assert "pip install -e '.[test]'" in done.stdout


def test_a_bad_name_is_reported_without_a_traceback(tmp_path: Path) -> None:
    done = _run(BIN / "premia", "sdk", "new-plugin", "2fast", "--kind", "rule", "--dir", tmp_path)

    assert done.returncode == 2
    assert "error: plugin name '2fast'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["new-plugin", "acme", "--kind", "exporter"], "Invalid value for '--kind'"),
        (["new-plugin", "acme"], "Missing option '--kind'"),
    ],
)
def test_usage_mistakes_are_reported(tmp_path: Path, args: list[str], says: str) -> None:
    result = CliRunner().invoke(sdk, [*args, "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert says in result.output


def test_the_sdk_plugin_is_listed_with_its_command_hook() -> None:
    done = _run(BIN / "premia", "plugins")
    assert done.returncode == 0, done.stderr
    assert "hooks: premia_register_commands" in done.stdout
