"""What HTTP sources and HTTP reward providers share: building and owning one HttpClient."""

from __future__ import annotations

import threading
import typing
from importlib.metadata import PackageNotFoundError, version
from typing import Any, ClassVar

import httpx

from premia_sdk.http import HttpClient
from premia_sdk.ratelimit import RateBudget
from premia_sdk.retry import RetryPolicy


class HttpPluginMixin:
    """Owns the plugin's :class:`HttpClient`: built once from override points, then shared.

    Override points: :meth:`base_url`, :meth:`auth`, :meth:`rate_budget`,
    :meth:`retry_policy`, and :meth:`build_client` for anything else (extra headers, a
    vendor classifier, a test transport). :meth:`client` is final: it builds the client on
    first use (thread-safely) and returns the same one afterwards.
    """

    type_name: ClassVar[str]
    settings: Any

    plugin_name: ClassVar[str | None] = None
    """Name in the ``User-Agent`` header; default ``premia-<type_name>``."""

    plugin_version: ClassVar[str | None] = None
    """Version in the ``User-Agent``; default: the installed version of :attr:`plugin_name`."""

    _client_instance: HttpClient | None = None
    _client_lock: ClassVar[threading.Lock] = threading.Lock()

    def base_url(self) -> str:
        """Return the API's base URL; by default the ``base_url`` setting.

        Raises:
            NotImplementedError: there is no ``base_url`` setting and no override.
        """
        value = getattr(self.settings, "base_url", None)
        if value is None:
            raise NotImplementedError(f"{type(self).__name__} must override base_url()")
        return str(value)

    def auth(self) -> httpx.Auth | None:
        """Return the authentication scheme (see :mod:`premia_sdk.auth`); none by default."""
        return None

    def rate_budget(self) -> RateBudget | None:
        """Return the rate budget, usually ``RateBudget.shared(<account key>, ...)``; none by default."""
        return None

    def retry_policy(self) -> RetryPolicy:
        """Return the retry policy; :class:`RetryPolicy` defaults unless overridden."""
        return RetryPolicy()

    def user_agent(self) -> tuple[str, str]:
        """Return the plugin's ``(name, version)`` for the ``User-Agent`` header."""
        name = self.plugin_name or f"premia-{self.type_name}"
        if self.plugin_version is not None:
            return name, self.plugin_version
        try:
            return name, version(name)
        except PackageNotFoundError:
            return name, "0"

    def build_client(self) -> HttpClient:
        """Build the client from the override points (override to pass more options).

        Returns:
            A new :class:`HttpClient`.
        """
        name, plugin_version = self.user_agent()
        return HttpClient(
            self.base_url(),
            plugin_name=name,
            plugin_version=plugin_version,
            auth=self.auth(),
            retry=self.retry_policy(),
            budget=self.rate_budget(),
        )

    @typing.final
    def client(self) -> HttpClient:
        """Return the plugin's client, building it on first use.

        Returns:
            The shared :class:`HttpClient` (thread-safe; streams read on threads share it).
        """
        client = self._client_instance
        if client is None:
            with self._client_lock:
                client = self._client_instance
                if client is None:
                    client = self._client_instance = self.build_client()
        return client

    @typing.final
    def close_client(self) -> None:
        """Close the client if one was built."""
        client, self._client_instance = self._client_instance, None
        if client is not None:
            client.close()
