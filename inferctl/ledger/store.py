"""The ledger directory: hash-chained records in segment files, plus a state snapshot.

Layout of a ledger home (see docs/ledger.md for the full description):

    LEDGER                     format marker: "inferctl-ledger <format>\n"
    segments/<height>.jsonl    records, one canonical JSON object a line; a segment
                               contains SEGMENT_RECORDS heights and is named after the
                               first of them, zero-padded to 12 digits
    documents/<hex>.json       genesis documents, named by the blake3 of their bytes
    snapshot.json              derived state at some height (header line, state line)
    lock, lock.json            the writer lock and who holds it

Writers take the lock, check the tail, apply, append, fsync, then replace the snapshot.
Readers take no lock: they read the snapshot and the last complete record, and catch
up by applying the few records past the snapshot when a writer has not yet swapped it.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from inferctl import LEDGER_FORMAT, get_logger
from inferctl.canonical import DIGEST_PREFIX, ZERO_DIGEST, canonical_bytes, digest
from inferctl.errors import (
    ChainBroken,
    Conflict,
    InferctlError,
    InvalidInput,
    NotFound,
    StorageError,
)
from inferctl.ledger.snapshot import encode_state, parse_state
from inferctl.txs import GENESIS, TxContext, apply_tx

log = get_logger("inferctl.ledger")

SEGMENT_RECORDS = 10_000
MARKER = "LEDGER"
MARKER_TEXT = f"inferctl-ledger {LEDGER_FORMAT}\n"
RECORD_KEYS = ("body", "hash", "height", "prev_hash", "time", "type")
_RECORD_KEY_SET = frozenset(RECORD_KEYS)

SNAPSHOT_KEYS = ("format", "head", "height", "records_bytes", "records_digest",
                 "state_digest")
# A snapshot with an index line (inferctl.ledger.snapshot) also has these two.
INDEXED_SNAPSHOT_KEYS = tuple(sorted((*SNAPSHOT_KEYS, "index_digest", "state_bytes")))
# A reader that meets an inconsistent ledger tries again this often before it reports
# damage, because a writer may have appended or cut the tail between two of its reads.
READ_ATTEMPTS = 4
# Test hook: names a point in the write path where the writer stops for a minute, so
# tests can kill it there. See pause_for_test.
TEST_PAUSE_ENV = "INFERCTL_TEST_PAUSE_AT"

@contextlib.contextmanager
def paused_collector() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while transactions are applied.

    Handlers build many small objects on a large state, and each automatic full
    collection rescans all of them. On a 10,000-participant formation that made the
    handler about three times slower and superlinear in the participant count. The
    state and records hold no reference cycles, so nothing is left uncollected.
    Commits and replays both run under it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# Counts full and partial replays in this process, so tests can assert that a read
# path never replays when the snapshot is current.
replay_counter = {"full": 0, "records": 0}


@dataclass
class Record:
    height: int
    time: str
    type: str
    body: dict[str, Any]
    prev_hash: str
    hash: str
    # The record's line without its newline, when seal_record made it: the bytes
    # are kept from the moment of hashing, so the line always matches the hash.
    line: bytes | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "body": self.body,
            "hash": self.hash,
            "height": self.height,
            "prev_hash": self.prev_hash,
            "time": self.time,
            "type": self.type,
        }


def seal_record(height: int, time: str, tx_type: str, body: dict, prev: str) -> Record:
    """Build a record and compute its hash over the canonical bytes of the rest."""
    unsealed = {"body": body, "height": height, "prev_hash": prev, "time": time,
                "type": tx_type}
    hashed = canonical_bytes(unsealed)
    record_hash = digest(hashed)
    # The stored line is the same bytes with the hash member put in before
    # `,"height":`, where sorted keys place it (see stored_hash_matches).
    at = hashed.rfind(b',"height":')
    line = hashed[:at] + b',"hash":"' + record_hash.encode() + b'"' + hashed[at:]
    return Record(height, time, tx_type, body, prev, record_hash, line)


def segment_start(height: int) -> int:
    return (height - 1) // SEGMENT_RECORDS * SEGMENT_RECORDS + 1


def segment_name(start: int) -> str:
    return f"{start:012d}.jsonl"


@dataclass
class Snapshot:
    height: int
    head: str
    state: dict[str, Any]
    # Size and blake3 of the stored lines of records 1..height, so a writer can
    # check that no earlier record changed without parsing every record.
    records_bytes: int = 0
    records_digest: str = ""


class Ledger:
    """One ledger home directory."""

    def __init__(self, home: str) -> None:
        self.home = home
        self.segments_dir = os.path.join(home, "segments")
        self.documents_dir = os.path.join(home, "documents")
        self.snapshot_path = os.path.join(home, "snapshot.json")
        self.marker_path = os.path.join(home, MARKER)
        self.lock_path = os.path.join(home, "lock")

    # ----- existence and layout -------------------------------------------------

    def exists(self) -> bool:
        return os.path.exists(self.marker_path) or self._segment_starts() != []

    def require(self) -> None:
        """Raise NotFound with the fix when there is no ledger at this home."""
        if os.path.isfile(self.home):
            raise InvalidInput(
                f"--home {self.home} is a file, expected a ledger directory",
                hint="pass a directory, or unset INFERCTL_HOME",
            )
        if not self.exists():
            raise NotFound(
                f"no ledger at {self.home}",
                hint="create one with `inferctl genesis init --chain-id ID` or "
                "`inferctl genesis import FILE`, or pass --home",
            )
        self._check_marker()

    def _check_marker(self) -> None:
        try:
            with open(self.marker_path, "rb") as handle:
                text = handle.read(200).decode("utf-8", errors="replace")
        except FileNotFoundError:
            raise ChainBroken(
                f"{self.marker_path} is missing", path=self.marker_path,
                hint="restore it or run `inferctl ledger verify`",
            ) from None
        except OSError as exc:
            raise StorageError(f"cannot read {self.marker_path}: {exc.strerror}") from None
        if text != MARKER_TEXT:
            raise ChainBroken(
                f"{self.marker_path}: unsupported ledger format {text.strip()!r}, "
                f"this inferctl reads {MARKER_TEXT.strip()!r}",
                path=self.marker_path,
            )

    def _segment_starts(self) -> list[int]:
        try:
            names = os.listdir(self.segments_dir)
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:
            raise StorageError(f"cannot list {self.segments_dir}: {exc.strerror}") from None
        starts = []
        for name in names:
            stem, dot, suffix = name.partition(".")
            if suffix == "jsonl" and stem.isascii() and stem.isdigit() and len(stem) == 12:
                starts.append(int(stem))
            elif not name.startswith(".tmp"):
                raise ChainBroken(
                    f"unexpected file {name!r} in {self.segments_dir}",
                    path=os.path.join(self.segments_dir, name),
                    hint="move it out of the ledger directory",
                )
        return sorted(starts)

    def segment_path(self, start: int) -> str:
        return os.path.join(self.segments_dir, segment_name(start))

    def document_path(self, doc_digest: str) -> str:
        hex_part = doc_digest.removeprefix("blake3:")
        if len(hex_part) != 64 or any(c not in "0123456789abcdef" for c in hex_part):
            raise ChainBroken(f"invalid document digest {doc_digest!r}", height=1)
        return os.path.join(self.documents_dir, hex_part + ".json")

    # ----- reading records ------------------------------------------------------

    def _tail(self) -> tuple[Record | None, bytes]:
        """Return the last complete record and any bytes after it (a torn write)."""
        starts = self._segment_starts()
        while starts:
            path = self.segment_path(starts[-1])
            line, torn = _last_line(path)
            if line is not None:
                return self._parse_last(line, starts[-1]), torn
            if torn:
                return self._record_before(starts), torn
            starts.pop()
        return None, b""

    def _record_before(self, starts: list[int]) -> Record | None:
        for start in reversed(starts[:-1]):
            line, _ = _last_line(self.segment_path(start))
            if line is not None:
                return self._parse_last(line, start)
        return None

    def _parse_last(self, line: bytes, start: int) -> Record:
        """Parse the last complete line of a segment; name its height if it is bad."""
        path = self.segment_path(start)
        try:
            return parse_record(line, path)
        except ChainBroken as exc:
            if exc.height is None:
                exc.height = start + _count_lines(path) - 1
                exc.message = f"{exc.message} (height {exc.height})"
            raise

    def iter_records(self, start: int = 1) -> Iterator[Record]:
        """Yield complete records from height `start`, checking heights as it goes."""
        for line, path, expected in self._iter_lines(start):
            record = parse_record(line, path, expected)
            if record.height != expected:
                raise ChainBroken(
                    f"record at height {expected} in {path} has height "
                    f"{record.height}: a record is missing, duplicated or reordered",
                    height=expected, path=path,
                    hint="run `inferctl ledger verify` for the full report",
                )
            yield record

    def _iter_lines(self, start: int) -> Iterator[tuple[bytes, str, int]]:
        height = 1
        for seg_start in self._segment_starts():
            path = self.segment_path(seg_start)
            if seg_start != height:
                raise ChainBroken(
                    f"segment {path} starts at height {seg_start}, expected {height}",
                    height=height, path=path,
                )
            if seg_start + SEGMENT_RECORDS <= start:
                height += SEGMENT_RECORDS
                continue
            try:
                handle = open(path, "rb")  # noqa: SIM115 (closed by the `with` below)
            except OSError as exc:
                raise StorageError(f"cannot read {path}: {exc.strerror}") from None
            with handle:
                for raw in handle:
                    if not raw.endswith(b"\n"):
                        return  # torn tail: never acknowledged
                    if height >= start:
                        yield raw[:-1], path, height
                    height += 1
            if height != seg_start + SEGMENT_RECORDS:
                return

    def record_at(self, height: int) -> Record:
        for record in self.iter_records(height):
            return record
        raise NotFound(f"no record at height {height}", hint="see `inferctl ledger log`")

    # ----- snapshot ---------------------------------------------------------------

    def read_snapshot(self, *, with_state: bool = True) -> Snapshot | None:
        """Return the snapshot, or None when it is missing or fails its own digests.

        With `with_state=False` the state is hashed in pieces but not parsed, so
        memory stays small, and the Snapshot returned has an empty state.
        """
        try:
            with open(self.snapshot_path, "rb") as handle:
                header_line = handle.readline()
                if with_state:
                    state_bytes = handle.readline()
                    found, rest = "", b""
                    ended = state_bytes.endswith(b"\n")
                    line_size = len(state_bytes) - 1 if ended else -1
                else:
                    state_bytes = b""
                    found, line_size, rest = _digest_of_line(handle)
                rest += handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"cannot read {self.snapshot_path}: {exc.strerror}") from None
        try:
            header = _checked_snapshot_header(header_line)
            if header is None or line_size < 0 or not _index_line_fits(header, line_size,
                                                                       rest):
                log.warning("snapshot is damaged; rebuilding it from the records")
                return None
            if (found or digest(state_bytes[:-1])) != header["state_digest"]:
                log.warning("snapshot digest does not match; rebuilding it")
                return None
            state = parse_state(state_bytes) if with_state else {}
        except orjson.JSONDecodeError:
            log.warning("snapshot is unreadable; rebuilding it")
            return None
        if not isinstance(state, dict):
            return None
        return Snapshot(header["height"], header["head"], state,
                        header["records_bytes"], header["records_digest"])

    def write_snapshot(self, height: int, head: str, state: dict[str, Any],
                       state_bytes: bytes | None = None, index: bytes = b"") -> None:
        """Replace the snapshot with `state` at `height`, atomically.

        `state_bytes` and `index` come from inferctl.ledger.snapshot.encode_state
        when the caller has them already; without an index the snapshot has no
        third line, and readers load the whole state.
        """
        if state_bytes is None:
            state_bytes, index = encode_state(state)
        fingerprint = self.records_fingerprint(height)
        if fingerprint is None:
            raise ChainBroken(f"cannot write a snapshot at height {height}: the ledger "
                              f"has fewer records", height=height)
        header: dict[str, Any] = {
            "format": LEDGER_FORMAT, "head": head, "height": height,
            "records_bytes": fingerprint[0], "records_digest": fingerprint[1],
            "state_digest": digest(state_bytes),
        }
        if index:
            header["index_digest"] = digest(index)
            header["state_bytes"] = len(state_bytes)
        header["digest"] = digest(canonical_bytes(header))
        data = canonical_bytes(header) + b"\n" + state_bytes + b"\n"
        if index:
            data += index + b"\n"
        atomic_write(self.snapshot_path, data, pause_point="mid-snapshot")

    def records_fingerprint(self, height: int) -> tuple[int, str] | None:
        """Return the size and blake3 of the stored lines of records 1..height.

        Returns None when the ledger has fewer than `height` complete records.
        """
        tail, torn = self._tail()
        if tail is not None and tail.height == height and not torn:
            # The usual case, right after an append: every stored byte counts.
            total = sum(os.path.getsize(self.segment_path(s))
                        for s in self._segment_starts())
            found = self._digest_prefix(total)
            return None if found is None else (total, found)
        return self._fingerprint_by_lines(height)

    def _fingerprint_by_lines(self, height: int) -> tuple[int, str] | None:
        import blake3

        hasher = blake3.blake3()
        size = 0
        count = 0
        for raw, _path, position in self._iter_lines(1):
            if position > height:
                break
            hasher.update(raw)
            hasher.update(b"\n")
            size += len(raw) + 1
            count = position
        if count != height:
            return None
        return size, DIGEST_PREFIX + hasher.hexdigest()

    def _digest_prefix(self, size: int) -> str | None:
        """Return the blake3 of the first `size` bytes of the segments, in order."""
        import blake3

        hasher = blake3.blake3()
        left = size
        for start in self._segment_starts():
            with open(self.segment_path(start), "rb") as handle:
                while left and (chunk := handle.read(min(left, 1 << 20))):
                    hasher.update(chunk)
                    left -= len(chunk)
            if not left:
                break
        return DIGEST_PREFIX + hasher.hexdigest() if left == 0 else None

    def _fingerprint_matches(self, snapshot: Snapshot) -> bool:
        """Check that the stored records 1..height are the bytes the snapshot saw."""
        try:
            found = self._digest_prefix(snapshot.records_bytes)
        except (ChainBroken, OSError):
            return False
        return found == snapshot.records_digest

    # ----- state ------------------------------------------------------------------

    def replay(self, upto: int | None = None) -> tuple[dict[str, Any], Record | None]:
        """Rebuild the state from height 1 (to `upto` if given), checking every hash."""
        replay_counter["full"] += 1
        state: dict[str, Any] = {}
        last = self._apply_records(state, None, 1, upto)
        return state, last

    def _apply_records(
        self, state: dict[str, Any], previous: Record | None, start: int,
        upto: int | None,
    ) -> Record | None:
        with paused_collector():
            return self._apply_each(state, previous, start, upto)

    def _apply_each(
        self, state: dict[str, Any], previous: Record | None, start: int,
        upto: int | None,
    ) -> Record | None:
        prev_hash = previous.hash if previous else ZERO_DIGEST
        prev_time = previous.time if previous else ""
        last = previous
        for record in self.iter_records(start):
            if upto is not None and record.height > upto:
                break
            check_record(record, prev_hash, prev_time, self._path_for(record.height))
            replay_counter["records"] += 1
            ctx = TxContext(record.height, _time_ns(record.time), self.home)
            try:
                apply_tx(state, record.type, record.body, ctx)
            except InferctlError as exc:
                raise ChainBroken(
                    f"record {record.height} in {self._path_for(record.height)} does "
                    f"not apply: {exc.message}",
                    height=record.height, path=self._path_for(record.height),
                ) from None
            prev_hash, prev_time, last = record.hash, record.time, record
        return last

    def _path_for(self, height: int) -> str:
        return self.segment_path(segment_start(height))

    def load_state(self, *, lazy: bool = False) -> tuple[dict[str, Any], Record | None]:
        """Return the latest state and the head record, replaying only what is needed.

        Readers take no lock, so a writer may append or cut the tail between two of
        their reads. A reader that finds the ledger inconsistent reads it again a few
        times before it reports damage.

        With `lazy=True`, when the snapshot is current and has an index, the state
        is a read-only inferctl.ledger.snapshot.LazyState that parses each
        top-level key on first use; otherwise it is the plain dict.
        """
        attempt = 1
        while True:
            try:
                opened = self._lazy_state() if lazy else None
                return opened or self._read_state_once()
            except ChainBroken:
                if attempt >= READ_ATTEMPTS:
                    raise
                time.sleep(0.02 * attempt)
                attempt += 1

    def _read_state_once(self) -> tuple[dict[str, Any], Record | None]:
        # The snapshot is read before the tail: writers append before they replace
        # the snapshot, so a snapshot read first is never ahead of a tail read later.
        snapshot = self.read_snapshot()
        tail, torn = self._tail()
        if tail is None:
            raise NotFound(f"no records in the ledger at {self.home}",
                           hint="create one with `inferctl genesis init`")
        if snapshot is not None and snapshot.height > tail.height:
            if not (torn and snapshot.height == tail.height + 1):
                self._snapshot_ahead(snapshot, tail)
            log.warning("the last record (height %d) is torn; the state is rebuilt "
                        "without it", snapshot.height)
            snapshot = None
        if snapshot is None:
            return self.replay()
        base = tail if snapshot.height == tail.height else self.record_at(snapshot.height)
        self._check_snapshot_head(snapshot, base)
        if base is tail or torn:
            # Complete records followed by torn bytes belong to a write that is still
            # running or was cut short; the next writer decides what stays.
            return snapshot.state, base
        last = self._apply_records(snapshot.state, base, snapshot.height + 1, tail.height)
        return snapshot.state, last

    def _lazy_state(self) -> tuple[Any, Record] | None:
        """Open a current, indexed snapshot as a LazyState; None: read it fully."""
        from inferctl.ledger.snapshot import LazyState

        try:
            handle = open(self.snapshot_path, "rb")  # noqa: SIM115 - the view keeps it
        except OSError:
            return None
        try:
            found = self._lazy_parts(handle)
        except (OSError, orjson.JSONDecodeError):
            found = None
        if found is None:
            handle.close()
            return None
        base, index, tail = found
        state = LazyState(handle, base, index, lambda: self._read_state_once()[0])
        return state, tail

    def _lazy_parts(self, handle: Any) -> tuple[int, Any, Record] | None:
        header = _checked_snapshot_header(handle.readline())
        if header is None or "index_digest" not in header:
            return None
        base = handle.tell()
        handle.seek(base + header["state_bytes"])
        if handle.read(1) != b"\n":
            return None
        line = handle.readline()
        if not line.endswith(b"\n") or digest(line[:-1]) != header["index_digest"]:
            return None
        tail, _torn = self._tail()
        if tail is None or (tail.height, tail.hash) != (header["height"], header["head"]):
            return None
        return base, orjson.loads(line), tail

    def _check_snapshot_head(self, snapshot: Snapshot, record: Record) -> None:
        if record.hash != snapshot.head:
            path = self._path_for(record.height)
            raise ChainBroken(
                f"record {record.height} in {path} does not match the snapshot head "
                f"{snapshot.head}: the record was changed after the snapshot was taken",
                height=record.height, path=path,
                hint="run `inferctl ledger verify`",
            )

    def load_for_write(self, recovery: Any = None) -> tuple[dict[str, Any], Record | None]:
        """Check the ledger for damage, cut an unfinished write, and load the state.

        Nothing is changed unless every check passes. The records up to the snapshot
        are checked against the snapshot's fingerprint, one pass of blake3 over the
        stored bytes. When the fingerprint does not match, or there is no usable
        snapshot, every record is verified instead. `recovery` is a plan from
        inferctl.ledger.recovery (None: cut only a torn tail).
        """
        from inferctl.ledger import recovery as recover

        snapshot = self.read_snapshot()
        trusted = snapshot is not None and self._fingerprint_matches(snapshot)
        if trusted:
            self.check_genesis_document()
        elif self._tail()[0] is not None:
            verify_ledger(self)
        plan = recover.plan_recovery(self, recovery)
        if not trusted or snapshot is None:
            recover.apply_recovery(self, plan)
            if self._tail()[0] is None:
                return {}, None
            return self.replay()
        tail = self._tail()[0]
        if tail is not None and tail.height == snapshot.height:
            base = tail
        else:
            base = self.record_at(snapshot.height)
        self._check_snapshot_head(snapshot, base)
        upto = plan.keep_height if plan is not None else None
        last = self._apply_records(snapshot.state, base, snapshot.height + 1, upto)
        recover.apply_recovery(self, plan)
        return snapshot.state, last

    def check_genesis_document(self) -> None:
        """Check that the genesis document of record 1 matches its digest."""
        for line, path, _height in self._iter_lines(1):
            _verify_genesis_record(self, parse_record(line, path, 1), path)
            return

    def _snapshot_ahead(self, snapshot: Snapshot, tail: Record) -> None:
        raise ChainBroken(
            f"the snapshot is at height {snapshot.height} but the ledger ends at "
            f"height {tail.height}: acknowledged records are missing",
            height=tail.height + 1, path=self._path_for(tail.height + 1),
            hint="run `inferctl ledger verify`; restore the missing records from a backup",
        )

    # ----- writing ----------------------------------------------------------------

    def append(self, records: list[Record]) -> None:
        """Append sealed records durably: one write and one fsync per segment touched.

        On failure every touched segment is cut back to its size before the call,
        so a failed append leaves the records as they were.
        """
        by_segment: dict[int, list[bytes]] = {}
        for record in records:
            stored = record.line or canonical_bytes(record.as_dict())
            by_segment.setdefault(segment_start(record.height), []).append(stored + b"\n")
        sizes = self.segment_sizes(records)
        for start, lines in by_segment.items():
            path = self.segment_path(start)
            try:
                self._append_lines(path, b"".join(lines), created=sizes[path] < 0)
            except OSError as exc:
                self.roll_back(sizes)
                raise storage_error("append to", path, exc) from None

    def _append_lines(self, path: str, data: bytes, *, created: bool) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if os.environ.get(TEST_PAUSE_ENV) == "mid-append":
                _write_all(fd, data[: len(data) // 2])
                os.fsync(fd)
                pause_for_test("mid-append")
                data = data[len(data) // 2:]
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_dir(self.segments_dir)
        pause_for_test("after-append")

    def segment_sizes(self, records: list[Record]) -> dict[str, int]:
        """Return the size of each segment that `records` go to (-1: not created yet)."""
        sizes = {}
        for start in sorted({segment_start(r.height) for r in records}):
            path = self.segment_path(start)
            try:
                sizes[path] = os.path.getsize(path)
            except FileNotFoundError:
                sizes[path] = -1
        return sizes

    def roll_back(self, sizes: dict[str, int]) -> None:
        """Cut segments back to the sizes from segment_sizes; remove new ones."""
        for path, size in sizes.items():
            try:
                if size < 0:
                    if os.path.exists(path):
                        os.unlink(path)
                else:
                    os.truncate(path, size)
            except OSError:
                log.warning("could not roll back %s; run `inferctl ledger repair`", path)

    def cut_after(self, height: int) -> None:
        """Remove every byte after record `height`: torn bytes and later records."""
        keep_segment = segment_start(height) if height > 0 else 1
        for start in self._segment_starts():
            path = self.segment_path(start)
            if start == keep_segment:
                _keep_lines(path, height - start + 1)
            elif start > keep_segment:
                os.unlink(path)
        fsync_dir(self.segments_dir)

    def drop_torn_tail(self) -> int:
        """Cut a torn (never acknowledged) last write; return the bytes removed."""
        starts = self._segment_starts()
        if not starts:
            return 0
        return truncate_torn_tail(self.segment_path(starts[-1]))

    def store_document(self, data: bytes) -> str:
        """Store a genesis document beside the records; return its digest."""
        doc_digest = digest(data)
        path = self.document_path(doc_digest)
        if not os.path.exists(path):
            os.makedirs(self.documents_dir, exist_ok=True)
            atomic_write(path, data)
        return doc_digest

    def read_document(self, doc_digest: str) -> bytes:
        path = self.document_path(doc_digest)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            raise ChainBroken(f"genesis document {path}, named by record 1, is missing",
                              height=1, path=path) from None
        except OSError as exc:
            raise storage_error("read", path, exc) from None
        if digest(data) != doc_digest:
            raise ChainBroken(
                f"genesis document {path}, named by record 1, does not match its "
                f"digest {doc_digest}",
                height=1, path=path,
            )
        return data

    def initialise(self) -> None:
        """Create the directories and format marker of a new, empty ledger."""
        if self.exists():
            raise Conflict(
                f"a ledger already exists at {self.home}",
                hint="use another --home, or remove the directory to start over",
            )
        try:
            os.makedirs(self.segments_dir, exist_ok=True)
            os.makedirs(self.documents_dir, exist_ok=True)
            atomic_write(self.marker_path, MARKER_TEXT.encode())
        except OSError as exc:
            raise storage_error("create a ledger in", self.home, exc) from None


def parse_record(line: bytes, path: str, position: int | None = None) -> Record:
    """Parse one record line; any fault is damage, never a torn write.

    `position` is the height the line's place in the ledger gives it, when known;
    errors about a line that cannot be read name that height.
    """
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError:
        where = _record_where(path, position)
        raise ChainBroken(f"unreadable {where}: not JSON", path=path, height=position,
                          hint="run `inferctl ledger verify`") from None
    # The shape of every record a writer makes, checked in one expression because
    # `ledger verify` runs this for every record; orjson gives exact types, and
    # `type(...) is int` leaves out bools.
    if (type(raw) is dict and raw.keys() == _RECORD_KEY_SET
            and type(raw["height"]) is int and raw["height"] >= 1
            and type(raw["time"]) is str and type(raw["type"]) is str
            and type(raw["prev_hash"]) is str and type(raw["hash"]) is str
            and type(raw["body"]) is dict):
        return Record(raw["height"], raw["time"], raw["type"], raw["body"],
                      raw["prev_hash"], raw["hash"])
    return _checked_record(raw, path, position)


def _record_where(path: str, position: int | None) -> str:
    return f"record at height {position} in {path}" if position else f"record in {path}"


def _checked_record(raw: Any, path: str, position: int | None) -> Record:
    """Check a parsed record field by field; raise ChainBroken naming the first fault."""
    where = _record_where(path, position)
    if not isinstance(raw, dict) or tuple(sorted(raw)) != RECORD_KEYS:
        raise ChainBroken(f"malformed {where}: wrong fields", path=path,
                          height=position)
    height = raw["height"]
    if not isinstance(height, int) or isinstance(height, bool) or height < 1:
        raise ChainBroken(f"malformed {where}: bad height {height!r}", path=path,
                          height=position)
    for key in ("time", "type", "prev_hash", "hash"):
        if not isinstance(raw[key], str):
            raise ChainBroken(f"record {height} in {path}: {key} is not a string",
                              height=position or height, path=path)
    if not isinstance(raw["body"], dict):
        raise ChainBroken(f"record {height} in {path}: body is not an object",
                          height=position or height, path=path)
    return Record(height, raw["time"], raw["type"], raw["body"], raw["prev_hash"],
                  raw["hash"])


def check_record(record: Record, prev_hash: str, prev_time: str, path: str, *,
                 hash_checked: bool = False) -> None:
    """Check a record's own hash, its link to the previous one, and its time order.

    `hash_checked`: the caller has already checked the hash (stored_hash_matches).
    """
    if not hash_checked:
        sealed = seal_record(record.height, record.time, record.type, record.body,
                             record.prev_hash)
        if sealed.hash != record.hash:
            raise ChainBroken(f"record {record.height} in {path}: hash does not match "
                              f"its content (edited record or edited hash)",
                              height=record.height, path=path)
    if record.prev_hash != prev_hash:
        raise ChainBroken(f"record {record.height} in {path}: prev_hash does not match "
                          f"record {record.height - 1}", height=record.height, path=path)
    try:
        # Records of one batch share their time; the previous one was parsed already.
        if record.time != prev_time:
            _time_ns(record.time)
    except InvalidInput:
        raise ChainBroken(f"record {record.height} in {path}: time {record.time!r} is "
                          f"not RFC 3339", height=record.height, path=path) from None
    if prev_time and record.time < prev_time:
        raise ChainBroken(f"record {record.height} in {path}: time {record.time} is "
                          f"before the previous record's {prev_time}",
                          height=record.height, path=path)


def stored_hash_matches(line: bytes, claimed: str) -> bool:
    """Return True when the stored line, without its hash member, hashes to `claimed`.

    A canonical line is the record's canonical bytes without `hash` with the
    member `,"hash":"…"` put in right before `,"height":` (keys are sorted), so
    cutting that member out gives exactly the bytes the hash was computed over,
    with no re-encoding. False means "not shown", not "damaged": the caller then
    checks the record the slow way and names the fault. docs/ledger.md explains
    why a True result also confirms that the line is in canonical form.
    """
    member = b',"hash":"' + claimed.encode() + b'"'
    at = line.rfind(member + b',"height":')
    if at < 0:
        return False
    return digest(line[:at] + line[at + len(member):]) == claimed


def _digest_of_line(handle: Any) -> tuple[str, int, bytes]:
    """Hash the rest of the current line in 1 MiB pieces.

    Returns `blake3:<hex>` of the line, its size without the newline (-1 when no
    newline ends it) and the bytes read past the newline.
    """
    import blake3

    hasher = blake3.blake3()
    size = 0
    while chunk := handle.read(1 << 20):
        end = chunk.find(b"\n")
        if end >= 0:
            hasher.update(chunk[:end])
            return DIGEST_PREFIX + hasher.hexdigest(), size + end, chunk[end + 1:]
        hasher.update(chunk)
        size += len(chunk)
    return "", -1, b""


def _index_line_fits(header: dict[str, Any], state_size: int, rest: bytes) -> bool:
    """Check what follows the state line: nothing, or the index the header names."""
    expected = header.get("index_digest")
    if expected is None:
        return rest == b""
    return (header["state_bytes"] == state_size and rest.endswith(b"\n")
            and b"\n" not in rest[:-1] and digest(rest[:-1]) == expected)


def _time_ns(text: str) -> int:
    from inferctl.timeutil import parse_rfc3339

    return parse_rfc3339(text, what="record time")


def _checked_snapshot_header(line: bytes) -> dict[str, Any] | None:
    """Parse a snapshot header line; return None unless every field and its digest hold."""
    header = orjson.loads(line)
    if not isinstance(header, dict) or header.get("format") != LEDGER_FORMAT:
        return None
    claimed = header.pop("digest", None)
    if (tuple(sorted(header)) not in (SNAPSHOT_KEYS, INDEXED_SNAPSHOT_KEYS)
            or claimed != digest(canonical_bytes(header))):
        return None
    for key in ("height", "records_bytes", "state_bytes"):
        value = header.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return None
    for key in ("head", "records_digest", "state_digest", "index_digest"):
        if not isinstance(header.get(key, ""), str):
            return None
    return header


def pause_for_test(point: str) -> None:
    """Stop for a minute when INFERCTL_TEST_PAUSE_AT names `point` (a test hook).

    Crash tests set the variable to kill a writer at a known step of the write path.
    The steps are mid-append (half of the batch written and fsynced), after-append,
    mid-snapshot (the new snapshot in its temporary file, not yet renamed) and
    after-snapshot. The writer prints `paused at POINT` on stderr first. Without
    the variable this does nothing.
    """
    if os.environ.get(TEST_PAUSE_ENV) != point:
        return
    sys.stderr.write(f"paused at {point}\n")
    sys.stderr.flush()
    time.sleep(60)


def _count_lines(path: str) -> int:
    """Return the number of newline-terminated lines in a file."""
    count = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
    return count


def _keep_lines(path: str, lines: int) -> None:
    """Truncate a file right after its `lines`-th newline, durably."""
    with open(path, "rb+") as handle:
        data = handle.read()
        end = 0
        for _ in range(lines):
            end = data.index(b"\n", end) + 1
        handle.truncate(end)
        handle.flush()
        os.fsync(handle.fileno())


def _last_line(path: str) -> tuple[bytes | None, bytes]:
    """Return the last newline-terminated line of a file and the bytes after it."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            end = handle.tell()
            chunk = 64 * 1024
            position = end
            data = b""
            while position > 0:
                step = min(chunk, position)
                position -= step
                handle.seek(position)
                data = handle.read(step) + data
                last_newline = data.rfind(b"\n")
                if last_newline == -1:
                    continue
                previous_newline = data.rfind(b"\n", 0, last_newline)
                if previous_newline != -1 or position == 0:
                    line = data[previous_newline + 1:last_newline]
                    return line, data[last_newline + 1:]
            return None, data
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror}") from None


