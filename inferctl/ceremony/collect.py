"""Collect signed genparticipant and gentx files into a genesis, reproducibly.

This is the coordinator's step of a gonka genesis ceremony: the chain's
`inferenced genesis patch-genesis` for genparticipant files and the Cosmos SDK's
`collect-gentxs` for gentx files. Differences from those commands, all so that the
same inputs give byte-identical output on any machine:

* join_time and last_inference_time are the genesis_time in whole seconds, not
  the wall clock of the machine that runs the command.
* New grantee accounts are numbered in address-byte order after the largest
  existing account number. patch-genesis numbers them in Go map order.
* The signer must be the participant (creator) and every granter, and a gentx
  signer must be its validator's account. patch-genesis checks the signature only.
* A genparticipant file must carry exactly one MsgSubmitNewParticipant.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from inferctl import bech32, timeutil
from inferctl.ceremony.patch import dumps_exact, loads_exact
from inferctl.errors import Conflict, InvalidInput, NotFound

SUBMIT_NEW_PARTICIPANT = "/inference.inference.MsgSubmitNewParticipant"
MSG_GRANT = "/cosmos.authz.v1beta1.MsgGrant"
GENERIC_AUTHORIZATION = "/cosmos.authz.v1beta1.GenericAuthorization"
CREATE_VALIDATOR = "/cosmos.staking.v1beta1.MsgCreateValidator"
BASE_ACCOUNT = "/cosmos.auth.v1beta1.BaseAccount"
GENPARTICIPANT_PATTERN = ("genparticipant-", ".json")
GENTX_PATTERN = ("gentx-", ".json")
PARTICIPANT_STATUS_ACTIVE = 1
GENESIS_PARTICIPANT_WEIGHT = 1
ED25519_KEY_BYTES = 32


@dataclass
class CollectResult:
    """The collected genesis bytes and what changed, for the command's summary."""

    data: bytes
    chain_id: str
    genparticipant_files: list[str] = field(default_factory=list)
    gentx_files: list[str] = field(default_factory=list)
    participants: list[str] = field(default_factory=list)
    replaced_participants: list[str] = field(default_factory=list)
    grants_added: int = 0
    grants_replaced: int = 0
    accounts: list[dict[str, str]] = field(default_factory=list)
    gentxs_added: int = 0
    gentxs_present: int = 0


@dataclass
class _Context:
    """The genesis values every file is checked against and applied with."""

    chain_id: str
    genesis_seconds: int
    prefix: str


def collect_genesis(
    genesis: bytes, source: str, genparticipant_dir: str, gentx_dir: str | None = None
) -> CollectResult:
    """Apply every genparticipant file (and gentx file) in the directories to a genesis.

    Files are read in file-name byte order and all of them are checked before any
    is applied. The first bad file raises InvalidInput (Conflict for a second gentx
    of one validator) naming it. Returns the new genesis bytes, in the layout of
    `dumps_exact`, and a summary.
    """
    doc = loads_exact(genesis, source)
    context = _genesis_context(doc, source)
    participants = [
        _read_genparticipant(path, context)
        for path in list_ceremony_files(genparticipant_dir, GENPARTICIPANT_PATTERN)
    ]
    gentxs = []
    if gentx_dir is not None:
        gentxs = [
            _read_gentx(path, context)
            for path in list_ceremony_files(gentx_dir, GENTX_PATTERN)
        ]
    result = CollectResult(data=b"", chain_id=context.chain_id)
    _apply_genparticipants(doc, participants, context, result)
    _apply_gentxs(doc, gentxs, result)
    result.data = dumps_exact(doc)
    return result


def list_ceremony_files(directory: str, pattern: tuple[str, str]) -> list[str]:
    """Return the paths of `<prefix>*<suffix>` files in `directory`, by name bytes."""
    prefix, suffix = pattern
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        raise NotFound(
            f"{directory}: no such directory", hint="check the path"
        ) from None
    except NotADirectoryError:
        raise InvalidInput(f"{directory}: not a directory") from None
    chosen = [
        name for name in names
        if name.startswith(prefix) and name.endswith(suffix)
        and os.path.isfile(os.path.join(directory, name))
    ]
    chosen.sort(key=lambda name: name.encode("utf-8", "surrogateescape"))
    return [os.path.join(directory, name) for name in chosen]


