"""Strict JSON reading for files that users hand to inferctl.

Input files come from other people and other tools, so the parser is strict where
plain `json.loads` is lenient: duplicate keys are rejected (which value would win is
ambiguous), invalid UTF-8 is rejected, and nesting deeper than MAX_DEPTH is rejected
before the interpreter's recursion limit is reached. Integers of any size are kept
exactly; range checks belong to the schema that knows the field's type.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable
from typing import Any

import orjson

from inferctl.errors import InvalidInput, NotFound, StorageError

MAX_DEPTH = 256
MAX_INPUT_BYTES = 64 * 1024 * 1024


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Return True when arrays and objects in `value` nest deeper than `limit`."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))
    return False


def loads_strict(data: bytes | str, source: str) -> Any:
    """Parse JSON text strictly; every failure names `source` and the position."""
    if isinstance(data, bytes):
        value = _loads_fast(data)
        if value is not _NOT_SHOWN:
            return value
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"{source}: invalid UTF-8 at byte {exc.start}",
                hint="save the file as UTF-8 JSON",
            ) from None
    else:
        text = data
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise InvalidInput(f"{source}: file is empty", hint="expected a JSON document")
    try:
        value = json.loads(text, object_pairs_hook=_reject_duplicates)
    except _DuplicateKey as exc:
        raise InvalidInput(
            f"{source}: duplicate JSON key {exc.key!r}",
            hint="remove one of them; which value would win is ambiguous",
        ) from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{source}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        value = None
        too_deep = True
    except ValueError as exc:
        if "integer string conversion" in str(exc):
            raise InvalidInput(f"{source}: an integer has more than "
                               f"{sys.get_int_max_str_digits()} digits") from None
        raise InvalidInput(f"{source}: invalid JSON: {exc}") from None
    else:
        # Fewer brackets than the limit cannot nest past it, so the walk is skipped.
        too_deep = text.count("[") + text.count("{") > MAX_DEPTH and _depth_exceeds(
            value, MAX_DEPTH
        )
    if too_deep:
        raise InvalidInput(
            f"{source}: JSON nests deeper than {MAX_DEPTH} levels",
            hint="no gonka file nests this deep; check the file",
        )
    if _LONE_SURROGATE_ESCAPE.search(text):
        _reject_lone_surrogates(value, source)
    return value


# A \uD800-\uDFFF escape. json.loads turns an unpaired one into a lone surrogate,
# which no UTF-8 text, and so no ledger record, can hold.
_LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _reject_lone_surrogates(value: Any, source: str) -> None:
    """Raise InvalidInput if a string or key contains an unpaired UTF-16 surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidInput(
                    f"{source}: string {item[:40]!r} contains an unpaired surrogate "
                    "escape (\\ud800-\\udfff)",
                    hint="write characters outside the BMP as a surrogate pair",
                ) from None


_NOT_SHOWN = object()


def _loads_fast(data: bytes) -> Any:
    """Parse with orjson when that gives what the strict parser would; else _NOT_SHOWN.

    `inferctl apply` parses every line of a batch and `genesis import` a whole
    genesis, and orjson is several times faster than the json module with the
    strict parser's hooks. orjson fails on everything the strict parser rejects
    and on what it handles with care (a BOM, NaN, lone surrogates). Three cases
    remain, and each goes to the strict parser:

    * duplicate keys, of which orjson keeps the last: each object member has one
      colon, so the value written back has fewer colons;
    * integers past 64 bits, which orjson turns into floats: a float is written
      back with a "." or an "e" that the integer did not have;
    * nesting past MAX_DEPTH.

    Written back, a string keeps each ":", "." and "e" it had, unless the text
    escaped one as \\u00XX, so such text goes the slow way too.
    """
    if any(escape in data for escape in _HIDDEN_MARKS):
        return _NOT_SHOWN
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return _NOT_SHOWN
    # Fewer brackets than the limit cannot nest past it, so the walk is skipped.
    if (data.count(b"[") + data.count(b"{") > MAX_DEPTH
            and _depth_exceeds(value, MAX_DEPTH)):
        return _NOT_SHOWN
    try:
        written = orjson.dumps(value)
    except TypeError:  # orjson writes less deeply nested values than it reads
        return _NOT_SHOWN
    if any(written.count(mark) != data.count(mark) for mark in (b":", b".", b"e")):
        return _NOT_SHOWN
    return value


# Escapes that would hide one of the characters that _loads_fast counts.
_HIDDEN_MARKS = (b"\\u003a", b"\\u003A", b"\\u002e", b"\\u002E", b"\\u0065")


def read_bytes(path: str, *, what: str = "file", limit: int = MAX_INPUT_BYTES) -> bytes:
    """Read a user-supplied file with a size limit and one clear error per failure."""
    if path == "-":
        import sys

        data = sys.stdin.buffer.read(limit + 1)
        if len(data) > limit:
            raise InvalidInput(f"standard input is larger than {limit} bytes")
        return data
    try:
        if os.path.isdir(path):
            raise InvalidInput(f"{path}: is a directory, expected a {what}")
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise NotFound(f"{path}: no such {what}", hint="check the path") from None
    except PermissionError:
        raise StorageError(f"{path}: permission denied reading {what}") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path}: is a directory, expected a {what}") from None
    except OSError as exc:
        raise StorageError(f"{path}: cannot read {what}: {exc.strerror}") from None
    if len(data) > limit:
        raise InvalidInput(
            f"{path}: {what} is larger than {limit // (1024 * 1024)} MiB",
            hint="inferctl reads input files of at most this size",
        )
    return data


def load_file(path: str, *, what: str = "JSON file") -> Any:
    """Read and strictly parse a JSON file."""
    return loads_strict(read_bytes(path, what=what), path)
