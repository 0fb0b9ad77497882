"""`inferctl apply`: newline-delimited transactions committed all or nothing."""

from __future__ import annotations

import json

from conftest import DATA, tree_digest

ALICE = "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le"
BOB = "gonka1dkl4mah5erqggvhqkpc8j3qs5tyuetgdy552cp"
QWQ = "Qwen/QwQ-32B"
NODE_CONFIG = json.loads((DATA / "nodes" / "node-config.json").read_text())


def line(tx_type: str, body: dict) -> str:
    return json.dumps({"type": tx_type, "body": body})


JOIN = line(
    "/inference.inference.MsgSubmitNewParticipant",
    {
        "creator": ALICE,
        "url": "http://alice.example",
        "validator_key": "",
        "worker_key": "",
    },
)
REGISTER = line(
    "/inferctl.v1.RegisterNodes", {"participant": BOB, "nodes": NODE_CONFIG}
)
DIFF = line(
    "/inference.inference.MsgSubmitHardwareDiff",
    {
        "creator": ALICE,
        "removed": [],
        "newOrModified": [
            {
                "local_id": "n1",
                "status": "INFERENCE",
                "models": [QWQ],
                "hardware": [],
                "host": "h",
                "port": "1",
            }
        ],
    },
)
DISABLE = line(
    "/inferctl.v1.SetNodeAdminState",
    {"participant": BOB, "node_id": "node1", "enabled": False},
)
BAD_MODEL = line(
    "/inference.inference.MsgSubmitHardwareDiff",
    {
        "creator": ALICE,
        "newOrModified": [{"local_id": "n2", "models": ["no/such-model"]}],
    },
)


def record(run, home: str, height: int) -> dict:
    outcome = run("ledger", "show", str(height), "--json", "--home", home)
    assert outcome.exit_code == 0, outcome.stderr
    return json.loads(outcome.stdout)["record"]


def test_batch_one_record_per_line(run, mainnet_home, tmp_path):
    lines = [JOIN, "", REGISTER, "   ", DIFF, DISABLE]
    path = tmp_path / "batch.ndjson"
    path.write_text("\n".join(lines) + "\n")

    outcome = run("apply", str(path), "--home", mainnet_home)

    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.startswith("applied 4 transactions at heights 2 to 5, head ")
    for height, text in zip(range(2, 6), [JOIN, REGISTER, DIFF, DISABLE], strict=True):
        stored = record(run, mainnet_home, height)
        expected = json.loads(text)
        assert stored["type"] == expected["type"]
        assert stored["body"] == expected["body"]
    log = run("ledger", "log", "--json", "--limit", "0", "--home", mainnet_home)
    assert len(json.loads(log.stdout)["records"]) == 5


def test_batch_same_time_for_all(run, mainnet_home, tmp_path):
    path = tmp_path / "batch.ndjson"
    path.write_text(f"{JOIN}\n{REGISTER}\n")

    outcome = run(
        "apply", str(path), "--time", "2025-09-01T00:00:00Z", "--home", mainnet_home
    )

    assert outcome.exit_code == 0, outcome.stderr
    assert record(run, mainnet_home, 2)["time"] == "2025-09-01T00:00:00.000000000Z"
    assert record(run, mainnet_home, 3)["time"] == "2025-09-01T00:00:00.000000000Z"


def test_batch_rejected_line_changes_nothing(run, mainnet_home, tmp_path):
    path = tmp_path / "batch.ndjson"
    path.write_text("\n".join([JOIN, REGISTER, BAD_MODEL, DIFF]) + "\n")
    before = tree_digest(mainnet_home)

    outcome = run("apply", str(path), "--home", mainnet_home)

    assert outcome.exit_code == 3
    assert outcome.stdout == ""
    assert outcome.stderr.startswith("error: line 3: ")
    assert "'no/such-model'" in outcome.stderr
    assert tree_digest(mainnet_home) == before


def test_batch_bad_json_names_line(run, mainnet_home, tmp_path):
    path = tmp_path / "batch.ndjson"
    path.write_text(f'{JOIN}\n\n{{"type": \n{REGISTER}\n')
    before = tree_digest(mainnet_home)

    outcome = run("apply", str(path), "--home", mainnet_home)

    assert outcome.exit_code == 3
    assert f"{path} line 3: invalid JSON" in outcome.stderr
    assert tree_digest(mainnet_home) == before


def test_batch_duplicate_key_names_line(run, mainnet_home, tmp_path):
    path = tmp_path / "batch.ndjson"
    duplicate = JOIN.replace(
        '"url": "http://alice.example"',
        '"url": "http://a.example", "url": "http://b.example"',
    )
    path.write_text(f"{REGISTER}\n{duplicate}\n")

    outcome = run("apply", str(path), "--home", mainnet_home)

    assert outcome.exit_code == 3
    assert f"{path} line 2: duplicate JSON key 'url'" in outcome.stderr


