"""The ledger directory: hash-chained records in segment files, plus a state snapshot.

Layout of a ledger home (see docs/ledger.md for the full description):

    LEDGER                     format marker: "inferctl-ledger <format>\n"
    segments/<height>.jsonl    records, one canonical JSON object a line; a segment
                               holds SEGMENT_RECORDS heights and is named after the
                               first of them, zero-padded to 12 digits
    documents/<hex>.json       genesis documents, named by the blake3 of their bytes
    snapshot.json              derived state at some height (header line, state line)
    lock, lock.json            the writer lock and who holds it

Writers take the lock, check the tail, apply, append, fsync, then replace the snapshot.
Readers take no lock: they read the snapshot and the last complete record, and catch
up by applying the few records past the snapshot when a writer has not yet swapped it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from inferctl import LEDGER_FORMAT
from inferctl.canonical import ZERO_DIGEST, canonical_bytes, digest
from inferctl.errors import (
    ChainBroken,
    Conflict,
    InferctlError,
    InvalidInput,
    NotFound,
    StorageError,
)
from inferctl.txs import GENESIS, TxContext, apply_tx

log = logging.getLogger("inferctl.ledger")

SEGMENT_RECORDS = 10_000
MARKER = "LEDGER"
MARKER_TEXT = f"inferctl-ledger {LEDGER_FORMAT}\n"
RECORD_KEYS = ("body", "hash", "height", "prev_hash", "time", "type")

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
    return Record(height, time, tx_type, body, prev, digest(canonical_bytes(unsealed)))


def segment_start(height: int) -> int:
    return (height - 1) // SEGMENT_RECORDS * SEGMENT_RECORDS + 1


def segment_name(start: int) -> str:
    return f"{start:012d}.jsonl"


@dataclass
class Snapshot:
    height: int
    head: str
    state: dict[str, Any]


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
            with open(self.marker_path, encoding="utf-8") as handle:
                text = handle.read(200)
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
            if suffix == "jsonl" and stem.isdigit() and len(stem) == 12:
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
            raise ChainBroken(f"invalid document digest {doc_digest!r}")
        return os.path.join(self.documents_dir, hex_part + ".json")

    # ----- reading records ------------------------------------------------------

    def _tail(self) -> tuple[Record | None, bytes]:
        """Return the last complete record and any bytes after it (a torn write)."""
        starts = self._segment_starts()
        while starts:
            path = self.segment_path(starts[-1])
            line, torn = _last_line(path)
            if line is not None:
                return parse_record(line, path), torn
            if torn:
                return self._record_before(starts), torn
            starts.pop()
        return None, b""

    def _record_before(self, starts: list[int]) -> Record | None:
        for start in reversed(starts[:-1]):
            line, _ = _last_line(self.segment_path(start))
            if line is not None:
                return parse_record(line, self.segment_path(start))
        return None

    def iter_records(self, start: int = 1) -> Iterator[Record]:
        """Yield complete records from height `start`, checking heights as it goes."""
        for line, path, expected in self._iter_lines(start):
            record = parse_record(line, path)
            if record.height != expected:
                raise ChainBroken(
                    f"record at height {expected} in {path} says height "
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
                handle = open(path, "rb")
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

    def read_snapshot(self) -> Snapshot | None:
        """Return the snapshot, or None when it is missing or fails its own digest."""
        try:
            with open(self.snapshot_path, "rb") as handle:
                header_line = handle.readline()
                state_bytes = handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"cannot read {self.snapshot_path}: {exc.strerror}") from None
        try:
            header = orjson.loads(header_line)
            if header.get("format") != LEDGER_FORMAT:
                return None
            if not state_bytes.endswith(b"\n"):
                return None
            if digest(state_bytes[:-1]) != header["state_digest"]:
                log.warning("snapshot digest does not match; rebuilding it")
                return None
            return Snapshot(int(header["height"]), str(header["head"]),
                            orjson.loads(state_bytes))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("snapshot is unreadable; rebuilding it")
            return None

    def write_snapshot(self, height: int, head: str, state: dict[str, Any]) -> None:
        state_bytes = canonical_bytes(state)
        header = {"format": LEDGER_FORMAT, "head": head, "height": height,
                  "state_digest": digest(state_bytes)}
        data = canonical_bytes(header) + b"\n" + state_bytes + b"\n"
        atomic_write(self.snapshot_path, data)

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

    def load_state(self, *, for_write: bool = False) -> tuple[dict[str, Any], Record | None]:
        """Return the latest state and the head record, replaying only what is needed."""
        tail, _torn = self._tail()
        if tail is None:
            if for_write:
                return {}, None
            raise NotFound(f"no records in the ledger at {self.home}",
                           hint="create one with `inferctl genesis init`")
        snapshot = self.read_snapshot()
        if snapshot is not None and snapshot.height > tail.height:
            if not (_torn and snapshot.height == tail.height + 1):
                self._snapshot_ahead(snapshot, tail)
            log.warning("the last record (height %d) is torn; the state is rebuilt "
                        "without it", snapshot.height)
            snapshot = None
        if snapshot is None:
            return self.replay()
        if snapshot.height == tail.height:
            if snapshot.head != tail.hash:
                raise ChainBroken(
                    f"record {tail.height} in {self._path_for(tail.height)} does not "
                    f"match the snapshot head {snapshot.head}",
                    height=tail.height, path=self._path_for(tail.height),
                    hint="run `inferctl ledger verify`",
                )
            return snapshot.state, tail
        base = self.record_at(snapshot.height)
        if base.hash != snapshot.head:
            raise ChainBroken(
                f"record {base.height} in {self._path_for(base.height)} does not match "
                f"the snapshot head",
                height=base.height, path=self._path_for(base.height),
                hint="run `inferctl ledger verify`",
            )
        state = snapshot.state
        last = self._apply_records(state, base, snapshot.height + 1, tail.height)
        return state, last

    def _snapshot_ahead(self, snapshot: Snapshot, tail: Record) -> None:
        raise ChainBroken(
            f"the snapshot is at height {snapshot.height} but the ledger ends at "
            f"height {tail.height}: acknowledged records are missing",
            height=tail.height + 1, path=self._path_for(tail.height + 1),
            hint="run `inferctl ledger verify`; restore the missing records from a backup",
        )

    # ----- writing ----------------------------------------------------------------

    def append(self, records: list[Record]) -> None:
        """Append sealed records durably: one write and one fsync per segment touched."""
        by_segment: dict[int, list[bytes]] = {}
        for record in records:
            line = canonical_bytes(record.as_dict()) + b"\n"
            by_segment.setdefault(segment_start(record.height), []).append(line)
        for start, lines in by_segment.items():
            path = self.segment_path(start)
            created = not os.path.exists(path)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    _write_all(fd, b"".join(lines))
                    os.fsync(fd)
                finally:
                    os.close(fd)
                if created:
                    fsync_dir(self.segments_dir)
            except OSError as exc:
                self._undo_partial_append(path, lines)
                raise storage_error("append to", path, exc) from None

    def _undo_partial_append(self, path: str, lines: list[bytes]) -> None:
        """After a failed write, cut the segment back to its last complete record."""
        try:
            truncate_torn_tail(path)
        except OSError:
            log.warning("could not cut the torn write at the end of %s", path)

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
            raise ChainBroken(f"genesis document {path} is missing", height=1,
                              path=path) from None
        if digest(data) != doc_digest:
            raise ChainBroken(
                f"genesis document {path} does not match its digest {doc_digest}",
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


def parse_record(line: bytes, path: str) -> Record:
    """Parse one record line; any fault is damage, never a torn write."""
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise ChainBroken(f"unreadable record in {path}: not JSON", path=path,
                          hint="run `inferctl ledger verify`") from None
    if not isinstance(raw, dict) or tuple(sorted(raw)) != RECORD_KEYS:
        raise ChainBroken(f"malformed record in {path}: wrong fields", path=path,
                          height=raw.get("height") if isinstance(raw, dict) else None)
    height = raw["height"]
    if not isinstance(height, int) or isinstance(height, bool) or height < 1:
        raise ChainBroken(f"malformed record in {path}: bad height {height!r}", path=path)
    for key in ("time", "type", "prev_hash", "hash"):
        if not isinstance(raw[key], str):
            raise ChainBroken(f"record {height} in {path}: {key} is not a string",
                              height=height, path=path)
    if not isinstance(raw["body"], dict):
        raise ChainBroken(f"record {height} in {path}: body is not an object",
                          height=height, path=path)
    return Record(height, raw["time"], raw["type"], raw["body"], raw["prev_hash"],
                  raw["hash"])


def check_record(record: Record, prev_hash: str, prev_time: str, path: str) -> None:
    """Check a record's own hash, its link to the previous one, and its time order."""
    sealed = seal_record(record.height, record.time, record.type, record.body,
                         record.prev_hash)
    if sealed.hash != record.hash:
        raise ChainBroken(f"record {record.height} in {path}: hash does not match its "
                          f"content (edited record or edited hash)",
                          height=record.height, path=path)
    if record.prev_hash != prev_hash:
        raise ChainBroken(f"record {record.height} in {path}: prev_hash does not match "
                          f"record {record.height - 1}", height=record.height, path=path)
    if prev_time and record.time < prev_time:
        raise ChainBroken(f"record {record.height} in {path}: time {record.time} is "
                          f"before the previous record's {prev_time}",
                          height=record.height, path=path)


