"""Bit-exact port of the parts of Go's `math/rand` (v1) that gonka's POC_SLOT uses.

gonka seeds `rand.New(rand.NewSource(seed))` and calls `Rand.Shuffle`, so inferctl
must draw the same numbers to pick the same ML nodes. Go's source is an additive
lagged Fibonacci generator: 607 words of 64 bits with
x[k] = x[k-607] + x[k-273] (mod 2**64). A seed fills the words from a Lehmer generator
(x -> 48271 * x mod 2**31 - 1) and XORs them with a fixed "cooked" table.
`_cooked_table` rebuilds that table from its definition instead of storing 607
constants. `shuffle_positions` is the fast path for small shuffles: it computes only
the generator words that the shuffle reads. The golden vectors in
tests/data/gorand_vectors.json come from Go 1.19.8.
Go's compatibility promise keeps the output of a seeded `math/rand` source the same in
every Go 1 release.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable

from inferctl.errors import InvalidInput

_STATE_LEN = 607  # number of words in the generator state
_TAP = 273  # lag of the second term of the recurrence
_FEED_START = _STATE_LEN - _TAP  # 334, where the write index starts after seeding
_FRESH_OUTPUTS = _TAP  # outputs after seeding that read only words no output wrote
_MASK32 = (1 << 32) - 1
_MASK63 = (1 << 63) - 1
_MASK64 = (1 << 64) - 1
_INT32_MAX = (1 << 31) - 1  # the Lehmer modulus, a Mersenne prime
_INT64_MIN = -(1 << 63)
_LEHMER_MULTIPLIER = 48271
_ZERO_SEED_SUBSTITUTE = 89482311  # Go's replacement when seed mod (2**31 - 1) is 0

# Go's rngCooked is the state of a source seeded with 1 (using shifts 20 and 10 when
# mixing the Lehmer values) after 7.8e12 steps.
_COOKED_SEED = 1
_COOKED_STEPS = 7_800_000_000_000
_COOKED_SHIFTS = (20, 10)
_SEED_SHIFTS = (40, 20)  # the shifts that `Source.Seed` uses

# Kronecker substitution packs each polynomial coefficient into 18 bytes. A product
# coefficient is a sum of at most 607 products of two values below 2**64, so it stays
# below 2**138 and never carries into the next slot.
_SLOT_BYTES = 18

# Seeding works on "packed" integers that hold the 607 words in 64-bit little-endian
# slots, so each step is one big-integer operation instead of a Python loop.
_WORDS_FORMAT = struct.Struct(f"<{_STATE_LEN}Q")

_packed_cooked: int | None = None
_packed_powers: tuple[int, int, int] | None = None
_word_tables: tuple[list[int], list[int]] | None = None


class GoRand:
    """A Go `*rand.Rand` built as `rand.New(rand.NewSource(seed))`.

    Method names follow Go's, lower-cased. `int31n` is the unexported Lemire-style
    method that `Shuffle` uses, and it returns different values from Go's exported
    `Rand.Int31n`, which this class does not port. Not safe to share between threads.
    """

    __slots__ = ("_feed", "_tap", "_vec")

    def __init__(self, seed: int) -> None:
        self._vec: list[int] = []
        self._tap = 0
        self._feed = _FEED_START
        self.seed(seed)

    def seed(self, seed: int) -> None:
        """Reset the state as Go's `Source.Seed(seed)` does for a signed 64-bit seed."""
        _check_int_range("seed", seed, _INT64_MIN, _MASK63)
        words = _lehmer_words(_lehmer_start(seed), _SEED_SHIFTS) ^ _cooked_table()
        self._vec = _unpack_words(words)
        self._tap = 0
        self._feed = _FEED_START

    def uint64(self) -> int:
        """Advance the generator one step and return the new 64-bit word."""
        self._tap = (self._tap - 1) % _STATE_LEN
        self._feed = (self._feed - 1) % _STATE_LEN
        value = (self._vec[self._feed] + self._vec[self._tap]) & _MASK64
        self._vec[self._feed] = value
        return value

    def int63(self) -> int:
        """Return a value in [0, 2**63), the low 63 bits of the next word."""
        return self.uint64() & _MASK63

    def uint32(self) -> int:
        """Return a value in [0, 2**32), the top 32 of the 63 bits from `int63`."""
        return self.int63() >> 31

    def int31(self) -> int:
        """Return a value in [0, 2**31), the top 31 of the 63 bits from `int63`."""
        return self.int63() >> 32

    def int63n(self, n: int) -> int:
        """Return a value in [0, n) by rejection and modulo, as Go's `Rand.Int63n`."""
        _check_int_range("n", n, 1, _MASK63)
        if n & (n - 1) == 0:
            return self.int63() & (n - 1)

        limit = _MASK63 - (1 << 63) % n
        value = self.int63()
        while value > limit:
            value = self.int63()
        return value % n

    def int31n(self, n: int) -> int:
        """Return a value in [0, n) by Lemire's multiply-and-shift with rejection.

        This is Go's unexported `Rand.int31n`, the one `Shuffle` calls.
        """
        _check_int_range("n", n, 1, _INT32_MAX)
        product = self.uint32() * n
        low = product & _MASK32
        if low < n:
            # Go computes this as uint32(-n) % uint32(n), which is 2**32 mod n.
            threshold = (1 << 32) % n
            while low < threshold:
                product = self.uint32() * n
                low = product & _MASK32
        return product >> 32

    def shuffle(self, n: int, swap: Callable[[int, int], None]) -> None:
        """Shuffle n elements by calling swap(i, j) as Go's `Rand.Shuffle` does.

        The Fisher-Yates loop runs i from n - 1 down to 1 and calls swap for every i,
        even when j == i. Indices above 2**31 - 2 draw with `int63n`, the rest with
        `int31n`, as in Go.
        """
        _check_int_range("n", n, 0, _MASK63)
        i = n - 1
        # NOTE: no Go vector covers this branch, because it needs n > 2**31 - 1.
        while i > _INT32_MAX - 1:
            swap(i, self.int63n(i + 1))
            i -= 1
        while i > 0:
            swap(i, self.int31n(i + 1))
            i -= 1


