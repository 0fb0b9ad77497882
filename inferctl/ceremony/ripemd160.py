"""Compute RIPEMD-160, which Cosmos uses to turn a secp256k1 public key into an address.

hashlib provides RIPEMD-160 only when the OpenSSL it was built against does. OpenSSL
3.0.0 to 3.0.6 moved the algorithm to the legacy provider, which is often not loaded,
so this module falls back to a pure-Python implementation of the algorithm as
published by Dobbertin, Bosselaers and Preneel (1996).
"""

from __future__ import annotations

import hashlib
import struct

_MASK = 0xFFFFFFFF
_INITIAL_STATE = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0)

# Per round of 16 steps: the additive constant of the left and of the right line.
_LEFT_CONSTANTS = (0x00000000, 0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC, 0xA953FD4E)
_RIGHT_CONSTANTS = (0x50A28BE6, 0x5C4DD124, 0x6D703EF3, 0x7A6D76E9, 0x00000000)

# fmt: off
# Per step: which message word is added, and the rotate-left amount.
_LEFT_WORDS = (
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    7, 4, 13, 1, 10, 6, 15, 3, 12, 0, 9, 5, 2, 14, 11, 8,
    3, 10, 14, 4, 9, 15, 8, 1, 2, 7, 0, 6, 13, 11, 5, 12,
    1, 9, 11, 10, 0, 8, 12, 4, 13, 3, 7, 15, 14, 5, 6, 2,
    4, 0, 5, 9, 7, 12, 2, 10, 14, 1, 3, 8, 11, 6, 15, 13,
)
_RIGHT_WORDS = (
    5, 14, 7, 0, 9, 2, 11, 4, 13, 6, 15, 8, 1, 10, 3, 12,
    6, 11, 3, 7, 0, 13, 5, 10, 14, 15, 8, 12, 4, 9, 1, 2,
    15, 5, 1, 3, 7, 14, 6, 9, 11, 8, 12, 2, 10, 0, 4, 13,
    8, 6, 4, 1, 3, 11, 15, 0, 5, 12, 2, 13, 9, 7, 10, 14,
    12, 15, 10, 4, 1, 5, 8, 7, 6, 2, 13, 14, 0, 3, 9, 11,
)
_LEFT_SHIFTS = (
    11, 14, 15, 12, 5, 8, 7, 9, 11, 13, 14, 15, 6, 7, 9, 8,
    7, 6, 8, 13, 11, 9, 7, 15, 7, 12, 15, 9, 11, 7, 13, 12,
    11, 13, 6, 7, 14, 9, 13, 15, 14, 8, 13, 6, 5, 12, 7, 5,
    11, 12, 14, 15, 14, 15, 9, 8, 9, 14, 5, 6, 8, 6, 5, 12,
    9, 15, 5, 11, 6, 8, 13, 12, 5, 12, 13, 14, 11, 8, 5, 6,
)
_RIGHT_SHIFTS = (
    8, 9, 9, 11, 13, 15, 15, 5, 7, 7, 8, 11, 14, 14, 12, 6,
    9, 13, 15, 7, 12, 8, 9, 11, 7, 7, 12, 7, 6, 15, 13, 11,
    9, 7, 15, 11, 8, 6, 6, 14, 12, 13, 5, 14, 13, 13, 7, 5,
    15, 5, 8, 11, 14, 14, 6, 14, 6, 9, 12, 9, 12, 5, 15, 8,
    8, 5, 12, 9, 12, 5, 14, 6, 8, 13, 6, 5, 15, 13, 11, 11,
)
# fmt: on


def ripemd160(data: bytes) -> bytes:
    """Return the 20-byte RIPEMD-160 digest of `data`, from OpenSSL when it has one."""
    try:
        return hashlib.new("ripemd160", data).digest()
    except ValueError:
        return ripemd160_pure(data)


def ripemd160_pure(data: bytes) -> bytes:
    """Return the RIPEMD-160 digest of `data`, computed in Python."""
    # Padding as in MD4: a 1 bit, zeros up to 56 mod 64, the bit length little-endian.
    padded = data + b"\x80" + b"\x00" * ((55 - len(data)) % 64)
    padded += struct.pack("<Q", (len(data) * 8) & 0xFFFFFFFFFFFFFFFF)

    state: tuple[int, ...] = _INITIAL_STATE
    for offset in range(0, len(padded), 64):
        words = struct.unpack("<16I", padded[offset : offset + 64])
        state = _compress(state, words)
    return struct.pack("<5I", *state)


def _rotate_left(value: int, count: int) -> int:
    return ((value << count) | (value >> (32 - count))) & _MASK


def _boolean_function(round_index: int, x: int, y: int, z: int) -> int:
    if round_index == 0:
        return x ^ y ^ z
    if round_index == 1:
        return (x & y) | (~x & z)
    if round_index == 2:
        return (x | (~y & _MASK)) ^ z
    if round_index == 3:
        return (x & z) | (y & ~z)
    return x ^ (y | (~z & _MASK))


def _run_line(
    state: tuple[int, ...], words: tuple[int, ...], *, right: bool
) -> tuple[int, ...]:
    """Run the 80 steps of one of the two parallel lines over a 16-word block."""
    a, b, c, d, e = state
    order = _RIGHT_WORDS if right else _LEFT_WORDS
    shifts = _RIGHT_SHIFTS if right else _LEFT_SHIFTS
    constants = _RIGHT_CONSTANTS if right else _LEFT_CONSTANTS
    for step in range(80):
        round_index = step // 16
        # The right line applies the five boolean functions in reverse order.
        function_index = 4 - round_index if right else round_index
        mixed = (a + _boolean_function(function_index, b, c, d)) & _MASK
        mixed = (mixed + words[order[step]] + constants[round_index]) & _MASK
        total = (_rotate_left(mixed, shifts[step]) + e) & _MASK
        a, b, c, d, e = e, total, b, _rotate_left(c, 10), d
    return a, b, c, d, e


def _compress(state: tuple[int, ...], words: tuple[int, ...]) -> tuple[int, ...]:
    left = _run_line(state, words, right=False)
    right = _run_line(state, words, right=True)
    h0, h1, h2, h3, h4 = state
    return (
        (h1 + left[2] + right[3]) & _MASK,
        (h2 + left[3] + right[4]) & _MASK,
        (h3 + left[4] + right[0]) & _MASK,
        (h4 + left[0] + right[1]) & _MASK,
        (h0 + left[1] + right[2]) & _MASK,
    )
