"""Write transactions to a ledger: lock, check the tail, apply, append, snapshot."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from inferctl import get_logger
from inferctl.canonical import ZERO_DIGEST, canonical_bytes, reject_floats
from inferctl.errors import InferctlError, InvalidInput, LedgerLocked, StorageError
from inferctl.ledger.snapshot import encode_state
from inferctl.ledger.store import (
    Ledger,
    Record,
    pause_for_test,
    paused_collector,
    seal_record,
)
from inferctl.timeutil import (
    format_rfc3339,
    now_nanos,
    parse_rfc3339,
    source_date_epoch,
)
from inferctl.txs import TxContext, Unchanged, apply_tx

log = get_logger("inferctl.ledger")

DEFAULT_LOCK_TIMEOUT = 10.0
LOCK_POLL_SECONDS = 0.005

# (type URL, body) or (type URL, body, label); a label such as "line 3" prefixes
# the error of a rejected transaction.
Tx = tuple[Any, ...]
Builder = Callable[[dict[str, Any]], Iterable[Tx]]


@dataclass
class CommitResult:
    records: list[Record] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)


def read_state(home: str) -> tuple[dict[str, Any], Record]:
    """Return the latest state and head record without taking the lock."""
    ledger = Ledger(home)
    ledger.require()
    state, head = ledger.load_state()
    assert head is not None  # load_state raises NotFound for an empty ledger
    return state, head


def choose_time(explicit: str | None, previous: str | None) -> int:
    """Pick a record time: --time, else SOURCE_DATE_EPOCH, else the clock.

    An explicit time earlier than the previous record is rejected. The implicit
    sources are clamped to the previous record's time, so time never goes backwards.
    """
    previous_ns = parse_rfc3339(previous) if previous else None
    if explicit is not None:
        chosen = parse_rfc3339(explicit, what="--time")
        if previous_ns is not None and chosen < previous_ns:
            raise InvalidInput(
                f"--time {explicit} is before the last record's time {previous}",
                hint="ledger time never goes backwards; pass a later --time",
            )
        return chosen
    implicit = source_date_epoch()
    if implicit is None:
        implicit = now_nanos()
    if previous_ns is not None and implicit < previous_ns:
        return previous_ns
    return implicit


class WriteLock:
    """The writer lock: a kernel file lock (dies with its process) plus holder info.

    `lock.json` names the holder (pid, host, command, since) for the error of a
    writer that times out, and while a batch is being written it also carries the
    batch note that inferctl.ledger.recovery reads after a crash. A note left by a
    dead holder is carried over in `unfinished` until the new holder has cut the
    unfinished batch, so a crash during recovery does not lose it.
    """

    def __init__(self, ledger: Ledger, timeout: float) -> None:
        self.ledger = ledger
        self.timeout = timeout
        self.info_path = os.path.join(ledger.home, "lock.json")
        self.unfinished: dict[str, Any] | None = None
        self._lock: Any = None
        self._since = ""

    def __enter__(self) -> WriteLock:
        from inferctl.ledger.flock import FileLock, Timeout
        from inferctl.ledger.recovery import batch_note

        # Writers hold the lock for milliseconds, so waiters poll often. With a
        # 50 ms poll, eight parallel writers spend most of their time asleep while
        # the lock is free.
        self._lock = FileLock(self.ledger.lock_path, timeout=self.timeout,
                              poll_interval=LOCK_POLL_SECONDS)
        try:
            self._lock.acquire()
        except Timeout:
            raise LedgerLocked(self._describe_holder(), hint=(
                "wait for that command to finish, or raise --lock-timeout")) from None
        except OSError as exc:
            raise StorageError(f"cannot lock {self.ledger.lock_path}: {exc.strerror}",
                               hint="check that --home is writable") from None
        self._since = format_rfc3339(now_nanos())
        self.unfinished = batch_note(self._read_info())
        self._write_info(self.unfinished)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.unfinished is None:
            try:
                os.unlink(self.info_path)
            except OSError:
                pass
        self._lock.release()

    def recovered(self) -> None:
        """Forget the dead holder's batch note: its unfinished batch was cut."""
        self.unfinished = None
        self._write_info(None)

    def note_batch(self, base: Record | None, end_height: int) -> None:
        """Record the batch about to be appended, for recovery after a crash."""
        batch = {"base_height": base.height if base else 0,
                 "base_hash": base.hash if base else ZERO_DIGEST,
                 "end_height": end_height}
        self._write_info(batch)

    def _write_info(self, batch: dict[str, Any] | None) -> None:
        info: dict[str, Any] = {
            "pid": os.getpid(), "host": _host_name(),
            "command": _command_line()[:200],
            "since": self._since,
        }
        if batch is not None:
            info["batch"] = batch
        temp = os.path.join(self.ledger.home, ".tmp.lock.json")
        try:
            with open(temp, "wb") as handle:
                handle.write(orjson.dumps(info))
            # Renamed into place so that a waiter or the next holder never reads
            # half of it. It is not fsynced: it only has to survive a killed process.
            os.replace(temp, self.info_path)
        except OSError:
            log.debug("could not write %s", self.info_path)

    def _read_info(self) -> Any:
        try:
            with open(self.info_path, "rb") as handle:
                return orjson.loads(handle.read())
        except (OSError, orjson.JSONDecodeError):
            return None

    def _describe_holder(self) -> str:
        base = f"ledger at {self.ledger.home} is locked; waited {self.timeout:g}s"
        info = self._read_info()
        try:
            return (f"{base}; held by pid {info['pid']} on {info['host']} "
                    f"({info['command']}) since {info['since']}")
        except (KeyError, TypeError):
            return base


