"""Compare two genesis documents by meaning (`inferctl genesis diff`).

Two documents are equal when they differ only in what does not change the state a
chain starts from:

* key order and whitespace (both are parsed first);
* in `app_state.inference`, which is decoded through the schema, these forms are
  equal: integers written as numbers or strings, enums written as numbers or
  names, snake_case or lowerCamelCase field names, and a field that is missing,
  null or at its proto default. A missing message field and an empty message
  still differ;
* `model_list` entries are matched by `id` and `participant_list` entries by
  `address`, because the chain stores both as maps, so their order does not count.
  A list with a duplicate or empty key is compared by index instead;
* everywhere: a JSON integer and a string holding the same integer in canonical
  decimal form (`1000` and `"1000"`), since Cosmos JSON parsers accept both for
  integer fields; and two RFC 3339 strings of the same instant, whatever their
  offset or fractional digits.

Everything else is compared as written: outside `app_state.inference`, null and a
missing key differ, `1.0` and `1` differ, and lists are compared index by index.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from inferctl.errors import InvalidInput
from inferctl.genesis import protojson
from inferctl.genesis.codec import INFERENCE_PATH


class _Missing:
    """The value on the side of a difference where the path does not exist."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()

# Lists in app_state.inference that the chain keeps as maps, with their key field.
KEYED_LISTS: dict[tuple[str, ...], str] = {
    ("app_state", "inference", "model_list"): "id",
    ("app_state", "inference", "participant_list"): "address",
}
MAX_SHOWN = 200
_CANONICAL_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_@/-]+")
_JSON_INTEGER_RANGE = (-(2**63), 2**64 - 1)


@dataclass(frozen=True)
class KeyRef:
    """A keyed-list entry in a path, shown as `[id="Qwen/QwQ-32B"]`."""

    name: str
    value: str


@dataclass(frozen=True)
class Difference:
    """One JSON path whose values differ. MISSING marks an absent side."""

    path: str
    a: Any
    b: Any

    def as_json(self) -> dict[str, Any]:
        """Return {"path", "a", "b"}, leaving out the key of an absent side."""
        output: dict[str, Any] = {"path": self.path}
        if self.a is not MISSING:
            output["a"] = _json_safe(self.a)
        if self.b is not MISSING:
            output["b"] = _json_safe(self.b)
        return output


@dataclass
class DiffResult:
    """The differences, in document order, and notes for stderr."""

    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def diff_files(path_a: str, path_b: str) -> DiffResult:
    """Read two genesis files strictly and compare them."""
    from inferctl.jsonio import load_file

    doc_a = load_file(path_a, what="genesis file")
    doc_b = load_file(path_b, what="genesis file")
    return diff_documents(doc_a, doc_b, labels=(path_a, path_b))


def diff_documents(
    doc_a: Any, doc_b: Any, *, labels: tuple[str, str] = ("A", "B")
) -> DiffResult:
    """Compare two parsed genesis documents by the rules of the module docstring."""
    result = DiffResult()
    for doc, label in ((doc_a, labels[0]), (doc_b, labels[1])):
        if not isinstance(doc, dict):
            raise InvalidInput(
                f"{label}: not a genesis file: the top level is not a JSON object"
            )
    decoded_a = _decode_inference(doc_a, labels[0], result.notes)
    decoded_b = _decode_inference(doc_b, labels[1], result.notes)
    if decoded_a is not None and decoded_b is not None:
        doc_a = _with_inference(doc_a, decoded_a)
        doc_b = _with_inference(doc_b, decoded_b)
    _compare(doc_a, doc_b, (), result.differences)
    return result


def _decode_inference(doc: dict[str, Any], label: str, notes: list[str]) -> Any:
    """Return app_state.inference in internal form, or None when it cannot be."""
    app_state = doc.get("app_state")
    if not isinstance(app_state, dict) or not isinstance(
        app_state.get("inference"), dict
    ):
        return None
    problems: list[str] = []
    decoded = protojson.decode(
        "GenesisState", app_state["inference"], INFERENCE_PATH, problems
    )
    if problems:
        notes.append(
            f"{label}: {INFERENCE_PATH} does not decode ({problems[0]}); "
            "it is compared as plain JSON"
        )
        return None
    return decoded


