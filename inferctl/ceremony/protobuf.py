"""Encode Cosmos SDK transaction JSON into the protobuf bytes that Go's gogoproto writes.

A SIGN_MODE_DIRECT signature covers the protobuf bytes of TxBody and AuthInfo, so a
file that carries a transaction as JSON can only be verified after re-encoding it
byte for byte as the signer's Go code did. gogoproto writes fields in field-number
order, each repeated element as its own field, and leaves out proto3 scalars that hold
their default (empty string or bytes, 0, false). Two kinds of field are written even
when empty: message fields declared `(gogoproto.nullable) = false`, and the custom
scalars `math.Int` and `LegacyDec`, which are written as decimal integer strings.

The JSON input follows the protobuf JSON mapping that the Cosmos SDK prints. It has
64-bit integers as strings, bytes as standard base64, enums by name and timestamps as
RFC 3339. An `Any` is an object with "@type" next to the packed message's own fields.
Every error names the JSON path of the bad value, for example `body.messages[3].grant`.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import datetime
import re
from collections.abc import Callable
from typing import Any

from inferctl.errors import InvalidInput

Json = dict[str, Any]
MessageEncoder = Callable[[Json, str], bytes]

WIRE_VARINT = 0
WIRE_LEN = 2

SIGN_MODE_DIRECT = 1
SIGN_MODES = {
    "SIGN_MODE_UNSPECIFIED": 0,
    "SIGN_MODE_DIRECT": 1,
    "SIGN_MODE_TEXTUAL": 2,
    "SIGN_MODE_DIRECT_AUX": 3,
    "SIGN_MODE_LEGACY_AMINO_JSON": 127,
    "SIGN_MODE_EIP_191": 191,
}

LEGACY_DEC_PRECISION = 18
_UINT64_MAX = (1 << 64) - 1
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_MATH_INT_MAX_BITS = 256
_MAX_INTEGER_DIGITS = 80

_DECIMAL_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
_LEGACY_DEC = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})"
)


# --- wire format ---------------------------------------------------------------------


def encode_varint(value: int) -> bytes:
    """Encode an integer in 0..2**64-1 as a base-128 varint, low groups first."""
    if not 0 <= value <= _UINT64_MAX:
        raise InvalidInput(f"varint value {value} is outside 0..2**64-1")
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_tag(field_number: int, wire_type: int) -> bytes:
    """Encode a field key: the field number shifted left by 3, or-ed with the wire type."""
    return encode_varint(field_number << 3 | wire_type)


def uint_field(field_number: int, value: int) -> bytes:
    """Encode an unsigned varint field (uint64, uint32, enum), or nothing for 0."""
    if value == 0:
        return b""
    return encode_tag(field_number, WIRE_VARINT) + encode_varint(value)


def int_field(field_number: int, value: int) -> bytes:
    """Encode an int64 or int32 field. A negative value takes ten bytes, as in Go."""
    if value == 0:
        return b""
    return encode_tag(field_number, WIRE_VARINT) + encode_varint(value & _UINT64_MAX)


def bool_field(field_number: int, value: bool) -> bytes:
    """Encode a bool field, or nothing for false."""
    return uint_field(field_number, int(value))


def message_field(field_number: int, data: bytes) -> bytes:
    """Encode a length-delimited field, written even when `data` is empty."""
    return encode_tag(field_number, WIRE_LEN) + encode_varint(len(data)) + data


def bytes_field(field_number: int, data: bytes) -> bytes:
    """Encode a bytes field, or nothing for empty bytes."""
    if not data:
        return b""
    return message_field(field_number, data)


def string_field(field_number: int, text: str) -> bytes:
    """Encode a string field as UTF-8, or nothing for the empty string."""
    return bytes_field(field_number, text.encode("utf-8"))


# --- reading JSON values ---------------------------------------------------------------


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return type(value).__name__


def _object(value: Any, path: str) -> Json:
    if not isinstance(value, dict):
        raise InvalidInput(f"{path}: expected a JSON object, got {_json_kind(value)}")
    return value


def _check_fields(obj: Json, allowed: frozenset[str], path: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise InvalidInput(
            f"{path}: unknown field {unknown[0]!r}",
            hint=f"the fields of this message are: {', '.join(sorted(allowed))}",
        )


def _optional_object(obj: Json, key: str, path: str) -> Json | None:
    value = obj.get(key)
    if value is None:
        return None
    return _object(value, f"{path}.{key}")


def _list(obj: Json, key: str, path: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(
            f"{path}.{key}: expected a JSON array, got {_json_kind(value)}"
        )
    return value


def _text(obj: Json, key: str, path: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{path}.{key}: expected a string, got {_json_kind(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise InvalidInput(
            f"{path}.{key}: string is not valid Unicode ({err})"
        ) from err
    return value


def _bool(obj: Json, key: str, path: str) -> bool:
    value = obj.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidInput(f"{path}.{key}: expected true or false, got {value!r}")
    return value


def _parse_integer(value: Any, path: str) -> int:
    """Parse a JSON integer given as a number or as a decimal string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if (
        isinstance(value, str)
        and len(value) <= _MAX_INTEGER_DIGITS
        and _DECIMAL_INTEGER.fullmatch(value)
    ):
        return int(value)
    raise InvalidInput(
        f"{path}: expected an integer, got {value!r}",
        hint='write it as a decimal string without leading zeros, e.g. "200000"',
    )