def commit(
    home: str,
    build: Builder | Iterable[Tx],
    *,
    explicit_time: str | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    create: bool = False,
) -> CommitResult:
    """Apply transactions under the lock and append them durably, all or nothing."""
    ledger = Ledger(home)
    if create:
        _make_home(home)
    else:
        ledger.require()
    with WriteLock(ledger, lock_timeout) as lock, paused_collector():
        if create:
            ledger.initialise()
        state, head = ledger.load_for_write(lock.unfinished)
        lock.recovered()
        txs = build(state) if callable(build) else build
        result = _apply_all(ledger, state, head, txs, explicit_time)
        if result.records:
            _persist(ledger, lock, result, head)
        return result


def _make_home(home: str) -> None:
    """Create the home directory of a new ledger, so its lock file can be created."""
    from inferctl.ledger.store import storage_error

    try:
        os.makedirs(home, exist_ok=True)
    except OSError as exc:
        raise storage_error("create", home, exc) from None


def _apply_all(ledger: Ledger, state: dict[str, Any], head: Record | None,
               txs: Iterable[Tx], explicit_time: str | None) -> CommitResult:
    result = CommitResult(state=state)
    time_ns = choose_time(explicit_time, head.time if head else None)
    time_text = format_rfc3339(time_ns)
    prev_hash = head.hash if head else ZERO_DIGEST
    height = head.height if head else 0
    for item in txs:
        tx_type, body = item[0], item[1]
        label = item[2] if len(item) > 2 else None
        ctx = TxContext(height + 1, time_ns, ledger.home)
        try:
            check_storable(tx_type, body)
            outcome = apply_tx(state, tx_type, body, ctx)
        except Unchanged as exc:
            result.notes.append(f"{label}: {exc}" if label else str(exc))
            continue
        except InferctlError as exc:
            if label:
                exc.message = f"{label}: {exc.message}"
            raise
        height += 1
        record = seal_record(height, time_text, tx_type, body, prev_hash)
        prev_hash = record.hash
        result.records.append(record)
        result.results.append(outcome)
        result.notes.extend(ctx.notes)
    return result


def check_storable(tx_type: Any, body: Any) -> None:
    """Raise InvalidInput unless the type and body can be written to a record.

    A record contains no floats, and JSON integers only within 64 bits, the range
    of the canonical encoding. A lone UTF-16 surrogate cannot be written as UTF-8.
    """
    if not isinstance(tx_type, str):
        raise InvalidInput(f"transaction type {tx_type!r} is not a string")
    reject_floats(body)
    try:
        canonical_bytes([tx_type, body])
    except TypeError as exc:
        raise InvalidInput(f"{tx_type}: the body cannot be stored: {exc}",
                           hint="integers must fit in 64 bits; text must be UTF-8"
                           ) from None


def _persist(ledger: Ledger, lock: WriteLock, result: CommitResult,
             head: Record | None) -> None:
    last = result.records[-1]
    try:
        state_bytes, index = encode_state(result.state)
    except TypeError as exc:
        raise InvalidInput(f"the new state cannot be stored: {exc}",
                           hint="integers must fit in 64 bits") from None
    sizes = ledger.segment_sizes(result.records)
    lock.note_batch(head, last.height)
    try:
        ledger.append(result.records)
        ledger.write_snapshot(last.height, last.hash, result.state, state_bytes, index)
        pause_for_test("after-snapshot")
    except BaseException:
        ledger.roll_back(sizes)
        _remove_snapshot_above(ledger, head)
        raise


def _remove_snapshot_above(ledger: Ledger, head: Record | None) -> None:
    """Remove a snapshot that is ahead of the records after a roll-back.

    The snapshot is replaced by a rename, and an error after the rename (the fsync
    of the directory) must not leave a snapshot of records that were cut.
    """
    snapshot = ledger.read_snapshot()
    if snapshot is None or snapshot.height <= (head.height if head else 0):
        return
    try:
        os.unlink(ledger.snapshot_path)
    except OSError:
        log.warning("could not remove %s; run `inferctl ledger repair`",
                    ledger.snapshot_path)


def wait_for_unlock_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _host_name() -> str:
    """Return this machine's host name, as socket.gethostname() does."""
    try:
        # The same value as socket.gethostname(), without importing socket (~5 ms).
        return os.uname().nodename
    except AttributeError:  # pragma: no cover - Windows has no os.uname
        import socket

        return socket.gethostname()


def _command_line() -> str:
    """Return the command line as valid UTF-8 text for `lock.json`.

    An argument that is not valid UTF-8 (a file name, say) reaches Python with
    surrogate escapes, which no JSON encoder accepts. Those bytes are written as
    backslash escapes instead.
    """
    text = " ".join(["inferctl", *sys.argv[1:]])
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
