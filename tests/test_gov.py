"""Model proposals: submit, vote, tally with the mainnet gov params on a real ledger.

Mainnet gov params (tests/data/genesis/mainnet-genesis.json): voting period 48h,
expedited 12h, quorum 0.334, threshold 0.5, veto threshold 0.334, expedited
threshold 0.667, minimum deposit 25_000_000ngonka (expedited 50_000_000ngonka).
Each of the 11 genesis participants has weight 1, so the total power is 11 and a
quorum needs 4 voters (3/11 = 0.27 < 0.334 <= 4/11 = 0.36).
"""

from __future__ import annotations

import json

import pytest
from test_models import GOV, snapshot_tree

from conftest import MAINNET_GENESIS
from inferctl import bech32

ALICE = bech32.test_address("alice", "gonka")
MODEL = "test/gov-model"
SUBMIT = "2025-09-01T00:00:00Z"
VOTE_TIME = "2025-09-01T01:00:00Z"
END = "2025-09-03T00:00:00.000000000Z"  # SUBMIT + 48h
JUST_BEFORE_END = "2025-09-02T23:59:59.999999999Z"


def _participants() -> list[str]:
    with open(MAINNET_GENESIS, "rb") as handle:
        genesis = json.load(handle)
    return sorted(
        p["index"] for p in genesis["app_state"]["inference"]["participant_list"]
    )


VOTERS = _participants()


def propose(
    run,
    home: str,
    *extra: str,
    proposer: str = ALICE,
    model_id: str = MODEL,
    time: str = SUBMIT,
):
    return run(
        "model",
        "propose",
        "--proposer",
        proposer,
        "--id",
        model_id,
        "--units-of-compute-per-token",
        "7",
        *extra,
        "--home",
        home,
        "--time",
        time,
    )


def vote(
    run,
    home: str,
    option: str,
    voter: str,
    proposal_id: str = "1",
    time: str = VOTE_TIME,
):
    return run(
        "proposal",
        "vote",
        proposal_id,
        option,
        "--voter",
        voter,
        "--home",
        home,
        "--time",
        time,
    )


def votes(run, home: str, options: list[str], time: str = VOTE_TIME) -> None:
    """Cast one vote per option, each by the next genesis participant."""
    for voter, option in zip(VOTERS, options, strict=False):
        outcome = vote(run, home, option, voter, time=time)
        assert outcome.exit_code == 0, outcome.stderr


def tally(run, home: str, *extra: str, proposal_id: str = "1", time: str = END):
    return run("proposal", "tally", proposal_id, *extra, "--home", home, "--time", time)


def show(run, home: str, proposal_id: str = "1") -> dict:
    outcome = run("proposal", "show", proposal_id, "--json", "--home", home)
    assert outcome.exit_code == 0, outcome.stderr
    return json.loads(outcome.stdout)["proposal"]


def model_exists(run, home: str, model_id: str = MODEL) -> bool:
    outcome = run("model", "show", model_id, "--home", home)
    assert outcome.exit_code in (0, 4), outcome.stderr
    return outcome.exit_code == 0


@pytest.fixture
def proposed(run, mainnet_home) -> str:
    """A mainnet ledger with proposal 1 (registers test/gov-model) in voting."""
    outcome = propose(run, mainnet_home)
    assert outcome.exit_code == 0, outcome.stderr
    return mainnet_home


# --- submission --------------------------------------------------------------------


def test_propose_prints_ids(run, mainnet_home):
    first = propose(run, mainnet_home)
    second = propose(run, mainnet_home, model_id="test/other")
    assert first.exit_code == 0, first.stderr
    assert first.stdout == "1\n"
    assert second.stdout == "2\n"


