"""Recognise which inferctl input a JSON file is, to explain a file given to the
wrong command.

Only the error path uses this. When a command rejects a file, `expect_kind` checks
whether the file is recognisably another kind of input. If it is, the list of
problems becomes one line that names the command that reads such a file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from inferctl.errors import InvalidInput

GENESIS = "a genesis file"
NODE_CONFIG = "a node-config file"
GENTX = "a signed gentx file"
GENPARTICIPANT = "a signed genparticipant file"
SIGNED_TX = "a signed transaction file"
OVERRIDES = "a genesis override file"
TX_LINE = "an `inferctl apply` transaction"
RECORD = "a ledger record"

# Hint for each kind of file: the command that reads it.
HINTS = {
    GENESIS: "pass it to `inferctl genesis import FILE` or "
             "`inferctl genesis validate FILE`",
    NODE_CONFIG: "pass it to `inferctl node register --participant ADDR --file FILE`",
    GENTX: "put it in the --gentx-dir of `inferctl genesis collect`",
    GENPARTICIPANT: "pass it to `inferctl participant join --genparticipant FILE`, "
                    "or put it in the --genparticipant-dir of `inferctl genesis collect`",
    SIGNED_TX: "signed files go to `inferctl genesis collect`",
    OVERRIDES: "pass it to `inferctl genesis patch --overrides FILE`",
    TX_LINE: "pass it to `inferctl apply FILE`",
    RECORD: "inferctl writes records itself; read them with `inferctl ledger show HEIGHT`",
}

NODE_KEYS = {"id", "host", "inference_port", "poc_port"}
SIGNED_TX_KEYS = {"body", "auth_info", "signatures"}
RECORD_KEYS = {"height", "time", "type", "body", "prev_hash", "hash"}


def classify(value: Any) -> str | None:
    """Return the kind of a parsed JSON document, or None when it is not recognised."""
    if isinstance(value, list):
        if value and all(_is_node_entry(item) for item in value):
            return NODE_CONFIG
        return None
    if not isinstance(value, dict):
        return None
    keys = set(value)
    if "app_state" in keys:
        return GENESIS if "chain_id" in keys else OVERRIDES
    if keys >= SIGNED_TX_KEYS:
        return _signed_tx_kind(value)
    if keys >= RECORD_KEYS:
        return RECORD
    if keys == {"type", "body"}:
        return TX_LINE
    if _is_node_entry(value):
        return NODE_CONFIG
    return None


def _is_node_entry(value: Any) -> bool:
    return isinstance(value, dict) and len(NODE_KEYS & set(value)) >= 3


def _signed_tx_kind(value: dict[str, Any]) -> str:
    body = value.get("body")
    messages = body.get("messages") if isinstance(body, dict) else None
    first = messages[0] if isinstance(messages, list) and messages else None
    message_type = first.get("@type", "") if isinstance(first, dict) else ""
    if message_type.endswith("MsgCreateValidator"):
        return GENTX
    if message_type.endswith("MsgSubmitNewParticipant"):
        return GENPARTICIPANT
    return SIGNED_TX


def kind_of_bytes(data: bytes) -> str | None:
    """Return the kind of a JSON file's bytes, or None when unparsable or unknown."""
    import orjson

    try:
        value = orjson.loads(data)
    except (orjson.JSONDecodeError, RecursionError):
        return None
    return classify(value)


@contextmanager
def expect_kind(data: bytes, source: str, expected: str) -> Iterator[None]:
    """Replace an InvalidInput raised inside by "FILE is X, not Y" when FILE is a
    recognisable input of another command."""
    try:
        yield
    except InvalidInput as exc:
        found = kind_of_bytes(data)
        if found is None or found == expected:
            raise
        raise InvalidInput(
            f"{source} is {found}, not {expected}",
            hint=HINTS[found],
        ) from exc
