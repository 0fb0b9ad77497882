"""ML nodes: registration from node-config files, hardware diffs, admin state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import DATA, invoke, tree_digest

NODES = DATA / "nodes"
FOUR_MODELS_GENESIS = NODES / "genesis-four-models.json"
ALICE = "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le"
BOB = "gonka1dkl4mah5erqggvhqkpc8j3qs5tyuetgdy552cp"
QWQ = "Qwen/QwQ-32B"
QWEN7B = "Qwen/Qwen2.5-7B-Instruct"
DIFF = "/inference.inference.MsgSubmitHardwareDiff"


@pytest.fixture
def models_home(tmp_path: Path) -> str:
    """A ledger whose registry has the mainnet models plus model1 to model4."""
    home = str(tmp_path / "models-home")
    outcome = invoke("genesis", "import", str(FOUR_MODELS_GENESIS), "--home", home)
    assert outcome.exit_code == 0, outcome.stderr
    return home


def hw(
    local_id: str,
    models: list[str],
    status: str = "INFERENCE",
    hardware: list[dict] | None = None,
) -> dict:
    return {
        "local_id": local_id,
        "status": status,
        "models": models,
        "hardware": hardware or [],
        "host": "10.0.0.1",
        "port": "8080",
    }


def submit_diff(
    run,
    home: str,
    new: list[dict],
    removed: list[dict] | None = None,
    creator: str = ALICE,
):
    body = {"creator": creator, "newOrModified": new, "removed": removed or []}
    line = json.dumps({"type": DIFF, "body": body})
    return run("apply", "-", "--home", home, input=line + "\n")


def chain_nodes(run, home: str, participant: str = ALICE) -> list[dict]:
    outcome = run(
        "node", "list", "--participant", participant, "--json", "--home", home
    )
    assert outcome.exit_code == 0, outcome.stderr
    return [row["chain"] for row in json.loads(outcome.stdout)["nodes"]]


def stored_hardware(home: str) -> dict:
    from inferctl.ledger.session import read_state

    state, _head = read_state(home)
    return state["hardware"]


def register_flags(
    run,
    home: str,
    participant: str,
    node_id: str,
    host: str,
    poc_port: int,
    *models: str,
):
    args = [
        "node",
        "register",
        "--participant",
        participant,
        "--id",
        node_id,
        "--host",
        host,
        "--inference-port",
        "5000",
        "--poc-port",
        str(poc_port),
        "--max-concurrent",
        "10",
        "--home",
        home,
    ]
    for model_id in models:
        args += ["--model", model_id]
    return run(*args)


# ----- the chain's hardware-diff cases ---------------------------------------------


def test_diff_add_modify_remove(run, models_home):
    added = submit_diff(
        run, models_home, [hw("node2", ["model3"]), hw("node1", ["model1", "model2"])]
    )
    assert added.exit_code == 0, added.stderr
    assert [n["local_id"] for n in chain_nodes(run, models_home)] == ["node1", "node2"]

    gpu = [{"type": "GPU", "count": 4}]
    modified = submit_diff(
        run, models_home, [hw("node1", ["model1", "model2", "model4"], "POC", gpu)]
    )
    assert modified.exit_code == 0, modified.stderr
    nodes = chain_nodes(run, models_home)
    assert nodes[0] == {
        "local_id": "node1",
        "status": "POC",
        "models": ["model1", "model2", "model4"],
        "hardware": [{"type": "GPU", "count": 4}],
        "host": "10.0.0.1",
        "port": "8080",
    }
    assert nodes[1]["local_id"] == "node2"

    removed = submit_diff(run, models_home, [], [hw("node2", ["model3"])])
    assert removed.exit_code == 0, removed.stderr
    assert [n["local_id"] for n in chain_nodes(run, models_home)] == ["node1"]


def test_diff_first_for_participant(run, models_home):
    assert ALICE not in stored_hardware(models_home)

    outcome = submit_diff(run, models_home, [hw("node1", ["model1"])])

    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.startswith("applied 1 transactions at heights 2 to 2")
    assert chain_nodes(run, models_home) == [hw("node1", ["model1"])]


def test_diff_remove_all_keeps_record(run, models_home):
    assert submit_diff(run, models_home, [hw("node1", ["model1"])]).exit_code == 0

    outcome = submit_diff(run, models_home, [], [{"local_id": "node1"}])

    assert outcome.exit_code == 0, outcome.stderr
    assert stored_hardware(models_home)[ALICE] == {}
    assert chain_nodes(run, models_home) == []


def test_diff_unregistered_model_changes_nothing(run, models_home):
    assert submit_diff(run, models_home, [hw("node1", ["model1"])]).exit_code == 0
    before = tree_digest(models_home)

    outcome = submit_diff(
        run, models_home, [hw("node2", ["model1", "model5"]), hw("node3", ["Model1"])]
    )

    assert outcome.exit_code == 3
    assert outcome.stdout == ""
    assert "'model5' (node 'node2')" in outcome.stderr
    assert "'Model1' (node 'node3')" in outcome.stderr
    assert "line 1" in outcome.stderr
    assert tree_digest(models_home) == before


def test_diff_removed_models_not_checked(run, models_home):
    assert submit_diff(run, models_home, [hw("node1", ["model1"])]).exit_code == 0

    outcome = submit_diff(run, models_home, [], [hw("node1", ["no-such-model"])])

    assert outcome.exit_code == 0, outcome.stderr
    assert chain_nodes(run, models_home) == []


def test_diff_node_in_both_lists_stays(run, models_home):
    outcome = submit_diff(
        run,
        models_home,
        [hw("node1", ["model2"])],
        [{"local_id": "node1"}, {"local_id": "unknown"}],
    )

    assert outcome.exit_code == 0, outcome.stderr
    assert chain_nodes(run, models_home) == [hw("node1", ["model2"])]


def test_diff_duplicate_last_wins(run, models_home):
    outcome = submit_diff(
        run, models_home, [hw("node1", ["model1"]), hw("node1", ["model2"])]
    )

    assert outcome.exit_code == 0, outcome.stderr
    assert chain_nodes(run, models_home) == [hw("node1", ["model2"])]


@pytest.mark.parametrize(
    "creator",
    [
        "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5la",  # checksum broken
        "cosmos1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le",
        "not-an-address",
    ],
)
def test_diff_invalid_creator(run, models_home, creator):
    before = tree_digest(models_home)

    outcome = submit_diff(run, models_home, [hw("node1", ["model1"])], creator=creator)

    assert outcome.exit_code == 3
    assert "creator" in outcome.stderr
    assert tree_digest(models_home) == before


def test_diff_status_number_stored_as_name(run, models_home):
    node = hw("node1", ["model1"])
    node["status"] = 2

    outcome = submit_diff(run, models_home, [node])

    assert outcome.exit_code == 0, outcome.stderr
    assert chain_nodes(run, models_home)[0]["status"] == "POC"


# ----- node register -----------------------------------------------------------------


def test_register_real_payload_chain_form(run, mainnet_home):
    outcome = run(
        "node",
        "register",
        "--participant",
        ALICE,
        "--file",
        str(NODES / "node_payload.json"),
        "--home",
        mainnet_home,
    )

    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.startswith("2 blake3:")
    assert f"registered node1 for {ALICE}" in outcome.stderr
    shown = run(
        "node",
        "show",
        "--participant",
        ALICE,
        "node1",
        "--json",
        "--home",
        mainnet_home,
    )
    view = json.loads(shown.stdout)["node"]
    assert view["chain"] == {
        "local_id": "node1",
        "status": "UNKNOWN",
        "models": [QWEN7B],
        "hardware": [{"type": "A100", "count": 1}, {"type": "T4", "count": 2}],
        "host": "34.171.235.205",
        "port": "5000",
    }
    assert view["config"]["inference_port"] == 8080
    assert view["config"]["max_concurrent"] == 500
    assert view["config"]["models"] == {QWEN7B: {"args": ["--quantization", "fp8"]}}
    assert view["config"]["version"] == ""
    assert view["admin_state"] == {"enabled": True, "epoch": 0}


@pytest.mark.parametrize(
    "name, ids",
    [
        ("node-config.json", ["node1"]),
        ("node-config-qwq-8x3090.json", ["node1"]),
        ("node_payload.json", ["node1"]),
        ("node_payload_mock-server_genesis_2_nodes.json", ["wiremock", "wiremock-2"]),
    ],
)
def test_register_real_files(run, mainnet_home, name, ids):
    path = NODES / name
    outcome = run(
        "node",
        "register",
        "--participant",
        BOB,
        "--file",
        str(path),
        "--home",
        mainnet_home,
    )

    assert outcome.exit_code == 0, outcome.stderr
    listed = run("node", "list", "--json", "--home", mainnet_home)
    rows = json.loads(listed.stdout)["nodes"]
    assert [row["id"] for row in rows] == ids
    for row, entry in zip(rows, json.loads(path.read_text()), strict=True):
        assert row["config"]["models"] == entry["models"]
        assert row["config"]["host"] == entry["host"]
        assert row["chain"]["port"] == str(entry["poc_port"])


def test_register_sorts_chain_models(run, mainnet_home):
    outcome = register_flags(run, mainnet_home, ALICE, "n1", "h", 9000, QWEN7B, QWQ)

    assert outcome.exit_code == 0, outcome.stderr
    assert chain_nodes(run, mainnet_home)[0]["models"] == [QWQ, QWEN7B]


def test_register_hardware_flags(run, mainnet_home):
    outcome = run(
        "node",
        "register",
        "--participant",
        ALICE,
        "--id",
        "n1",
        "--host",
        "h",
        "--inference-port",
        "1",
        "--poc-port",
        "65535",
        "--max-concurrent",
        "1",
        "--model",
        QWQ,
        "--hardware",
        "H100:8",
        "--hardware",
        "A100:0",
        "--home",
        mainnet_home,
    )

    assert outcome.exit_code == 0, outcome.stderr
    node = chain_nodes(run, mainnet_home)[0]
    assert node["hardware"] == [
        {"type": "H100", "count": 8},
        {"type": "A100", "count": 0},
    ]
    assert node["port"] == "65535"


def test_register_unknown_models_named(run, mainnet_home):
    before = tree_digest(mainnet_home)

    outcome = register_flags(
        run, mainnet_home, ALICE, "n1", "h", 9000, QWQ, "qwen/qwq-32b", "other/model"
    )

    assert outcome.exit_code == 3
    assert outcome.stdout == ""
    assert "2 models are not in the model registry" in outcome.stderr
    assert "'qwen/qwq-32b'" in outcome.stderr
    assert "'other/model'" in outcome.stderr
    assert tree_digest(mainnet_home) == before


def test_same_id_two_participants(run, mainnet_home):
    first = register_flags(run, mainnet_home, ALICE, "n1", "alice-host", 9000, QWQ)
    second = register_flags(run, mainnet_home, BOB, "n1", "bob-host", 9001, QWEN7B)

    assert first.exit_code == 0, first.stderr
    assert second.exit_code == 0, second.stderr
    alice = chain_nodes(run, mainnet_home, ALICE)
    bob = chain_nodes(run, mainnet_home, BOB)
    assert alice[0]["host"] == "alice-host"
    assert alice[0]["models"] == [QWQ]
    assert bob[0]["host"] == "bob-host"
    assert bob[0]["models"] == [QWEN7B]
    listed = json.loads(run("node", "list", "--json", "--home", mainnet_home).stdout)
    assert len(listed["nodes"]) == 2


def test_reregister_host_port_change(run, mainnet_home):
    assert (
        register_flags(run, mainnet_home, ALICE, "n1", "old", 9000, QWQ).exit_code == 0
    )

    outcome = register_flags(run, mainnet_home, ALICE, "n1", "new", 9100, QWQ)

    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.startswith("3 blake3:")
    assert "changed: host, poc_port" in outcome.stderr
    node = chain_nodes(run, mainnet_home)[0]
    assert node["host"] == "new"
    assert node["port"] == "9100"


def test_reregister_identical_appends_nothing(run, mainnet_home):
    path = str(NODES / "node_payload_mock-server_genesis_2_nodes.json")
    first = run(
        "node",
        "register",
        "--participant",
        ALICE,
        "--file",
        path,
        "--home",
        mainnet_home,
    )
    assert first.exit_code == 0, first.stderr
    before = tree_digest(mainnet_home)

    again = run(
        "node",
        "register",
        "--participant",
        ALICE,
        "--file",
        path,
        "--home",
        mainnet_home,
    )

    assert again.exit_code == 0, again.stderr
    assert again.stdout == ""
    assert "already registered with this configuration" in again.stderr
    assert tree_digest(mainnet_home) == before


def test_reregister_config_only_change(run, mainnet_home, tmp_path):
    entry = json.loads((NODES / "node-config.json").read_text())
    first = tmp_path / "first.json"
    first.write_text(json.dumps(entry))
    entry[0]["max_concurrent"] = 10
    second = tmp_path / "second.json"
    second.write_text(json.dumps(entry))
    assert (
        run(
            "node",
            "register",
            "--participant",
            ALICE,
            "--file",
            str(first),
            "--home",
            mainnet_home,
        ).exit_code
        == 0
    )

    outcome = run(
        "node",
        "register",
        "--participant",
        ALICE,
        "--file",
        str(second),
        "--home",
        mainnet_home,
    )

    assert outcome.exit_code == 0, outcome.stderr
    assert "changed: max_concurrent" in outcome.stderr


def test_register_single_object_file(run, mainnet_home, tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(json.loads((NODES / "node-config.json").read_text())[0]))

    outcome = run(
        "node",
        "register",
        "--participant",
        ALICE,
        "--file",
        str(path),
        "--home",
        mainnet_home,
    )

    assert outcome.exit_code == 0, outcome.stderr
    assert chain_nodes(run, mainnet_home)[0]["local_id"] == "node1"


def _entry(**changes) -> dict:
    entry = {
        "id": "n1",
        "host": "h",
        "inference_port": 5000,
        "poc_port": 8080,
        "max_concurrent": 10,
        "models": {QWQ: {"args": []}},
    }
    entry.update(changes)
    return {key: value for key, value in entry.items() if value is not None}


@pytest.mark.parametrize(
    "entries, named",
    [
        ([_entry(poc_port=0)], "[0].poc_port = 0"),
        ([_entry(inference_port=65536)], "[0].inference_port = 65536"),
        ([_entry(poc_port="8080")], '[0].poc_port = "8080"'),
        ([_entry(poc_port=True)], "[0].poc_port = true"),
        ([_entry(max_concurrent=0)], "[0].max_concurrent = 0"),
        ([_entry(id="")], '[0].id = ""'),
        ([_entry(id=7)], "[0].id = 7"),
        ([_entry(host=None)], "[0].host: missing required key"),
        ([_entry(models=None)], "[0].models: missing required key"),
        (
            [_entry(hardware=[{"type": "A100", "count": -1}])],
            "[0].hardware[0].count = -1",
        ),
        (
            [_entry(hardware=[{"type": "A100", "count": 2**32}])],
            "[0].hardware[0].count = 4294967296",
        ),
        ([_entry(hardware=[{"type": "", "count": 1}])], '[0].hardware[0].type = ""'),
        ([_entry(gpu="A100")], '[0].gpu = "A100": unknown key'),
        ([_entry(models={QWQ: {"argz": []}})], ".argz = []: unknown key"),
        ([_entry(models={QWQ: {"args": [1]}})], ".args[0] = 1"),
        ([_entry(), _entry(host="other")], '[1].id = "n1": duplicate node id'),
        ([], "the list of nodes is empty"),
    ],
)
def test_register_rejects_bad_entry(run, mainnet_home, tmp_path, entries, named):
    path = tmp_path / "nodes.json"
    path.write_text(json.dumps(entries))
    before = tree_digest(mainnet_home)

    outcome = run(
        "node",
        "register",
        "--participant",
        ALICE,
        "--file",
        str(path),
        "--home",
        mainnet_home,
    )

    assert outcome.exit_code == 3
    assert outcome.stdout == ""
    assert named in outcome.stderr
    assert str(path) in outcome.stderr
    assert tree_digest(mainnet_home) == before


def test_register_float_port_rejected(run, mainnet_home, tmp_path):
    path = tmp_path / "nodes.json"
    path.write_text(json.dumps([_entry()]).replace("8080", "8080.0"))

    outcome = run(
        "node",
        "register",
        "--participant",
        ALICE,
        "--file",
        str(path),
        "--home",
        mainnet_home,
    )

    assert outcome.exit_code == 3
    assert "[0].poc_port = 8080.0" in outcome.stderr


def test_register_file_and_flags_conflict(run, mainnet_home):
    outcome = run(
        "node",
        "register",
        "--participant",
        ALICE,
        "--file",
        str(NODES / "node-config.json"),
        "--host",
        "h",
        "--home",
        mainnet_home,
    )

    assert outcome.exit_code == 2
    assert "--file cannot be combined with --host" in outcome.stderr


def test_register_missing_flags(run, mainnet_home):
    outcome = run(
        "node", "register", "--participant", ALICE, "--id", "n1", "--home", mainnet_home
    )

    assert outcome.exit_code == 2
    assert (
        "missing --host, --inference-port, --poc-port, --max-concurrent"
        in outcome.stderr
    )


def test_register_invalid_participant(run, mainnet_home):
    outcome = register_flags(run, mainnet_home, "gonka1abc", "n1", "h", 9000, QWQ)

    assert outcome.exit_code == 3
    assert "participant" in outcome.stderr


def test_register_unjoined_participant_noted(run, models_home):
    outcome = register_flags(run, models_home, ALICE, "n1", "h", 9000, "model1")

    assert outcome.exit_code == 0, outcome.stderr
    assert "is not a registered participant" in outcome.stderr


def test_chain_diff_of_register_body():
    from inferctl.flow.nodes import chain_diff

    entry = json.loads((NODES / "node-config-qwq-8x3090.json").read_text())[0]
    body = {"participant": ALICE, "nodes": [entry]}

    assert chain_diff(body) == {
        "creator": ALICE,
        "newOrModified": [
            {
                "local_id": "node1",
                "status": "UNKNOWN",
                "models": [QWQ],
                "hardware": [],
                "host": "inference",
                "port": "8080",
            }
        ],
        "removed": [],
    }


# ----- remove, enable, disable, list, show -----------------------------------------


def test_remove_node(run, mainnet_home):
    path = str(NODES / "node_payload_mock-server_genesis_2_nodes.json")
    assert (
        run(
            "node",
            "register",
            "--participant",
            ALICE,
            "--file",
            path,
            "--home",
            mainnet_home,
        ).exit_code
        == 0
    )

    outcome = run(
        "node", "remove", "--participant", ALICE, "wiremock", "--home", mainnet_home
    )

    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.startswith("3 blake3:")
    assert [n["local_id"] for n in chain_nodes(run, mainnet_home)] == ["wiremock-2"]
    record = json.loads(
        run("ledger", "show", "3", "--json", "--home", mainnet_home).stdout
    )["record"]
    assert record["type"] == DIFF
    assert record["body"]["newOrModified"] == []
    assert [n["local_id"] for n in record["body"]["removed"]] == ["wiremock"]


def test_remove_unknown_id(run, mainnet_home):
    assert register_flags(run, mainnet_home, ALICE, "n1", "h", 9000, QWQ).exit_code == 0
    before = tree_digest(mainnet_home)

    outcome = run(
        "node", "remove", "--participant", ALICE, "n1", "n9", "--home", mainnet_home
    )

    assert outcome.exit_code == 4
    assert "node not found: n9" in outcome.stderr
    assert tree_digest(mainnet_home) == before


def test_remove_other_participants_id(run, mainnet_home):
    assert register_flags(run, mainnet_home, ALICE, "n1", "h", 9000, QWQ).exit_code == 0

    outcome = run("node", "remove", "--participant", BOB, "n1", "--home", mainnet_home)

    assert outcome.exit_code == 4
    assert f"node not found: n1 (participant {BOB})" in outcome.stderr


def test_disable_then_enable(run, mainnet_home):
    assert register_flags(run, mainnet_home, ALICE, "n1", "h", 9000, QWQ).exit_code == 0

    disabled = run(
        "node", "disable", "--participant", ALICE, "n1", "--home", mainnet_home
    )
    again = run("node", "disable", "--participant", ALICE, "n1", "--home", mainnet_home)

    assert disabled.exit_code == 0, disabled.stderr
    assert disabled.stdout.startswith("3 blake3:")
    assert again.exit_code == 0, again.stderr
    assert again.stdout == ""
    assert "already disabled at epoch 0" in again.stderr
    shown = run(
        "node", "show", "--participant", ALICE, "n1", "--json", "--home", mainnet_home
    )
    assert json.loads(shown.stdout)["node"]["admin_state"] == {
        "enabled": False,
        "epoch": 0,
    }
    enabled = run(
        "node", "enable", "--participant", ALICE, "n1", "--home", mainnet_home
    )
    assert enabled.exit_code == 0, enabled.stderr
    shown = run(
        "node", "show", "--participant", ALICE, "n1", "--json", "--home", mainnet_home
    )
    assert json.loads(shown.stdout)["node"]["admin_state"] == {
        "enabled": True,
        "epoch": 0,
    }


def test_disable_unknown_node(run, mainnet_home):
    outcome = run(
        "node", "disable", "--participant", ALICE, "n1", "--home", mainnet_home
    )

    assert outcome.exit_code == 4
    assert "node not found: n1" in outcome.stderr


def test_reregister_enables_disabled_node(run, mainnet_home):
    assert register_flags(run, mainnet_home, ALICE, "n1", "h", 9000, QWQ).exit_code == 0
    assert (
        run(
            "node", "disable", "--participant", ALICE, "n1", "--home", mainnet_home
        ).exit_code
        == 0
    )

    outcome = register_flags(run, mainnet_home, ALICE, "n1", "h", 9001, QWQ)

    assert outcome.exit_code == 0, outcome.stderr
    assert "enabled again" in outcome.stderr


def test_list_text_and_filter(run, mainnet_home):
    assert (
        register_flags(run, mainnet_home, ALICE, "a1", "ha", 9000, QWQ).exit_code == 0
    )
    assert (
        register_flags(run, mainnet_home, BOB, "b1", "hb", 9001, QWEN7B).exit_code == 0
    )

    everything = run("node", "list", "--home", mainnet_home)
    only_bob = run("node", "list", "--participant", BOB, "--home", mainnet_home)

    assert everything.exit_code == 0
    assert everything.stdout.splitlines()[0].split()[:3] == [
        "PARTICIPANT",
        "ID",
        "STATUS",
    ]
    assert len(everything.stdout.splitlines()) == 3
    lines = only_bob.stdout.splitlines()
    assert len(lines) == 2
    assert lines[1].split()[:5] == [BOB, "b1", "UNKNOWN", "hb", "9001"]


def test_list_empty(run, mainnet_home):
    outcome = run("node", "list", "--home", mainnet_home)

    assert outcome.exit_code == 0
    assert outcome.stdout == ""
    assert "no nodes registered" in outcome.stderr


def test_show_text(run, mainnet_home):
    path = str(NODES / "node_payload.json")
    assert (
        run(
            "node",
            "register",
            "--participant",
            ALICE,
            "--file",
            path,
            "--home",
            mainnet_home,
        ).exit_code
        == 0
    )

    outcome = run(
        "node", "show", "--participant", ALICE, "node1", "--home", mainnet_home
    )

    assert outcome.exit_code == 0
    assert "  hardware: A100 x1, T4 x2" in outcome.stdout
    assert "  port: 5000" in outcome.stdout
    assert "    Qwen/Qwen2.5-7B-Instruct: --quantization fp8" in outcome.stdout


def test_show_unknown(run, mainnet_home):
    outcome = run(
        "node", "show", "--participant", ALICE, "node1", "--home", mainnet_home
    )

    assert outcome.exit_code == 4
    assert outcome.stdout == ""
    assert "node not found: node1" in outcome.stderr


def test_raw_diff_keeps_config(run, mainnet_home):
    path = str(NODES / "node-config.json")
    assert (
        run(
            "node",
            "register",
            "--participant",
            ALICE,
            "--file",
            path,
            "--home",
            mainnet_home,
        ).exit_code
        == 0
    )

    outcome = submit_diff(run, mainnet_home, [hw("node1", [QWQ])])

    assert outcome.exit_code == 0, outcome.stderr
    view = json.loads(
        run(
            "node",
            "show",
            "--participant",
            ALICE,
            "node1",
            "--json",
            "--home",
            mainnet_home,
        ).stdout
    )["node"]
    assert view["chain"]["models"] == [QWQ]
    assert view["config"]["models"] == {
        QWEN7B: {"args": ["--quantization", "fp8", "--gpu-memory-utilization", "0.9"]}
    }


def test_raw_diff_node_has_no_config(run, mainnet_home):
    assert submit_diff(run, mainnet_home, [hw("node1", [QWQ])]).exit_code == 0

    outcome = run(
        "node", "show", "--participant", ALICE, "node1", "--home", mainnet_home
    )

    assert outcome.exit_code == 0
    assert "config: none" in outcome.stdout