def test_proposal_fields(run, proposed):
    proposal = show(run, proposed)
    assert proposal["id"] == "1"
    assert proposal["status"] == "PROPOSAL_STATUS_VOTING_PERIOD"

    assert proposal["messages"] == [
        {
            "@type": "/inference.inference.MsgRegisterModel",
            "authority": GOV,
            "proposed_by": ALICE,
            "id": MODEL,
            "units_of_compute_per_token": "7",
            "hf_repo": "",
            "hf_commit": "",
            "model_args": [],
            "v_ram": "0",
            "throughput_per_nonce": "0",
            "validation_threshold": None,
        }
    ]

    assert proposal["proposer"] == ALICE
    assert proposal["title"] == "test/gov-model model proposal"
    assert proposal["summary"] == (
        "This proposal suggests to serve a model test/gov-model and estimates it "
        "will take 7 units of compute per token"
    )
    assert proposal["metadata"] == "Created via inferctl"
    assert proposal["expedited"] is False
    assert proposal["total_deposit"] == [{"denom": "ngonka", "amount": "25000000"}]

    assert proposal["submit_time"] == "2025-09-01T00:00:00.000000000Z"
    assert proposal["voting_start_time"] == "2025-09-01T00:00:00.000000000Z"
    assert proposal["voting_end_time"] == END
    assert proposal["deposit_end_time"] == END  # max_deposit_period 172800s
    assert proposal["final_tally_result"] == {
        "yes_count": "0",
        "abstain_count": "0",
        "no_count": "0",
        "no_with_veto_count": "0",
    }


def test_propose_custom_texts(run, mainnet_home):
    outcome = propose(
        run,
        mainnet_home,
        "--title",
        "T",
        "--summary",
        "S",
        "--metadata",
        "M",
        "--deposit",
        "30_000_000ngonka",
    )
    assert outcome.exit_code == 0, outcome.stderr
    proposal = show(run, mainnet_home)
    assert proposal["title"] == "T"
    assert proposal["summary"] == "S"
    assert proposal["metadata"] == "M"
    assert proposal["total_deposit"] == [{"denom": "ngonka", "amount": "30000000"}]


@pytest.mark.parametrize(
    "deposit, message",
    [
        ("1000ngonka", "below the minimum deposit 25000000ngonka"),
        ("24999999ngonka", "below the minimum deposit 25000000ngonka"),
        ("25000000uatom", "denom uatom is not accepted"),
        ("25000000", "expected AMOUNTDENOM"),
    ],
)
def test_propose_bad_deposit(run, mainnet_home, deposit, message):
    before = snapshot_tree(mainnet_home)
    outcome = propose(run, mainnet_home, "--deposit", deposit)
    assert outcome.exit_code == 3
    assert outcome.stdout == ""
    assert message in outcome.stderr
    assert snapshot_tree(mainnet_home) == before


def test_propose_invalid_proposer(run, mainnet_home):
    before = snapshot_tree(mainnet_home)
    outcome = propose(run, mainnet_home, proposer="gonka1notanaddress")
    assert outcome.exit_code == 3
    assert "proposer: invalid" in outcome.stderr
    assert snapshot_tree(mainnet_home) == before


def test_propose_invalid_model(run, mainnet_home):
    before = snapshot_tree(mainnet_home)
    outcome = propose(run, mainnet_home, "--validation-threshold", "1.5")
    assert outcome.exit_code == 3
    assert "validation_threshold" in outcome.stderr
    assert snapshot_tree(mainnet_home) == before


def test_propose_missing_id(run, mainnet_home):
    before = snapshot_tree(mainnet_home)
    outcome = run("model", "propose", "--proposer", ALICE, "--home", mainnet_home)
    assert outcome.exit_code == 2
    assert "--id" in outcome.stderr
    assert snapshot_tree(mainnet_home) == before


