"""Exact JSON: numbers keep every digit the API sent.

``json.loads`` turns ``1.1`` into the binary float ``1.1000000000000000888...``; money read
that way is wrong by the time it is summed. :func:`loads` parses every non-integer number as
a :class:`~decimal.Decimal` (integers are Python ints, exact at any size), and refuses the
non-standard ``NaN``/``Infinity`` tokens. :func:`response_json` does the same for an
``httpx.Response`` and caches the result on the response, so a paginator and a record parser
reading the same page parse it once.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import httpx

import premia
from premia_sdk.errors import redact_url

__all__ = ["get_path", "loads", "response_json"]

_MISSING = object()
_cache: weakref.WeakKeyDictionary[httpx.Response, Any] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str | bytes | bytearray) -> Any:
    """Parse JSON exactly: non-integer numbers become ``Decimal``, integers stay exact ints.

    Args:
        text: the JSON document (bytes are decoded as UTF-8, UTF-16 or UTF-32).

    Returns:
        The parsed value.

    Raises:
        ValueError: the text is not JSON (``json.JSONDecodeError`` is a ``ValueError``), or it
            contains ``NaN``/``Infinity``.
    """
    return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)


def response_json(response: httpx.Response) -> Any:
    """Return the exact JSON body of ``response`` (see :func:`loads`), parsed once.

    Args:
        response: a response whose body has been read.

    Returns:
        The parsed body.

    Raises:
        premia.SourceError: the body is not JSON; the message names the request (redacted)
            and where parsing failed, not the body.
    """
    with _cache_lock:
        cached = _cache.get(response, _MISSING)
    if cached is not _MISSING:
        return cached
    try:
        value = loads(response.content)
    except ValueError as exc:
        where = _where(response)
        kind = response.headers.get("content-type", "no content type")
        detail = (
            f"at line {exc.lineno} column {exc.colno}"
            if isinstance(exc, json.JSONDecodeError)
            else str(exc)
        )
        raise premia.SourceError(
            f"{where} returned a body that is not valid JSON ({kind}, {detail})"
        ) from None
    with _cache_lock:
        _cache[response] = value
    return value


def get_path(data: Any, path: str | Sequence[str | int] | None, default: Any = None) -> Any:
    """Return the value at a dotted ``path`` inside parsed JSON, or ``default``.

    ``"paging.next.after"`` reads ``data["paging"]["next"]["after"]``; a numeric part indexes
    a list (``"results.0.id"``). An empty path (``""`` or ``None``) returns ``data`` itself.

    Args:
        data: parsed JSON.
        path: dotted path, or a sequence of keys and indexes.
        default: what to return when a step is missing or of the wrong type.

    Returns:
        The value found, or ``default``.
    """
    if not path:
        return data
    parts = path.split(".") if isinstance(path, str) else list(path)
    current = data
    for part in parts:
        if isinstance(current, Mapping):
            if part not in current:
                return default
            current = current[part]
        elif isinstance(current, list) and (isinstance(part, int) or str(part).isdigit()):
            index = int(part)
            if index >= len(current):
                return default
            current = current[index]
        else:
            return default
    return current


def _where(response: httpx.Response) -> str:
    try:
        return f"{response.request.method} {redact_url(response.request.url)}"
    except RuntimeError:
        return "the response"
