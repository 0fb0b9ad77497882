"""Fast reading and writing of the state snapshot's JSON.

Parsing a large state creates about one Python object per 50 bytes of JSON. The
cyclic garbage collector runs after every 700 new container objects and rescans
all of them each time. On a 50 MB state that more than doubles the parse time,
and each later full collection costs hundreds of milliseconds more. The state
holds no reference cycles, so parse_state() pauses the collector while it parses.
In a command that runs once (inferctl.freeze_parsed_states), it then moves a large
state out of the collector's reach (gc.freeze). Reference counting still frees
the state's objects when they are dropped.
"""

from __future__ import annotations

import bisect
import gc
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import orjson

import inferctl

# States at least this large (bytes of JSON) are frozen out of the collector's scans.
FREEZE_BYTES = 1 << 20


def parse_state(data: bytes) -> Any:
    """Parse snapshot JSON with the cyclic garbage collector paused."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        value = orjson.loads(data)
    finally:
        if was_enabled:
            gc.enable()
    if len(data) >= FREEZE_BYTES and inferctl.freeze_parsed_states:
        gc.freeze()
    return value


# ----- the sectioned layout ---------------------------------------------------------
#
# The state line is the canonical JSON of the state. The snapshot's third line is an
# index of it. For each top-level key, the index gives the offset and length of its
# value in the state line and the blake3 of those bytes. A large object value
# (participants, hardware, ...) also gets a table of chunks of about CHUNK_BYTES,
# each with its first key, offset, length and blake3. A reader that needs a few
# keys, or one participant, reads and checks only those bytes (LazyState), so its
# cost does not grow with the state.

CHUNK_MIN_ENTRIES = 64  # an object value with this many members is split in chunks
CHUNK_BYTES = 32 * 1024  # the target size of a chunk; actual sizes vary around it
# Smaller states get no index, because parsing one whole costs about as much as
# reading an index would.
INDEX_MIN_BYTES = 256 * 1024


def encode_state(state: dict[str, Any]) -> tuple[bytes, bytes]:
    """Return the canonical bytes of `state` and the index line that maps them.

    The bytes are exactly canonical_bytes(state): keys sorted by code point (the
    order of Python's str comparison, and of orjson's OPT_SORT_KEYS), each value
    in its canonical form. The index is empty for a state under INDEX_MIN_BYTES
    or with a key that is not a string. canonical_bytes raises TypeError for what
    cannot be stored.
    """
    from inferctl.canonical import canonical_bytes, digest

    if not all(type(key) is str for key in state):
        return canonical_bytes(state), b""
    parts = [b"{"]
    size = 1
    sections: dict[str, list[Any]] = {}
    chunks: dict[str, list[list[Any]]] = {}
    for position, key in enumerate(sorted(state)):
        label = (b"," if position else b"") + orjson.dumps(key) + b":"
        parts.append(label)
        size += len(label)
        value = state[key]
        if _is_chunkable(value):
            length, chunks[key] = _encode_chunked(value, size, parts)
            sections[key] = [size, length, ""]
        else:
            body = canonical_bytes(value)
            sections[key] = [size, len(body), digest(body)]
            parts.append(body)
            length = len(body)
        size += length
    parts.append(b"}")
    if size + 1 < INDEX_MIN_BYTES:
        return b"".join(parts), b""
    index = canonical_bytes({"chunks": chunks, "sections": sections})
    return b"".join(parts), index


def _is_chunkable(value: Any) -> bool:
    return (type(value) is dict and len(value) >= CHUNK_MIN_ENTRIES
            and all(type(key) is str for key in value))


def _encode_chunked(value: dict[str, Any], start: int,
                    parts: list[Any]) -> tuple[int, list[list[Any]]]:
    """Append an object's bytes to `parts` chunk by chunk; return its size and table.

    `start` is the offset of the object's `{` in the state line. A chunk is a run
    of members joined by commas, without braces; one comma separates two chunks.
    Each chunk is one orjson call over a slice of the sorted keys, because one
    call per member costs about twice as much. Chunks stay memoryviews of orjson's
    output, so no bytes are copied until the state line is joined.
    """
    from inferctl.canonical import canonical_bytes, digest

    keys = sorted(value)
    per_chunk = _members_per_chunk(value, keys)
    table = []
    offset = start + 1
    parts.append(b"{")
    for first in range(0, len(keys), per_chunk):
        part = keys[first:first + per_chunk]
        chunk = memoryview(canonical_bytes({key: value[key] for key in part}))[1:-1]
        table.append([part[0], offset, len(chunk), digest(chunk)])
        parts.append(chunk)
        parts.append(b",")
        offset += len(chunk) + 1
    parts[-1] = b"}"
    return offset - start, table


def _members_per_chunk(value: dict[str, Any], keys: list[str]) -> int:
    """Estimate how many members make CHUNK_BYTES, from up to 16 evenly spread ones."""
    from inferctl.canonical import canonical_bytes

    sample = keys[::max(1, len(keys) // 16)][:16]
    size = len(canonical_bytes({key: value[key] for key in sample}))
    return max(1, CHUNK_BYTES * len(sample) // max(1, size))


class SnapshotChanged(Exception):
    """A section of the snapshot did not match its digest."""


class LazyState(Mapping[str, Any]):
    """A read-only view of a snapshot's state that parses top-level keys on use.

    Values come back as plain dicts and lists, except chunked objects, which come
    back as LazyObject. Every byte read is checked against the index's digests.
    On a mismatch the view loads the whole state with `load_all`, the ledger's
    ordinary read, which rebuilds a damaged snapshot, and serves that instead.
    The view keeps the snapshot file open, so a writer that replaces the snapshot
    meanwhile does not change what it returns.
    """

    def __init__(self, handle: Any, base: int, index: dict[str, Any],
                 load_all: Callable[[], dict[str, Any]]) -> None:
        self._handle = handle
        self._base = base
        self._sections: dict[str, list[Any]] = index["sections"]
        self._chunks: dict[str, list[list[Any]]] = index["chunks"]
        self._load_all = load_all
        self._cache: dict[str, Any] = {}
        self._full: dict[str, Any] | None = None

    def __getitem__(self, key: str) -> Any:
        if self._full is not None:
            return self._full[key]
        if key in self._cache:
            return self._cache[key]
        spec = self._sections.get(key) if type(key) is str else None
        if spec is None:
            raise KeyError(key)
        try:
            value = self._section(key, spec)
        except SnapshotChanged:
            return self._fall_back()[key]
        self._cache[key] = value
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._full if self._full is not None else self._sections)

    def __len__(self) -> int:
        return len(self._full if self._full is not None else self._sections)

    def _section(self, key: str, spec: list[Any]) -> Any:
        offset, length, expected = spec
        if key in self._chunks:
            return LazyObject(self, key, spec, self._chunks[key])
        return parse_state(self.read_checked(offset, length, expected))

    def read(self, offset: int, length: int) -> bytes:
        """Return `length` bytes of the state line from `offset`."""
        data = os.pread(self._handle.fileno(), length, self._base + offset)
        if len(data) != length:
            raise SnapshotChanged(offset)
        return data

    def read_checked(self, offset: int, length: int, expected: str) -> bytes:
        """Return bytes of the state line, raising SnapshotChanged unless they match."""
        from inferctl.canonical import digest

        data = self.read(offset, length)
        if digest(data) != expected:
            raise SnapshotChanged(offset)
        return data

    def _fall_back(self) -> dict[str, Any]:
        if self._full is None:
            self._full = self._load_all()
        return self._full

    def fall_back(self) -> dict[str, Any]:
        """Load the whole state the ordinary way and serve it from now on."""
        return self._fall_back()


class LazyObject(Mapping[str, Any]):
    """A chunked object of a LazyState: a lookup parses only the chunk of its key."""

    def __init__(self, owner: LazyState, key: str, spec: list[Any],
                 table: list[list[Any]]) -> None:
        self._owner = owner
        self._key = key
        self._spec = spec
        self._table = table
        self._firsts = [row[0] for row in table]
        self._parsed: dict[int, dict[str, Any]] = {}
        self._whole: dict[str, Any] | None = None

    def __getitem__(self, key: str) -> Any:
        if self._whole is not None:
            return self._whole[key]
        if type(key) is not str:
            raise KeyError(key)
        position = bisect.bisect_right(self._firsts, key) - 1
        if position < 0:
            raise KeyError(key)
        return self._chunk(position)[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load_whole())

    def __len__(self) -> int:
        return len(self._load_whole())

    def _chunk(self, position: int) -> dict[str, Any]:
        found = self._parsed.get(position)
        if found is None:
            _first, offset, length, expected = self._table[position]
            try:
                data = self._owner.read_checked(offset, length, expected)
            except SnapshotChanged:
                return self._from_full()
            found = parse_state(b"{" + data + b"}")
            self._parsed[position] = found
        return found

    def _load_whole(self) -> dict[str, Any]:
        """Parse the whole object after checking every chunk and separator."""
        if self._whole is None:
            try:
                self._whole = parse_state(self._checked_bytes())
            except SnapshotChanged:
                self._whole = self._from_full()
        return self._whole

    def _checked_bytes(self) -> bytes:
        from inferctl.canonical import digest

        offset, length, _digest = self._spec
        data = self._owner.read(offset, length)
        if data[:1] != b"{" or data[-1:] != b"}":
            raise SnapshotChanged(offset)
        expected_start = offset + 1
        for position, (_first, start, size, chunk_digest) in enumerate(self._table):
            local = start - offset
            if start != expected_start or digest(data[local:local + size]) != chunk_digest:
                raise SnapshotChanged(start)
            last = position == len(self._table) - 1
            if data[local + size:local + size + 1] != (b"}" if last else b","):
                raise SnapshotChanged(start + size)
            expected_start = start + size + 1
        if expected_start != offset + length:
            raise SnapshotChanged(offset)
        return data

    def _from_full(self) -> dict[str, Any]:
        whole: dict[str, Any] = self._owner.fall_back()[self._key]
        self._whole = whole
        return whole
