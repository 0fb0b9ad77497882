"""The canonical byte encoding of ledger records and the digests computed over it."""

from __future__ import annotations

from typing import Any

import blake3
import orjson

from inferctl.errors import InvalidInput

DIGEST_PREFIX = "blake3:"
ZERO_DIGEST = DIGEST_PREFIX + "0" * 64


def canonical_bytes(value: Any) -> bytes:
    """Return the one canonical encoding of a JSON value, the bytes that get hashed.

    The encoding is JSON with object keys sorted by code point and no whitespace at
    all. Strings are UTF-8 with only the escapes JSON requires (no \\u escapes of
    non-ASCII). Integers are written as integers, never as floats and never above 64
    bits. Floats are not allowed anywhere in a record, so fractional values are
    written as gonka writes them, as a Decimal `{"value", "exponent"}` pair.
    """
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def digest(data: bytes | memoryview) -> str:
    """Return `blake3:<hex>` of `data`."""
    return DIGEST_PREFIX + blake3.blake3(data).hexdigest()


def reject_floats(value: Any, path: str = "body") -> None:
    """Raise InvalidInput if a float appears anywhere in `value`."""
    if _has_float(value):
        _raise_first_float(value, path)


def _has_float(value: Any) -> bool:
    """Return True if a float appears anywhere in `value`.

    Every transaction body passes through here, so the walk skips the common
    scalar types by exact type and builds no paths; _raise_first_float finds the
    path only when there is something to report.
    """
    if isinstance(value, float):
        return True
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            children: Any = item.values()
        elif kind is list:
            children = item
        elif isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        for child in children:
            kind = type(child)
            if kind is str or kind is int or kind is bool or child is None:
                continue
            if kind is dict or kind is list or isinstance(child, (dict, list)):
                stack.append(child)
            elif isinstance(child, float):
                return True
    return False


def _raise_first_float(value: Any, path: str) -> None:
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, float):
            raise InvalidInput(
                f"{where}: float {item!r} is not allowed in a ledger record",
                hint="write integers, or a decimal as {\"value\", \"exponent\"}",
            )
        if isinstance(item, dict):
            stack.extend((v, f"{where}.{k}") for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(item))