# --- genesis ------------------------------------------------------------------------


def _genesis_context(doc: Any, source: str) -> _Context:
    from inferctl.genesis.codec import derive_prefix

    if not isinstance(doc, dict) or not isinstance(doc.get("app_state"), dict):
        raise InvalidInput(
            f"{source}: not a genesis file: expected an object with app_state"
        )
    chain_id = doc.get("chain_id")
    if not isinstance(chain_id, str) or not chain_id:
        raise InvalidInput(
            f"{source}: chain_id is missing or empty",
            hint="every signature covers the chain id, so the genesis must name it",
        )
    try:
        time_ns = timeutil.parse_rfc3339(doc.get("genesis_time"), what="genesis_time")
    except InvalidInput as exc:
        raise InvalidInput(f"{source}: {exc.message}", hint=exc.hint) from None
    return _Context(chain_id, time_ns // timeutil.NANOS, derive_prefix(doc))


def _section(doc: dict, module: str) -> dict:
    """Return app_state.<module>, created empty when missing (not for inference)."""
    app_state = doc["app_state"]
    if module == "inference" and module not in app_state:
        raise InvalidInput(
            "genesis: app_state.inference is missing, so this is not a gonka genesis"
        )
    section = app_state.setdefault(module, {})
    if not isinstance(section, dict):
        raise InvalidInput(f"genesis: app_state.{module} must be a JSON object")
    return section


def _list_in(section: dict, key: str, path: str) -> list:
    items = section.setdefault(key, [])
    if items is None:
        items = section[key] = []
    if not isinstance(items, list):
        raise InvalidInput(f"genesis: {path} must be a JSON array")
    return items


# --- reading and checking files ----------------------------------------------------


@dataclass
class _Genparticipant:
    path: str
    participant: dict[str, Any]
    grants: list[dict[str, Any]]


def _read_tx(path: str) -> dict[str, Any]:
    from inferctl.jsonio import read_bytes

    tx = loads_exact(read_bytes(path, what="ceremony file"), path)
    if not isinstance(tx, dict) or not isinstance(tx.get("body"), dict):
        raise InvalidInput(f"{path}: not a signed transaction: expected a body object")
    messages = tx["body"].get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidInput(f"{path}: body.messages: expected a non-empty array")
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise InvalidInput(f"{path}: body.messages[{index}]: expected an object")
    return tx


def _check_message_types(path: str, messages: list[dict], allowed: tuple[str, ...]
                         ) -> None:
    for index, message in enumerate(messages):
        kind = message.get("@type")
        if kind not in allowed:
            raise InvalidInput(
                f"{path}: body.messages[{index}]: message type {kind!r} is not "
                f"allowed here",
                hint=f"this file may contain only {', '.join(allowed)}",
            )


def _verify_signer(tx: dict, path: str, context: _Context) -> str:
    """Check the signatures against the genesis chain id; return the one signer."""
    from inferctl.ceremony.signing import verify_tx

    try:
        signers = verify_tx(tx, context.chain_id, source=path,
                            account_prefix=context.prefix)
    except InvalidInput as exc:
        if "does not match" not in exc.message:
            raise
        raise InvalidInput(
            f"{exc.message}: either the file changed after it was signed, or it was "
            f"signed for a chain id other than this genesis's {context.chain_id!r}",
            hint=f"ask its owner for the file exactly as signed for {context.chain_id}",
        ) from None
    if len(signers) != 1:
        raise InvalidInput(
            f"{path}: {len(signers)} signers; a ceremony file has exactly one"
        )
    return signers[0]


def _read_genparticipant(path: str, context: _Context) -> _Genparticipant:
    tx = _read_tx(path)
    messages = tx["body"]["messages"]
    _check_message_types(path, messages, (SUBMIT_NEW_PARTICIPANT, MSG_GRANT))
    submits = [m for m in messages if m["@type"] == SUBMIT_NEW_PARTICIPANT]
    if len(submits) != 1:
        raise InvalidInput(
            f"{path}: {len(submits)} MsgSubmitNewParticipant messages; a "
            "genparticipant file has exactly one"
        )
    signer = _verify_signer(tx, path, context)
    participant = _check_submit(submits[0], signer, path, context)
    grants = [
        _check_grant(message, index, signer, path, context)
        for index, message in enumerate(messages)
        if message["@type"] == MSG_GRANT
    ]
    return _Genparticipant(path, participant, grants)


def _check_signer_is(role: str, address: Any, signer: str, where: str) -> None:
    if address != signer:
        raise InvalidInput(
            f"{where}: the {role} {address!r} did not sign this file; it is signed "
            f"by {signer}",
            hint=f"only the {role}'s own key may sign for it; ask the participant "
            "for the file their key signed",
        )


def _check_address(value: Any, what: str, where: str, prefix: str) -> None:
    try:
        bech32.check_account_address(value, prefix, what=what)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.message}") from None


