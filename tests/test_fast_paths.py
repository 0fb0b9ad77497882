"""The fast paths give the same results as the plain code they stand in for.

Covered: the snapshot's index and the lazy state read through it, verify's hash
check on the stored line, orjson parsing in loads_strict, and reject_floats.
"""

from __future__ import annotations

import json
import os

import orjson
import pytest

from inferctl.bench import address_of
from inferctl.canonical import canonical_bytes, digest, reject_floats
from inferctl.errors import InvalidInput
from inferctl.jsonio import loads_strict
from inferctl.ledger.session import commit
from inferctl.ledger.snapshot import (
    INDEX_MIN_BYTES,
    LazyObject,
    LazyState,
    encode_state,
)
from inferctl.ledger.store import Ledger, seal_record, stored_hash_matches

JOIN = "/inference.inference.MsgSubmitNewParticipant"
TIME = "2026-01-01T00:00:00Z"  # after the mainnet genesis time
PARTICIPANTS = 600  # about 650 bytes each: past INDEX_MIN_BYTES


def large_state() -> dict:
    members = {f"key-{i:05d}-\u00e9": {"n": i, "text": "x" * 300} for i in range(2000)}
    return {"zeta": 1, "members": members, "alpha": [1, "two", {"b": None, "a": True}],
            "small": {"k": "v"}}


def test_encoded_state_is_canonical():
    state = large_state()

    encoded, _index = encode_state(state)

    assert encoded == canonical_bytes(state)


def test_index_sections_point_at_values():
    state = large_state()
    encoded, index = encode_state(state)
    sections = orjson.loads(index)["sections"]

    for key, (offset, length, section_digest) in sections.items():
        assert encoded[offset:offset + length] == canonical_bytes(state[key])
        if section_digest:
            assert section_digest == digest(canonical_bytes(state[key]))


def test_index_chunks_cover_members():
    state = large_state()
    encoded, index = encode_state(state)
    table = orjson.loads(index)["chunks"]["members"]
    members = {}

    for first, offset, length, chunk_digest in table:
        chunk = encoded[offset:offset + length]
        assert digest(chunk) == chunk_digest
        part = orjson.loads(b"{" + chunk + b"}")
        assert next(iter(part)) == first
        members.update(part)
    assert members == state["members"]


def test_small_state_has_no_index():
    state = {"a": {str(i): i for i in range(100)}}

    encoded, index = encode_state(state)

    assert len(encoded) < INDEX_MIN_BYTES
    assert index == b""


@pytest.fixture
def large_home(mainnet_home):
    joins = [(JOIN, {"creator": address_of(i), "url": f"http://n{i}.example:8000",
                     "validator_key": "", "worker_key": ""})
             for i in range(PARTICIPANTS)]
    commit(mainnet_home, joins, explicit_time=TIME)
    return mainnet_home


def test_snapshot_of_large_state_indexed(large_home):
    with open(os.path.join(large_home, "snapshot.json"), "rb") as handle:
        lines = handle.read().split(b"\n")

    header = orjson.loads(lines[0])
    assert len(lines) == 4  # header, state, index and the empty rest after "\n"
    assert header["state_bytes"] == len(lines[1])
    assert header["index_digest"] == digest(lines[2])


def test_lazy_state_matches_full(large_home):
    full, full_head = Ledger(large_home).load_state()

    lazy, lazy_head = Ledger(large_home).load_state(lazy=True)

    assert isinstance(lazy, LazyState)
    assert lazy_head == full_head
    assert sorted(lazy) == sorted(full)
    assert isinstance(lazy["participants"], LazyObject)
    address = address_of(PARTICIPANTS // 2)
    assert lazy["participants"][address] == full["participants"][address]
    assert lazy["models"] == full["models"]
    assert dict(lazy["participants"]) == full["participants"]


def test_lazy_state_missing_keys(large_home):
    lazy, _head = Ledger(large_home).load_state(lazy=True)

    assert lazy.get("no-such-key") is None
    assert lazy["participants"].get("gonka1unknown") is None
    assert "gonka1unknown" not in lazy["participants"]


def test_lazy_state_damaged_chunk(large_home):
    expected, _head = Ledger(large_home).load_state()
    address = address_of(PARTICIPANTS // 2)
    path = os.path.join(large_home, "snapshot.json")
    with open(path, "rb") as handle:
        data = handle.read()
    # Change the participant's URL inside the state line, keeping valid JSON.
    url = expected["participants"][address]["inference_url"].encode()
    at = data.index(url, data.index(b"\n"))
    with open(path, "wb") as handle:
        handle.write(data[:at] + url.replace(b"http", b"hxxp") + data[at + len(url):])

    lazy, _head = Ledger(large_home).load_state(lazy=True)

    assert lazy["participants"][address] == expected["participants"][address]


def test_stored_hash_matches_sealed_line():
    record = seal_record(7, "2025-01-01T00:00:00.000000000Z", "/x.Msg",
                         {"hash": "blake3:00", "height": {"n": 1}}, "blake3:" + "0" * 64)

    assert stored_hash_matches(record.line, record.hash)
    assert record.line == canonical_bytes(record.as_dict())


def test_stored_hash_rejects_spaced_line():
    record = seal_record(7, "2025-01-01T00:00:00.000000000Z", "/x.Msg", {"a": 1},
                         "blake3:" + "0" * 64)
    spaced = record.line.replace(b'"a":1', b'"a": 1')

    assert not stored_hash_matches(spaced, record.hash)


@pytest.mark.parametrize("text", [
    b'{"a": 1, "b": [true, null, "x:y"], "c": {"d": -5}}',
    b'{"a": 18446744073709551615, "b": -9223372036854775808}',
    b'{"big": 123456789012345678901234567890}',
    b'{"a": "\\u003a", "b": 1.5}',
    b'[' * 40 + b']' * 40,
])
def test_loads_strict_matches_json(text):
    assert loads_strict(text, "t.json") == json.loads(text)


@pytest.mark.parametrize("text", [
    b'{"a": 1, "a": 2}',
    b'{"x": {"b": 1, "b": 2}}',
    b'{"a": 1, "a": 2, "s": "\\u003a"}',
    b'[' * 300 + b']' * 300,
])
def test_loads_strict_rejects(text):
    with pytest.raises(InvalidInput):
        loads_strict(text, "t.json")


def test_reject_floats_names_path():
    with pytest.raises(InvalidInput) as caught:
        reject_floats({"a": [1, {"b": 0.5}]})

    assert caught.value.message.startswith("body.a[1].b: float 0.5")


def test_reject_floats_allows_scalars():
    reject_floats({"a": [1, "x", None, True, {"b": -2}]})