def truncate_torn_tail(path: str) -> int:
    """Cut bytes after the last newline of `path`; return how many were cut."""
    with open(path, "rb+") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        position = size
        while position > 0:
            step = min(64 * 1024, position)
            position -= step
            handle.seek(position)
            data = handle.read(step)
            newline = data.rfind(b"\n")
            if newline != -1:
                keep = position + newline + 1
                break
        else:
            keep = 0
        if keep != size:
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
        return size - keep


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def atomic_write(path: str, data: bytes, *, pause_point: str | None = None) -> None:
    """Write a file so readers see the old or the new bytes, never a mix.

    `pause_point` names this write for the INFERCTL_TEST_PAUSE_AT test hook, which
    stops between the temporary file's fsync and the rename.
    """
    directory = os.path.dirname(path) or "."
    temp = os.path.join(directory, f".tmp.{os.path.basename(path)}.{os.getpid()}")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if pause_point:
            pause_for_test(pause_point)
        os.replace(temp, path)
        fsync_dir(directory)
    except OSError as exc:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise storage_error("write", path, exc) from None


def fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def storage_error(action: str, path: str, exc: OSError) -> StorageError:
    import errno

    reason = exc.strerror or str(exc)
    hint = None
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        hint = "free disk space and run the command again; the ledger is unchanged"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = "make the ledger directory writable or pass another --home"
    return StorageError(f"cannot {action} {path}: {reason}", hint=hint)