def _uint64(obj: Json, key: str, path: str) -> int:
    value = obj.get(key)
    if value is None:
        return 0
    number = _parse_integer(value, f"{path}.{key}")
    if not 0 <= number <= _UINT64_MAX:
        raise InvalidInput(f"{path}.{key}: {number} is outside the uint64 range")
    return number


def _base64(obj: Json, key: str, path: str) -> bytes:
    text = _text(obj, key, path)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise InvalidInput(f"{path}.{key}: invalid standard base64 ({err})") from err


# --- scalars with a custom encoding ------------------------------------------------------


def cosmos_int_text(value: Any, path: str) -> str:
    """Return the protobuf text of a `math.Int` JSON value: its decimal digits.

    A missing value (None) is zero, because Go marshals a nil `math.Int` as "0".
    """
    if value is None:
        return "0"
    if not isinstance(value, str):
        raise InvalidInput(
            f"{path}: expected a decimal string, got {_json_kind(value)}"
        )
    number = _parse_integer(value, path)
    if abs(number).bit_length() > _MATH_INT_MAX_BITS:
        raise InvalidInput(f"{path}: {value} is larger than 256 bits")
    return str(number)


def legacy_dec_text(value: Any, path: str) -> str:
    """Return the protobuf text of a `LegacyDec`: the value times 10**18 as an integer.

    JSON shows a LegacyDec with its decimal point ("0.100000000000000000"); the
    protobuf bytes carry the scaled integer ("100000000000000000"). A missing value
    (None) is zero.
    """
    if value is None:
        return "0"
    if not isinstance(value, str):
        raise InvalidInput(
            f"{path}: expected a decimal string, got {_json_kind(value)}"
        )
    match = _LEGACY_DEC.fullmatch(value)
    if match is None or len(value) > _MAX_INTEGER_DIGITS:
        raise InvalidInput(
            f"{path}: invalid decimal {value!r}",
            hint='write it like "0.100000000000000000"',
        )
    sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
    if len(fraction) > LEGACY_DEC_PRECISION:
        raise InvalidInput(
            f"{path}: decimal {value!r} has {len(fraction)} fractional digits, "
            f"more than the {LEGACY_DEC_PRECISION} a LegacyDec holds"
        )
    scaled = int(whole + fraction.ljust(LEGACY_DEC_PRECISION, "0"))
    return str(-scaled if sign else scaled)


