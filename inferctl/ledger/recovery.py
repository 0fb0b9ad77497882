"""Find and cut what a killed writer left behind: torn bytes and unfinished batches.

A writer appends a batch of records with one write, so a crash in the middle of it
leaves a torn last line and, when the kernel wrote part of the batch, complete
records of that batch before it. Before its append a writer notes the batch in
`lock.json` (the height it starts from, that record's hash and the height it ends
at) and removes the note when it is done. The next writer reads a note left by a
dead writer, and when the ledger does not reach the batch's end it cuts the whole
batch, so a batch is on disk completely or not at all.

Without a note (it is not fsynced, so a power cut may lose it), only the torn bytes
are cut. Everything here runs under the writer lock.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from inferctl import get_logger
from inferctl.canonical import ZERO_DIGEST
from inferctl.errors import ChainBroken
from inferctl.ledger.store import Ledger

log = get_logger("inferctl.ledger")


@dataclass
class Recovery:
    """A plan of the bytes and records to cut from the end of the ledger."""

    keep_height: int  # the last record that stays
    dropped_records: int  # complete records of an unfinished batch
    torn_bytes: int
    # The snapshot is one record ahead of a torn tail: it describes the record
    # being cut, so it is removed and the state is rebuilt by replay.
    snapshot_ahead: bool

    def describe(self) -> str:
        """Return what the recovery removes, for messages and prompts."""
        parts = []
        if self.dropped_records:
            plural = "" if self.dropped_records == 1 else "s"
            parts.append(f"{self.dropped_records} record{plural} of an unfinished "
                         f"batch above height {self.keep_height}")
        if self.torn_bytes:
            parts.append(f"{self.torn_bytes} bytes of a torn write")
        return " and ".join(parts) or "nothing"


def batch_note(value: Any) -> dict[str, Any] | None:
    """Return the batch note of a lock.json payload, or None if it has no valid one."""
    if not isinstance(value, dict):
        return None
    batch = value.get("batch")
    if not isinstance(batch, dict):
        return None
    base: Any = batch.get("base_height")
    end: Any = batch.get("end_height")
    base_hash = batch.get("base_hash")
    if not (_is_height(base) and _is_height(end) and isinstance(base_hash, str)):
        return None
    if end <= base:
        return None
    return {"base_height": base, "base_hash": base_hash, "end_height": end}


def _is_height(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def plan_recovery(ledger: Ledger, batch: dict[str, Any] | None) -> Recovery | None:
    """Work out what to cut; change nothing. None: the tail is clean."""
    tail, torn = ledger._tail()
    tail_height = tail.height if tail else 0
    keep = _unfinished_batch_base(ledger, batch, tail_height, bool(torn))
    if keep is None:
        keep = tail_height
    if keep == tail_height and not torn:
        return None
    ahead = False
    if torn and keep == tail_height:
        snapshot = ledger.read_snapshot()
        ahead = snapshot is not None and snapshot.height == tail_height + 1
    return Recovery(keep, tail_height - keep, len(torn), ahead)


def _unfinished_batch_base(ledger: Ledger, batch: dict[str, Any] | None,
                           tail_height: int, torn: bool) -> int | None:
    """Return the height to cut back to for a dead writer's unfinished batch."""
    if batch is None:
        return None
    base, end = batch["base_height"], batch["end_height"]
    if (tail_height >= end and not torn) or tail_height < base:
        return None  # the batch finished, or the note does not fit this ledger
    snapshot = ledger.read_snapshot()
    if snapshot is not None and snapshot.height > base:
        return None  # a snapshot past the base means the batch was finished
    if base == 0:
        return 0 if batch["base_hash"] == ZERO_DIGEST else None
    try:
        base_hash = ledger.record_at(base).hash
    except ChainBroken:
        return None  # damage: the checks that follow report it
    return base if base_hash == batch["base_hash"] else None


def apply_recovery(ledger: Ledger, plan: Recovery | None) -> None:
    """Cut what `plan` names, warn about it, and remove stale temporary files."""
    remove_stale_temp_files(ledger)
    if plan is None:
        return
    ledger.cut_after(plan.keep_height)
    log.warning("removed %s at the end of the ledger: a write was cut short and "
                "never acknowledged", plan.describe())
    if plan.snapshot_ahead:
        os.unlink(ledger.snapshot_path)
        log.warning("the last record (height %d) was torn; the snapshot that "
                    "included it was removed and is rebuilt", plan.keep_height + 1)


def remove_stale_temp_files(ledger: Ledger) -> None:
    """Remove temporary files that killed writers left in the ledger directory."""
    for directory in (ledger.home, ledger.documents_dir, ledger.segments_dir):
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            if name.startswith(".tmp."):
                try:
                    os.unlink(os.path.join(directory, name))
                except OSError:
                    log.debug("could not remove %s", os.path.join(directory, name))