def test_propose_from_toml(run, mainnet_home, tmp_path):
    path = tmp_path / "model.toml"
    path.write_text(
        'id = "Qwen/Qwen3-8B"\n'
        "units_of_compute_per_token = 100\n"
        "v_ram = 24\n"
        "validation_threshold = 0.98\n"
        'model_args = ["--quantization", "fp8"]\n'
        'title = "from file"\n'
    )
    outcome = run(
        "model",
        "propose",
        "--file",
        str(path),
        "--proposer",
        ALICE,
        "--v-ram",
        "32",
        "--home",
        mainnet_home,
        "--time",
        SUBMIT,
    )
    assert outcome.exit_code == 0, outcome.stderr
    proposal = show(run, mainnet_home)
    message = proposal["messages"][0]
    assert message["id"] == "Qwen/Qwen3-8B"
    assert message["units_of_compute_per_token"] == "100"
    assert message["v_ram"] == "32"  # the option wins over the file
    assert message["validation_threshold"] == {"value": "98", "exponent": -2}
    assert message["model_args"] == ["--quantization", "fp8"]
    assert proposal["title"] == "from file"


def test_propose_from_json(run, mainnet_home, tmp_path):
    path = tmp_path / "model.json"
    path.write_text(
        json.dumps(
            {
                "id": "org/json-model",
                "proposer": ALICE,
                "validation_threshold": "0.850",
                "throughput_per_nonce": 10000,
                "expedited": True,
            }
        )
    )
    outcome = run(
        "model",
        "propose",
        "--file",
        str(path),
        "--home",
        mainnet_home,
        "--time",
        SUBMIT,
    )
    assert outcome.exit_code == 0, outcome.stderr
    proposal = show(run, mainnet_home)
    message = proposal["messages"][0]
    assert message["validation_threshold"] == {"value": "850", "exponent": -3}
    assert message["throughput_per_nonce"] == "10000"
    assert proposal["expedited"] is True
    assert proposal["summary"].endswith("it will take 0 units of compute per token")


def test_propose_file_unknown_key(run, mainnet_home, tmp_path):
    path = tmp_path / "model.toml"
    path.write_text('id = "x"\nvram = 24\n')
    before = snapshot_tree(mainnet_home)
    outcome = run(
        "model",
        "propose",
        "--file",
        str(path),
        "--proposer",
        ALICE,
        "--home",
        mainnet_home,
        "--time",
        SUBMIT,
    )
    assert outcome.exit_code == 3
    assert "'vram'" in outcome.stderr
    assert snapshot_tree(mainnet_home) == before


# --- tally outcomes ------------------------------------------------------------------


def test_no_quorum_rejected(run, proposed):
    votes(run, proposed, ["yes", "yes", "yes"])
    outcome = tally(run, proposed)
    proposal = show(run, proposed)
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout == "PROPOSAL_STATUS_REJECTED\n"
    assert "no quorum" in outcome.stderr
    assert proposal["status"] == "PROPOSAL_STATUS_REJECTED"
    assert proposal["final_tally_result"]["yes_count"] == "3"
    assert "no quorum" in proposal["tally_outcome"]
    assert not model_exists(run, proposed)


def test_quorum_met_passes(run, proposed):
    votes(run, proposed, ["yes", "yes", "yes", "yes"])
    outcome = tally(run, proposed)
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout == "PROPOSAL_STATUS_PASSED\n"
    assert "registered model test/gov-model from proposal 1" in outcome.stderr
    assert model_exists(run, proposed)


def test_passed_model_fields(run, mainnet_home):
    propose(run, mainnet_home, "--v-ram", "24", "--validation-threshold", "0.85")
    votes(run, mainnet_home, ["yes"] * 4)
    tally(run, mainnet_home)
    shown = run("model", "show", MODEL, "--json", "--home", mainnet_home)
    model = json.loads(shown.stdout)["model"]
    assert model["proposed_by"] == ALICE
    assert model["units_of_compute_per_token"] == "7"
    assert model["v_ram"] == "24"
    assert model["validation_threshold"] == {"value": "85", "exponent": -2}