def parse_rfc3339(text: Any, path: str) -> tuple[int, int]:
    """Parse an RFC 3339 time into (seconds since the Unix epoch, nanoseconds)."""
    match = _RFC3339.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput(
            f"{path}: invalid RFC 3339 time {text!r}",
            hint='write it like "2026-08-22T07:21:13.140809555Z"',
        )
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        datetime.datetime(year, month, day, hour, minute, second)
    except ValueError as err:
        raise InvalidInput(f"{path}: invalid RFC 3339 time {text!r} ({err})") from err

    nanos = int((match.group(7) or "").ljust(9, "0"))
    zone = match.group(8)
    offset = 0
    if zone != "Z":
        offset = int(zone[1:3]) * 3600 + int(zone[4:6]) * 60
        offset = -offset if zone[0] == "-" else offset
    seconds = calendar.timegm((year, month, day, hour, minute, second)) - offset
    return seconds, nanos


def encode_timestamp(text: Any, path: str) -> bytes:
    """Encode an RFC 3339 time as google.protobuf.Timestamp {seconds 1, nanos 2}."""
    seconds, nanos = parse_rfc3339(text, path)
    return int_field(1, seconds) + int_field(2, nanos)


def sign_mode_number(value: Any, path: str) -> int:
    """Return the SignMode enum number of a JSON enum value (a name or a number)."""
    if isinstance(value, str) and value in SIGN_MODES:
        return SIGN_MODES[value]
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31:
        return value
    raise InvalidInput(
        f"{path}: unknown sign mode {value!r}",
        hint=f"use one of: {', '.join(SIGN_MODES)}",
    )


# --- messages packed in Any ------------------------------------------------------------


def _encode_pubkey(obj: Json, path: str) -> bytes:
    # cosmos.crypto.secp256k1.PubKey and cosmos.crypto.ed25519.PubKey: key = 1.
    _check_fields(obj, frozenset({"@type", "key"}), path)
    return bytes_field(1, _base64(obj, "key", path))


def _encode_submit_new_participant(obj: Json, path: str) -> bytes:
    names = ("creator", "url", "validator_key", "worker_key")
    _check_fields(obj, frozenset({"@type", *names}), path)
    return b"".join(
        string_field(number, _text(obj, name, path))
        for number, name in enumerate(names, start=1)
    )


def _encode_generic_authorization(obj: Json, path: str) -> bytes:
    _check_fields(obj, frozenset({"@type", "msg"}), path)
    return string_field(1, _text(obj, "msg", path))


def _encode_grant(obj: Json, path: str) -> bytes:
    # Both fields are nullable, so each is written when present, even if empty.
    _check_fields(obj, frozenset({"authorization", "expiration"}), path)
    parts = []
    authorization = _optional_object(obj, "authorization", path)
    if authorization is not None:
        parts.append(
            message_field(1, encode_any(authorization, f"{path}.authorization"))
        )
    expiration = obj.get("expiration")
    if expiration is not None:
        parts.append(
            message_field(2, encode_timestamp(expiration, f"{path}.expiration"))
        )
    return b"".join(parts)


def _encode_msg_grant(obj: Json, path: str) -> bytes:
    _check_fields(obj, frozenset({"@type", "granter", "grantee", "grant"}), path)
    grant = _optional_object(obj, "grant", path) or {}
    return (
        string_field(1, _text(obj, "granter", path))
        + string_field(2, _text(obj, "grantee", path))
        + message_field(3, _encode_grant(grant, f"{path}.grant"))
    )


def _encode_description(obj: Json, path: str) -> bytes:
    names = ("moniker", "identity", "website", "security_contact", "details")
    _check_fields(obj, frozenset(names), path)
    return b"".join(
        string_field(number, _text(obj, name, path))
        for number, name in enumerate(names, start=1)
    )


def _encode_commission_rates(obj: Json, path: str) -> bytes:
    # LegacyDec fields are non-nullable custom types, so each is always written.
    names = ("rate", "max_rate", "max_change_rate")
    _check_fields(obj, frozenset(names), path)
    return b"".join(
        message_field(number, legacy_dec_text(obj.get(name), f"{path}.{name}").encode())
        for number, name in enumerate(names, start=1)
    )


