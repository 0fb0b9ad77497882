"""Decode and encode Cosmos proto JSON for the messages in `schema`.

Internal form, as `decode` returns it and `encode` takes it: a dict per message with
every known field present (a missing field gets its proto default), in field order,
followed by any unknown keys exactly as parsed. Integers of every width are Python
ints, enums are their NAME strings, bytes stay as their base64 text, unset messages
are None and repeated fields are lists. A Decimal is {"value": int, "exponent": int}.

`decode` accepts every form that the chain's JSON parser accepts and that real files
use: integers as JSON numbers or decimal strings, enums as numbers or names, field
names in snake_case or lowerCamelCase. It never raises on bad data. Instead it
appends one problem per fault to `problems`, in the form "PATH = VALUE: RULE", and
puts the field's default in the result so that decoding can go on.

`encode` writes what the chain's own export writes: keys in field order, defaults
included, 64-bit integers as strings, 32-bit integers as numbers, enum names. The
one exception is fields marked `added_later` in the schema: those are written only
when set, because the mainnet-era chain rejects JSON keys that it does not know.
"""

from __future__ import annotations

import json
import re
from typing import Any

from inferctl.genesis import schema
from inferctl.genesis.schema import Field

_DECIMAL_INTEGER = re.compile(r"-?[0-9]+")
_BASE64_STANDARD = re.compile(r"[A-Za-z0-9+/]*")
_BASE64_URL = re.compile(r"[A-Za-z0-9_-]*")
_MAX_INTEGER_DIGITS = 20  # 2**64 has 20 digits; longer strings are out of range
_MAX_SHOWN = 80

_SCALAR_DEFAULTS: dict[str, Any] = {
    schema.STRING: "",
    schema.BOOL: False,
    schema.BYTES: "",
    schema.INT32: 0,
    schema.UINT32: 0,
    schema.INT64: 0,
    schema.UINT64: 0,
}


def show(value: Any) -> str:
    """Render a JSON value for an error message, shortened to about 80 characters."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 3] + "..."
    return text


def problem(path: str, value: Any, rule: str) -> str:
    """Format one problem as "PATH = VALUE: RULE"."""
    return f"{path} = {show(value)}: {rule}"


def default_value(item: Field) -> Any:
    """Return the proto default of a field in internal form."""
    if item.repeated:
        return []
    if item.kind in (schema.MESSAGE, schema.RAW):
        return None
    if item.kind == schema.ENUM:
        return schema.ENUM_NAMES[item.target or ""][0]
    return _SCALAR_DEFAULTS[item.kind]


def defaults(message_name: str) -> dict[str, Any]:
    """Return a message in internal form with every field at its proto default."""
    return {item.name: default_value(item) for item in schema.MESSAGES[message_name]}


# --- decode -------------------------------------------------------------------


def decode(message_name: str, value: Any, path: str, problems: list[str]) -> Any:
    """Decode proto JSON `value` of message `message_name` into internal form.

    Returns None for a JSON null, and also for a value that is not an object, after
    appending a problem.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.append(problem(path, value, f"{message_name} must be a JSON object"))
        return None
    known = schema.fields_by_key(message_name)
    result = defaults(message_name)
    unknown: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for key, item_value in value.items():
        item = known.get(key)
        if item is None:
            unknown[key] = item_value
            continue
        item_path = _join(path, item.name)
        if item.name in seen:
            problems.append(
                problem(
                    item_path, item_value, f"field also given as {seen[item.name]!r}"
                )
            )
            continue
        seen[item.name] = key
        result[item.name] = _decode_field(item, item_value, item_path, problems)
    result.update(unknown)
    return result


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _decode_field(item: Field, value: Any, path: str, problems: list[str]) -> Any:
    if not item.repeated:
        return _decode_single(item, value, path, problems)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(problem(path, value, "repeated field must be a JSON array"))
        return []
    return [
        _decode_single(item, element, f"{path}[{index}]", problems)
        for index, element in enumerate(value)
    ]


def _decode_single(item: Field, value: Any, path: str, problems: list[str]) -> Any:
    kind = item.kind
    if kind == schema.MESSAGE:
        return decode(item.target or "", value, path, problems)
    if kind == schema.RAW:
        return value
    if value is None:
        return default_value(item)
    if kind in schema.INTEGER_KINDS:
        return decode_integer(kind, value, path, problems)
    if kind == schema.ENUM:
        return _decode_enum(item.target or "", value, path, problems)
    if kind == schema.STRING:
        return _decode_string(value, path, problems)
    if kind == schema.BOOL:
        return _decode_bool(value, path, problems)
    return _decode_bytes(value, path, problems)


def decode_integer(kind: str, value: Any, path: str, problems: list[str]) -> int:
    """Decode an int32, uint32, int64 or uint64, or append a problem and return 0."""
    number = _parse_integer(kind, value, path, problems)
    if number is None:
        return 0
    low, high = schema.INTEGER_RANGES[kind]
    if number < low or number > high:
        problems.append(
            problem(path, value, f"out of range for {kind} ({low} to {high})")
        )
        return 0
    return number