def _with_inference(doc: dict[str, Any], decoded: Any) -> dict[str, Any]:
    copy = dict(doc)
    copy["app_state"] = dict(doc["app_state"])
    copy["app_state"]["inference"] = decoded
    return copy


# --- comparison -----------------------------------------------------------------


def _compare(a: Any, b: Any, path: tuple[Any, ...], out: list[Difference]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in _union(list(a), list(b)):
            _compare(a.get(key, MISSING), b.get(key, MISSING), (*path, key), out)
        return
    if isinstance(a, list) and isinstance(b, list):
        key_name = KEYED_LISTS.get(tuple(str(part) for part in path))
        keyed_a = _by_key(a, key_name)
        keyed_b = _by_key(b, key_name)
        if keyed_a is not None and keyed_b is not None:
            _compare_keyed(keyed_a, keyed_b, key_name or "", path, out)
            return
        for index in range(max(len(a), len(b))):
            left = a[index] if index < len(a) else MISSING
            right = b[index] if index < len(b) else MISSING
            _compare(left, right, (*path, index), out)
        return
    if not same_value(a, b):
        out.append(Difference(format_path(path), a, b))


def _compare_keyed(
    a: dict[str, Any],
    b: dict[str, Any],
    key_name: str,
    path: tuple[Any, ...],
    out: list[Difference],
) -> None:
    for key in _union(list(a), list(b)):
        entry_path = (*path, KeyRef(key_name, key))
        _compare(a.get(key, MISSING), b.get(key, MISSING), entry_path, out)


def _by_key(items: list[Any], key_name: str | None) -> dict[str, Any] | None:
    """Index list entries by their key field, or return None if a key is absent or
    repeated."""
    if key_name is None:
        return None
    keyed: dict[str, Any] = {}
    for item in items:
        key = item.get(key_name) if isinstance(item, dict) else None
        if not isinstance(key, str) or not key or key in keyed:
            return None
        keyed[key] = item
    return keyed


def _union(keys_a: list[Any], keys_b: list[Any]) -> list[Any]:
    """Return the keys of A in order, then the keys only B has, in B's order."""
    seen = set(keys_a)
    return keys_a + [key for key in keys_b if key not in seen]


def same_value(a: Any, b: Any) -> bool:
    """Compare two JSON leaves (or a leaf and a container) under the diff rules."""
    if type(a) is type(b) and a == b:
        return True
    if _is_integer(a) and isinstance(b, str):
        return _CANONICAL_INTEGER.fullmatch(b) is not None and int(b) == a
    if isinstance(a, str) and _is_integer(b):
        return _CANONICAL_INTEGER.fullmatch(a) is not None and int(a) == b
    if isinstance(a, str) and isinstance(b, str):
        return _same_instant(a, b)
    return False


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _same_instant(a: str, b: str) -> bool:
    from inferctl.timeutil import parse_rfc3339

    if a != a.strip() or b != b.strip() or not a[:1].isdigit() or not b[:1].isdigit():
        return False
    try:
        return parse_rfc3339(a) == parse_rfc3339(b)
    except InvalidInput:
        return False


# --- rendering ------------------------------------------------------------------


def format_path(path: tuple[Any, ...]) -> str:
    """Render a path as `app_state.inference.model_list[id="X"].v_ram`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, KeyRef):
            text += f"[{part.name}={json.dumps(part.value, ensure_ascii=False)}]"
        elif _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part, ensure_ascii=False)}]"
    return text or "(document)"


def render_value(value: Any) -> str:
    """Render a value as compact JSON, shortened to about MAX_SHOWN characters."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if len(text) > MAX_SHOWN:
        text = f"{text[: MAX_SHOWN - 3]}... ({len(text)} characters)"
    return text


def _json_safe(value: Any) -> Any:
    """Turn integers outside the 64-bit range into strings, for the JSON writer."""
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    low, high = _JSON_INTEGER_RANGE
    if _is_integer(value) and not low <= value <= high:
        return str(value)
    return value
