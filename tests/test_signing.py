"""Tests of genesis ceremony signature checks and of the protobuf encoding behind them.

The files under tests/data/ceremony/ are real mainnet genparticipant and gentx files
from the gonka repository (genesis/validators/<name>/). Expected addresses come from
the files themselves; expected protobuf bytes were worked out by hand.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest

from inferctl.ceremony import protobuf
from inferctl.ceremony import ripemd160 as ripemd160_module
from inferctl.ceremony.ripemd160 import ripemd160_pure
from inferctl.ceremony.signing import SECP256K1_ORDER, sign_doc_bytes, verify_tx
from inferctl.errors import InvalidInput

DATA = Path(__file__).parent / "data" / "ceremony"
CHAIN_ID = "gonka-mainnet"

GCORE = DATA / "gcore" / "genparticipant-b7dd3863523d78cc5a7c56ddb786395fe49c954a.json"
GONKA1 = (
    DATA / "gonka-1" / "genparticipant-0772f16cc65cb4d19341b192bd7eba964f11d124.json"
)
GONKA1_GENTX = DATA / "gonka-1" / "gentx-0772f16cc65cb4d19341b192bd7eba964f11d124.json"
GONKA2 = (
    DATA / "gonka-2" / "genparticipant-645fbce2dedcc7166f4df7931d2c87ca5188b569.json"
)
GENPARTICIPANTS = [GCORE, GONKA1, GONKA2]
ALL_FILES = [*GENPARTICIPANTS, GONKA1_GENTX]


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def signature_parts(tx: dict) -> tuple[int, int]:
    raw = base64.b64decode(tx["signatures"][0])
    return int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")


def with_signature(tx: dict, r: int, s: int) -> dict:
    changed = copy.deepcopy(tx)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    changed["signatures"] = [base64.b64encode(raw).decode()]
    return changed


# --- real files --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ALL_FILES, ids=lambda p: f"{p.parent.name}/{p.name[:8]}"
)
def test_real_file_verifies(path: Path) -> None:
    signers = verify_tx(load(path), CHAIN_ID, source=str(path))
    assert len(signers) == 1


@pytest.mark.parametrize("path", GENPARTICIPANTS, ids=lambda p: p.parent.name)
def test_signer_is_creator(path: Path) -> None:
    tx = load(path)
    creator = tx["body"]["messages"][0]["creator"]
    assert verify_tx(tx, CHAIN_ID, source=str(path)) == [creator]


@pytest.mark.parametrize("path", GENPARTICIPANTS, ids=lambda p: p.parent.name)
def test_signer_is_every_granter(path: Path) -> None:
    tx = load(path)
    [signer] = verify_tx(tx, CHAIN_ID, source=str(path))
    grants = [m for m in tx["body"]["messages"] if m["@type"].endswith("MsgGrant")]
    assert len(grants) == 25
    assert {grant["granter"] for grant in grants} == {signer}


def test_gentx_signer_is_participant() -> None:
    creator = load(GONKA1)["body"]["messages"][0]["creator"]
    assert verify_tx(load(GONKA1_GENTX), CHAIN_ID, source="gentx") == [creator]


def test_gentx_signer_is_validator() -> None:
    tx = load(GONKA1_GENTX)
    validator = tx["body"]["messages"][0]["validator_address"]
    signers = verify_tx(tx, CHAIN_ID, source="gentx", account_prefix="gonkavaloper")
    assert signers == [validator]


def test_edited_url_fails() -> None:
    tx = load(GONKA2)
    url = tx["body"]["messages"][0]["url"]
    tx["body"]["messages"][0]["url"] = url.replace("node2", "node3")
    with pytest.raises(InvalidInput) as caught:
        verify_tx(tx, CHAIN_ID, source=str(GONKA2))
    assert str(caught.value).startswith(str(GONKA2))
    assert "does not match" in str(caught.value)


def test_edited_expiration_fails() -> None:
    tx = load(GCORE)
    tx["body"]["messages"][5]["grant"]["expiration"] = "2026-08-22T07:21:13.140809556Z"
    with pytest.raises(InvalidInput, match="does not match"):
        verify_tx(tx, CHAIN_ID, source=str(GCORE))


def test_edited_commission_fails() -> None:
    tx = load(GONKA1_GENTX)
    tx["body"]["messages"][0]["commission"]["rate"] = "0.110000000000000000"
    with pytest.raises(InvalidInput, match="does not match"):
        verify_tx(tx, CHAIN_ID, source=str(GONKA1_GENTX))


def test_edited_gas_limit_fails() -> None:
    tx = load(GONKA1)
    tx["auth_info"]["fee"]["gas_limit"] = "200001"
    with pytest.raises(InvalidInput, match="does not match"):
        verify_tx(tx, CHAIN_ID, source=str(GONKA1))


def test_other_chain_id_fails() -> None:
    with pytest.raises(InvalidInput) as caught:
        verify_tx(load(GCORE), "gonka-testnet", source=str(GCORE))
    assert str(GCORE) in str(caught.value)
    assert "'gonka-testnet'" in str(caught.value)


def test_empty_chain_id_fails() -> None:
    with pytest.raises(InvalidInput, match="chain id"):
        verify_tx(load(GCORE), "", source=str(GCORE))


def test_high_s_rejected() -> None:
    tx = load(GONKA1)
    r, s = signature_parts(tx)
    assert s <= SECP256K1_ORDER // 2
    high_s = with_signature(tx, r, SECP256K1_ORDER - s)
    with pytest.raises(InvalidInput) as caught:
        verify_tx(high_s, CHAIN_ID, source=str(GONKA1))
    assert str(GONKA1) in str(caught.value)
    assert "low-S" in str(caught.value)


def test_high_s_is_valid_ecdsa() -> None:
    # The rejection above comes from the Cosmos low-S rule alone: plain ECDSA accepts
    # (r, n - s) for the same message.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    tx = load(GONKA1)
    r, s = signature_parts(tx)
    key_bytes = base64.b64decode(
        tx["auth_info"]["signer_infos"][0]["public_key"]["key"]
    )
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), key_bytes)
    signature = encode_dss_signature(r, SECP256K1_ORDER - s)
    key.verify(signature, sign_doc_bytes(tx, CHAIN_ID), ec.ECDSA(hashes.SHA256()))


def test_signature_from_other_file_fails() -> None:
    tx = load(GONKA1)
    tx["signatures"] = load(GONKA2)["signatures"]
    with pytest.raises(InvalidInput, match="does not match"):
        verify_tx(tx, CHAIN_ID, source=str(GONKA1))


def test_extra_signature_fails() -> None:
    tx = load(GONKA1)
    tx["signatures"] = tx["signatures"] * 2
    with pytest.raises(InvalidInput, match="2 signatures for 1 signers"):
        verify_tx(tx, CHAIN_ID, source=str(GONKA1))


def test_no_signature_fails() -> None:
    tx = load(GONKA1)
    tx["signatures"] = []
    with pytest.raises(InvalidInput, match="0 signatures for 1 signers"):
        verify_tx(tx, CHAIN_ID, source=str(GONKA1))


def test_no_signer_fails() -> None:
    tx = load(GONKA1)
    tx["auth_info"]["signer_infos"] = []
    with pytest.raises(InvalidInput, match="no signer"):
        verify_tx(tx, CHAIN_ID, source=str(GONKA1))


def test_short_signature_fails() -> None:
    tx = load(GONKA1)
    tx["signatures"] = [base64.b64encode(b"\x01" * 63).decode()]
    with pytest.raises(InvalidInput, match="expected 64 bytes"):
        verify_tx(tx, CHAIN_ID, source=str(GONKA1))


def test_amino_sign_mode_fails() -> None:
    tx = load(GONKA1)
    single = tx["auth_info"]["signer_infos"][0]["mode_info"]["single"]
    single["mode"] = "SIGN_MODE_LEGACY_AMINO_JSON"
    with pytest.raises(InvalidInput, match="not SIGN_MODE_DIRECT"):
        verify_tx(tx, CHAIN_ID, source=str(GONKA1))


def test_ed25519_signer_fails() -> None:
    tx = load(GONKA1)
    tx["auth_info"]["signer_infos"][0]["public_key"] = {
        "@type": "/cosmos.crypto.ed25519.PubKey",
        "key": base64.b64encode(b"\x07" * 32).decode(),
    }
    with pytest.raises(InvalidInput, match="is not /cosmos.crypto.secp256k1.PubKey"):
        verify_tx(tx, CHAIN_ID, source=str(GONKA1))


def test_unknown_message_names_type_and_file() -> None:
    tx = load(GONKA1)
    tx["body"]["messages"].append({"@type": "/cosmos.bank.v1beta1.MsgSend"})
    with pytest.raises(InvalidInput) as caught:
        verify_tx(tx, CHAIN_ID, source=str(GONKA1))
    assert str(GONKA1) in str(caught.value)
    assert "/cosmos.bank.v1beta1.MsgSend" in str(caught.value)
    assert "body.messages[26]" in str(caught.value)


def test_unknown_field_fails() -> None:
    tx = load(GONKA1)
    tx["body"]["messages"][0]["nickname"] = "x"
    with pytest.raises(InvalidInput, match="unknown field 'nickname'"):
        verify_tx(tx, CHAIN_ID, source=str(GONKA1))


def test_tx_not_object_fails() -> None:
    with pytest.raises(InvalidInput, match="^file.json: transaction"):
        verify_tx([], CHAIN_ID, source="file.json")  # type: ignore[arg-type]


def test_missing_body_fails() -> None:
    tx = load(GONKA1)
    del tx["body"]
    with pytest.raises(InvalidInput, match="body: expected a JSON object, got null"):
        verify_tx(tx, CHAIN_ID, source=str(GONKA1))


def test_sign_doc_ends_with_chain_id() -> None:
    # account_number 0 is the default value, so the SignDoc ends with chain_id (3).
    doc = sign_doc_bytes(load(GONKA1_GENTX), CHAIN_ID)
    assert doc.endswith(b"\x1a\x0dgonka-mainnet")


def test_sign_doc_account_number() -> None:
    doc = sign_doc_bytes(load(GONKA1_GENTX), CHAIN_ID, account_number=5)
    assert doc.endswith(b"\x1a\x0dgonka-mainnet\x20\x05")


# --- wire format, against hand-computed bytes ------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "00"),
        (1, "01"),
        (127, "7f"),
        (128, "8001"),
        (300, "ac02"),
        (200000, "c09a0c"),
        (2**64 - 1, "ffffffffffffffffff01"),
    ],
)
def test_varint(value: int, expected: str) -> None:
    assert protobuf.encode_varint(value).hex() == expected


def test_varint_rejects_negative() -> None:
    with pytest.raises(InvalidInput):
        protobuf.encode_varint(-1)


@pytest.mark.parametrize(
    ("field_number", "wire_type", "expected"),
    [(1, 2, "0a"), (3, 0, "18"), (16, 0, "8001"), (1023, 2, "fa3f"), (2047, 2, "fa7f")],
)
def test_tag(field_number: int, wire_type: int, expected: str) -> None:
    assert protobuf.encode_tag(field_number, wire_type).hex() == expected


def test_default_scalars_skipped() -> None:
    assert protobuf.uint_field(3, 0) == b""
    assert protobuf.int_field(1, 0) == b""
    assert protobuf.bool_field(4, False) == b""
    assert protobuf.string_field(2, "") == b""
    assert protobuf.bytes_field(1, b"") == b""


def test_scalar_fields() -> None:
    assert protobuf.uint_field(3, 5).hex() == "1805"
    assert protobuf.bool_field(4, True).hex() == "2001"
    assert protobuf.string_field(2, "hi").hex() == "12026869"


def test_empty_message_field_written() -> None:
    assert protobuf.message_field(1, b"").hex() == "0a00"


def test_negative_int64_takes_ten_bytes() -> None:
    assert protobuf.int_field(1, -1).hex() == "08" + "ff" * 9 + "01"


def test_coin() -> None:
    coin = protobuf.encode_coin({"denom": "ngonka", "amount": "1"}, "coin")
    assert coin == b"\x0a\x06ngonka\x12\x011"


def test_coin_zero_amount_written() -> None:
    assert protobuf.encode_coin({}, "coin") == b"\x12\x010"


def test_coin_rejects_leading_zero() -> None:
    with pytest.raises(InvalidInput, match="coin.amount"):
        protobuf.encode_coin({"denom": "ngonka", "amount": "01"}, "coin")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.100000000000000000", "100000000000000000"),
        ("0.1", "100000000000000000"),
        ("0.010000000000000000", "10000000000000000"),
        ("1", "1000000000000000000"),
        ("1.5", "1500000000000000000"),
        ("-0.5", "-500000000000000000"),
        ("0", "0"),
        (None, "0"),
    ],
)
def test_legacy_dec(text: str | None, expected: str) -> None:
    assert protobuf.legacy_dec_text(text, "rate") == expected


@pytest.mark.parametrize(
    "text", ["0.1000000000000000001", "1.", ".5", "", "1e-3", "0,1", " 0.1"]
)
def test_legacy_dec_rejects(text: str) -> None:
    with pytest.raises(InvalidInput, match="rate"):
        protobuf.legacy_dec_text(text, "rate")


def test_timestamp_nanos() -> None:
    encoded = protobuf.encode_timestamp("1970-01-01T00:00:01.5Z", "t")
    assert encoded.hex() == "0801" + "1080cab5ee01"


def test_timestamp_offset() -> None:
    assert protobuf.parse_rfc3339("1970-01-01T01:00:00+01:00", "t") == (0, 0)


def test_timestamp_before_epoch() -> None:
    encoded = protobuf.encode_timestamp("1969-12-31T23:59:59Z", "t")
    assert encoded.hex() == "08" + "ff" * 9 + "01"


def test_timestamp_real_expiration() -> None:
    # Seconds from GNU `date -u -d 2026-08-22T07:21:13Z +%s`.
    parsed = protobuf.parse_rfc3339("2026-08-22T07:21:13.140809555Z", "t")
    assert parsed == (1787383273, 140809555)


@pytest.mark.parametrize(
    "text", ["2026-02-30T00:00:00Z", "2026-08-22 07:21:13Z", "2026-08-22T07:21:13"]
)
def test_timestamp_rejects(text: str) -> None:
    with pytest.raises(InvalidInput, match="RFC 3339"):
        protobuf.parse_rfc3339(text, "t")


def test_empty_create_validator() -> None:
    # Non-nullable messages and math.Int/LegacyDec fields are written even when empty.
    url = "/cosmos.staking.v1beta1.MsgCreateValidator"
    description = "0a00"
    commission = "1209" + "0a0130" + "120130" + "1a0130"
    min_self_delegation = "1a0130"
    value_coin = "3a03" + "120130"
    value = bytes.fromhex(description + commission + min_self_delegation + value_coin)
    expected = b"\x0a\x2a" + url.encode() + b"\x12\x15" + value
    assert protobuf.encode_any({"@type": url}, "msg") == expected


def test_any_unknown_type() -> None:
    with pytest.raises(InvalidInput, match="'/foo.v1.Bar'"):
        protobuf.encode_any({"@type": "/foo.v1.Bar"}, "msg")


def test_any_missing_type() -> None:
    with pytest.raises(InvalidInput, match='missing "@type"'):
        protobuf.encode_any({"msg": "x"}, "msg")


def test_tx_body_memo_and_height() -> None:
    body = {"memo": "m", "timeout_height": "5", "unordered": False}
    assert protobuf.encode_tx_body(body).hex() == "12016d" + "1805"


def test_tx_body_empty_extensions_skipped() -> None:
    body: dict[str, object] = {
        "extension_options": [],
        "non_critical_extension_options": [],
    }
    assert protobuf.encode_tx_body(body) == b""


def test_tx_body_extension_options() -> None:
    url = "/cosmos.authz.v1beta1.GenericAuthorization"
    option = {"@type": url, "msg": "x"}
    packed = b"\x0a\x2a" + url.encode() + b"\x12\x03\x0a\x01x"
    body: dict[str, object] = {
        "extension_options": [option],
        "non_critical_extension_options": [option],
    }
    expected = b"\xfa\x3f\x31" + packed + b"\xfa\x7f\x31" + packed
    assert protobuf.encode_tx_body(body) == expected


def test_auth_info_fee() -> None:
    encoded = protobuf.encode_auth_info({"fee": {"amount": [], "gas_limit": "200000"}})
    assert encoded.hex() == "1204" + "10c09a0c"


def test_auth_info_direct_mode() -> None:
    info = {"mode_info": {"single": {"mode": "SIGN_MODE_DIRECT"}}, "sequence": "0"}
    encoded = protobuf.encode_auth_info({"signer_infos": [info]})
    assert encoded.hex() == "0a06" + "1204" + "0a02" + "0801"


def test_auth_info_rejects_multisig() -> None:
    info: dict[str, object] = {"mode_info": {"multi": {"mode_infos": []}}}
    with pytest.raises(InvalidInput, match="multisig"):
        protobuf.encode_auth_info({"signer_infos": [info]})


def test_uint64_rejects_overflow() -> None:
    with pytest.raises(InvalidInput, match="uint64"):
        protobuf.encode_tx_body({"timeout_height": str(2**64)})


def test_sign_doc_fields() -> None:
    encoded = protobuf.encode_sign_doc(b"\x01", b"\x02", "c", 7)
    assert encoded.hex() == "0a0101" + "120102" + "1a0163" + "2007"


# --- RIPEMD-160, against the vectors published with the algorithm --------------------


@pytest.mark.parametrize(
    ("message", "digest"),
    [
        (b"", "9c1185a5c5e9fc54612808977ee8f548b2258d31"),
        (b"a", "0bdc9d2d256b3ee9daae347be6f4dc835a467ffe"),
        (b"abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"),
        (b"message digest", "5d0689ef49d2fae572b881b123a85ffa21595f36"),
        (b"abcdefghijklmnopqrstuvwxyz", "f71c27109c692c1b56bbdceb5b9d2865b3708dbc"),
        (
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "12a053384a9c0c88e405a06c27dcf49ada62eb2b",
        ),
        (
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "b0e20b6e3116640286ed3a87a5713079b21f5189",
        ),
        (b"1234567890" * 8, "9b752e45573d4b39f4dbd3323cab82bf63326bfb"),
    ],
)
def test_ripemd160_vectors(message: bytes, digest: str) -> None:
    assert ripemd160_pure(message).hex() == digest


def test_ripemd160_without_openssl(monkeypatch: pytest.MonkeyPatch) -> None:
    # An OpenSSL without RIPEMD-160 makes hashlib.new raise ValueError.
    def unsupported(name: str, data: bytes = b"") -> None:
        raise ValueError(f"unsupported hash type {name}")

    monkeypatch.setattr(ripemd160_module.hashlib, "new", unsupported)
    digest = ripemd160_module.ripemd160(b"abc")
    assert digest.hex() == "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"


@pytest.mark.parametrize("length", [55, 56, 63, 64, 65, 119, 120, 1000])
def test_ripemd160_block_edges(length: int) -> None:
    import hashlib

    message = bytes(range(256)) * 4
    try:
        expected = hashlib.new("ripemd160", message[:length]).digest()
    except ValueError:
        pytest.skip("this OpenSSL build has no RIPEMD-160 to compare with")
    assert ripemd160_pure(message[:length]) == expected
