"""Bech32 (BIP-173) addresses as Cosmos uses them: 20-byte account addresses."""

from __future__ import annotations

import hashlib

from inferctl.errors import InvalidInput

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
MAX_LENGTH = 90


def _polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            if (top >> i) & 1:
                checksum ^= _GENERATOR[i]
    return checksum


def _expand_hrp(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, pad: bool):
    accumulator = 0
    bits = 0
    result = []
    max_value = (1 << to_bits) - 1
    for value in data:
        accumulator = (accumulator << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            result.append((accumulator >> bits) & max_value)
    if pad and bits:
        result.append((accumulator << (to_bits - bits)) & max_value)
    elif not pad and (bits >= from_bits or (accumulator << (to_bits - bits)) & max_value):
        return None
    return result


def encode(hrp: str, data: bytes) -> str:
    """Encode bytes as a bech32 string with the human-readable part `hrp`."""
    words = _convert_bits(data, 8, 5, True)
    assert words is not None  # padding conversion cannot fail
    checksum_input = _expand_hrp(hrp) + words + [0] * 6
    polymod = _polymod(checksum_input) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[w] for w in words + checksum)


def decode(address: str) -> tuple[str, bytes]:
    """Decode a bech32 string into (hrp, data); raise InvalidInput naming the fault."""
    if not isinstance(address, str) or not address:
        raise InvalidInput(f"invalid bech32 address {address!r}: empty or not a string")
    if len(address) > MAX_LENGTH:
        raise InvalidInput(f"invalid bech32 address {address!r}: longer than 90 characters")
    if address.lower() != address and address.upper() != address:
        raise InvalidInput(f"invalid bech32 address {address!r}: mixed case")
    lowered = address.lower()
    separator = lowered.rfind("1")
    if separator < 1 or separator + 7 > len(lowered):
        raise InvalidInput(
            f"invalid bech32 address {address!r}: no separator or too short",
            hint="an account address looks like gonka1…; `inferctl address NAME` "
            "prints the test address of a name",
        )
    hrp = lowered[:separator]
    if any(ord(c) < 33 or ord(c) > 126 for c in hrp):
        raise InvalidInput(f"invalid bech32 address {address!r}: bad prefix characters")
    try:
        words = [CHARSET.index(c) for c in lowered[separator + 1 :]]
    except ValueError:
        raise InvalidInput(
            f"invalid bech32 address {address!r}: character outside the bech32 alphabet"
        ) from None
    if _polymod(_expand_hrp(hrp) + words) != 1:
        raise InvalidInput(
            f"invalid bech32 address {address!r}: bad checksum",
            hint="check for a mistyped character; `inferctl address NAME` makes test addresses",
        )
    data = _convert_bits(words[:-6], 5, 8, False)
    if data is None:
        raise InvalidInput(f"invalid bech32 address {address!r}: bad padding")
    return hrp, bytes(data)


def check_account_address(address: object, prefix: str, *, what: str = "address") -> bytes:
    """Check that `address` is a valid account address with `prefix`; return its bytes."""
    if not isinstance(address, str):
        raise InvalidInput(f"invalid {what} {address!r}: expected a bech32 string")
    hrp, data = decode(address)
    if hrp != prefix:
        raise InvalidInput(
            f"invalid {what} {address!r}: prefix {hrp!r}, expected {prefix!r}"
        )
    if len(data) not in (20, 32):
        raise InvalidInput(
            f"invalid {what} {address!r}: {len(data)} bytes, expected 20 or 32"
        )
    return data


def module_address(module: str, prefix: str) -> str:
    """Return the account address of a Cosmos module: bech32 of sha256(name)[:20]."""
    return encode(prefix, hashlib.sha256(module.encode()).digest()[:20])


def test_address(name: str, prefix: str) -> str:
    """Return the deterministic test address for `name`: bech32 of sha256(name)[:20]."""
    return encode(prefix, hashlib.sha256(name.encode()).digest()[:20])