def encode_coin(obj: Any, path: str) -> bytes:
    """Encode cosmos.base.v1beta1.Coin {denom 1, amount 2}, always writing the amount."""
    obj = _object(obj, path)
    _check_fields(obj, frozenset({"denom", "amount"}), path)
    amount = cosmos_int_text(obj.get("amount"), f"{path}.amount")
    return string_field(1, _text(obj, "denom", path)) + message_field(
        2, amount.encode()
    )


def _encode_create_validator(obj: Json, path: str) -> bytes:
    fields = frozenset(
        {
            "@type",
            "description",
            "commission",
            "min_self_delegation",
            "delegator_address",
            "validator_address",
            "pubkey",
            "value",
        }
    )
    _check_fields(obj, fields, path)
    description = _optional_object(obj, "description", path) or {}
    commission = _optional_object(obj, "commission", path) or {}
    min_self = cosmos_int_text(
        obj.get("min_self_delegation"), f"{path}.min_self_delegation"
    )
    parts = [
        message_field(1, _encode_description(description, f"{path}.description")),
        message_field(2, _encode_commission_rates(commission, f"{path}.commission")),
        message_field(3, min_self.encode()),
        string_field(4, _text(obj, "delegator_address", path)),
        string_field(5, _text(obj, "validator_address", path)),
    ]
    pubkey = _optional_object(obj, "pubkey", path)
    if pubkey is not None:
        parts.append(message_field(6, encode_any(pubkey, f"{path}.pubkey")))
    value = _optional_object(obj, "value", path) or {}
    parts.append(message_field(7, encode_coin(value, f"{path}.value")))
    return b"".join(parts)


MESSAGE_ENCODERS: dict[str, MessageEncoder] = {
    "/cosmos.crypto.secp256k1.PubKey": _encode_pubkey,
    "/cosmos.crypto.ed25519.PubKey": _encode_pubkey,
    "/inference.inference.MsgSubmitNewParticipant": _encode_submit_new_participant,
    "/cosmos.authz.v1beta1.MsgGrant": _encode_msg_grant,
    "/cosmos.authz.v1beta1.GenericAuthorization": _encode_generic_authorization,
    "/cosmos.staking.v1beta1.MsgCreateValidator": _encode_create_validator,
}


def encode_any(obj: Any, path: str) -> bytes:
    """Encode a JSON `Any` as google.protobuf.Any {type_url 1, value 2}.

    The encoder of the packed message comes from MESSAGE_ENCODERS. A type URL that
    is not there raises InvalidInput naming it.
    """
    obj = _object(obj, path)
    type_url = obj.get("@type")
    if not isinstance(type_url, str) or not type_url:
        raise InvalidInput(f'{path}: missing "@type" in a packed message')
    encoder = MESSAGE_ENCODERS.get(type_url)
    if encoder is None:
        raise InvalidInput(
            f"{path}: unsupported message type {type_url!r}",
            hint=f"supported types: {', '.join(MESSAGE_ENCODERS)}",
        )
    return string_field(1, type_url) + bytes_field(2, encoder(obj, path))


# --- TxBody, AuthInfo and SignDoc ------------------------------------------------------


def _repeated_any(field_number: int, obj: Json, key: str, path: str) -> bytes:
    items = _list(obj, key, path)
    return b"".join(
        message_field(field_number, encode_any(item, f"{path}.{key}[{index}]"))
        for index, item in enumerate(items)
    )


_TX_BODY_FIELDS = frozenset(
    {
        "messages",
        "memo",
        "timeout_height",
        "unordered",
        "timeout_timestamp",
        "extension_options",
        "non_critical_extension_options",
    }
)


def encode_tx_body(body: Any, path: str = "body") -> bytes:
    """Encode cosmos.tx.v1beta1.TxBody.

    Fields: messages 1, memo 2, timeout_height 3, unordered 4, timeout_timestamp 5,
    extension_options 1023, non_critical_extension_options 2047.
    """
    body = _object(body, path)
    _check_fields(body, _TX_BODY_FIELDS, path)
    parts = [
        _repeated_any(1, body, "messages", path),
        string_field(2, _text(body, "memo", path)),
        uint_field(3, _uint64(body, "timeout_height", path)),
        bool_field(4, _bool(body, "unordered", path)),
    ]
    timeout = body.get("timeout_timestamp")
    if timeout is not None:
        parts.append(
            message_field(5, encode_timestamp(timeout, f"{path}.timeout_timestamp"))
        )
    parts.append(_repeated_any(1023, body, "extension_options", path))
    parts.append(_repeated_any(2047, body, "non_critical_extension_options", path))
    return b"".join(parts)