def _check_submit(message: dict, signer: str, path: str, context: _Context) -> dict:
    where = f"{path}: MsgSubmitNewParticipant"
    creator = message.get("creator")
    _check_address(creator, "creator address", where, context.prefix)
    _check_signer_is("creator", creator, signer, where)
    url = _optional_text(message, "url", where)
    if url.strip():
        _check_url(url, f"{where}.url")
    validator_key = _optional_text(message, "validator_key", where)
    worker_key = _optional_text(message, "worker_key", where)
    _check_ed25519_key(validator_key, f"{where}.validator_key")
    _check_ed25519_key(worker_key, f"{where}.worker_key")
    return {"address": creator, "url": url, "validator_key": validator_key,
            "worker_key": worker_key}


def _optional_text(message: dict, key: str, where: str) -> str:
    value = message.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{where}.{key}: expected a string, got {value!r}")
    return value


def _check_url(url: str, where: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise InvalidInput(f"{where}: invalid URL {url!r} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(
            f"{where}: invalid URL {url!r}: the chain accepts only http or https "
            "URLs with a host",
            hint="write it like http://node1.example.com:8000",
        )


def _check_ed25519_key(key: str, where: str) -> None:
    if not key.strip():
        return
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{where}: {key!r} is not standard base64") from None
    if len(raw) != ED25519_KEY_BYTES:
        raise InvalidInput(
            f"{where}: {key!r} is {len(raw)} bytes; an ED25519 public key is "
            f"{ED25519_KEY_BYTES} bytes"
        )


def _check_grant(message: dict, index: int, signer: str, path: str,
                 context: _Context) -> dict:
    where = f"{path}: body.messages[{index}]"
    granter, grantee = message.get("granter"), message.get("grantee")
    _check_address(granter, "granter address", where, context.prefix)
    _check_address(grantee, "grantee address", where, context.prefix)
    _check_signer_is("granter", granter, signer, where)
    if granter == grantee:
        raise InvalidInput(f"{where}: granter and grantee are the same ({granter})")
    grant = message.get("grant")
    if not isinstance(grant, dict) or not isinstance(grant.get("authorization"), dict):
        raise InvalidInput(f"{where}.grant.authorization: missing")
    authorization = grant["authorization"]
    if authorization.get("@type") != GENERIC_AUTHORIZATION:
        raise InvalidInput(
            f"{where}.grant.authorization: type {authorization.get('@type')!r} is not "
            "supported",
            hint=f"genesis grants are {GENERIC_AUTHORIZATION}",
        )
    msg = authorization.get("msg")
    if not isinstance(msg, str) or not msg:
        raise InvalidInput(f"{where}.grant.authorization.msg: missing message type")
    expiration = _expiration(grant.get("expiration"), f"{where}.grant.expiration")
    return {"granter": granter, "grantee": grantee,
            "authorization": {"@type": GENERIC_AUTHORIZATION, "msg": msg},
            "expiration": expiration}


def _expiration(value: Any, where: str) -> str | None:
    """Return the expiration as Go's time.RFC3339 writes it: UTC, whole seconds."""
    if value is None:
        return None
    try:
        nanos = timeutil.parse_rfc3339(value, what="expiration")
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.message}") from None
    return timeutil.format_rfc3339(nanos)[:19] + "Z"


@dataclass
class _Gentx:
    path: str
    tx: dict[str, Any]
    signer: str
    value: dict[str, Any]


