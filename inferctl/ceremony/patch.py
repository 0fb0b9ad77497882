"""Merge JSON override files into a genesis, and check its Cosmos integer strings.

`merge_overrides` merges like `jq '. * input'`, the command gonka's genesis scripts
use: objects are merged key by key, and arrays and scalars on the right replace
the left. With `array_key`, arrays of objects are merged element by element on
that key instead of being replaced.

Numbers never pass through floats. `loads_exact` keeps integers as Python ints of
any size and non-integer numbers as their exact source text (`JsonNumber`), and
`dumps_exact` writes both back unchanged.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from inferctl.errors import InvalidInput

_INT64_MIN = -(1 << 63)
_UINT64_MAX = (1 << 64) - 1
COSMOS_INT_MAX_BITS = 256
# Every Coin list in the distribution module's genesis is a DecCoin list, whose
# amounts are decimals ("120000000000000000.000000000000000000"), not integers.
DEC_COIN_SUBTREE = "app_state.distribution"


# --- exact JSON -------------------------------------------------------------------


class JsonNumber:
    """A non-integer JSON number, kept as the exact text of the source document."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsonNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"JsonNumber({self.text!r})"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads_exact(data: bytes, source: str) -> Any:
    """Parse JSON strictly, keeping every number exact.

    The strict checks of `inferctl.jsonio.loads_strict` apply (UTF-8, duplicate keys,
    nesting depth). NaN and Infinity are rejected. Errors name `source`.
    """
    from inferctl.jsonio import loads_strict

    loads_strict(data, source)
    text = data.decode("utf-8").removeprefix("\ufeff")
    try:
        return json.loads(text, parse_float=JsonNumber, parse_constant=_reject_constant)
    except ValueError as exc:
        raise InvalidInput(
            f"{source}: invalid JSON: {exc}",
            hint="write numbers as plain JSON numbers or strings",
        ) from None


def _fragment_default(value: Any) -> Any:
    import orjson

    if isinstance(value, JsonNumber):
        return orjson.Fragment(value.text)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _with_big_ints_as_fragments(value: Any) -> Any:
    """Return `value` with integers outside the 64-bit range as raw JSON text."""
    import orjson

    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not _INT64_MIN <= value <= _UINT64_MAX:
        return orjson.Fragment(str(value))
    if isinstance(value, dict):
        return {key: _with_big_ints_as_fragments(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_big_ints_as_fragments(item) for item in value]
    return value


def _orjson_dumps(value: Any, option: int) -> bytes:
    import orjson

    try:
        return orjson.dumps(value, default=_fragment_default, option=option)
    except orjson.JSONEncodeError as exc:
        if "64-bit" not in str(exc):
            raise
    return orjson.dumps(
        _with_big_ints_as_fragments(value), default=_fragment_default, option=option
    )


def dumps_exact(value: Any) -> bytes:
    """Write JSON with 2-space indent, UTF-8 and a final newline, numbers unchanged.

    The layout is that of `inferctl.genesis.codec.dump_json` and of the gonka
    mainnet genesis file.
    """
    import orjson

    return _orjson_dumps(value, orjson.OPT_INDENT_2) + b"\n"


def canonical_exact_bytes(value: Any) -> bytes:
    """Return the canonical encoding of a parsed document, which `--canonical` hashes.

    Object keys are sorted by code point, there is no whitespace, and strings are
    UTF-8 with only the escapes JSON requires, as in `inferctl.canonical`. Integers
    of any size are written in full. A non-integer number is written as its source
    text, so 1.5 and 1.50 give different bytes.
    """
    import orjson

    return _orjson_dumps(value, orjson.OPT_SORT_KEYS)


# --- digests ---------------------------------------------------------------------


def file_sha256(data: bytes) -> str:
    """Return the SHA-256 hex digest of the file bytes, as a ceremony publishes it."""
    return hashlib.sha256(data).hexdigest()


def canonical_sha256(data: bytes, source: str) -> str:
    """Return the SHA-256 hex digest of the canonical form of a JSON document."""
    return hashlib.sha256(canonical_exact_bytes(loads_exact(data, source))).hexdigest()


# --- merge ---------------------------------------------------------------------------


@dataclass
class MergeReport:
    """The JSON paths an override changed, in the order they were applied."""

    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)


