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

    The encoding is JSON with object keys sorted by code point, no whitespace at all,
    strings as UTF-8 with only the escapes JSON requires (no \\u escapes of non-ASCII),
    and integers written as integers (never as floats, never above 64 bits). Floats
    are not allowed anywhere in a record; fractional values are written as gonka
    writes them, as a Decimal `{"value", "exponent"}` pair.
    """
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def digest(data: bytes) -> str:
    """Return `blake3:<hex>` of `data`."""
    return DIGEST_PREFIX + blake3.blake3(data).hexdigest()


def reject_floats(value: Any, path: str = "body") -> None:
    """Raise InvalidInput if a float appears anywhere in `value`."""
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
