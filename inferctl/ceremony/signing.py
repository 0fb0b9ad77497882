"""Verify the signatures of genesis ceremony transactions (genparticipant and gentx files).

Each file contains one Cosmos SDK transaction as JSON, signed in SIGN_MODE_DIRECT by the
validator's cold account key. The signed message is the protobuf SignDoc {body_bytes,
auth_info_bytes, chain_id, account_number}, with account number 0 because genesis
accounts have no number yet. The signature is 64 bytes r||s: ECDSA on secp256k1 over
the SHA-256 of the SignDoc, by the 33-byte compressed key in the signer info.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from inferctl.ceremony import protobuf
from inferctl.ceremony.ripemd160 import ripemd160
from inferctl.errors import InvalidInput

SECP256K1_PUBKEY_TYPE = "/cosmos.crypto.secp256k1.PubKey"
DEFAULT_ACCOUNT_PREFIX = "gonka"
GENESIS_ACCOUNT_NUMBER = 0

SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_SECP256K1_HALF_ORDER = SECP256K1_ORDER // 2
_TX_FIELDS = frozenset({"body", "auth_info", "signatures"})


def sign_doc_bytes(tx: dict, chain_id: str, account_number: int = 0) -> bytes:
    """Build the SIGN_MODE_DIRECT SignDoc bytes that the signers of `tx` signed.

    Raises InvalidInput, naming the JSON path, when `tx` cannot be encoded.
    """
    tx = _tx_object(tx)
    body_bytes = protobuf.encode_tx_body(tx.get("body"), "body")
    auth_info_bytes = protobuf.encode_auth_info(tx.get("auth_info"), "auth_info")
    return protobuf.encode_sign_doc(
        body_bytes, auth_info_bytes, chain_id, account_number
    )


def verify_tx(
    tx: dict,
    chain_id: str,
    *,
    source: str,
    account_prefix: str = DEFAULT_ACCOUNT_PREFIX,
) -> list[str]:
    """Check every signature of a genesis transaction and return the signer addresses.

    Each signer must use SIGN_MODE_DIRECT with a secp256k1 key and a low-S signature,
    as the Cosmos SDK requires. Addresses are bech32 with `account_prefix`, in signer
    order. Raises InvalidInput whose message starts with `source` (the file path).
    """
    try:
        return _verify(tx, chain_id, account_prefix)
    except InvalidInput as err:
        raise InvalidInput(
            f"{source}: {err.message}", hint=err.hint, problems=err.problems
        ) from err


def address_from_pubkey(public_key: bytes, prefix: str = DEFAULT_ACCOUNT_PREFIX) -> str:
    """Derive the bech32 account address of a secp256k1 public key.

    The address bytes are RIPEMD-160(SHA-256(33-byte compressed key)).
    """
    from inferctl import bech32

    return bech32.encode(prefix, ripemd160(hashlib.sha256(public_key).digest()))


def _verify(tx: Any, chain_id: str, account_prefix: str) -> list[str]:
    if not isinstance(chain_id, str) or not chain_id:
        raise InvalidInput(
            f"invalid chain id {chain_id!r}",
            hint="pass the chain_id of the genesis file, e.g. gonka-mainnet",
        )
    tx = _tx_object(tx)
    sign_doc = sign_doc_bytes(tx, chain_id, GENESIS_ACCOUNT_NUMBER)

    signer_infos = tx["auth_info"].get("signer_infos") or []
    signatures = tx.get("signatures")
    if not isinstance(signatures, list):
        raise InvalidInput("signatures: expected a JSON array of base64 signatures")
    if not signer_infos:
        raise InvalidInput("auth_info.signer_infos: the transaction has no signer")
    if len(signatures) != len(signer_infos):
        raise InvalidInput(
            f"signatures: {len(signatures)} signatures for {len(signer_infos)} signers",
            hint="each signer info needs exactly one signature, in the same order",
        )

    addresses = []
    for index, (info, signature) in enumerate(
        zip(signer_infos, signatures, strict=True)
    ):
        public_key = _signer_public_key(info, f"auth_info.signer_infos[{index}]")
        _check_signature(public_key, signature, sign_doc, index, chain_id)
        addresses.append(address_from_pubkey(public_key, account_prefix))
    return addresses


def _tx_object(tx: Any) -> dict:
    if not isinstance(tx, dict):
        raise InvalidInput(
            "transaction: expected a JSON object with body and auth_info"
        )
    unknown = sorted(set(tx) - _TX_FIELDS)
    if unknown:
        raise InvalidInput(
            f"transaction: unknown field {unknown[0]!r}",
            hint="a transaction has only body, auth_info and signatures",
        )
    return tx


def _signer_public_key(info: dict, path: str) -> bytes:
    """Return the compressed secp256k1 key of a signer that uses SIGN_MODE_DIRECT."""
    # sign_doc_bytes has already checked the shape of every signer info.
    single = (info.get("mode_info") or {}).get("single") or {}
    mode = protobuf.sign_mode_number(single.get("mode") or 0, f"{path}.mode_info")
    if mode != protobuf.SIGN_MODE_DIRECT:
        raise InvalidInput(
            f"{path}.mode_info: sign mode {single.get('mode')!r} is not SIGN_MODE_DIRECT",
            hint="genesis transactions must be signed in SIGN_MODE_DIRECT",
        )

    public_key = info.get("public_key")
    if public_key is None:
        raise InvalidInput(f"{path}.public_key: missing")
    key_type = public_key.get("@type")
    if key_type != SECP256K1_PUBKEY_TYPE:
        raise InvalidInput(
            f"{path}.public_key: key type {key_type!r} is not {SECP256K1_PUBKEY_TYPE}"
        )
    key = base64.b64decode(public_key.get("key") or "")
    if len(key) != 33 or key[0] not in (2, 3):
        raise InvalidInput(
            f"{path}.public_key.key: expected a 33-byte compressed secp256k1 key, "
            f"got {len(key)} bytes"
        )
    return key


def _decode_signature(signature: Any, index: int) -> tuple[int, int]:
    """Decode a base64 r||s signature into (r, s), both in 1..n-1."""
    where = f"signatures[{index}]"
    if not isinstance(signature, str):
        raise InvalidInput(f"{where}: expected a base64 string")
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError) as err:
        raise InvalidInput(f"{where}: invalid standard base64 ({err})") from err
    if len(raw) != 64:
        raise InvalidInput(f"{where}: expected 64 bytes (r||s), got {len(raw)}")

    r = int.from_bytes(raw[:32], "big")
    s = int.from_bytes(raw[32:], "big")
    if not (0 < r < SECP256K1_ORDER and 0 < s < SECP256K1_ORDER):
        raise InvalidInput(f"{where}: r or s is outside 1..n-1 of secp256k1")
    return r, s


def _check_signature(
    public_key: bytes, signature: Any, sign_doc: bytes, index: int, chain_id: str
) -> None:
    """Raise InvalidInput unless `signature` is a valid low-S signature of sign_doc."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    r, s = _decode_signature(signature, index)
    where = f"signatures[{index}]"
    # Cosmos SDK secp256k1 verification rejects s > n/2, the second of the two
    # signatures (s and n-s) that are valid for the same message.
    if s > _SECP256K1_HALF_ORDER:
        raise InvalidInput(
            f"{where}: signature is not in low-S form (s > n/2)",
            hint="Cosmos SDK nodes reject high-S secp256k1 signatures; sign again",
        )
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), public_key)
    except ValueError as err:
        raise InvalidInput(f"{where}: public key is not a secp256k1 point") from err

    try:
        key.verify(encode_dss_signature(r, s), sign_doc, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise InvalidInput(
            f"{where}: signature does not match the transaction for chain id "
            f"{chain_id!r} and account number {GENESIS_ACCOUNT_NUMBER}",
            hint="the file was changed after signing or was signed for another chain",
        ) from None
