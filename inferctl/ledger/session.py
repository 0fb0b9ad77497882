"""Write transactions to a ledger: lock, check the tail, apply, append, snapshot."""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from inferctl.canonical import ZERO_DIGEST, reject_floats
from inferctl.errors import InferctlError, InvalidInput, LedgerLocked, StorageError
from inferctl.ledger.store import Ledger, Record, seal_record, segment_start
from inferctl.timeutil import format_rfc3339, now_nanos, parse_rfc3339, source_date_epoch
from inferctl.txs import TxContext, Unchanged, apply_tx

log = logging.getLogger("inferctl.ledger")

DEFAULT_LOCK_TIMEOUT = 10.0

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
    """The writer lock: a kernel file lock (dies with its process) plus holder info."""

    def __init__(self, ledger: Ledger, timeout: float) -> None:
        self.ledger = ledger
        self.timeout = timeout
        self.info_path = os.path.join(ledger.home, "lock.json")
        self._lock: Any = None

    def __enter__(self) -> WriteLock:
        from filelock import FileLock, Timeout

        self._lock = FileLock(self.ledger.lock_path, timeout=self.timeout)
        try:
            self._lock.acquire()
        except Timeout:
            raise LedgerLocked(self._describe_holder(), hint=(
                "wait for that command to finish, or raise --lock-timeout")) from None
        except OSError as exc:
            raise StorageError(f"cannot lock {self.ledger.lock_path}: {exc.strerror}",
                               hint="check that --home is writable") from None
        self._write_info()
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            os.unlink(self.info_path)
        except OSError:
            pass
        self._lock.release()

    def _write_info(self) -> None:
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "command": " ".join(["inferctl", *sys.argv[1:]])[:200],
                "since": format_rfc3339(now_nanos())}
        try:
            with open(self.info_path, "wb") as handle:
                handle.write(orjson.dumps(info))
        except OSError:
            pass  # holder info is a courtesy for error messages only

    def _describe_holder(self) -> str:
        base = f"ledger at {self.ledger.home} is locked; waited {self.timeout:g}s"
        try:
            with open(self.info_path, "rb") as handle:
                info = orjson.loads(handle.read())
            return (f"{base}; held by pid {info['pid']} on {info['host']} "
                    f"({info['command']}) since {info['since']}")
        except (OSError, ValueError, KeyError, TypeError):
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
    if not create:
        ledger.require()
    with WriteLock(ledger, lock_timeout):
        if create:
            ledger.initialise()
        dropped = ledger.drop_torn_tail()
        if dropped:
            log.warning("dropped a torn record at the end of the ledger (%d bytes): a "
                        "write was cut short and never acknowledged", dropped)
        state, head = ledger.load_state(for_write=True)
        txs = build(state) if callable(build) else build
        result = _apply_all(ledger, state, head, txs, explicit_time)
        if result.records:
            _persist(ledger, result, head)
        return result


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
            reject_floats(body)
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


def _persist(ledger: Ledger, result: CommitResult, head: Record | None) -> None:
    sizes = _segment_sizes(ledger, result.records)
    ledger.append(result.records)
    last = result.records[-1]
    try:
        ledger.write_snapshot(last.height, last.hash, result.state)
    except StorageError:
        _roll_back(ledger, sizes)
        raise


def _segment_sizes(ledger: Ledger, records: list[Record]) -> dict[str, int]:
    sizes = {}
    for start in {segment_start(r.height) for r in records}:
        path = ledger.segment_path(start)
        try:
            sizes[path] = os.path.getsize(path)
        except FileNotFoundError:
            sizes[path] = -1
    return sizes


def _roll_back(ledger: Ledger, sizes: dict[str, int]) -> None:
    """Remove records appended by a commit whose snapshot could not be written."""
    for path, size in sizes.items():
        try:
            if size < 0:
                os.unlink(path)
            else:
                os.truncate(path, size)
        except OSError:
            log.warning("could not roll back %s; run `inferctl ledger repair`", path)


def wait_for_unlock_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
