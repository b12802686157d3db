"""The SDK's public surface: names, docstrings, final invariants, no heavy imports."""

from __future__ import annotations

import inspect
import subprocess
import sys

import premia_sdk
from premia_sdk import HttpRewardProvider, HttpSource, OAuth2ClientCredentials, Paginator


def test_every_public_name_is_importable_and_documented() -> None:
    for name in premia_sdk.__all__:
        obj = getattr(premia_sdk, name)
        if name == "__version__":
            assert isinstance(obj, str)
            continue
        assert inspect.getdoc(obj), f"{name} has no docstring"


def test_invariants_are_final() -> None:
    finals = [
        HttpSource.read,
        HttpSource.check,
        HttpSource.client,
        HttpRewardProvider.idempotent_post,
        HttpRewardProvider.client,
        Paginator.advance,
        OAuth2ClientCredentials.sync_auth_flow,
    ]
    for method in finals:
        assert getattr(method, "__final__", False), method.__qualname__


def test_importing_the_sdk_does_not_import_the_kit_or_the_scaffold() -> None:
    code = (
        "import sys, premia_sdk; "
        "print(sorted(m for m in sys.modules if m.startswith('premia_sdk.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "premia_sdk.testing" not in out.stdout
    assert "premia_sdk.scaffold" not in out.stdout
    assert "premia_sdk.plugin" not in out.stdout