def test_non_participant_has_no_power(run, proposed):
    votes(run, proposed, ["yes", "yes", "yes"])
    assert vote(run, proposed, "yes", ALICE).exit_code == 0
    outcome = tally(run, proposed)
    assert outcome.stdout == "PROPOSAL_STATUS_REJECTED\n"
    assert show(run, proposed)["final_tally_result"]["yes_count"] == "3"


def test_veto_rejects(run, proposed):
    votes(run, proposed, ["yes", "yes", "yes", "no_with_veto", "no_with_veto"])
    outcome = tally(run, proposed)
    proposal = show(run, proposed)
    assert outcome.stdout == "PROPOSAL_STATUS_REJECTED\n"
    assert "vetoed" in outcome.stderr
    assert proposal["final_tally_result"]["no_with_veto_count"] == "2"
    assert not model_exists(run, proposed)


def test_veto_below_threshold_passes(run, proposed):
    # 1 veto of 4 voted = 0.25, not above 0.334; yes 3 of 4 = 0.75 > 0.5.
    votes(run, proposed, ["yes", "yes", "yes", "no_with_veto"])
    assert tally(run, proposed).stdout == "PROPOSAL_STATUS_PASSED\n"


def test_half_yes_not_enough(run, proposed):
    votes(run, proposed, ["yes", "yes", "no", "no"])
    outcome = tally(run, proposed)
    assert outcome.stdout == "PROPOSAL_STATUS_REJECTED\n"
    assert "threshold not met" in outcome.stderr
    assert not model_exists(run, proposed)


def test_abstain_excluded_from_threshold(run, proposed):
    votes(run, proposed, ["abstain", "abstain", "abstain", "yes"])
    outcome = tally(run, proposed)
    result = show(run, proposed)["final_tally_result"]
    assert outcome.stdout == "PROPOSAL_STATUS_PASSED\n"
    assert result == {
        "yes_count": "1",
        "abstain_count": "3",
        "no_count": "0",
        "no_with_veto_count": "0",
    }


def test_all_abstain_rejected(run, proposed):
    votes(run, proposed, ["abstain"] * 4)
    outcome = tally(run, proposed)
    assert outcome.stdout == "PROPOSAL_STATUS_REJECTED\n"
    assert "abstain" in outcome.stderr


def test_tally_json(run, proposed):
    votes(run, proposed, ["yes", "yes", "yes", "no", "abstain"])
    outcome = tally(run, proposed, "--json")
    proposal = json.loads(outcome.stdout)["proposal"]
    assert outcome.exit_code == 0, outcome.stderr
    assert proposal["status"] == "PROPOSAL_STATUS_PASSED"
    assert proposal["final_tally_result"] == {
        "yes_count": "3",
        "abstain_count": "1",
        "no_count": "1",
        "no_with_veto_count": "0",
    }


def test_passed_proposal_replaces_model(run, mainnet_home):
    propose(run, mainnet_home, model_id="Qwen/QwQ-32B")
    votes(run, mainnet_home, ["yes"] * 4)
    outcome = tally(run, mainnet_home)
    assert outcome.exit_code == 0, outcome.stderr
    assert "replaced model Qwen/QwQ-32B" in outcome.stderr
    shown = json.loads(
        run("model", "show", "Qwen/QwQ-32B", "--json", "--home", mainnet_home).stdout
    )["model"]
    assert shown["v_ram"] == "0"
    assert shown["proposed_by"] == ALICE


# --- timing and repeated commands ----------------------------------------------------


@pytest.mark.parametrize("time", [VOTE_TIME, JUST_BEFORE_END])
def test_tally_before_end_refused(run, proposed, time):
    votes(run, proposed, ["yes"] * 4)
    before = snapshot_tree(proposed)
    outcome = tally(run, proposed, time=time)
    assert outcome.exit_code == 3
    assert outcome.stdout == ""
    assert END in outcome.stderr
    assert "--time" in outcome.stderr
    assert snapshot_tree(proposed) == before