def _parse_integer(kind: str, value: Any, path: str, problems: list[str]) -> int | None:
    expected = f"{kind} takes a whole number, as a JSON integer or a decimal string"
    if isinstance(value, bool):
        problems.append(
            problem(path, value, f"a boolean is not an integer; {expected}")
        )
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        problems.append(problem(path, value, f"not an integer; {expected}"))
        return None
    if not isinstance(value, str):
        problems.append(problem(path, value, f"wrong JSON type; {expected}"))
        return None
    return _parse_integer_text(kind, value, path, problems)


def _parse_integer_text(
    kind: str, text: str, path: str, problems: list[str]
) -> int | None:
    if not _DECIMAL_INTEGER.fullmatch(text):
        problems.append(
            problem(
                path,
                text,
                f"not a decimal integer; {kind} takes digits, "
                "with an optional leading '-' for signed types",
            )
        )
        return None
    if text.startswith("-") and kind in (schema.UINT32, schema.UINT64):
        problems.append(
            problem(path, text, f"negative value in unsigned field ({kind})")
        )
        return None
    if len(text.lstrip("-").lstrip("0")) > _MAX_INTEGER_DIGITS:
        low, high = schema.INTEGER_RANGES[kind]
        problems.append(
            problem(path, text, f"out of range for {kind} ({low} to {high})")
        )
        return None
    return int(text)


def _decode_enum(enum_name: str, value: Any, path: str, problems: list[str]) -> str:
    names = schema.ENUM_NAMES[enum_name]
    numbers = schema.ENUMS[enum_name]
    valid = ", ".join(f"{number} {name}" for number, name in names.items())
    if isinstance(value, int) and not isinstance(value, bool):
        if value in names:
            return names[value]
        problems.append(
            problem(path, value, f"unknown {enum_name} number; valid: {valid}")
        )
    elif isinstance(value, str):
        if value in numbers:
            return value
        problems.append(
            problem(path, value, f"unknown {enum_name} name; valid: {valid}")
        )
    else:
        problems.append(
            problem(
                path, value, f"{enum_name} must be a name or a number; valid: {valid}"
            )
        )
    return names[0]


def _decode_string(value: Any, path: str, problems: list[str]) -> str:
    if isinstance(value, str):
        return value
    problems.append(problem(path, value, "must be a JSON string"))
    return ""


def _decode_bool(value: Any, path: str, problems: list[str]) -> bool:
    if isinstance(value, bool):
        return value
    problems.append(problem(path, value, "must be true or false"))
    return False


def _decode_bytes(value: Any, path: str, problems: list[str]) -> str:
    if isinstance(value, str) and is_base64(value):
        return value
    problems.append(problem(path, value, "bytes must be a base64 string"))
    return ""


def is_base64(text: str) -> bool:
    """Check that `text` is standard or URL-safe base64, padded or not."""
    stripped = text.rstrip("=")
    padding = len(text) - len(stripped)
    if padding > 2 or len(stripped) % 4 == 1:
        return False
    if padding and len(text) % 4:
        return False
    return bool(_BASE64_STANDARD.fullmatch(stripped) or _BASE64_URL.fullmatch(stripped))


# --- encode -------------------------------------------------------------------


def encode(message_name: str, internal: dict[str, Any] | None) -> dict[str, Any] | None:
    """Encode a message from internal form into Cosmos proto JSON (an ordered dict).

    Fields missing from `internal` are written with their default. Keys that the
    schema does not know are written last, unchanged.
    """
    if internal is None:
        return None
    output: dict[str, Any] = {}
    for item in schema.MESSAGES[message_name]:
        value = internal.get(item.name)
        if value is None and (
            item.repeated or item.kind not in (schema.MESSAGE, schema.RAW)
        ):
            value = default_value(item)
        if item.added_later and _is_default(item, value):
            continue
        output[item.name] = _encode_field(item, value)
    known = schema.fields_by_key(message_name)
    for key, value in internal.items():
        if key not in known:
            output[key] = value
    return output


def _is_default(item: Field, value: Any) -> bool:
    return value is None or value == default_value(item) or value == []


def _encode_field(item: Field, value: Any) -> Any:
    if item.repeated:
        return [_encode_single(item, element) for element in value]
    return _encode_single(item, value)


def _encode_single(item: Field, value: Any) -> Any:
    kind = item.kind
    if kind == schema.MESSAGE:
        return encode(item.target or "", value)
    if kind in schema.SIXTY_FOUR_BIT_KINDS:
        return str(int(value))
    if kind in (schema.INT32, schema.UINT32):
        return int(value)
    if kind == schema.ENUM and isinstance(value, int):
        return schema.ENUM_NAMES[item.target or ""][value]
    return value
