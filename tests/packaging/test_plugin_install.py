"""Installing a plugin makes it appear; uninstalling makes it vanish (a real, throwaway venv)."""

from __future__ import annotations

import json
import os
import subprocess
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, check=False, env=env, timeout=600
    )


@pytest.fixture(scope="module")
def core_only_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with only the core (`premia`) installed, from the source tree."""
    root = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(root)
    pip = root / "bin" / "pip"
    done = _run(pip, "install", "--quiet", "--disable-pip-version-check", REPO / "core")
    assert done.returncode == 0, done.stderr
    return root


def _plugins(root: Path) -> dict[str, dict[str, object]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREMIA_")}
    env["PATH"] = f"{root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    done = _run(root / "bin" / "premia", "plugins", "--json", env=env)
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    assert listing["problems"] == []
    return {p["name"]: p for p in listing["plugins"]}


def test_install_then_uninstall_csv_plugin(core_only_venv: Path) -> None:
    before = _plugins(core_only_venv)
    assert "csv" not in before
    assert before["premia.builtin_rules"]["rules"] == ["every", "rank", "threshold", "tiered"]

    pip = core_only_venv / "bin" / "pip"
    done = _run(pip, "install", "--quiet", "--disable-pip-version-check", REPO / "plugins" / "csv")
    assert done.returncode == 0, done.stderr
    during = _plugins(core_only_venv)
    assert during["csv"]["sources"] == ["csv"]
    assert during["csv"]["version"] == "0.1.0"
    assert during["csv"]["hooks"] == ["premia_register_sources"]

    done = _run(pip, "uninstall", "--yes", "--quiet", "premia-csv")
    assert done.returncode == 0, done.stderr
    after = _plugins(core_only_venv)
    assert "csv" not in after