def test_tally_twice_refused(run, proposed):
    votes(run, proposed, ["yes"] * 4)
    assert tally(run, proposed).exit_code == 0
    before = snapshot_tree(proposed)
    outcome = tally(run, proposed)
    assert outcome.exit_code == 7
    assert "already decided: PROPOSAL_STATUS_PASSED" in outcome.stderr
    assert snapshot_tree(proposed) == before


def test_vote_replacement(run, proposed):
    first = vote(run, proposed, "yes", VOTERS[0])
    second = vote(run, proposed, "no", VOTERS[0])
    ballots = show(run, proposed)["votes"]
    assert first.exit_code == 0, first.stderr
    assert second.exit_code == 0, second.stderr
    assert "replaced the vote" in second.stderr
    assert len(ballots) == 1
    assert ballots[0]["voter"] == VOTERS[0]
    assert ballots[0]["options"] == [
        {"option": "VOTE_OPTION_NO", "weight": "1.000000000000000000"}
    ]


def test_replaced_vote_counts_once(run, proposed):
    vote(run, proposed, "yes", VOTERS[0])
    votes(run, proposed, ["no", "no", "no", "yes"])  # VOTERS[0] changes to no
    outcome = tally(run, proposed)
    result = show(run, proposed)["final_tally_result"]
    assert outcome.stdout == "PROPOSAL_STATUS_REJECTED\n"
    assert result["no_count"] == "3"
    assert result["yes_count"] == "1"


def test_same_vote_twice_appends_nothing(run, proposed):
    vote(run, proposed, "yes", VOTERS[0])
    before = snapshot_tree(proposed)
    outcome = vote(run, proposed, "yes", VOTERS[0])
    assert outcome.exit_code == 0, outcome.stderr
    assert "already voted" in outcome.stderr
    assert snapshot_tree(proposed) == before


def test_vote_after_end_rejected(run, proposed):
    before = snapshot_tree(proposed)
    outcome = vote(run, proposed, "yes", VOTERS[0], time=END)
    assert outcome.exit_code == 3
    assert f"ended at {END}" in outcome.stderr
    assert snapshot_tree(proposed) == before


def test_vote_on_decided_proposal(run, proposed):
    votes(run, proposed, ["yes"] * 4)
    tally(run, proposed)
    before = snapshot_tree(proposed)
    outcome = vote(run, proposed, "no", VOTERS[5], time=END)
    assert outcome.exit_code == 7
    assert "voting has closed" in outcome.stderr
    assert snapshot_tree(proposed) == before


def test_vote_invalid_voter(run, proposed):
    before = snapshot_tree(proposed)
    outcome = vote(run, proposed, "yes", "cosmos1invalid")
    assert outcome.exit_code == 3
    assert "voter: invalid" in outcome.stderr
    assert snapshot_tree(proposed) == before


def test_vote_unknown_proposal(run, proposed):
    before = snapshot_tree(proposed)
    outcome = vote(run, proposed, "yes", VOTERS[0], proposal_id="9")
    assert outcome.exit_code == 4
    assert "proposal 9 does not exist" in outcome.stderr
    assert snapshot_tree(proposed) == before


def test_vote_bad_option(run, proposed):
    before = snapshot_tree(proposed)
    outcome = vote(run, proposed, "maybe", VOTERS[0])
    assert outcome.exit_code == 2
    assert snapshot_tree(proposed) == before


# --- expedited proposals -------------------------------------------------------------


def test_expedited_period_and_deposit(run, mainnet_home):
    outcome = propose(run, mainnet_home, "--expedited")
    proposal = show(run, mainnet_home)
    assert outcome.exit_code == 0, outcome.stderr
    assert proposal["expedited"] is True
    assert proposal["voting_end_time"] == "2025-09-01T12:00:00.000000000Z"
    assert proposal["total_deposit"] == [{"denom": "ngonka", "amount": "50000000"}]