def _read_gentx(path: str, context: _Context) -> _Gentx:
    tx = _read_tx(path)
    messages = tx["body"]["messages"]
    _check_message_types(path, messages, (CREATE_VALIDATOR,))
    if len(messages) != 1:
        raise InvalidInput(
            f"{path}: {len(messages)} messages; a gentx has exactly one "
            "MsgCreateValidator"
        )
    signer = _verify_signer(tx, path, context)

    message = messages[0]
    where = f"{path}: MsgCreateValidator"
    operator = message.get("validator_address")
    try:
        _hrp, operator_bytes = bech32.decode(operator)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}.validator_address: {exc.message}") from None
    if bech32.encode(context.prefix, operator_bytes) != signer:
        raise InvalidInput(
            f"{where}: validator {operator!r} did not sign this file; it is signed "
            f"by {signer}",
            hint="a gentx must be signed by the validator operator's account key",
        )

    delegator = message.get("delegator_address") or ""
    if delegator not in ("", signer):
        raise InvalidInput(
            f"{where}.delegator_address: {delegator!r} is not the signer {signer}"
        )
    value = message.get("value")
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}.value: missing self-delegation coin")
    return _Gentx(path, tx, signer, value)


# --- applying ------------------------------------------------------------------------


def _apply_genparticipants(doc: dict, files: list[_Genparticipant], context: _Context,
                           result: CollectResult) -> None:
    inference = _section(doc, "inference")
    participant_list = _list_in(inference, "participant_list",
                                "app_state.inference.participant_list")
    authorizations = _list_in(_section(doc, "authz"), "authorization",
                              "app_state.authz.authorization")
    grantees: set[str] = set()
    for item in files:
        result.genparticipant_files.append(item.path)
        entry = genesis_participant_entry(item.participant, context.genesis_seconds)
        if _upsert(participant_list, entry, lambda e: e.get("index")):
            result.replaced_participants.append(entry["index"])
        result.participants.append(entry["index"])
        for grant in item.grants:
            if _upsert(authorizations, grant, _grant_key):
                result.grants_replaced += 1
            else:
                result.grants_added += 1
            grantees.add(grant["grantee"])
    result.accounts = _add_grantee_accounts(doc, sorted(grantees))


def genesis_participant_entry(participant: dict[str, Any], seconds: int
                              ) -> dict[str, Any]:
    """Build a participant_list entry as patch-genesis writes it.

    patch-genesis marshals the Participant with Go's encoding/json, as in the
    mainnet genesis: fields in proto order, 64-bit integers and the status enum as
    JSON numbers, and fields with a zero value left out (omitempty).
    current_epoch_stats is an empty object because the chain sets a non-nil value.
    """
    address = participant["address"]
    fields: list[tuple[str, Any]] = [
        ("index", address),
        ("address", address),
        ("weight", GENESIS_PARTICIPANT_WEIGHT),
        ("join_time", seconds),
        ("join_height", 0),
        ("last_inference_time", seconds),
        ("inference_url", participant["url"]),
        ("status", PARTICIPANT_STATUS_ACTIVE),
        ("coin_balance", 0),
        ("validator_key", participant["validator_key"]),
        ("consecutive_invalid_inferences", 0),
        ("worker_public_key", participant["worker_key"]),
        ("epochs_completed", 0),
    ]
    entry = {key: value for key, value in fields if value not in (0, "")}
    entry["current_epoch_stats"] = {}
    return entry


def _grant_key(grant: Any) -> tuple:
    if not isinstance(grant, dict):
        return (None,)
    authorization = grant.get("authorization")
    if not isinstance(authorization, dict):
        authorization = {}
    return (grant.get("granter"), grant.get("grantee"), authorization.get("@type"),
            authorization.get("msg"))


def _upsert(items: list, entry: dict, key_of: Any) -> bool:
    """Replace the first item with the same key as `entry`, else append it.

    Returns True when an item was replaced.
    """
    key = key_of(entry)
    for index, item in enumerate(items):
        if isinstance(item, dict) and key_of(item) == key:
            items[index] = entry
            return True
    items.append(entry)
    return False


