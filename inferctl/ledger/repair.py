"""Repair what can be repaired without hiding anything: a torn tail and the snapshot."""

from __future__ import annotations

from collections.abc import Callable

from inferctl.errors import InferctlError
from inferctl.ledger.session import WriteLock
from inferctl.ledger.store import Ledger, verify_ledger


class RepairDeclined(InferctlError):
    pass


def repair_ledger(home: str, *, confirm: Callable[[str], bool] | None,
                  lock_timeout: float) -> dict:
    """Drop a torn tail, verify every record, and rebuild the snapshot by replay."""
    ledger = Ledger(home)
    ledger.require()
    with WriteLock(ledger, lock_timeout):
        _, torn = ledger._tail()
        verify_ledger(ledger)
        if confirm is not None and not confirm(
            f"drop {len(torn)} torn bytes and rebuild the snapshot of {home}?"
        ):
            raise RepairDeclined("repair cancelled; nothing was changed")
        dropped = ledger.drop_torn_tail()
        state, last = ledger.replay()
        assert last is not None  # verify_ledger raised for an empty ledger
        ledger.write_snapshot(last.height, last.hash, state)
    return {"dropped_bytes": dropped, "height": last.height, "head_hash": last.hash}