@dataclass
class VerifyReport:
    records: int
    head_height: int
    head_hash: str
    torn_bytes: int
    snapshot: str  # "current", "stale", "missing" or "damaged"


# verify_ledger reports progress after this many records.
PROGRESS_STEP = 1000


def verify_ledger(ledger: Ledger, start: int = 1,
                  progress: Callable[[int, int], None] | None = None) -> VerifyReport:
    """Check every record from `start`: hash, link, height, time, genesis document.

    Records are streamed one at a time, so memory does not grow with the ledger.
    The first fault raises ChainBroken naming the height and the file.
    `progress(checked, total)` is called every PROGRESS_STEP records and at the end.
    """
    ledger.require()
    tail_record, _torn = ledger._tail() if progress else (None, b"")
    total = max(0, tail_record.height - start + 1) if tail_record else 0
    prev_hash, prev_time = ZERO_DIGEST, ""
    if start > 1:
        previous = ledger.record_at(start - 1)
        prev_hash, prev_time = previous.hash, previous.time
    count = 0
    last: tuple[bytes, str, int] | None = None
    for line, path, height in ledger._iter_lines(start):
        checked = _quick_check(line, height, prev_hash, prev_time) if height > 1 else None
        if checked is None:
            record = _check_line(ledger, line, path, height, prev_hash, prev_time)
            checked = record.hash, record.time
        prev_hash, prev_time = checked
        last = line, path, height
        count += 1
        if progress and count % PROGRESS_STEP == 0:
            progress(count, max(total, count))
    if progress:
        progress(count, max(total, count))
    if last is None and start == 1:
        raise ChainBroken(f"the ledger at {ledger.home} has no records", height=1,
                          path=ledger.segment_path(1))
    _, torn = ledger._tail()
    head = parse_record(*last) if last else ledger.record_at(start - 1)
    return VerifyReport(count, head.height, head.hash, len(torn),
                        _snapshot_status(ledger, head))