def _account_base(account: Any) -> dict:
    """Return the BaseAccount fields of any account kind (module, vesting, base)."""
    while isinstance(account, dict):
        inner = account.get("base_vesting_account") or account.get("base_account")
        if not isinstance(inner, dict):
            return account
        account = inner
    return {}


def _account_number(base: dict) -> int | None:
    value = base.get("account_number")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _add_grantee_accounts(doc: dict, grantees: list[str]) -> list[dict[str, str]]:
    """Add a BaseAccount for each grantee that has no account; return the new ones."""
    if not grantees:
        return []
    accounts = _list_in(_section(doc, "auth"), "accounts", "app_state.auth.accounts")
    bases = [_account_base(account) for account in accounts]
    existing = {base.get("address") for base in bases}
    numbers = [n for n in (_account_number(base) for base in bases) if n is not None]
    next_number = max(numbers) + 1 if numbers else 0
    missing = [address for address in grantees if address not in existing]
    missing.sort(key=lambda address: bech32.decode(address)[1])
    added = []
    for address in missing:
        # Key order as in the mainnet genesis, which patch-genesis wrote from a Go map.
        account = {"@type": BASE_ACCOUNT, "account_number": str(next_number),
                   "address": address, "pub_key": None, "sequence": "0"}
        accounts.append(account)
        added.append({"address": address, "account_number": str(next_number)})
        next_number += 1
    return added


def _apply_gentxs(doc: dict, gentxs: list[_Gentx], result: CollectResult) -> None:
    if not gentxs:
        return
    gen_txs = _list_in(_section(doc, "genutil"), "gen_txs", "app_state.genutil.gen_txs")
    balances = _balances(doc)
    for gentx in gentxs:
        result.gentx_files.append(gentx.path)
        _check_self_delegation_funds(gentx, balances)
        if gentx.tx in gen_txs:
            result.gentxs_present += 1
            continue
        _reject_second_gentx(gentx, gen_txs)
        gen_txs.append(gentx.tx)
        result.gentxs_added += 1


def _operator(tx: Any) -> Any:
    try:
        return tx["body"]["messages"][0]["validator_address"]
    except (KeyError, IndexError, TypeError):
        return None


def _reject_second_gentx(gentx: _Gentx, gen_txs: list) -> None:
    operator = _operator(gentx.tx)
    for index, other in enumerate(gen_txs):
        if _operator(other) == operator:
            raise Conflict(
                f"{gentx.path}: app_state.genutil.gen_txs[{index}] already creates "
                f"validator {operator} with a different transaction",
                hint="remove one of the two gentx files for this validator",
            )


def _balances(doc: dict) -> dict[str, list]:
    bank = doc["app_state"].get("bank")
    entries = bank.get("balances") if isinstance(bank, dict) else None
    balances: dict[str, list] = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("coins"), list):
            balances[str(entry.get("address"))] = entry["coins"]
    return balances


def _check_self_delegation_funds(gentx: _Gentx, balances: dict[str, list]) -> None:
    """Raise unless the signer's genesis balance covers the self-delegation.

    The Cosmos SDK's collect-gentxs makes the same check.
    """
    from inferctl.ceremony.patch import check_cosmos_int, parse_go_integer

    denom, amount = gentx.value.get("denom"), gentx.value.get("amount")
    reason = check_cosmos_int(amount)
    if reason is not None or not isinstance(amount, str):
        raise InvalidInput(f"{gentx.path}: MsgCreateValidator.value.amount: {reason}")
    coins = balances.get(gentx.signer)
    if coins is None:
        raise InvalidInput(
            f"{gentx.path}: validator account {gentx.signer} has no balance in the "
            "genesis",
            hint="add the account to app_state.bank.balances before collecting",
        )
    held = sum(
        parse_go_integer(coin["amount"]) for coin in coins
        if isinstance(coin, dict) and coin.get("denom") == denom
        and check_cosmos_int(coin.get("amount")) is None
    )
    if held < parse_go_integer(amount):
        raise InvalidInput(
            f"{gentx.path}: validator account {gentx.signer} has a genesis balance "
            f"of {held}{denom}, less than the self-delegation of {amount}{denom}",
            hint="raise the account's balance in app_state.bank.balances",
        )