def poc_slot_seed(epoch_index: int, address: str, model_id: str) -> int:
    """Derive gonka's shuffle seed for one (epoch, participant, model).

    The seed is the first 8 bytes of SHA-256 over the UTF-8 string
    "<epoch_index>_<address>_<model_id>", read big-endian as a signed 64-bit integer.
    """
    _check_int_range("epoch_index", epoch_index, 0, _MASK64)
    text = f"{epoch_index}_{address}_{model_id}"
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def poc_slot_flags(epoch_index: int, address: str, model_id: str, n: int) -> list[bool]:
    """Compute which of a participant's n ML nodes for a model get POC_SLOT = true.

    gonka shuffles the node positions 0..n-1 with a generator seeded by
    `poc_slot_seed`, and the first n // 2 positions of the shuffled list keep serving
    inference during PoC. Entry i of the result is the flag of node position i.
    """
    _check_int_range("n", n, 0, _MASK63)
    positions = shuffle_positions(poc_slot_seed(epoch_index, address, model_id), n)
    flags = [False] * n
    for position in positions[: n // 2]:
        flags[position] = True
    return flags


def shuffle_positions(seed: int, n: int) -> list[int]:
    """Return the list 0..n-1 shuffled as Go's `rand.New(rand.NewSource(seed))` does.

    The result equals calling `GoRand(seed).shuffle(n, swap)` on that list, and Go
    vectors pin both. Seeding a `GoRand` builds all 607 state words. A shuffle of n
    positions reads about n - 1 outputs, and each of the first 273 outputs after
    seeding adds two words that no earlier output wrote. So this computes just
    those words, which makes a small shuffle about ten times faster. A shuffle that
    needs more outputs runs on a full `GoRand`.
    """
    _check_int_range("seed", seed, _INT64_MIN, _MASK63)
    _check_int_range("n", n, 0, _MASK63)
    positions = list(range(n))
    if n <= 1:
        return positions  # Go's Shuffle draws nothing for n <= 1
    if n <= _FRESH_OUTPUTS + 1:
        try:
            return _shuffle_fresh(_lehmer_start(seed), positions)
        except _OutOfFreshWords:
            positions = list(range(n))

    def swap(i: int, j: int) -> None:
        positions[i], positions[j] = positions[j], positions[i]

    GoRand(seed).shuffle(n, swap)
    return positions


class _OutOfFreshWords(Exception):
    """A shuffle needs more outputs than `_shuffle_fresh` can compute."""


def _shuffle_fresh(start: int, positions: list[int]) -> list[int]:
    """Shuffle `positions` in place from the first 273 outputs of a seeded source.

    Output t (from 1) is word (334 - t) plus word (607 - t) of the freshly seeded
    state, and Go's `Shuffle` takes `int31n` of `Uint32` values, so only those words
    are built. Raises _OutOfFreshWords when the draws need output 274 or later.
    """
    powers, cooked = _seed_word_tables()
    step = 0

    def uint32() -> int:
        nonlocal step
        step += 1
        if step > _FRESH_OUTPUTS:
            raise _OutOfFreshWords
        value = _seeded_word(start, _FEED_START - step, powers, cooked)
        value += _seeded_word(start, _STATE_LEN - step, powers, cooked)
        return (value & _MASK63) >> 31

    for i in range(len(positions) - 1, 0, -1):
        j = _lemire_int31n(uint32, i + 1)
        positions[i], positions[j] = positions[j], positions[i]
    return positions


def _lemire_int31n(uint32: Callable[[], int], bound: int) -> int:
    """Draw from [0, bound) as `GoRand.int31n` does, from a Uint32 source."""
    product = uint32() * bound
    low = product & _MASK32
    if low < bound:
        threshold = (1 << 32) % bound
        while low < threshold:
            product = uint32() * bound
            low = product & _MASK32
    return product >> 32


def _seeded_word(start: int, index: int, powers: list[int], cooked: list[int]) -> int:
    """Return word `index` of the state that `seed` builds for Lehmer start `start`.

    Word k XORs Lehmer steps 21 + 3k, 22 + 3k and 23 + 3k, shifted left by 40, 20 and
    0 bits, with word k of the cooked table (see `_lehmer_words`).
    """
    base = 21 + 3 * index
    high = start * powers[base] % _INT32_MAX
    middle = start * powers[base + 1] % _INT32_MAX
    low = start * powers[base + 2] % _INT32_MAX
    return ((high << 40) ^ (middle << 20) ^ low ^ cooked[index]) & _MASK64


def _seed_word_tables() -> tuple[list[int], list[int]]:
    """Return 48271**i mod (2**31 - 1) for every Lehmer step, and rngCooked unpacked."""
    global _word_tables
    if _word_tables is None:
        count = 24 + 3 * _STATE_LEN
        powers = [1] * count
        for i in range(1, count):
            powers[i] = powers[i - 1] * _LEHMER_MULTIPLIER % _INT32_MAX
        _word_tables = (powers, _unpack_words(_cooked_table()))
    return _word_tables


def _check_int_range(name: str, value: int, low: int, high: int) -> None:
    """Raise InvalidInput unless value is an int (not a bool) in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            f"invalid {name} {value!r}: not an integer",
            hint=f"pass an int in [{low}, {high}]",
        )
    if not low <= value <= high:
        raise InvalidInput(
            f"invalid {name} {value}: out of range",
            hint=f"pass an int in [{low}, {high}]",
        )


def _lehmer_start(seed: int) -> int:
    """Map a 64-bit seed to the Lehmer generator's starting value in [1, 2**31 - 2].

    Go takes the truncated remainder and adds the modulus when it is negative. That
    equals Python's floored remainder, so `%` gives the same value for negative seeds.
    """
    start = seed % _INT32_MAX
    if start == 0:
        return _ZERO_SEED_SUBSTITUTE
    return start


def _lehmer_words(start: int, shifts: tuple[int, int]) -> int:
    """Build the 607 initial words from a Lehmer generator started at `start`, packed.

    After 20 discarded steps, each word is the XOR of three consecutive Lehmer values,
    the first two shifted left by shifts[0] and shifts[1] bits, truncated to 64 bits.
    """
    high, mid = shifts
    first, second, third = (
        _lehmer_values(start, powers) for powers in _lehmer_powers()
    )
    return (
        ((first & _repeat_word((1 << (64 - high)) - 1)) << high)
        ^ ((second & _repeat_word((1 << (64 - mid)) - 1)) << mid)
        ^ third
    )


def _lehmer_values(start: int, packed_powers: int) -> int:
    """Multiply `start` by packed powers of 48271 and reduce each slot mod 2**31 - 1.

    Each slot product is below 2**62, so it stays in its slot. Folding the bits above
    bit 30 onto the low 31 bits reduces modulo the Mersenne prime 2**31 - 1, and two
    folds bring every slot into [1, 2**31 - 2]. No slot ends at 0 or 2**31 - 1, since
    neither factor is divisible by the prime.
    """
    low_bits = _repeat_word(_INT32_MAX)
    values = start * packed_powers
    values = (values & low_bits) + ((values >> 31) & low_bits)
    return (values & low_bits) + ((values >> 31) & low_bits)


def _lehmer_powers() -> tuple[int, int, int]:
    """Return 48271**i mod (2**31 - 1) for the three Lehmer steps of each word, packed.

    Word k uses steps 21 + 3k, 22 + 3k and 23 + 3k after the start value, and step i
    yields start * 48271**i mod (2**31 - 1). Go evaluates each step with Schrage's
    method, which computes the same product.
    """
    global _packed_powers
    if _packed_powers is None:
        power = pow(_LEHMER_MULTIPLIER, 20, _INT32_MAX)
        steps = []
        for _ in range(3 * _STATE_LEN):
            power = power * _LEHMER_MULTIPLIER % _INT32_MAX
            steps.append(power)
        first, second, third = steps[0::3], steps[1::3], steps[2::3]
        _packed_powers = (_pack_words(first), _pack_words(second), _pack_words(third))
    return _packed_powers


def _cooked_table() -> int:
    """Return Go's rngCooked table as packed words, computing it on first use."""
    global _packed_cooked
    if _packed_cooked is None:
        words = _lehmer_words(_lehmer_start(_COOKED_SEED), _COOKED_SHIFTS)
        state = _advance_state(_unpack_words(words), _COOKED_STEPS)
        _packed_cooked = _pack_words(state)
    return _packed_cooked


def _repeat_word(value: int) -> int:
    """Return a packed integer with the 64-bit `value` in every slot."""
    return int.from_bytes(value.to_bytes(8, "little") * _STATE_LEN, "little")


def _pack_words(words: list[int]) -> int:
    """Pack 607 values below 2**64 into one integer, 64 bits per slot."""
    return int.from_bytes(_WORDS_FORMAT.pack(*words), "little")


def _unpack_words(packed: int) -> list[int]:
    """Split a packed integer back into its 607 64-bit words."""
    return list(_WORDS_FORMAT.unpack(packed.to_bytes(_STATE_LEN * 8, "little")))


def _advance_state(initial: list[int], steps: int) -> list[int]:
    """Return the word array of a freshly seeded source after `steps` calls to Uint64.

    Number the words that the source writes x[1], x[2], ... and let x[j] for
    -606 <= j <= 0 be the seeded word at index (334 - j) mod 607. Then
    x[k] = x[k-607] + x[k-273] for k >= 1, and after `steps` calls index p contains x[k]
    for the k in [steps - 606, steps] with (334 - k) mod 607 == p. The sequence obeys
    the characteristic polynomial z**607 - z**334 - 1, so with z**steps reduced modulo
    it to sum(c[i] * z**i), x[steps - 606 + j] = sum(c[i] * x[-606 + i + j]). That
    takes about log2(steps) polynomial squarings (43 for Go's 7.8e12 steps).
    """
    history = [
        initial[(_FEED_START - j) % _STATE_LEN] for j in range(-(_STATE_LEN - 1), 1)
    ]
    for t in range(_STATE_LEN, 2 * _STATE_LEN - 1):
        history.append((history[t - _TAP] + history[t - _STATE_LEN]) & _MASK64)

    coefficients = _power_of_z(steps)
    tail = _correlate(coefficients, history)

    state = [0] * _STATE_LEN
    for j, value in enumerate(tail):
        k = steps - (_STATE_LEN - 1) + j
        state[(_FEED_START - k) % _STATE_LEN] = value
    return state


def _power_of_z(exponent: int) -> list[int]:
    """Return the coefficients of z**exponent mod (z**607 - z**334 - 1), mod 2**64."""
    result = [1] + [0] * (_STATE_LEN - 1)
    for bit in bin(exponent)[2:]:
        result = _reduce(_poly_square(result))
        if bit == "1":
            result = _times_z(result)
    return result


def _times_z(poly: list[int]) -> list[int]:
    """Multiply a reduced polynomial by z, using z**607 = z**334 + 1."""
    top = poly[-1]
    shifted = [0, *poly[:-1]]
    shifted[0] = top
    shifted[_STATE_LEN - _TAP] = (shifted[_STATE_LEN - _TAP] + top) & _MASK64
    return shifted


def _reduce(poly: list[int]) -> list[int]:
    """Reduce a polynomial of degree < 1213 modulo z**607 - z**334 - 1, mod 2**64."""
    coefficients = list(poly)
    for degree in range(len(coefficients) - 1, _STATE_LEN - 1, -1):
        top = coefficients[degree]
        if top:
            coefficients[degree - _TAP] += top
            coefficients[degree - _STATE_LEN] += top
    return [value & _MASK64 for value in coefficients[:_STATE_LEN]]


def _poly_square(poly: list[int]) -> list[int]:
    """Square a polynomial with one big-integer product (Kronecker substitution)."""
    packed = _pack_coefficients(poly)
    return _unpack_coefficients(packed * packed, 2 * len(poly) - 1)


def _correlate(coefficients: list[int], history: list[int]) -> list[int]:
    """Return sum(coefficients[i] * history[i + j]) mod 2**64 for j in 0..606."""
    packed = _pack_coefficients(coefficients[::-1]) * _pack_coefficients(history)
    product = _unpack_coefficients(packed, len(coefficients) + len(history))
    window = product[_STATE_LEN - 1 : _STATE_LEN - 1 + _STATE_LEN]
    return [value & _MASK64 for value in window]


def _pack_coefficients(values: list[int]) -> int:
    """Pack non-negative values below 2**64 into one integer, one slot per value."""
    data = b"".join(value.to_bytes(_SLOT_BYTES, "little") for value in values)
    return int.from_bytes(data, "little")


def _unpack_coefficients(packed: int, count: int) -> list[int]:
    """Split a product of `_pack_coefficients` results into `count` slot values."""
    data = packed.to_bytes(count * _SLOT_BYTES, "little")
    return [
        int.from_bytes(data[offset : offset + _SLOT_BYTES], "little")
        for offset in range(0, count * _SLOT_BYTES, _SLOT_BYTES)
    ]
