"""Participant registration: MsgSubmitNewParticipant and its unfunded variant.

Both messages get the chain's stateless checks (`ValidateBasic`) and then create a
fresh participant record. Like the chain, the handlers overwrite an existing
participant with the same address (weight, status and epoch stats start over). The
command line rejects that unless `--replace` is given; see `inferctl participant
join`.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from typing import Any

from inferctl.errors import Conflict, InvalidInput
from inferctl.txs import State, TxContext

NEW_PARTICIPANT = "/inference.inference.MsgSubmitNewParticipant"
NEW_UNFUNDED_PARTICIPANT = "/inference.inference.MsgSubmitNewUnfundedParticipant"

NEW_PARTICIPANT_KEYS = ("creator", "url", "validator_key", "worker_key")
UNFUNDED_KEYS = ("creator", "address", "url", "pub_key", "validator_key", "worker_key")

ED25519_KEY_BYTES = 32
SECP256K1_COMPRESSED_BYTES = 33
NANOS_PER_MILLI = 1_000_000


# ----- helpers shared with the node handlers -------------------------------------


@lru_cache(maxsize=65536)
def _decoded_address(address: str, prefix: str) -> bytes:
    from inferctl.bech32 import check_account_address

    return check_account_address(address, prefix, what="address")


def check_address(address: Any, prefix: str, what: str) -> bytes:
    """Check a bech32 account address with `prefix` and return its bytes.

    Valid addresses are cached, because a batch names the same few addresses
    thousands of times and the checksum is computed in Python.
    """
    if not isinstance(address, str):
        raise InvalidInput(
            f"{what}: invalid address {address!r}: expected a bech32 string"
        )
    try:
        return _decoded_address(address, prefix)
    except InvalidInput as exc:
        raise InvalidInput(f"{what}: {exc.message}", hint=exc.hint) from None


def check_body_keys(
    body: dict[str, Any], allowed: tuple[str, ...], required: tuple[str, ...], what: str
) -> None:
    """Reject keys of `body` outside `allowed` and missing keys of `required`."""
    for key in body:
        if key not in allowed:
            raise InvalidInput(
                f"{what}: unknown key {key!r}",
                hint=f"the body has only {', '.join(allowed)}",
            )
    for key in required:
        if key not in body:
            raise InvalidInput(f"{what}: missing key {key!r}")


def chain_height(state: State, ctx: TxContext) -> int:
    """Return the block height a transaction lands at.

    That is the simulated chain's block height once it has moved past genesis, else
    the ledger height of the record.
    """
    block_height = state.get("block_height", 0)
    if isinstance(block_height, int) and block_height > 0:
        return block_height
    return ctx.height


# ----- stateless checks ----------------------------------------------------------


def check_url(url: Any, what: str = "url") -> None:
    """Check an optional URL: blank, or http/https with a non-empty host."""
    from urllib.parse import urlsplit

    if not isinstance(url, str):
        raise InvalidInput(f"invalid {what} {url!r}: expected a string")
    if not url.strip():
        return
    if any(char.isspace() or ord(char) < 32 for char in url):
        raise InvalidInput(f"invalid {what} {url!r}: a URL contains no spaces or "
                           "control characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError for a port that is not 0-65535)
    except ValueError as exc:
        raise InvalidInput(f"invalid {what} {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidInput(
            f"invalid {what} {url!r}: the scheme must be http or https",
            hint="write e.g. http://node1.example.com:8000",
        )
    if not host:
        raise InvalidInput(
            f"invalid {what} {url!r}: the host is empty",
            hint="write e.g. http://node1.example.com:8000",
        )


def _decode_base64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            f"invalid {what} {text!r}: not standard base64",
            hint="pass the key as standard base64 with padding",
        ) from None


def check_ed25519_key(key: Any, what: str) -> None:
    """Check an optional key: blank, or base64 of exactly 32 bytes (ED25519)."""
    if not isinstance(key, str):
        raise InvalidInput(f"invalid {what} {key!r}: expected a base64 string")
    if not key.strip():
        return
    raw = _decode_base64(key, what)
    if len(raw) != ED25519_KEY_BYTES:
        raise InvalidInput(
            f"invalid {what} {key!r}: decodes to {len(raw)} bytes; an ED25519 public "
            f"key is {ED25519_KEY_BYTES} bytes",
            hint="pass the base64 of the 32-byte public key",
        )


def check_secp256k1_key(key: Any, what: str = "pub_key") -> None:
    """Check a required compressed secp256k1 public key: 33 bytes, first 0x02/0x03."""
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput(
            f"invalid {what} {key!r}: a public key is required",
            hint="pass the base64 of the 33-byte compressed key",
        )
    raw = _decode_base64(key, what)
    if len(raw) != SECP256K1_COMPRESSED_BYTES:
        raise InvalidInput(
            f"invalid {what} {key!r}: decodes to {len(raw)} bytes; a compressed "
            f"secp256k1 public key is {SECP256K1_COMPRESSED_BYTES} bytes"
        )
    if raw[0] not in (2, 3):
        raise InvalidInput(
            f"invalid {what} {key!r}: first byte is 0x{raw[0]:02x}; a compressed "
            "secp256k1 public key starts with 0x02 or 0x03"
        )


def check_new_participant(body: dict[str, Any], prefix: str) -> dict[str, str]:
    """Check a MsgSubmitNewParticipant body (stateless) and return its fields."""
    what = "MsgSubmitNewParticipant"
    check_body_keys(body, NEW_PARTICIPANT_KEYS, ("creator",), what)
    fields = {key: body.get(key, "") for key in NEW_PARTICIPANT_KEYS}
    check_address(fields["creator"], prefix, "creator")
    check_url(fields["url"])
    check_ed25519_key(fields["validator_key"], "validator_key")
    check_ed25519_key(fields["worker_key"], "worker_key")
    return fields


def check_unfunded_participant(body: dict[str, Any], prefix: str) -> dict[str, str]:
    """Check a MsgSubmitNewUnfundedParticipant body (stateless) and return its fields."""
    what = "MsgSubmitNewUnfundedParticipant"
    check_body_keys(body, UNFUNDED_KEYS, ("creator", "address", "pub_key"), what)
    fields = {key: body.get(key, "") for key in UNFUNDED_KEYS}
    check_address(fields["creator"], prefix, "creator")
    check_address(fields["address"], prefix, "address")
    check_url(fields["url"])
    check_secp256k1_key(fields["pub_key"])
    check_ed25519_key(fields["validator_key"], "validator_key")
    check_ed25519_key(fields["worker_key"], "worker_key")
    return fields


# ----- records and handlers ------------------------------------------------------


def new_record(
    address: str,
    url: str,
    validator_key: str,
    worker_key: str,
    state: State,
    ctx: TxContext,
) -> dict[str, Any]:
    """Return the participant record the chain creates for a registration."""
    from inferctl.genesis.protojson import defaults

    record = defaults("Participant")
    record.update(
        {
            "index": address,
            "address": address,
            "weight": -1,
            "join_time": ctx.time_ns // NANOS_PER_MILLI,
            "join_height": chain_height(state, ctx),
            "last_inference_time": 0,
            "inference_url": url,
            "status": "ACTIVE",
            "validator_key": validator_key,
            "worker_public_key": worker_key,
            "current_epoch_stats": defaults("CurrentEpochStats"),
        }
    )
    return record


def _store(state: State, record: dict[str, Any], ctx: TxContext) -> dict[str, Any]:
    address = record["index"]
    if address in state["participants"]:
        ctx.notes.append(
            f"replaced participant {address}: weight, status and epoch stats start over"
        )
    else:
        ctx.notes.append(f"participant {address} joined")
    # Top-level maps are not kept in key order: re-sorting them on every insert made
    # a batch of joins in random order quadratic. Readers that need an order sort.
    state["participants"][address] = record
    return record


def apply_new_participant(
    state: State, body: dict[str, Any], ctx: TxContext
) -> dict[str, Any]:
    """Create (or overwrite) the participant of MsgSubmitNewParticipant's creator."""
    fields = check_new_participant(body, state["prefix"])
    record = new_record(
        fields["creator"],
        fields["url"],
        fields["validator_key"],
        fields["worker_key"],
        state,
        ctx,
    )
    return _store(state, record, ctx)


