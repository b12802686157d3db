"""The error taxonomy of Premia.

Every error a user can meet derives from :class:`PremiaError`; the CLI prints its message
without a traceback. Messages never contain secrets.
"""

from __future__ import annotations


class PremiaError(Exception):
    """Base class of every error Premia reports to a user."""


class ConfigError(PremiaError):
    """A program file, a setting or a plugin's settings are wrong.

    Args:
        message: what is wrong and what was expected.
        file: the file the problem is in, when there is one.
        location: the path inside the file, e.g. ``rules[2].tiers[0].at``.
    """

    def __init__(self, message: str, *, file: str | None = None, location: str | None = None):
        self.file = file
        self.location = location
        self.detail = message
        where = ": ".join(p for p in (file, location) if p)
        super().__init__(f"{where}: {message}" if where else message)


class PluginError(PremiaError):
    """A plugin could not be loaded or broke its contract."""


class SourceError(PremiaError):
    """A KPI source could not be read (connection, authentication, unreadable file)."""


class QuotaExhausted(SourceError):
    """A source's API quota is used up: the run stops, keeps its cursor and is incomplete."""


class RuleError(PremiaError):
    """A rule evaluator was given parameters or inputs it cannot use."""


class RedemptionRefused(PremiaError):
    """A redemption was refused (balance too low, out of stock, not available); nothing changed."""


class ProviderError(PremiaError):
    """A reward provider failed to take or report an order.

    Args:
        message: what went wrong.
        retryable: True when trying the same request again later may succeed.
    """

    def __init__(self, message: str, *, retryable: bool = True):
        self.retryable = retryable
        super().__init__(message)