def test_expedited_deposit_minimum(run, mainnet_home):
    outcome = propose(run, mainnet_home, "--expedited", "--deposit", "25000000ngonka")
    assert outcome.exit_code == 3
    assert "below the expedited minimum deposit 50000000ngonka" in outcome.stderr


def test_expedited_failure_becomes_regular(run, mainnet_home):
    propose(run, mainnet_home, "--expedited")
    # yes 2 of 3 non-abstaining = 0.666666666666666667 (LegacyDec rounding), which is
    # not above the expedited threshold 0.667, but is above the regular 0.5.
    votes(run, mainnet_home, ["yes", "yes", "no", "abstain"])
    first = tally(run, mainnet_home, time="2025-09-01T12:00:00Z")
    proposal = show(run, mainnet_home)
    assert first.exit_code == 0, first.stderr
    assert first.stdout == "PROPOSAL_STATUS_VOTING_PERIOD\n"
    assert "0.666666666666666667" in proposal["tally_outcome"]
    assert proposal["expedited"] is False
    assert proposal["voting_end_time"] == END
    assert proposal["votes"] == []
    assert not model_exists(run, mainnet_home)

    votes(
        run, mainnet_home, ["yes", "yes", "no", "abstain"], time="2025-09-02T00:00:00Z"
    )
    second = tally(run, mainnet_home)
    assert second.stdout == "PROPOSAL_STATUS_PASSED\n"
    assert model_exists(run, mainnet_home)


def test_expedited_regular_tally_waits(run, mainnet_home):
    propose(run, mainnet_home, "--expedited")
    votes(run, mainnet_home, ["yes", "no", "no", "no"])
    tally(run, mainnet_home, time="2025-09-01T12:00:00Z")
    outcome = tally(run, mainnet_home, time="2025-09-02T00:00:00Z")
    assert outcome.exit_code == 3
    assert END in outcome.stderr


# --- reading -------------------------------------------------------------------------


def test_proposal_list(run, mainnet_home):
    propose(run, mainnet_home)
    propose(run, mainnet_home, model_id="test/other")
    text = run("proposal", "list", "--home", mainnet_home)
    listed = json.loads(
        run("proposal", "list", "--json", "--home", mainnet_home).stdout
    )
    lines = text.stdout.splitlines()
    assert text.exit_code == 0, text.stderr
    assert lines[0].split() == ["ID", "STATUS", "VOTING_END_TIME", "TITLE"]
    assert lines[1].split()[:3] == ["1", "PROPOSAL_STATUS_VOTING_PERIOD", END]
    assert [p["id"] for p in listed["proposals"]] == ["1", "2"]


def test_proposal_list_empty(run, mainnet_home):
    listed = json.loads(
        run("proposal", "list", "--json", "--home", mainnet_home).stdout
    )
    assert listed["proposals"] == []


def test_show_unknown_proposal(run, mainnet_home):
    outcome = run("proposal", "show", "3", "--home", mainnet_home)
    assert outcome.exit_code == 4
    assert outcome.stdout == ""
    assert "proposal 3 does not exist" in outcome.stderr


def test_show_text(run, proposed):
    vote(run, proposed, "yes", VOTERS[0])
    outcome = run("proposal", "show", "1", "--home", proposed)
    assert outcome.exit_code == 0, outcome.stderr
    assert "status: PROPOSAL_STATUS_VOTING_PERIOD\n" in outcome.stdout
    assert f"vote: {VOTERS[0]} VOTE_OPTION_YES\n" in outcome.stdout
    assert "expedited: false\n" in outcome.stdout


def test_proposal_help_has_examples(run):
    for command in ("vote", "tally", "list", "show"):
        outcome = run("proposal", command, "--help")
        assert outcome.exit_code == 0
        assert "Example:" in outcome.stdout