def _quick_check(line: bytes, height: int, prev_hash: str,
                 prev_time: str) -> tuple[str, str] | None:
    """Return (hash, time) of a record at `height` > 1 that passes every check.

    This is the whole check of one record in a few C calls, for `ledger verify`;
    None means "look closer", and _check_line then finds and names the fault.
    """
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if type(raw) is not dict or raw.keys() != _RECORD_KEY_SET:
        return None
    claimed, when = raw["hash"], raw["time"]
    if (type(raw["height"]) is not int or raw["height"] != height
            or raw["prev_hash"] != prev_hash or type(claimed) is not str
            or type(when) is not str or type(raw["body"]) is not dict
            or type(raw["type"]) is not str or raw["type"] == GENESIS):
        return None
    if when != prev_time and (when < prev_time or not _is_record_time(when)):
        return None
    if not stored_hash_matches(line, claimed):
        return None
    return claimed, when


def _is_record_time(text: str) -> bool:
    try:
        _time_ns(text)
    except InvalidInput:
        return False
    return True


def _check_line(ledger: Ledger, line: bytes, path: str, height: int, prev_hash: str,
                prev_time: str) -> Record:
    """Check one record field by field; raise ChainBroken naming the first fault."""
    record = parse_record(line, path, height)
    if record.height != height:
        raise ChainBroken(
            f"record at position {height} in {path} has height {record.height}: "
            f"a record is missing, duplicated or reordered", height=height, path=path)
    fast = stored_hash_matches(line, record.hash)
    check_record(record, prev_hash, prev_time, path, hash_checked=fast)
    if not fast and canonical_bytes(record.as_dict()) != line:
        raise ChainBroken(f"record {height} in {path} is not in canonical form "
                          f"(the line was rewritten)", height=height, path=path)
    if height == 1:
        _verify_genesis_record(ledger, record, path)
    elif record.type == GENESIS:
        raise ChainBroken(f"record {height} in {path}: a second genesis record",
                          height=height, path=path)
    return record


