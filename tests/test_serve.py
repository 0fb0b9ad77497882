"""`inferctl serve`: a real server process on a loopback port, driven by urllib."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import DATA, MAINNET_GENESIS

NODES = DATA / "nodes"
# A mainnet genesis participant; its validator key and URL come from the genesis file.
PARTICIPANT = "gonka1p2lhgng7tcqju7emk989s5fpdr7k2c3ek6h26m"
PARTICIPANT_URL = "http://47.236.19.22:18000"
PARTICIPANT_VALIDATOR_KEY = "LLqBxOz+vD3p7sQsdEhBfrFH2QFMjy3fMasB9yBGSqs="
# The gov module account of a chain with prefix gonka: bech32 of sha256("gov")[:20].
GOV_AUTHORITY = "gonka10d07y265gmmuvt4z0w9aw880jnsr700j2h5m33"
# 2025-09-01T00:00:00Z, after the mainnet genesis time; the server's record time.
SOURCE_DATE_EPOCH = "1756684800"
QUERY = "/productscience/inference/inference"
NEW_MODEL = "example/Model-A"
START_TIMEOUT = 30.0

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# ----- a server process and an HTTP client --------------------------------------------


@dataclass
class Reply:
    status: int
    headers: Any
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Server:
    """`python -m inferctl serve` on a free loopback port, stderr in a file."""

    def __init__(self, home: str, log_path: Path, args: tuple[str, ...],
                 env: dict[str, str] | None) -> None:
        full_env = dict(os.environ)
        full_env.pop("INFERCTL_HOME", None)
        full_env.update(env or {})
        self.log_path = log_path
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "inferctl", "serve", "--home", home, "--port", "0",
             *args],
            stdout=subprocess.DEVNULL, stderr=self._log, env=full_env)
        self.port = self._wait_for_port()

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self.log())
            if found:
                return int(found.group(1))
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited {self.proc.returncode}: {self.log()}")
            time.sleep(0.05)
        raise AssertionError(f"serve did not start: {self.log()}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        code = self.proc.wait(timeout=60)
        self._log.close()
        return code


@pytest.fixture
def serve(tmp_path: Path):
    """Start servers for a test; each is stopped (SIGKILL if needed) at teardown."""
    started: list[Server] = []

    def _serve(home: str, *args: str, env: dict[str, str] | None = None) -> Server:
        server = Server(home, tmp_path / f"serve-{len(started)}.log", args, env)
        started.append(server)
        return server

    yield _serve
    for server in started:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()


def call(url: str, method: str = "GET", body: Any = None, data: bytes | None = None,
         timeout: float = 60) -> Reply:
    """Send one request; 4xx and 5xx responses are returned, not raised."""
    if body is not None:
        data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data is not None else {}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with _opener.open(request, timeout=timeout) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.headers, exc.read())


def node_entry(node_id: str, model: str = "Qwen/Qwen2.5-7B-Instruct") -> dict[str, Any]:
    return {"id": node_id, "host": "10.0.0.5", "inference_port": 5000,
            "poc_port": 8080, "max_concurrent": 500,
            "models": {model: {"args": ["--quantization", "fp8"]}},
            "hardware": [{"type": "A100", "count": 1}]}


def state_of(home: str) -> dict[str, Any]:
    from inferctl.ledger.session import read_state

    return read_state(home)[0]


def records_of(home: str) -> list[Any]:
    from inferctl.ledger.store import Ledger

    return list(Ledger(home).iter_records(1))


def assert_error_body(reply: Reply, status: int) -> str:
    """Check an error reply: its status, a JSON object body, a non-empty message."""
    assert reply.status == status
    body = reply.json()
    assert isinstance(body, dict)
    assert isinstance(body.get("error"), str)
    assert body["error"].strip()
    return body["error"]


def genesis_validators() -> list[str]:
    """Return the account addresses of the mainnet gentx validators (epoch 0 members)."""
    from inferctl.bech32 import decode, encode

    doc = json.loads(MAINNET_GENESIS.read_text())
    found = []
    for tx in doc["app_state"]["genutil"]["gen_txs"]:
        for message in tx["body"]["messages"]:
            found.append(encode("gonka", decode(message["validator_address"])[1]))
    return found


# ----- nodes: same state as `node register --file` -----------------------------------


@pytest.mark.parametrize("name", ["node_payload.json",
                                  "node_payload_mock-server_genesis_2_nodes.json"])
def test_batch_matches_register(name, mainnet_home, tmp_path, serve, run):
    path = NODES / name
    cli_home = str(tmp_path / "cli-home")
    shutil.copytree(mainnet_home, cli_home)
    outcome = run("node", "register", "--participant", PARTICIPANT, "--file", str(path),
                  "--home", cli_home)
    assert outcome.exit_code == 0, outcome.stderr
    server = serve(mainnet_home, "--participant", PARTICIPANT)
    reply = call(server.url("/admin/v1/nodes/batch"), "POST", data=path.read_bytes())
    assert reply.status == 201
    expected_ids = [entry["id"] for entry in json.loads(path.read_text())]
    assert [entry["id"] for entry in reply.json()] == expected_ids
    assert server.stop() == 0
    assert state_of(mainnet_home)["hardware"] == state_of(cli_home)["hardware"]


def test_single_posts_match_register(mainnet_home, tmp_path, serve, run):
    path = NODES / "node_payload_mock-server_genesis_2_nodes.json"
    cli_home = str(tmp_path / "cli-home")
    shutil.copytree(mainnet_home, cli_home)
    outcome = run("node", "register", "--participant", PARTICIPANT, "--file", str(path),
                  "--home", cli_home)
    assert outcome.exit_code == 0, outcome.stderr
    server = serve(mainnet_home, "--participant", PARTICIPANT)
    for entry in json.loads(path.read_text()):
        reply = call(server.url("/admin/v1/nodes"), "POST", body=entry)
        assert reply.status == 200
        # The API node returns the entry, optional keys filled with "".
        expected = {**entry, "inference_segment": "", "poc_segment": "", "version": ""}
        assert reply.json() == expected
    assert server.stop() == 0
    assert state_of(mainnet_home)["hardware"] == state_of(cli_home)["hardware"]


def test_hardware_query_shape(mainnet_home, serve):
    server = serve(mainnet_home, "--participant", PARTICIPANT)
    path = NODES / "node_payload.json"
    assert call(server.url("/admin/v1/nodes/batch"), "POST",
                data=path.read_bytes()).status == 201
    reply = call(server.url(f"{QUERY}/hardware_nodes/{PARTICIPANT}"))
    assert reply.status == 200
    # HardwareNode in proto JSON: PoC port as a string, counts as numbers; a new node
    # reports UNKNOWN until the API node has observed it.
    assert reply.json() == {"nodes": {"participant": PARTICIPANT, "hardware_nodes": [{
        "local_id": "node1", "status": "UNKNOWN",
        "models": ["Qwen/Qwen2.5-7B-Instruct"],
        "hardware": [{"type": "A100", "count": 1}, {"type": "T4", "count": 2}],
        "host": "34.171.235.205", "port": "5000"}]}}


def test_admin_nodes_list(mainnet_home, serve):
    server = serve(mainnet_home, "--participant", PARTICIPANT)
    path = NODES / "node_payload.json"
    assert call(server.url("/admin/v1/nodes/batch"), "POST",
                data=path.read_bytes()).status == 201
    assert call(server.url("/admin/v1/nodes/node1/disable"), "POST").status == 200
    reply = call(server.url("/admin/v1/nodes"))
    assert reply.status == 200
    entries = reply.json()
    assert len(entries) == 1
    assert entries[0]["node"]["id"] == "node1"
    assert entries[0]["node"]["poc_port"] == 5000
    assert entries[0]["state"]["admin_state"] == {"enabled": False, "epoch": 0}
    assert entries[0]["state"]["current_status"] == "UNKNOWN"
    assert entries[0]["state"]["epoch_models"] == {}


def test_delete_node(mainnet_home, serve):
    server = serve(mainnet_home, "--participant", PARTICIPANT)
    assert call(server.url("/admin/v1/nodes"), "POST", body=node_entry("n1")).status == 200
    reply = call(server.url("/admin/v1/nodes/n1"), "DELETE")
    assert reply.status == 200
    assert reply.json() is True
    assert call(server.url("/admin/v1/nodes"), "GET").json() == []
    assert_error_body(call(server.url("/admin/v1/nodes/n1"), "DELETE"), 404)


def test_unique_models(mainnet_home, serve):
    server = serve(mainnet_home, "--participant", PARTICIPANT)
    entries = [node_entry("a", "Qwen/QwQ-32B"), node_entry("b"),
               node_entry("c", "Qwen/QwQ-32B")]
    assert call(server.url("/admin/v1/nodes/batch"), "POST", body=entries).status == 201
    reply = call(server.url("/admin/v1/models/unique"))
    assert reply.json() == {"address": PARTICIPANT,
                            "models": ["Qwen/QwQ-32B", "Qwen/Qwen2.5-7B-Instruct"]}


# ----- batch outcomes ----------------------------------------------------------------


def test_batch_partial(mainnet_home, serve):
    server = serve(mainnet_home, "--participant", PARTICIPANT)
    entries = [node_entry("good"), node_entry("bad", "no/such-model"),
               node_entry("good")]
    reply = call(server.url("/admin/v1/nodes/batch"), "POST", body=entries)
    assert reply.status == 206
    body = reply.json()
    assert [node["id"] for node in body["nodes"]] == ["good"]
    assert [result["ok"] for result in body["results"]] == [True, False, False]
    assert "no/such-model" in body["errors"][0]
    assert "duplicate node id" in body["errors"][1]
    assert list(state_of(mainnet_home)["hardware"][PARTICIPANT]) == ["good"]


def test_batch_all_failed(mainnet_home, serve):
    server = serve(mainnet_home, "--participant", PARTICIPANT)
    reply = call(server.url("/admin/v1/nodes/batch"), "POST",
                 body=[node_entry("x", "no/such-model")])
    assert_error_body(reply, 400)
    assert len(reply.json()["errors"]) == 1
    assert PARTICIPANT not in state_of(mainnet_home)["hardware"]


# ----- errors -------------------------------------------------------------------------


def test_bad_json(mainnet_home, serve):
    server = serve(mainnet_home, "--participant", PARTICIPANT)
    for path in ("/admin/v1/nodes", "/admin/v1/nodes/batch", "/admin/v1/models",
                 "/v1/participants"):
        reply = call(server.url(path), "POST", data=b'{"id": ')
        message = assert_error_body(reply, 400)
        assert "invalid JSON" in message


def test_unknown_node(mainnet_home, serve):
    server = serve(mainnet_home, "--participant", PARTICIPANT)
    for method, path in (("DELETE", "/admin/v1/nodes/ghost"),
                         ("POST", "/admin/v1/nodes/ghost/enable"),
                         ("POST", "/admin/v1/nodes/ghost/disable")):
        message = assert_error_body(call(server.url(path), method), 404)
        assert "ghost" in message


def test_body_too_large(mainnet_home, serve):
    server = serve(mainnet_home, "--participant", PARTICIPANT, "--max-body-bytes", "1024")
    entry = node_entry("big")
    entry["host"] = "h" * 4000
    message = assert_error_body(call(server.url("/admin/v1/nodes"), "POST", body=entry),
                                413)
    assert "1024" in message
    assert PARTICIPANT not in state_of(mainnet_home)["hardware"]


def test_chunked_body_too_large(mainnet_home, serve):
    server = serve(mainnet_home, "--participant", PARTICIPANT, "--max-body-bytes", "1024")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    chunks = iter([b"[" + b" " * 800, b" " * 800, b"]"])
    connection.request("POST", "/admin/v1/nodes/batch", body=chunks,
                       encode_chunked=True)
    response = connection.getresponse()
    reply = Reply(response.status, response.headers, response.read())
    connection.close()
    assert_error_body(reply, 413)


def test_chunked_body_accepted(mainnet_home, serve):
    server = serve(mainnet_home, "--participant", PARTICIPANT)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    data = json.dumps(node_entry("chunky")).encode()
    connection.request("POST", "/admin/v1/nodes", body=iter([data[:10], data[10:]]),
                       encode_chunked=True)
    response = connection.getresponse()
    status = response.status
    response.read()
    connection.close()
    assert status == 200
    assert "chunky" in state_of(mainnet_home)["hardware"][PARTICIPANT]


def test_invalid_entries(mainnet_home, serve):
    server = serve(mainnet_home, "--participant", PARTICIPANT)
    unknown_model = call(server.url("/admin/v1/nodes"), "POST",
                         body=node_entry("n", "no/such-model"))
    assert "no/such-model" in assert_error_body(unknown_model, 400)
    array = call(server.url("/admin/v1/nodes"), "POST", body=[node_entry("n")])
    assert "batch" in assert_error_body(array, 400)
    no_id = call(server.url("/admin/v1/models"), "POST",
                 body={"units_of_compute_per_token": 1})
    assert "id" in assert_error_body(no_id, 400)
    text_units = call(server.url("/admin/v1/models"), "POST",
                      body={"id": "m", "units_of_compute_per_token": "many"})
    assert "units_of_compute_per_token" in assert_error_body(text_units, 400)


def test_routing_errors(mainnet_home, serve):
    server = serve(mainnet_home, "--participant", PARTICIPANT)
    assert_error_body(call(server.url("/no/such/path")), 404)
    wrong_method = call(server.url("/admin/v1/models"), "DELETE")
    assert_error_body(wrong_method, 405)
    assert wrong_method.headers["Allow"] == "POST"
    unknown = call(server.url(f"{QUERY}/participant/gonka1nobody"))
    assert_error_body(unknown, 404)
    assert unknown.json()["code"] == 5


def test_protocol_errors_json(mainnet_home, serve):
    server = serve(mainnet_home)
    client = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    client.sendall(b"GARBAGE\r\n\r\n")
    response = http.client.HTTPResponse(client)
    response.begin()
    reply = Reply(response.status, response.headers, response.read())
    client.close()
    assert "GARBAGE" in assert_error_body(reply, 400)
    # HEAD is not served; its response has a status but, by HTTP's rules, no body.
    assert call(server.url("/admin/v1/nodes"), "HEAD").status == 501


def test_admin_off_without_participant(mainnet_home, serve):
    server = serve(mainnet_home)
    reply = call(server.url("/admin/v1/nodes"), "POST", body=node_entry("n"))
    assert "--participant" in assert_error_body(reply, 404)
    assert call(server.url(f"{QUERY}/models_all")).status == 200


def test_non_loopback_host_rejected(mainnet_home, run):
    outcome = run("serve", "--home", mainnet_home, "--host", "0.0.0.0")
    assert outcome.exit_code == 2
    assert "--allow-remote" in outcome.stderr


def test_bad_participant_rejected(mainnet_home, run):
    outcome = run("serve", "--home", mainnet_home, "--participant", "cosmos1xyz")
    assert outcome.exit_code == 3
    assert "--participant" in outcome.stderr


# ----- seed node: POST /v1/participants ------------------------------------------------


def test_participant_join(mainnet_home, serve, run):
    server = serve(mainnet_home)
    newcomer = run("address", "newcomer").stdout.strip()
    key = base64.b64encode(bytes(range(32))).decode()
    reply = call(server.url("/v1/participants"), "POST",
                 body={"address": newcomer, "url": "http://newcomer.example:8000",
                       "validator_key": key})
    assert reply.status == 200
    assert reply.json() == {"id": newcomer, "url": "http://newcomer.example:8000"}
    record = call(server.url(f"{QUERY}/participant/{newcomer}")).json()["participant"]
    assert record["weight"] == -1
    assert record["status"] == "ACTIVE"
    assert record["validator_key"] == key
    again = call(server.url("/v1/participants"), "POST", body={"address": newcomer})
    assert_error_body(again, 409)


def test_participant_poll_after_join(mainnet_home, serve, run):
    server = serve(mainnet_home)
    newcomer = run("address", "poller").stdout.strip()
    before = call(server.url(f"/v1/participants/{newcomer}"))
    assert_error_body(before, 404)
    call(server.url("/v1/participants"), "POST",
         body={"address": newcomer, "url": "http://poller.example:8000"})
    after = call(server.url(f"/v1/participants/{newcomer}"))
    assert after.status == 200
    assert after.json()["id"] == newcomer
    assert after.json()["url"] == "http://poller.example:8000"
    assert after.json()["participant"]["address"] == newcomer


def test_participant_join_unfunded(mainnet_home, serve, run):
    server = serve(mainnet_home)
    newcomer = run("address", "unfunded").stdout.strip()
    pub_key = base64.b64encode(b"\x02" + bytes(32)).decode()
    reply = call(server.url("/v1/participants"), "POST",
                 body={"address": newcomer, "pub_key": pub_key,
                       "url": "https://unfunded.example"})
    assert reply.status == 200
    assert reply.body == b""
    assert newcomer in state_of(mainnet_home)["participants"]
    bad_key = call(server.url("/v1/participants"), "POST",
                   body={"address": run("address", "other").stdout.strip(),
                         "pub_key": base64.b64encode(bytes(33)).decode()})
    assert "pub_key" in assert_error_body(bad_key, 400)


# ----- model proposal to executor ------------------------------------------------------


def test_model_proposal_to_executor(mainnet_home, serve, run):
    home = mainnet_home
    server = serve(home, "--participant", PARTICIPANT,
                   env={"SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH})
    reply = call(server.url("/admin/v1/models"), "POST",
                 body={"id": NEW_MODEL, "units_of_compute_per_token": 100,
                       "context_in_ai_tokens": 0, "quantization": ""})
    assert reply.status == 200
    assert reply.body == b""
    proposal_id = reply.headers["X-Inferctl-Proposal-Id"]

    shown = json.loads(run("proposal", "show", proposal_id, "--json", "--home",
                           home).stdout)["proposal"]
    assert shown["title"] == f"{NEW_MODEL} model proposal"
    assert shown["proposer"] == PARTICIPANT
    assert shown["total_deposit"] == [{"denom": "ngonka", "amount": "100000000"}]
    assert shown["metadata"] == "Created via decentralized-api"
    assert shown["messages"][0]["authority"] == GOV_AUTHORITY
    assert shown["messages"][0]["units_of_compute_per_token"] == "100"

    for voter in genesis_validators():
        vote = run("proposal", "vote", proposal_id, "yes", "--voter", voter, "--home",
                   home, "--time", "2025-09-01T01:00:00Z")
        assert vote.exit_code == 0, vote.stderr
    tally = run("proposal", "tally", proposal_id, "--home", home, "--time",
                "2025-09-03T01:00:00Z")
    assert tally.exit_code == 0, tally.stderr
    assert tally.stdout.strip() == "PROPOSAL_STATUS_PASSED"

    executor_url = server.url(f"{QUERY}/get_random_executor?"
                              + urllib.parse.urlencode({"model": NEW_MODEL, "seed": 1}))
    assert_error_body(call(executor_url), 404)

    assert call(server.url("/admin/v1/nodes"), "POST",
                body=node_entry("node-a", NEW_MODEL)).status == 200
    for args in (("poc", "submit", PARTICIPANT, "--weight", "100"),
                 ("chain", "advance", "--to", "next-epoch"),
                 ("chain", "advance", "--blocks", "1")):
        outcome = run(*args, "--home", home, "--time", "2025-09-03T02:00:00Z")
        assert outcome.exit_code == 0, outcome.stderr

    reply = call(executor_url)
    assert reply.status == 200
    executor = reply.json()["executor"]
    assert executor["address"] == PARTICIPANT
    assert executor["inference_url"] == PARTICIPANT_URL
    assert executor["join_time"] == "1755848273"


def test_registered_model_query(mainnet_home, serve, run):
    home = mainnet_home
    server = serve(home, "--participant", PARTICIPANT,
                   env={"SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH})
    reply = call(server.url("/admin/v1/models"), "POST",
                 body={"id": NEW_MODEL, "units_of_compute_per_token": 100})
    proposal_id = reply.headers["X-Inferctl-Proposal-Id"]
    for voter in genesis_validators():
        run("proposal", "vote", proposal_id, "yes", "--voter", voter, "--home", home,
            "--time", "2025-09-01T01:00:00Z")
    run("proposal", "tally", proposal_id, "--home", home, "--time",
        "2025-09-03T01:00:00Z")
    models = call(server.url(f"{QUERY}/models_all")).json()["model"]
    new = [model for model in models if model["id"] == NEW_MODEL]
    # Only id and units are set by the admin API; the threshold stays null.
    assert new == [{"proposed_by": PARTICIPANT, "id": NEW_MODEL,
                    "units_of_compute_per_token": "100", "context_window": "0",
                    "quantization": "", "coins_per_input_token": "0",
                    "coins_per_output_token": "0", "hf_repo": "", "hf_commit": "",
                    "model_args": [], "v_ram": "0", "throughput_per_nonce": "0",
                    "validation_threshold": None}]


def test_epoch_views(mainnet_home, serve, run):
    home = mainnet_home
    server = serve(home, "--participant", PARTICIPANT)
    assert call(server.url("/admin/v1/nodes"), "POST",
                body=node_entry("node-q", "Qwen/QwQ-32B")).status == 200
    for args in (("poc", "submit", PARTICIPANT, "--weight", "100"),
                 ("chain", "advance", "--to", "next-epoch"),
                 ("chain", "advance", "--blocks", "1")):
        outcome = run(*args, "--home", home)
        assert outcome.exit_code == 0, outcome.stderr

    epoch = call(server.url("/v1/epochs/current/participants")).json()
    member = epoch["active_participants"]["participants"][0]
    assert member["index"] == PARTICIPANT
    assert member["weight"] == 100
    assert member["models"] == ["Qwen/QwQ-32B"]
    key = base64.b64decode(PARTICIPANT_VALIDATOR_KEY)
    assert epoch["addresses"] == [hashlib.sha256(key).hexdigest()[:40].upper()]
    assert call(server.url(f"{QUERY}/get_current_epoch")).json() == {"epoch": "1"}

    node = call(server.url("/admin/v1/nodes")).json()[0]["state"]
    # One node with the whole PoC weight; one node never keeps a PoC slot.
    assert node["epoch_ml_nodes"] == {"Qwen/QwQ-32B": {
        "node_id": "node-q", "poc_weight": 100, "timeslot_allocation": [True, False]}}
    assert node["epoch_models"]["Qwen/QwQ-32B"]["units_of_compute_per_token"] == 1000

    group = call(server.url(f"{QUERY}/epoch_group_data/1?model_id=Qwen/QwQ-32B")).json()
    weights = group["epoch_group_data"]["validation_weights"]
    assert [(w["member_address"], w["weight"]) for w in weights] == [(PARTICIPANT, "100")]
    disabled = call(server.url("/admin/v1/nodes/node-q/disable"), "POST").json()
    # Disabling records the latest epoch: the node serves through epoch 1.
    assert disabled["admin_state"] == {"enabled": False, "epoch": 1}
    assert_error_body(call(server.url("/v1/epochs/7/participants")), 404)
    assert_error_body(call(server.url("/v1/epochs/x/participants")), 400)


# ----- concurrency and shutdown --------------------------------------------------------


def registered_ids(home: str) -> list[str]:
    """Return the node ids of every RegisterNodes record, one per registration."""
    ids = []
    for record in records_of(home):
        if record.type == "/inferctl.v1.RegisterNodes":
            ids.extend(entry["id"] for entry in record.body["nodes"])
    return ids


def test_parallel_posts(mainnet_home, serve, run):
    server = serve(mainnet_home, "--participant", PARTICIPANT)
    names = [f"node-{i:02d}" for i in range(50)]
    with ThreadPoolExecutor(max_workers=50) as pool:
        replies = list(pool.map(
            lambda name: call(server.url("/admin/v1/nodes"), "POST",
                              body=node_entry(name)), names))
    assert [reply.status for reply in replies] == [200] * 50
    assert server.stop() == 0
    assert sorted(registered_ids(mainnet_home)) == names
    assert sorted(state_of(mainnet_home)["hardware"][PARTICIPANT]) == names
    verify = run("ledger", "verify", "--home", mainnet_home)
    assert verify.exit_code == 0, verify.stderr
    access_lines = [line for line in server.log().splitlines()
                    if '"POST /admin/v1/nodes HTTP/1.1" 200' in line]
    assert len(access_lines) == 50


def test_sigterm_finishes_request(mainnet_home, serve):
    server = serve(mainnet_home, "--participant", PARTICIPANT)
    body = json.dumps(node_entry("slow")).encode()
    client = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    client.sendall(b"POST /admin/v1/nodes HTTP/1.1\r\nHost: test\r\n"
                   b"Content-Type: application/json\r\n"
                   + f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:20])
    time.sleep(0.5)  # the handler thread is now waiting for the rest of the body
    server.proc.send_signal(signal.SIGTERM)
    wait_for(lambda: "received SIGTERM" in server.log())
    assert "finishing 1 request(s) in flight" in server.log()
    client.sendall(body[20:])
    response = http.client.HTTPResponse(client)
    response.begin()
    status = response.status
    response.read()
    client.close()
    assert status == 200
    assert server.proc.wait(timeout=60) == 0
    assert "slow" in state_of(mainnet_home)["hardware"][PARTICIPANT]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=5)


def wait_for(condition: Any, timeout: float = 10) -> None:
    """Poll `condition` every 50 ms until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_sigterm_under_load(mainnet_home, serve, run):
    server = serve(mainnet_home, "--participant", PARTICIPANT)
    outcomes: dict[str, int] = {}
    lock = threading.Lock()

    def post(name: str) -> None:
        try:
            status = call(server.url("/admin/v1/nodes"), "POST",
                          body=node_entry(name), timeout=30).status
        except OSError:
            status = 0  # refused or reset after the server stopped accepting
        with lock:
            outcomes[name] = status

    names = [f"load-{i:03d}" for i in range(120)]
    threads = [threading.Thread(target=post, args=(name,)) for name in names]
    for index, thread in enumerate(threads):
        thread.start()
        if index == 40:
            server.proc.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join(timeout=60)
    assert server.proc.wait(timeout=60) == 0
    succeeded = sorted(name for name, status in outcomes.items() if 200 <= status < 300)
    assert succeeded
    stored = state_of(mainnet_home)["hardware"].get(PARTICIPANT, {})
    assert [name for name in succeeded if name not in stored] == []
    assert sorted(registered_ids(mainnet_home)) == sorted(stored)
    verify = run("ledger", "verify", "--home", mainnet_home)
    assert verify.exit_code == 0, verify.stderr


def test_sigint_exits_zero(mainnet_home, serve):
    server = serve(mainnet_home)
    assert call(server.url(f"{QUERY}/get_current_epoch")).json() == {"epoch": "0"}
    assert server.stop(signal.SIGINT) == 0
    assert "stopped" in server.log()