def test_batch_unknown_type_names_line(run, mainnet_home, tmp_path):
    path = tmp_path / "batch.ndjson"
    path.write_text(
        JOIN + "\n" + line("/inference.inference.MsgNoSuchThing", {}) + "\n"
    )

    outcome = run("apply", str(path), "--home", mainnet_home)

    assert outcome.exit_code == 3
    assert (
        "line 2: unknown transaction type '/inference.inference.MsgNoSuchThing'"
        in outcome.stderr
    )


def test_batch_genesis_type_rejected(run, mainnet_home, tmp_path):
    path = tmp_path / "batch.ndjson"
    path.write_text(line("/inferctl.v1.Genesis", {"document": "x"}) + "\n")

    outcome = run("apply", str(path), "--home", mainnet_home)

    assert outcome.exit_code == 3
    assert "line 1: unknown transaction type '/inferctl.v1.Genesis'" in outcome.stderr


def test_batch_extra_key_names_line(run, mainnet_home, tmp_path):
    path = tmp_path / "batch.ndjson"
    path.write_text(
        json.dumps({"type": "/inferctl.v1.RegisterNodes", "body": {}, "memo": "x"})
        + "\n"
    )

    outcome = run("apply", str(path), "--home", mainnet_home)

    assert outcome.exit_code == 3
    assert (
        "line 1: expected an object with exactly the keys type and body"
        in outcome.stderr
    )


def test_batch_body_not_object(run, mainnet_home, tmp_path):
    path = tmp_path / "batch.ndjson"
    path.write_text(
        json.dumps({"type": "/inferctl.v1.RegisterNodes", "body": []}) + "\n"
    )

    outcome = run("apply", str(path), "--home", mainnet_home)

    assert outcome.exit_code == 3
    assert "line 1: body must be a JSON object" in outcome.stderr


def test_batch_float_rejected(run, mainnet_home, tmp_path):
    path = tmp_path / "batch.ndjson"
    path.write_text(JOIN + "\n" + REGISTER.replace("5000", "5000.5") + "\n")
    before = tree_digest(mainnet_home)

    outcome = run("apply", str(path), "--home", mainnet_home)

    assert outcome.exit_code == 3
    assert "line 2" in outcome.stderr
    assert tree_digest(mainnet_home) == before


def test_batch_from_stdin_json(run, mainnet_home):
    outcome = run(
        "apply", "-", "--json", "--home", mainnet_home, input=f"{JOIN}\n{REGISTER}\n"
    )

    assert outcome.exit_code == 0, outcome.stderr
    summary = json.loads(outcome.stdout)
    assert summary["schema_version"] == 1
    assert summary["count"] == 2
    assert summary["skipped"] == 0
    assert summary["first_height"] == 2
    assert summary["last_height"] == 3
    assert summary["head"] == record(run, mainnet_home, 3)["hash"]


def test_batch_unchanged_line_skipped(run, mainnet_home):
    outcome = run(
        "apply",
        "-",
        "--json",
        "--home",
        mainnet_home,
        input=f"{REGISTER}\n{REGISTER}\n",
    )

    assert outcome.exit_code == 0, outcome.stderr
    summary = json.loads(outcome.stdout)
    assert summary["count"] == 1
    assert summary["skipped"] == 1
    assert "line 2: node node1 of" in outcome.stderr
    assert "already registered" in outcome.stderr


def test_batch_empty_input(run, mainnet_home):
    before = tree_digest(mainnet_home)

    outcome = run("apply", "-", "--home", mainnet_home, input="\n\n")

    assert outcome.exit_code == 0
    assert outcome.stdout == "applied 0 transactions\n"
    assert "no transactions" in outcome.stderr
    assert tree_digest(mainnet_home) == before


def test_batch_missing_file(run, mainnet_home, tmp_path):
    outcome = run("apply", str(tmp_path / "absent.ndjson"), "--home", mainnet_home)

    assert outcome.exit_code == 4
    assert "no such transaction file" in outcome.stderr


def test_batch_many_nodes(run, mainnet_home):
    lines = []
    for i in range(300):
        entry = dict(NODE_CONFIG[0], id=f"node{i:03d}", host=f"10.0.0.{i % 250}")
        owner = ALICE if i % 2 else BOB
        lines.append(
            line("/inferctl.v1.RegisterNodes", {"participant": owner, "nodes": [entry]})
        )

    outcome = run(
        "apply", "-", "--json", "--home", mainnet_home, input="\n".join(lines) + "\n"
    )

    assert outcome.exit_code == 0, outcome.stderr
    assert json.loads(outcome.stdout)["last_height"] == 301
    listed = json.loads(run("node", "list", "--json", "--home", mainnet_home).stdout)
    ids = [(row["participant"], row["id"]) for row in listed["nodes"]]
    assert len(ids) == 300
    assert ids == sorted(ids)