def _verify_genesis_record(ledger: Ledger, record: Record, path: str) -> None:
    if record.type != GENESIS:
        raise ChainBroken(f"record 1 in {path} is {record.type}, expected {GENESIS}",
                          height=1, path=path)
    document = record.body.get("document")
    if not isinstance(document, str):
        raise ChainBroken(f"record 1 in {path} names no genesis document", height=1,
                          path=path)
    ledger.read_document(document)


def _snapshot_status(ledger: Ledger, head: Record) -> str:
    if not os.path.exists(ledger.snapshot_path):
        return "missing"
    snapshot = ledger.read_snapshot(with_state=False)
    if snapshot is None:
        return "damaged"
    if snapshot.height > head.height:
        return _status_of_snapshot_ahead(ledger, snapshot, head)
    if snapshot.height == head.height:
        ledger._check_snapshot_head(snapshot, head)
        return "current"
    ledger._check_snapshot_head(snapshot, ledger.record_at(snapshot.height))
    return "stale"


def _status_of_snapshot_ahead(ledger: Ledger, snapshot: Snapshot, head: Record) -> str:
    tail, torn = ledger._tail()
    if tail is not None and tail.height >= snapshot.height:
        # A writer appended and swapped the snapshot while the records were verified.
        ledger._check_snapshot_head(snapshot, ledger.record_at(snapshot.height))
        return "current"
    if torn and snapshot.height == head.height + 1:
        return "stale"
    ledger._snapshot_ahead(snapshot, head)
    return "damaged"