def _time_ns(text: str) -> int:
    from inferctl.timeutil import parse_rfc3339

    return parse_rfc3339(text, what="record time")


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


def atomic_write(path: str, data: bytes) -> None:
    """Write a file so readers see the old or the new bytes, never a mix."""
    directory = os.path.dirname(path) or "."
    temp = os.path.join(directory, f".tmp.{os.path.basename(path)}.{os.getpid()}")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
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


def verify_ledger(ledger: Ledger, start: int = 1) -> VerifyReport:
    """Check every record from `start`: hash, link, height, time, genesis document.

    Records are streamed one at a time, so memory does not grow with the ledger.
    The first fault raises ChainBroken naming the height and the file.
    """
    ledger.require()
    prev_hash, prev_time = ZERO_DIGEST, ""
    if start > 1:
        previous = ledger.record_at(start - 1)
        prev_hash, prev_time = previous.hash, previous.time
    count = 0
    last: Record | None = None
    for line, path, height in ledger._iter_lines(start):
        record = parse_record(line, path)
        if record.height != height:
            raise ChainBroken(
                f"record at position {height} in {path} says height {record.height}: "
                f"a record is missing, duplicated or reordered", height=height, path=path)
        check_record(record, prev_hash, prev_time, path)
        if height == 1:
            _verify_genesis_record(ledger, record, path)
        elif record.type == GENESIS:
            raise ChainBroken(f"record {height} in {path}: a second genesis record",
                              height=height, path=path)
        prev_hash, prev_time, last = record.hash, record.time, record
        count += 1
    if last is None and start == 1:
        raise ChainBroken(f"the ledger at {ledger.home} has no records", height=1,
                          path=ledger.segment_path(1))
    _, torn = ledger._tail()
    head = last or ledger.record_at(start - 1)
    return VerifyReport(count, head.height, head.hash, len(torn),
                        _snapshot_status(ledger, head))


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
    snapshot = ledger.read_snapshot()
    if snapshot is None:
        return "damaged"
    if snapshot.height == head.height and snapshot.head == head.hash:
        return "current"
    if snapshot.height > head.height:
        _, torn = ledger._tail()
        if not (torn and snapshot.height == head.height + 1):
            ledger._snapshot_ahead(snapshot, head)
    return "stale"