def merge_overrides(
    base: Any, override: Any, *, array_key: str | None = None, source: str = "override"
) -> tuple[Any, MergeReport]:
    """Merge `override` into `base` like jq's `*` and return (result, report).

    Both must be JSON objects. Objects merge key by key: keys of `base` keep their
    position and new keys are appended. Any other value in `override` replaces the
    one in `base`. With `array_key`, two arrays whose elements are all objects that
    contain `array_key` are merged element by element: an override element merges
    into the base element with the same key value, and the others are appended.
    Neither input is modified.
    """
    if not isinstance(override, dict):
        raise InvalidInput(
            f"{source}: an override file must be a JSON object, got "
            f"{_kind(override)}",
            hint='write it like {"app_state": {...}}',
        )
    if not isinstance(base, dict):
        raise InvalidInput(f"genesis: must be a JSON object, got {_kind(base)}")
    report = MergeReport()
    merged = _merge_objects(base, override, "", array_key, source, report)
    return merged, report


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _merge_value(
    base: Any, override: Any, path: str, array_key: str | None, source: str,
    report: MergeReport,
) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        return _merge_objects(base, override, path, array_key, source, report)
    keyed = array_key is not None and _keyed_array(base, array_key)
    if keyed and array_key is not None and _keyed_array(override, array_key):
        return _merge_arrays(base, override, path, array_key, source, report)
    if base != override or type(base) is not type(override):
        report.changed.append(path)
    return override


def _merge_objects(
    base: dict, override: dict, path: str, array_key: str | None, source: str,
    report: MergeReport,
) -> dict:
    merged = dict(base)
    for key, value in override.items():
        where = _join(path, key)
        if key in merged:
            merged[key] = _merge_value(merged[key], value, where, array_key, source,
                                       report)
        else:
            merged[key] = value
            report.added.append(where)
    return merged


def _keyed_array(value: Any, key: str) -> bool:
    return isinstance(value, list) and all(
        isinstance(item, dict) and key in item for item in value
    )


def _merge_arrays(
    base: list, override: list, path: str, key: str, source: str, report: MergeReport
) -> list:
    positions = _positions_by_key(base, key, path, "genesis")
    _positions_by_key(override, key, path, source)
    merged = list(base)
    for item in override:
        marker = _key_text(item[key])
        where = f"{path}[{key}={marker}]"
        if marker in positions:
            index = positions[marker]
            merged[index] = _merge_objects(merged[index], item, where, key, source,
                                           report)
        else:
            positions[marker] = len(merged)
            merged.append(item)
            report.added.append(where)
    return merged


def _key_text(value: Any) -> str:
    """Return the canonical JSON text of a merge key, so 1, "1" and 1.0 differ."""
    return canonical_exact_bytes(value).decode("utf-8")


def _positions_by_key(items: list, key: str, path: str, source: str) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, item in enumerate(items):
        marker = _key_text(item[key])
        if marker in positions:
            raise InvalidInput(
                f"{source}: {path}[{index}] and {path}[{positions[marker]}] have the "
                f"same {key} {marker}, so --merge-arrays-by {key} cannot match them",
                hint=f"make each {key} unique in {path}, or merge without "
                "--merge-arrays-by",
            )
        positions[marker] = index
    return positions


# --- Cosmos integer strings ------------------------------------------------------


def parse_go_integer(text: str) -> int:
    """Parse `text` as Go's `new(big.Int).SetString(text, 0)` does; raise ValueError.

    This is the parser behind Cosmos `math.Int` JSON values, Coin amounts included.
    An optional sign is followed by an optional base prefix: 0b or 0B for binary,
    0o, 0O or a bare leading 0 for octal, 0x or 0X for hexadecimal, else decimal.
    An underscore may stand between two digits or between the prefix and the first
    digit, nowhere else, so "25_000_000" and "0x_ff" parse but "_1", "1_", "1__0"
    and "0x" do not. Nothing else may follow the digits.
    """
    rest = text[1:] if text[:1] in ("+", "-") else text
    negative = text[:1] == "-"
    if not rest:
        raise ValueError("no digits")
    base, start = _base_prefix(rest)
    value = _scan_digits(rest, base, start)
    return -value if negative else value


def _base_prefix(digits: str) -> tuple[int, int]:
    """Return (base, index of the first digit) of an unsigned Go integer literal."""
    if digits[0] != "0" or len(digits) == 1:
        return 10, 0
    prefix = digits[1]
    bases = {"b": 2, "B": 2, "o": 8, "O": 8, "x": 16, "X": 16}
    if prefix in bases:
        return bases[prefix], 2
    return 8, 1


def _digit_value(char: str) -> int | None:
    if "0" <= char <= "9":
        return ord(char) - ord("0")
    if "a" <= char <= "z":
        return ord(char) - ord("a") + 10
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    return None


