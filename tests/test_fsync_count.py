"""Durability cost of a write: how many fsyncs one appended record takes.

The write path appends the records of a batch with one write and one fsync, then
replaces the snapshot (temporary file, fsync, rename, fsync of the directory).
So one record costs 2 fsyncs of files and 1 of a directory. A record that opens a
new segment file (one in 10,000) also fsyncs the segments directory, once.

The counts come from os.fsync itself, patched to record what kind of file each
descriptor is, while the real CLI runs in this process.
"""

from __future__ import annotations

import os
import stat

import pytest

from inferctl.bench import address_of
from inferctl.ledger import store
from inferctl.ledger.session import commit

JOIN = "/inference.inference.MsgSubmitNewParticipant"
TIME = "2026-01-01T00:00:00Z"  # after the mainnet genesis time


@pytest.fixture
def fsyncs(monkeypatch):
    """Count real fsyncs by the kind of what they sync: "file" or "dir"."""
    counted = {"file": 0, "dir": 0}
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        counted[kind] += 1
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    return counted


def join_line(address: str) -> tuple[str, dict]:
    return (JOIN, {"creator": address, "url": "http://node.example:8000",
                   "validator_key": "", "worker_key": ""})


def test_one_record_fsyncs(run, mainnet_home, fsyncs):
    outcome = run("participant", "join", address_of(1), "--url",
                  "http://a.example:8000", "--time", TIME, "--home", mainnet_home)

    assert outcome.exit_code == 0, outcome.stderr
    assert fsyncs["file"] == 2
    assert fsyncs["dir"] == 1


def test_batch_fsyncs(mainnet_home, fsyncs):
    result = commit(mainnet_home, [join_line(address_of(i)) for i in range(50)],
                    explicit_time=TIME)

    assert len(result.records) == 50
    assert fsyncs["file"] == 2
    assert fsyncs["dir"] == 1


def test_new_segment_fsyncs(mainnet_home, fsyncs, monkeypatch):
    # Segments of 3 records: record 1 fills 1..3, so records 2..4 end in a new file.
    monkeypatch.setattr(store, "SEGMENT_RECORDS", 3)
    commit(mainnet_home, [join_line(address_of(i)) for i in range(2)],
           explicit_time=TIME)
    before = dict(fsyncs)

    commit(mainnet_home, [join_line(address_of(9))], explicit_time=TIME)

    assert os.path.exists(os.path.join(mainnet_home, "segments",
                                       "000000000004.jsonl"))
    assert fsyncs["file"] - before["file"] == 2
    assert fsyncs["dir"] - before["dir"] == 2
