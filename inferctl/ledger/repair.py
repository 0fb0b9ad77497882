"""Repair what can be repaired without hiding anything: a torn tail and the snapshot."""

from __future__ import annotations

from collections.abc import Callable

from inferctl.errors import InferctlError
from inferctl.ledger.recovery import apply_recovery, plan_recovery
from inferctl.ledger.session import WriteLock
from inferctl.ledger.store import Ledger, verify_ledger


class RepairDeclined(InferctlError):
    pass


def repair_ledger(home: str, *, confirm: Callable[[str], bool] | None,
                  lock_timeout: float) -> dict:
    """Cut an unfinished last write, verify every record, and rebuild the snapshot.

    Every record is verified before anything changes; damage raises ChainBroken
    and leaves the ledger as it was.
    """
    ledger = Ledger(home)
    ledger.require()
    with WriteLock(ledger, lock_timeout) as lock:
        verify_ledger(ledger)
        plan = plan_recovery(ledger, lock.unfinished)
        removed = plan.describe() if plan else "nothing"
        if confirm is not None and not confirm(
            f"remove {removed} and rebuild the snapshot of {home}?"
        ):
            raise RepairDeclined("repair cancelled; nothing was changed")
        apply_recovery(ledger, plan)
        lock.recovered()
        state, last = ledger.replay()
        if last is None:
            raise InferctlError(f"the ledger at {home} has no records left to keep")
        ledger.write_snapshot(last.height, last.hash, state)
    return {"dropped_bytes": plan.torn_bytes if plan else 0,
            "dropped_records": plan.dropped_records if plan else 0,
            "height": last.height, "head_hash": last.hash}