def _scan_digits(digits: str, base: int, start: int) -> int:
    # A leading 0 counts as a digit before a separator: "0x_1" and "0_7" are valid.
    previous = "digit" if digits[0] == "0" else "start"
    value = 0
    count = 0
    misplaced_separator = False
    for char in digits[start:]:
        if char == "_":
            misplaced_separator = misplaced_separator or previous != "digit"
            previous = "separator"
            continue
        digit = _digit_value(char)
        if digit is None or digit >= base:
            raise ValueError(f"{char!r} is not a base-{base} digit")
        value = value * base + digit
        count += 1
        previous = "digit"
    if misplaced_separator or previous == "separator":
        raise ValueError("'_' must separate successive digits")
    if count == 0 and start == 2:
        raise ValueError("no digits after the base prefix")
    return value


def check_cosmos_int(value: Any) -> str | None:
    """Return why `value` is not a valid Cosmos `math.Int` JSON value, or None.

    The value must be a JSON string that `parse_go_integer` accepts, of at most
    256 bits in absolute value (the range of `math.Int`).
    """
    if not isinstance(value, str):
        return f"expected a string, got {_kind(value)}"
    try:
        number = parse_go_integer(value)
    except ValueError as exc:
        return f"not an integer as Cosmos parses it ({exc})"
    if abs(number).bit_length() > COSMOS_INT_MAX_BITS:
        return f"larger than the {COSMOS_INT_MAX_BITS} bits of a Cosmos math.Int"
    return None


def check_integer_strings(doc: Any) -> list[str]:
    """Check the Cosmos integer strings of a genesis and return one line per fault.

    Checked: the amount of every Coin ({"denom", "amount"}) anywhere in the document
    except under app_state.distribution, whose coins are DecCoins with decimal
    amounts, and `min_self_delegation` of every MsgCreateValidator in gen_txs. An
    amount must satisfy `check_cosmos_int` and must not be negative, as Cosmos
    Coin validation requires. Underscores are accepted where Go's base-0 integer
    parsing accepts them ("25_000_000"). Each line reads `path = value: reason`.
    """
    problems: list[str] = []
    stack: list[tuple[str, Any]] = [("", doc)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            _check_coin(path, value, problems)
            _check_min_self_delegation(path, value, problems)
            members = [(_join(path, key), item) for key, item in value.items()]
            stack.extend(reversed(members))
        elif isinstance(value, list):
            items = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
            stack.extend(reversed(items))
    return problems


def _is_coin(value: dict) -> bool:
    return set(value) == {"denom", "amount"} and isinstance(value["denom"], str)


def _check_coin(path: str, value: dict, problems: list[str]) -> None:
    if not _is_coin(value) or _under(path, DEC_COIN_SUBTREE):
        return
    amount = value["amount"]
    where = _join(path, "amount")
    reason = check_cosmos_int(amount)
    if reason is None and parse_go_integer(amount) < 0:
        reason = "a Coin amount must not be negative"
    if reason is not None:
        problems.append(f"{where} = {_shown(amount)}: {reason}")


def _check_min_self_delegation(path: str, value: dict, problems: list[str]) -> None:
    if value.get("@type") != "/cosmos.staking.v1beta1.MsgCreateValidator":
        return
    if "min_self_delegation" not in value:
        return
    amount = value["min_self_delegation"]
    reason = check_cosmos_int(amount)
    if reason is not None:
        where = _join(path, "min_self_delegation")
        problems.append(f"{where} = {_shown(amount)}: {reason}")


def _under(path: str, subtree: str) -> bool:
    return path == subtree or path.startswith(subtree + ".") or path.startswith(
        subtree + "["
    )


def _shown(value: Any) -> str:
    if isinstance(value, JsonNumber):
        return value.text
    return json.dumps(value, ensure_ascii=False)


# --- the patch command --------------------------------------------------------------


@dataclass
class PatchResult:
    """The patched genesis bytes and what each override file changed."""

    data: bytes
    reports: list[tuple[str, MergeReport]]


def patch_genesis(
    genesis: bytes, source: str, overrides: list[tuple[str, bytes]],
    *, array_key: str | None = None,
) -> PatchResult:
    """Apply override files, in order, to genesis bytes and return the new bytes.

    `overrides` contains (file name, bytes) pairs. Output layout: see `dumps_exact`.
    """
    doc = loads_exact(genesis, source)
    reports = []
    for name, data in overrides:
        override = loads_exact(data, name)
        doc, report = merge_overrides(doc, override, array_key=array_key, source=name)
        reports.append((name, report))
    return PatchResult(dumps_exact(doc), reports)