def _encode_mode_info(obj: Json, path: str) -> bytes:
    _check_fields(obj, frozenset({"single", "multi"}), path)
    if obj.get("multi") is not None:
        raise InvalidInput(
            f"{path}.multi: multisig signers are not supported",
            hint="sign the transaction with a single key in SIGN_MODE_DIRECT",
        )
    single = _optional_object(obj, "single", path)
    if single is None:
        return b""
    _check_fields(single, frozenset({"mode"}), f"{path}.single")
    mode = single.get("mode")
    number = 0 if mode is None else sign_mode_number(mode, f"{path}.single.mode")
    return message_field(1, uint_field(1, number))


def _encode_signer_info(obj: Any, path: str) -> bytes:
    obj = _object(obj, path)
    _check_fields(obj, frozenset({"public_key", "mode_info", "sequence"}), path)
    parts = []
    public_key = _optional_object(obj, "public_key", path)
    if public_key is not None:
        parts.append(message_field(1, encode_any(public_key, f"{path}.public_key")))
    mode_info = _optional_object(obj, "mode_info", path)
    if mode_info is not None:
        parts.append(
            message_field(2, _encode_mode_info(mode_info, f"{path}.mode_info"))
        )
    parts.append(uint_field(3, _uint64(obj, "sequence", path)))
    return b"".join(parts)


def _repeated_coins(field_number: int, obj: Json, key: str, path: str) -> bytes:
    return b"".join(
        message_field(field_number, encode_coin(coin, f"{path}.{key}[{index}]"))
        for index, coin in enumerate(_list(obj, key, path))
    )


def _encode_fee(obj: Json, path: str) -> bytes:
    _check_fields(obj, frozenset({"amount", "gas_limit", "payer", "granter"}), path)
    return (
        _repeated_coins(1, obj, "amount", path)
        + uint_field(2, _uint64(obj, "gas_limit", path))
        + string_field(3, _text(obj, "payer", path))
        + string_field(4, _text(obj, "granter", path))
    )


def _encode_tip(obj: Json, path: str) -> bytes:
    _check_fields(obj, frozenset({"amount", "tipper"}), path)
    return _repeated_coins(1, obj, "amount", path) + string_field(
        2, _text(obj, "tipper", path)
    )


def encode_auth_info(auth_info: Any, path: str = "auth_info") -> bytes:
    """Encode cosmos.tx.v1beta1.AuthInfo {signer_infos 1, fee 2, tip 3}."""
    auth_info = _object(auth_info, path)
    _check_fields(auth_info, frozenset({"signer_infos", "fee", "tip"}), path)
    parts = [
        message_field(1, _encode_signer_info(info, f"{path}.signer_infos[{index}]"))
        for index, info in enumerate(_list(auth_info, "signer_infos", path))
    ]
    fee = _optional_object(auth_info, "fee", path)
    if fee is not None:
        parts.append(message_field(2, _encode_fee(fee, f"{path}.fee")))
    tip = _optional_object(auth_info, "tip", path)
    if tip is not None:
        parts.append(message_field(3, _encode_tip(tip, f"{path}.tip")))
    return b"".join(parts)


def encode_sign_doc(
    body_bytes: bytes, auth_info_bytes: bytes, chain_id: str, account_number: int
) -> bytes:
    """Encode cosmos.tx.v1beta1.SignDoc, the bytes a SIGN_MODE_DIRECT signer hashes.

    Fields: body_bytes 1, auth_info_bytes 2, chain_id 3, account_number 4.
    """
    return (
        bytes_field(1, body_bytes)
        + bytes_field(2, auth_info_bytes)
        + string_field(3, chain_id)
        + uint_field(4, account_number)
    )
