"""The scaffold tests itself: generate each kind, install it in a throwaway venv, run its tests.

Like llm's plugin template: one virtual environment gets the repository's core and SDK
(non-editable, from copies of the source trees), then the three generated plugins with their
``test`` extra; each plugin's own test suite must pass with that venv's pytest, and that
venv's ``premia plugins --json`` must list each plugin with its hook.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import venv
from pathlib import Path
from typing import Any

import pytest

from premia_sdk.scaffold import KINDS, PluginNames

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

HOOKS = {
    "source": ("premia_register_sources", "sources"),
    "provider": ("premia_register_providers", "providers"),
    "rule": ("premia_register_rules", "rules"),
}


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREMIA_", "PYTHON"))}
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def _copy_tree(source: Path, target: Path) -> Path:
    """Copy a distribution's source tree without build leftovers (the repo stays untouched)."""
    ignore = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", "*.pyc")
    shutil.copytree(source, target, ignore=ignore)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One venv with core, SDK and one generated plugin of each kind (``<kind>_<n>``)."""
    work = tmp_path_factory.mktemp("scaffold")
    root = work / "venv"
    venv.EnvBuilder(with_pip=True).create(root)
    pip = [root / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-build-isolation"]
    done = _run(*pip[:-1], "setuptools>=68")
    assert done.returncode == 0, done.stderr
    core = _copy_tree(REPO / "core", work / "src" / "core")
    sdk = _copy_tree(REPO / "sdk", work / "src" / "sdk")
    done = _run(*pip, core, sdk)
    assert done.returncode == 0, done.stderr
    projects = {}
    for kind in KINDS:  # the installed SDK's own command, so its templates shipped
        name = f"scaffolded_{kind}"
        done = _run(
            root / "bin" / "premia", "sdk", "new-plugin", name, "--kind", kind, "--dir", work
        )
        assert done.returncode == 0, done.stderr
        names = PluginNames.from_name(name)
        projects[kind] = {"root": work / names.distribution, "type_name": names.type_name}
    done = _run(*pip, *(f"{p['root']}[test]" for p in projects.values()))
    assert done.returncode == 0, done.stderr
    return {"venv": root, "projects": projects}


@pytest.mark.parametrize("kind", KINDS)
def test_the_generated_plugin_passes_its_own_tests(installed: dict[str, Any], kind: str) -> None:
    project = installed["projects"][kind]
    pytest_bin = installed["venv"] / "bin" / "pytest"
    done = _run(pytest_bin, "-p", "no:cacheprovider", "-q", "-rA", cwd=project["root"])

    assert done.returncode == 0, done.stdout + done.stderr
    assert "failed" not in done.stdout
    assert "skipped" not in done.stdout  # the registration check ran, and passed
    passed = [line for line in done.stdout.splitlines() if line.startswith("PASSED")]
    assert any(line.endswith("::test_registered_by_an_installed_plugin") for line in passed)


def test_premia_lists_each_generated_plugin_with_its_hook(installed: dict[str, Any]) -> None:
    done = _run(installed["venv"] / "bin" / "premia", "plugins", "--json")
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    assert listing["problems"] == []
    plugins = {p["name"]: p for p in listing["plugins"]}
    for kind, project in installed["projects"].items():
        hook, family = HOOKS[kind]
        info = plugins[project["type_name"]]
        assert info["version"] == "0.1.0"
        assert info["hooks"] == [hook]
        assert info[family] == [project["type_name"]]
    assert plugins["sdk"]["hooks"] == ["premia_register_commands"]
