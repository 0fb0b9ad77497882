#!/usr/bin/env python3
"""Regenerate tests/ledgers/: a small real ledger and one damaged copy per defect.

The source ledger is built with the real CLI from tests/ledgers/source-genesis.json,
which is the output of `inferctl genesis init --chain-id damage-test` without the
cw20 wasm code, so the committed ledgers stay small. Record times and
SOURCE_DATE_EPOCH are fixed, so running this again gives the same bytes. The
ledger has six records:

  1 genesis   2 alice joins   3 model Qwen/QwQ-32B   4 alice's node n1
  5 model test/model-b        6 bob joins

tests/ledgers/clean/ is that ledger; every other directory is a copy with the
defect it is named after. tests/test_damage.py contains the expected verdicts, and
checks that this script still reproduces the committed directories.

Usage:
  .venv/bin/python tools/make-damaged-ledgers.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LEDGERS = REPO / "tests" / "ledgers"
SOURCE_GENESIS = LEDGERS / "source-genesis.json"
SEGMENT = Path("segments") / "000000000001.jsonl"
SOURCE_DATE_EPOCH = "1760000000"
QWQ = "Qwen/QwQ-32B"


def inferctl(*args: str) -> str:
    """Run the CLI with a fixed SOURCE_DATE_EPOCH; return stdout, fail loudly."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFERCTL_")}
    env["SOURCE_DATE_EPOCH"] = SOURCE_DATE_EPOCH
    done = subprocess.run([sys.executable, "-m", "inferctl", *args], cwd=REPO,
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"inferctl {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def build_source(home: Path) -> None:
    """Build the six-record source ledger at `home`."""
    alice, bob = inferctl("address", "alice"), inferctl("address", "bob")
    gov = module_address()
    h = ["--home", str(home)]
    inferctl("genesis", "import", str(SOURCE_GENESIS), *h)
    inferctl("participant", "join", alice, "--url", "http://alice.example.com:8000",
             "--time", "2025-10-09T00:01:00Z", *h)
    inferctl("model", "register", "--authority", gov, "--proposed-by", alice,
             "--id", QWQ, "--units-of-compute-per-token", "1000", "--v-ram", "32",
             "--time", "2025-10-09T00:02:00Z", *h)
    inferctl("node", "register", "--participant", alice, "--id", "n1", "--host",
             "10.0.0.5", "--inference-port", "5000", "--poc-port", "8080",
             "--max-concurrent", "500", "--model", QWQ, "--time",
             "2025-10-09T00:03:00Z", *h)
    inferctl("model", "register", "--authority", gov, "--proposed-by", alice,
             "--id", "test/model-b", "--units-of-compute-per-token", "7",
             "--time", "2025-10-09T00:04:00Z", *h)
    inferctl("participant", "join", bob, "--url", "http://bob.example.com:8000",
             "--time", "2025-10-09T00:05:00Z", *h)
    for name in ("lock", "lock.json"):
        if (home / name).exists():
            (home / name).unlink()


def module_address() -> str:
    from inferctl.bech32 import module_address as address

    return address("gov", "gonka")


# ----- defects ----------------------------------------------------------------------


def _lines(home: Path) -> list[bytes]:
    return (home / SEGMENT).read_bytes().split(b"\n")[:-1]


def _write_lines(home: Path, lines: list[bytes], tail: bytes = b"") -> None:
    (home / SEGMENT).write_bytes(b"".join(line + b"\n" for line in lines) + tail)


def edited_body(home: Path) -> None:
    """Change the model price in record 3 and leave its hash as it was."""
    lines = _lines(home)
    assert b'"units_of_compute_per_token":1000' in lines[2]
    lines[2] = lines[2].replace(b'"units_of_compute_per_token":1000',
                                b'"units_of_compute_per_token":1')
    _write_lines(home, lines)


def edited_hash(home: Path) -> None:
    """Change one hex digit of the hash of record 3."""
    lines = _lines(home)
    record = json.loads(lines[2])
    digit = record["hash"][-1]
    record["hash"] = record["hash"][:-1] + ("0" if digit != "0" else "1")
    lines[2] = _canonical(record)
    _write_lines(home, lines)


def deleted_record(home: Path) -> None:
    """Remove record 3."""
    lines = _lines(home)
    del lines[2]
    _write_lines(home, lines)


def swapped_records(home: Path) -> None:
    """Swap records 3 and 4."""
    lines = _lines(home)
    lines[2], lines[3] = lines[3], lines[2]
    _write_lines(home, lines)


def duplicated_record(home: Path) -> None:
    """Write record 3 twice."""
    lines = _lines(home)
    lines.insert(3, lines[2])
    _write_lines(home, lines)


def truncated_mid_record(home: Path) -> None:
    """Cut the last record (6) in the middle, as a torn write leaves it."""
    lines = _lines(home)
    last = lines.pop()
    _write_lines(home, lines, last[: len(last) // 2])


def garbage_appended(home: Path) -> None:
    """Append a line of garbage, newline included, after record 6."""
    lines = _lines(home)
    _write_lines(home, lines, b"\x00\xffthis is not a record\n")


def edited_snapshot(home: Path) -> None:
    """Edit the snapshot's state line without updating its digests."""
    path = home / "snapshot.json"
    data = path.read_bytes()
    assert data.count(b'"units_of_compute_per_token":7') == 1
    path.write_bytes(data.replace(b'"units_of_compute_per_token":7',
                                  b'"units_of_compute_per_token":8'))


def deleted_snapshot(home: Path) -> None:
    """Remove snapshot.json."""
    (home / "snapshot.json").unlink()


def wrong_genesis_document(home: Path) -> None:
    """Replace the stored genesis document by one with another chain id."""
    (document,) = (home / "documents").iterdir()
    data = document.read_bytes()
    assert data.count(b'"damage-test"') == 1
    document.write_bytes(data.replace(b'"damage-test"', b'"forged-chain"'))


def noncanonical_record(home: Path) -> None:
    """Rewrite record 3 with spaces after separators: same content, other bytes."""
    lines = _lines(home)
    lines[2] = json.dumps(json.loads(lines[2]), sort_keys=True,
                          ensure_ascii=False).encode()
    _write_lines(home, lines)


def rewritten_chain(home: Path) -> None:
    """Edit record 3 and seal records 3..6 again, so every link is valid."""
    from inferctl.ledger.store import seal_record

    lines = _lines(home)
    prev = json.loads(lines[1])["hash"]
    for index in range(2, len(lines)):
        record = json.loads(lines[index])
        if index == 2:
            record["body"]["units_of_compute_per_token"] = 1
        sealed = seal_record(record["height"], record["time"], record["type"],
                             record["body"], prev)
        lines[index] = _canonical(sealed.as_dict())
        prev = sealed.hash
    _write_lines(home, lines)


def forged_snapshot(home: Path) -> None:
    """Edit the snapshot's state and compute every snapshot digest again."""
    from inferctl.ledger.store import Ledger

    ledger = Ledger(str(home))
    snapshot = ledger.read_snapshot()
    snapshot.state["models"]["test/model-b"]["units_of_compute_per_token"] = 8
    ledger.write_snapshot(snapshot.height, snapshot.head, snapshot.state)


def _canonical(value: object) -> bytes:
    from inferctl.canonical import canonical_bytes

    return canonical_bytes(value)


DEFECTS: dict[str, Callable[[Path], None]] = {
    "edited-body": edited_body,
    "edited-hash": edited_hash,
    "deleted-record": deleted_record,
    "swapped-records": swapped_records,
    "duplicated-record": duplicated_record,
    "truncated-mid-record": truncated_mid_record,
    "garbage-appended": garbage_appended,
    "edited-snapshot": edited_snapshot,
    "deleted-snapshot": deleted_snapshot,
    "wrong-genesis-document": wrong_genesis_document,
    "noncanonical-record": noncanonical_record,
    "rewritten-chain": rewritten_chain,
    "forged-snapshot": forged_snapshot,
}


def generate(out: Path) -> None:
    """Write clean/ and one directory per defect under `out`."""
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "source"
        build_source(source)
        _replace(source, out / "clean")
        for name, damage in DEFECTS.items():
            target = out / name
            _replace(source, target)
            damage(target)
            for temp in target.rglob(".tmp.*"):
                temp.unlink()


def _replace(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=LEDGERS,
                        help="where to write the ledgers (default: tests/ledgers)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    generate(args.out)
    print(f"wrote {1 + len(DEFECTS)} ledgers under {args.out}")


if __name__ == "__main__":
    main()