def apply_new_unfunded_participant(
    state: State, body: dict[str, Any], ctx: TxContext
) -> dict[str, Any]:
    """Create the participant of MsgSubmitNewUnfundedParticipant's `address`.

    The chain rejects the message when an account exists for the address. The
    ledger tracks no accounts, so an existing participant record stands for one.
    """
    fields = check_unfunded_participant(body, state["prefix"])
    address = fields["address"]
    if address in state["participants"]:
        raise Conflict(
            f"an account already exists for {address}",
            hint="an unfunded registration only creates new accounts",
        )
    record = new_record(
        address,
        fields["url"],
        fields["validator_key"],
        fields["worker_key"],
        state,
        ctx,
    )
    return _store(state, record, ctx)


# ----- reads ---------------------------------------------------------------------


def sorted_participants(state: State) -> list[dict[str, Any]]:
    """Return participant records in the chain's order: by address bytes."""
    from inferctl.bech32 import decode

    def key(record: dict[str, Any]) -> tuple[bytes, str]:
        try:
            return decode(record["index"])[1], record["index"]
        except InvalidInput:
            return b"", record["index"]

    return sorted(state.get("participants", {}).values(), key=key)


def participant_models(state: State, address: str) -> list[str]:
    """Return the sorted, unique model ids that the participant's chain nodes list."""
    nodes = state.get("hardware", {}).get(address, {})
    return sorted(
        {model for entry in nodes.values() for model in entry["chain"]["models"]}
    )


def message_from_signed_tx(document: Any, source: str) -> dict[str, Any]:
    """Return the MsgSubmitNewParticipant body of a signed genparticipant tx.

    The `@type` key is dropped, so the result is a ledger body.
    """
    body = document.get("body") if isinstance(document, dict) else None
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list):
        raise InvalidInput(
            f"{source}: no body.messages list",
            hint="pass a genparticipant-<node id>.json file from gentx",
        )
    for message in messages:
        if isinstance(message, dict) and message.get("@type") == NEW_PARTICIPANT:
            return {key: value for key, value in message.items() if key != "@type"}
    raise InvalidInput(
        f"{source}: body.messages has no {NEW_PARTICIPANT}",
        hint="pass a genparticipant-<node id>.json file from gentx",
    )


def check_not_joined(state: dict[str, Any], creator: Any, replace: bool) -> None:
    """Reject a join for an existing participant unless `replace` is set.

    The chain overwrites an existing participant silently, resetting its weight,
    status and stats. inferctl requires `replace` (the CLI's --replace) instead.
    """
    if replace or creator not in state.get("participants", {}):
        return
    from inferctl.errors import Conflict

    raise Conflict(
        f"participant {creator} already exists",
        hint="pass --replace to overwrite it (weight, status and stats start over)",
    )
