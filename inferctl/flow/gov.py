"""Governance proposals (Cosmos SDK x/gov v1) that register models.

Three transactions run a proposal. `MsgSubmitProposal` opens its voting period at
once, so the initial deposit must reach the minimum deposit (inferctl has no
MsgDeposit). `MsgVote` records one vote per voter, and a later vote replaces the
earlier one. `/inferctl.v1.TallyProposal` is what the chain's EndBlocker does when
the voting period is over. It counts the votes with the voters' power and decides.
A passed proposal then runs its MsgRegisterModel messages.

The tally follows x/gov's keeper (cosmos-sdk v0.50 `x/gov/keeper/tally.go`). Ratios
are computed as LegacyDec does: 18 decimal places, the quotient truncated and then
rounded half to even. inferctl does this on Python integers, so results match the
chain digit for digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from inferctl.errors import Conflict, InvalidInput, NotFound
from inferctl.flow import models
from inferctl.txs import State, TxContext, Unchanged

SUBMIT_PROPOSAL = "/cosmos.gov.v1.MsgSubmitProposal"
VOTE = "/cosmos.gov.v1.MsgVote"
TALLY = "/inferctl.v1.TallyProposal"

STATUS_VOTING = "PROPOSAL_STATUS_VOTING_PERIOD"
STATUS_PASSED = "PROPOSAL_STATUS_PASSED"
STATUS_REJECTED = "PROPOSAL_STATUS_REJECTED"
STATUS_FAILED = "PROPOSAL_STATUS_FAILED"

# Command-line words and the VoteOption enum names (cosmos/gov/v1/gov.proto).
VOTE_OPTIONS = {
    "yes": "VOTE_OPTION_YES",
    "abstain": "VOTE_OPTION_ABSTAIN",
    "no": "VOTE_OPTION_NO",
    "no_with_veto": "VOTE_OPTION_NO_WITH_VETO",
}
_VOTE_OPTION_NUMBERS = {
    1: "VOTE_OPTION_YES",
    2: "VOTE_OPTION_ABSTAIN",
    3: "VOTE_OPTION_NO",
    4: "VOTE_OPTION_NO_WITH_VETO",
}
# VoteOption name -> TallyResult field.
TALLY_FIELDS = {
    "VOTE_OPTION_YES": "yes_count",
    "VOTE_OPTION_ABSTAIN": "abstain_count",
    "VOTE_OPTION_NO": "no_count",
    "VOTE_OPTION_NO_WITH_VETO": "no_with_veto_count",
}

DEFAULT_METADATA = "Created via inferctl"
DEC_ONE = 10**18  # LegacyDec keeps 18 decimal places
UINT64_MAX = 2**64 - 1
INT64_MAX = 2**63 - 1

_SUBMIT_KEYS = {
    "messages",
    "initial_deposit",
    "proposer",
    "metadata",
    "title",
    "summary",
    "expedited",
}
_VOTE_KEYS = {"proposal_id", "voter", "option", "metadata"}
_DENOM = re.compile(r"[a-zA-Z][a-zA-Z0-9/:._-]{2,127}")


# --- number formats used by gov params ------------------------------------------------


def parse_base0_int(text: Any, *, what: str) -> int:
    """Parse an integer as Go's big.Int SetString(text, 0) does.

    Base 0 accepts underscores between digits ("25_000_000") and the prefixes 0x,
    0o, 0b, and a bare leading 0 for octal. Cosmos math.Int parses gov amounts this
    way, which is why the mainnet genesis can write "25_000_000".
    """
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if not isinstance(text, str) or not re.fullmatch(r"[+-]?[0-9a-zA-Z_]+", text):
        raise InvalidInput(f"invalid {what} {text!r}: expected an integer")
    sign = "-" if text.startswith("-") else ""
    body = text[1:] if text[:1] in "+-" else text
    if len(body) > 1 and body[0] == "0" and body[1] in "01234567_":
        body = "0o" + body[1:]  # Go reads a leading 0 as octal, Python needs 0o
    try:
        return int(sign + body, 0)
    except ValueError:
        raise InvalidInput(f"invalid {what} {text!r}: expected an integer") from None


_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign
    "\u03bcs": 1_000,  # Greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)([^0-9.]+)")


def parse_duration(text: Any, *, what: str) -> int:
    """Parse a Go duration ("48h0m0s", "30s", "1h30m", "1.5h") into nanoseconds."""
    if not isinstance(text, str) or not text:
        raise InvalidInput(
            f"invalid {what} {text!r}: expected a Go duration like 48h0m0s"
        )
    negative = text.startswith("-")
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return 0
    if not body:
        raise InvalidInput(
            f"invalid {what} {text!r}: expected a Go duration like 48h0m0s"
        )
    total = Fraction(0)
    position = 0
    while position < len(body):
        match = _DURATION_PART.match(body, position)
        if match is None or match.group(1) in ("", "."):
            raise InvalidInput(
                f"invalid {what} {text!r}: expected a Go duration like 48h0m0s"
            )
        unit = _DURATION_UNITS.get(match.group(2))
        if unit is None:
            raise InvalidInput(
                f"invalid {what} {text!r}: unknown unit {match.group(2)!r}"
            )
        total += Fraction(match.group(1)) * unit
        position = match.end()
    nanos = int(total)  # Go drops fractions of a nanosecond
    if nanos > INT64_MAX:
        raise InvalidInput(
            f"invalid {what} {text!r}: longer than Go's maximum duration"
        )
    return -nanos if negative else nanos


def parse_legacy_dec(text: Any, *, what: str) -> int:
    """Parse Cosmos LegacyDec text ("0.334000000000000000") into units of 10^-18."""
    if not isinstance(text, str):
        raise InvalidInput(f"invalid {what} {text!r}: expected decimal text")
    match = re.fullmatch(r"(-?)([0-9]+)(?:\.([0-9]+))?", text)
    if match is None:
        raise InvalidInput(f"invalid {what} {text!r}: expected decimal text like 0.5")
    fraction = match.group(3) or ""
    if len(fraction) > 18:
        raise InvalidInput(f"invalid {what} {text!r}: more than 18 decimal places")
    units = int(match.group(2)) * DEC_ONE + int(fraction.ljust(18, "0") or "0")
    return -units if match.group(1) else units


def dec_text(units: int) -> str:
    """Format units of 10^-18 as LegacyDec text with 18 decimal places."""
    sign = "-" if units < 0 else ""
    whole, fraction = divmod(abs(units), DEC_ONE)
    return f"{sign}{whole}.{fraction:018d}"


def dec_quo(numerator: int, denominator: int) -> int:
    """Divide two whole numbers as LegacyDec.Quo does; return units of 10^-18.

    LegacyDec multiplies by 10^36, truncates the quotient, then drops 18 digits
    with round-half-to-even. Both inputs here are whole numbers of voting power.
    """
    truncated = numerator * DEC_ONE * DEC_ONE // denominator
    quotient, remainder = divmod(truncated, DEC_ONE)
    half = DEC_ONE // 2
    if remainder > half or (remainder == half and quotient % 2 == 1):
        quotient += 1
    return quotient


# --- coins -------------------------------------------------------------------------


def parse_coins_text(text: str, *, what: str = "--deposit") -> list[dict[str, str]]:
    """Parse Cosmos coin text such as "25000000ngonka,5uatom" into Coin dicts.

    Amounts may group digits with underscores ("25_000_000ngonka").
    """
    coins = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*([0-9]+(?:_[0-9]+)*)\s*(\S+)\s*", part)
        if match is None or not _DENOM.fullmatch(match.group(2)):
            raise InvalidInput(
                f"invalid {what} {text!r}: expected AMOUNTDENOM such as 25000000ngonka",
            )
        coins.append({"denom": match.group(2), "amount": str(int(match.group(1)))})
    return coins


def coins_text(coins: list[dict[str, str]]) -> str:
    """Format Coin dicts as Cosmos coin text ("25000000ngonka")."""
    return ",".join(f"{coin['amount']}{coin['denom']}" for coin in coins) or "nothing"


def _check_coins(value: Any, *, what: str) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise InvalidInput(f"invalid {what} {value!r}: expected a list of coins")
    coins: list[dict[str, str]] = []
    for coin in value:
        if not isinstance(coin, dict) or set(coin) != {"denom", "amount"}:
            raise InvalidInput(
                f'invalid {what} coin {coin!r}: expected {{"denom", "amount"}}'
            )
        denom = coin["denom"]
        if not isinstance(denom, str) or not _DENOM.fullmatch(denom):
            raise InvalidInput(f"invalid {what} denom {denom!r}")
        amount = parse_base0_int(coin["amount"], what=f"{what} amount")
        if amount <= 0:
            raise InvalidInput(
                f"invalid {what} {amount}{denom}: amount must be positive"
            )
        if any(c["denom"] == denom for c in coins):
            raise InvalidInput(f"invalid {what}: denom {denom} appears twice")
        coins.append({"denom": denom, "amount": str(amount)})
    return sorted(coins, key=lambda c: c["denom"])


def _amount_of(coins: list[dict[str, str]], denom: str) -> int:
    return sum(int(c["amount"]) for c in coins if c["denom"] == denom)


# --- gov params --------------------------------------------------------------------


@dataclass(frozen=True)
class GovParams:
    """The gov params a proposal needs; ratios in units of 10^-18, periods in ns."""

    min_deposit: list[dict[str, str]]
    expedited_min_deposit: list[dict[str, str]]
    max_deposit_period_ns: int
    voting_period_ns: int
    expedited_voting_period_ns: int
    quorum: int
    threshold: int
    veto_threshold: int
    expedited_threshold: int


def gov_params(state: State) -> GovParams:
    """Read the gov params stored at genesis (app_state.gov.params)."""
    raw = state.get("gov_params")
    if not isinstance(raw, dict):
        raise InvalidInput(
            "the genesis of this ledger has no app_state.gov.params",
            hint="proposals need gov params; import a genesis that has them",
        )
    return GovParams(
        min_deposit=_param_coins(raw, "min_deposit"),
        expedited_min_deposit=_param_coins(raw, "expedited_min_deposit"),
        max_deposit_period_ns=_param_period(raw, "max_deposit_period"),
        voting_period_ns=_param_period(raw, "voting_period"),
        expedited_voting_period_ns=_param_period(raw, "expedited_voting_period"),
        quorum=_param_ratio(raw, "quorum"),
        threshold=_param_ratio(raw, "threshold"),
        veto_threshold=_param_ratio(raw, "veto_threshold"),
        expedited_threshold=_param_ratio(raw, "expedited_threshold"),
    )


def _param(raw: dict[str, Any], name: str) -> Any:
    if name not in raw:
        raise InvalidInput(f"gov param {name} is missing from the genesis")
    return raw[name]


def _param_coins(raw: dict[str, Any], name: str) -> list[dict[str, str]]:
    return _check_coins(_param(raw, name), what=f"gov param {name}")


def _param_period(raw: dict[str, Any], name: str) -> int:
    nanos = parse_duration(_param(raw, name), what=f"gov param {name}")
    if nanos <= 0:
        raise InvalidInput(f"invalid gov param {name} {raw[name]!r}: must be positive")
    return nanos


def _param_ratio(raw: dict[str, Any], name: str) -> int:
    units = parse_legacy_dec(_param(raw, name), what=f"gov param {name}")
    if not 0 <= units <= DEC_ONE:
        raise InvalidInput(f"invalid gov param {name} {raw[name]!r}: must be in [0, 1]")
    return units


# --- MsgSubmitProposal -------------------------------------------------------------


def apply_submit_proposal(state: State, body: dict[str, Any], ctx: TxContext) -> int:
    """Check a MsgSubmitProposal, open its voting period, and return its id."""
    params = gov_params(state)
    proposal = _check_submission(state, body, params)
    proposal_id = int(state["next_proposal_id"])
    voting_period = (
        params.expedited_voting_period_ns
        if proposal["expedited"]
        else params.voting_period_ns
    )
    proposal.update(
        {
            "id": proposal_id,
            "status": STATUS_VOTING,
            "final_tally_result": _empty_tally(),
            "submit_time": ctx.time_ns,
            "deposit_end_time": ctx.time_ns + params.max_deposit_period_ns,
            "voting_start_time": ctx.time_ns,
            "voting_end_time": ctx.time_ns + voting_period,
            "failed_reason": "",
            "votes": {},
            "tally_outcome": "",
        }
    )
    state["proposals"][str(proposal_id)] = proposal
    state["next_proposal_id"] = proposal_id + 1
    return proposal_id


def _check_submission(state: State, body: dict[str, Any], params: GovParams) -> dict:
    _reject_unknown(body, _SUBMIT_KEYS, "MsgSubmitProposal")
    proposer = body.get("proposer", "")
    _check_address(proposer, state["prefix"], "proposer")
    expedited = body.get("expedited", False)
    if not isinstance(expedited, bool):
        raise InvalidInput(f"invalid expedited {expedited!r}: expected true or false")
    return {
        "messages": _check_messages(state, body.get("messages")),
        "total_deposit": _check_deposit(
            body.get("initial_deposit", []), params, expedited
        ),
        "proposer": proposer,
        "metadata": _text_field(body, "metadata", required=False),
        "title": _text_field(body, "title", required=True),
        "summary": _text_field(body, "summary", required=True),
        "expedited": expedited,
    }


def _reject_unknown(body: dict[str, Any], allowed: set[str], message: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidInput(
            f"unknown {message} field {unknown[0]!r}",
            hint=f"the fields are {', '.join(sorted(allowed))}",
        )


def _check_address(address: Any, prefix: str, name: str) -> None:
    from inferctl.bech32 import check_account_address

    try:
        check_account_address(address, prefix, what="address")
    except InvalidInput as exc:
        exc.message = f"{name}: {exc.message}"
        raise


def _text_field(body: dict[str, Any], name: str, *, required: bool) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise InvalidInput(f"invalid proposal {name} {value!r}: expected a string")
    if required and not value.strip():
        raise InvalidInput(f"proposal {name} must not be empty")
    return value


def _check_messages(state: State, messages: Any) -> list[dict[str, Any]]:
    if not isinstance(messages, list):
        raise InvalidInput(f"invalid proposal messages {messages!r}: expected a list")
    checked = []
    for index, message in enumerate(messages):
        kind = message.get("@type") if isinstance(message, dict) else None
        if kind != models.REGISTER_MODEL:
            raise InvalidInput(
                f"proposal message {index}: unsupported type {kind!r}",
                hint=f"inferctl runs proposals of {models.REGISTER_MODEL} only",
            )
        try:
            internal = models.check_register_model(message, state["prefix"])
            models.check_authority(internal, state)
        except InvalidInput as exc:
            exc.message = f"proposal message {index}: {exc.message}"
            raise
        checked.append({"@type": models.REGISTER_MODEL, **internal})
    return checked


def _check_deposit(value: Any, params: GovParams, expedited: bool) -> list:
    deposit = _check_coins(value, what="initial deposit")
    minimum = params.expedited_min_deposit if expedited else params.min_deposit
    allowed = {coin["denom"] for coin in minimum}
    for coin in deposit:
        if coin["denom"] not in allowed:
            raise InvalidInput(
                f"initial deposit denom {coin['denom']} is not accepted; gov accepts "
                f"only {', '.join(sorted(allowed))}",
            )
    for coin in minimum:
        if _amount_of(deposit, coin["denom"]) < int(coin["amount"]):
            kind = "expedited minimum" if expedited else "minimum"
            raise InvalidInput(
                f"initial deposit {coins_text(deposit)} is below the {kind} deposit "
                f"{coins_text(minimum)}",
                hint=f"inferctl has no deposit transaction, so the voting period must "
                f"start at submission; pass --deposit {coins_text(minimum)} or more",
            )
    return deposit


def default_deposit(state: State, expedited: bool) -> list[dict[str, str]]:
    """Return the minimum deposit (the expedited one for expedited proposals)."""
    params = gov_params(state)
    return params.expedited_min_deposit if expedited else params.min_deposit


def _empty_tally() -> dict[str, int]:
    return {name: 0 for name in TALLY_FIELDS.values()}


def proposal_body(
    proposer: str,
    messages: list[dict[str, Any]],
    deposit: list[dict[str, str]],
    *,
    title: str,
    summary: str,
    metadata: str = DEFAULT_METADATA,
    expedited: bool = False,
) -> dict[str, Any]:
    """Build a MsgSubmitProposal body in gov v1 field order."""
    return {
        "messages": messages,
        "initial_deposit": deposit,
        "proposer": proposer,
        "metadata": metadata,
        "title": title,
        "summary": summary,
        "expedited": expedited,
    }


def default_title(model_id: str) -> str:
    """Return the title that gonka's admin API gives a model proposal."""
    return f"{model_id} model proposal"


def default_summary(model_id: str, units: int) -> str:
    """Return the summary that gonka's admin API gives a model proposal."""
    return (
        f"This proposal suggests to serve a model {model_id} and estimates it "
        f"will take {units} units of compute per token"
    )


# --- MsgVote -----------------------------------------------------------------------


def apply_vote(state: State, body: dict[str, Any], ctx: TxContext) -> dict[str, Any]:
    """Record a vote; a later vote by the same voter replaces the earlier one."""
    _reject_unknown(body, _VOTE_KEYS, "MsgVote")
    proposal = get_proposal(state, _proposal_id(body.get("proposal_id")))
    voter = body.get("voter", "")
    _check_address(voter, state["prefix"], "voter")
    vote = {
        "option": _vote_option(body.get("option")),
        "metadata": _text_field(body, "metadata", required=False),
    }
    _require_voting_open(proposal, ctx)
    previous = proposal["votes"].get(voter)
    if previous == vote:
        raise Unchanged(
            f"{voter} already voted {vote['option']} on proposal {proposal['id']}"
        )
    if previous is not None:
        ctx.notes.append(
            f"replaced the vote of {voter} on proposal {proposal['id']}: "
            f"{previous['option']} -> {vote['option']}"
        )
    proposal["votes"][voter] = vote
    return vote


def _proposal_id(value: Any) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not (0 <= value <= UINT64_MAX)
    ):
        raise InvalidInput(f"invalid proposal_id {value!r}: expected a uint64")
    return value


def _vote_option(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = _VOTE_OPTION_NUMBERS.get(value, value)
    if not isinstance(value, str) or value not in TALLY_FIELDS:
        raise InvalidInput(
            f"invalid vote option {value!r}",
            hint="use one of yes, no, abstain, no_with_veto",
        )
    return str(value)


def _require_voting_open(proposal: dict[str, Any], ctx: TxContext) -> None:
    from inferctl.timeutil import format_rfc3339

    if proposal["status"] != STATUS_VOTING:
        raise Conflict(
            f"proposal {proposal['id']} is {proposal['status']}; voting has closed",
        )
    if ctx.time_ns >= proposal["voting_end_time"]:
        end = format_rfc3339(proposal["voting_end_time"])
        raise InvalidInput(
            f"the voting period of proposal {proposal['id']} ended at {end}",
            hint=f"votes are no longer accepted; run `inferctl proposal tally "
            f"{proposal['id']}`",
        )


# --- tally -------------------------------------------------------------------------


@dataclass
class TallyResult:
    """The counted votes and the decision; counts are voting power."""

    counts: dict[str, int]
    total_power: int
    voted_power: int
    passes: bool
    reason: str


def voting_power(state: State) -> dict[str, int]:
    """Return {account address: voting power} of every voter with power above 0.

    Uses `inferctl.flow.epochs.voting_power` when the epochs flow provides it, and
    otherwise each participant's genesis weight.
    """
    from inferctl.flow import epochs

    provider = getattr(epochs, "voting_power", None)
    if provider is not None:
        powers = provider(state)
    else:
        powers = {
            address: int(participant.get("weight") or 0)
            for address, participant in state.get("participants", {}).items()
        }
    return {address: power for address, power in powers.items() if power > 0}


def compute_tally(
    state: State, proposal: dict[str, Any], params: GovParams
) -> TallyResult:
    """Count the proposal's votes with the current voting power and decide."""
    power = voting_power(state)
    counts = _empty_tally()
    voted = 0
    for voter, vote in proposal["votes"].items():
        weight = power.get(voter, 0)
        counts[TALLY_FIELDS[vote["option"]]] += weight
        voted += weight
    total = sum(power.values())
    threshold = (
        params.expedited_threshold if proposal["expedited"] else params.threshold
    )
    passes, reason = _decide(counts, voted, total, params, threshold)
    return TallyResult(counts, total, voted, passes, reason)


def _decide(
    counts: dict[str, int], voted: int, total: int, params: GovParams, threshold: int
) -> tuple[bool, str]:
    if total == 0:
        return False, "rejected: no voting power is bonded"
    turnout = dec_quo(voted, total)
    if turnout < params.quorum:
        return False, (
            f"rejected: no quorum ({voted} of {total} voting power voted, "
            f"{dec_text(turnout)} < quorum {dec_text(params.quorum)})"
        )
    active = voted - counts["abstain_count"]
    if active == 0:
        return False, "rejected: every vote was abstain"
    veto = dec_quo(counts["no_with_veto_count"], voted)
    if veto > params.veto_threshold:
        return False, (
            f"rejected: vetoed ({counts['no_with_veto_count']} of {voted} "
            f"voted power, {dec_text(veto)} > veto threshold "
            f"{dec_text(params.veto_threshold)})"
        )
    yes = dec_quo(counts["yes_count"], active)
    if yes > threshold:
        return True, (
            f"passed ({counts['yes_count']} of {active} non-abstaining power "
            f"voted yes, {dec_text(yes)} > threshold {dec_text(threshold)})"
        )
    return False, (
        f"rejected: threshold not met ({counts['yes_count']} of {active} "
        f"non-abstaining power voted yes, {dec_text(yes)} <= threshold "
        f"{dec_text(threshold)})"
    )


def apply_tally(state: State, body: dict[str, Any], ctx: TxContext) -> dict[str, Any]:
    """Decide a proposal whose voting period is over, as the gov EndBlocker does."""
    _reject_unknown(body, {"proposal_id"}, "TallyProposal")
    proposal = get_proposal(state, _proposal_id(body.get("proposal_id")))
    _require_tally_allowed(proposal, ctx)
    params = gov_params(state)
    result = compute_tally(state, proposal, params)
    proposal["final_tally_result"] = dict(result.counts)
    proposal["tally_outcome"] = result.reason
    if result.passes:
        _execute(state, proposal, ctx)
    elif proposal["expedited"]:
        _convert_to_regular(proposal, params, ctx)
    else:
        proposal["status"] = STATUS_REJECTED
    return proposal


def _require_tally_allowed(proposal: dict[str, Any], ctx: TxContext) -> None:
    from inferctl.timeutil import format_rfc3339

    if proposal["status"] != STATUS_VOTING:
        raise Conflict(
            f"proposal {proposal['id']} was already decided: {proposal['status']}",
            hint=f"see `inferctl proposal show {proposal['id']}`",
        )
    if ctx.time_ns < proposal["voting_end_time"]:
        end = format_rfc3339(proposal["voting_end_time"])
        raise InvalidInput(
            f"the voting period of proposal {proposal['id']} ends at {end}; it cannot "
            f"be tallied before then",
            hint=f"pass --time {end} or later",
        )


def _execute(state: State, proposal: dict[str, Any], ctx: TxContext) -> None:
    """Run the messages of a passed proposal: all of them or none, as x/gov does."""
    try:
        registered = []
        for message in proposal["messages"]:
            internal = models.check_register_model(message, state["prefix"])
            models.check_authority(internal, state)
            registered.append(models.model_from_message(internal))
    except InvalidInput as exc:
        proposal["status"] = STATUS_FAILED
        proposal["failed_reason"] = str(exc)
        ctx.notes.append(
            f"proposal {proposal['id']} passed but failed on execution: {exc}"
        )
        return
    for model in registered:
        models.store_model(state, model, ctx)
        ctx.notes.append(
            f"registered model {model['id']} from proposal {proposal['id']}"
        )
    proposal["status"] = STATUS_PASSED


def _convert_to_regular(
    proposal: dict[str, Any], params: GovParams, ctx: TxContext
) -> None:
    """Turn a failed expedited proposal into a regular one, as x/gov does.

    The voting period is measured again from the voting start with the regular
    length, and the regular threshold applies at the next tally.
    """
    from inferctl.timeutil import format_rfc3339

    proposal["expedited"] = False
    proposal["voting_end_time"] = (
        proposal["voting_start_time"] + params.voting_period_ns
    )
    # cosmos-sdk v0.50 deletes each vote as it tallies it, so voters vote again.
    # NOTE: not checked against gonka's SDK fork (v0.53.3-ps5).
    proposal["votes"] = {}
    ctx.notes.append(
        f"expedited proposal {proposal['id']} did not pass "
        f"({proposal['tally_outcome']}); "
        f"it is now a regular proposal voting until "
        f"{format_rfc3339(proposal['voting_end_time'])}, and voters must vote again"
    )


# --- reading -----------------------------------------------------------------------


def get_proposal(state: State, proposal_id: int) -> dict[str, Any]:
    """Return the proposal with this id, or raise NotFound."""
    proposal = state.get("proposals", {}).get(str(proposal_id))
    if proposal is None:
        raise NotFound(
            f"proposal {proposal_id} does not exist",
            hint="run `inferctl proposal list` to see the proposals",
        )
    return proposal


def list_proposals(state: State) -> list[dict[str, Any]]:
    """Return every proposal in ascending id order."""
    proposals = state.get("proposals", {})
    return [proposals[key] for key in sorted(proposals, key=int)]


def proposal_json(proposal: dict[str, Any]) -> dict[str, Any]:
    """Encode a proposal with gov v1 Proposal field names, plus its votes and outcome.

    64-bit integers are strings and times are RFC 3339, as Cosmos proto JSON writes
    them. `votes` (gov v1 Vote objects) and `tally_outcome` are inferctl additions.
    """
    from inferctl.timeutil import format_rfc3339

    return {
        "id": str(proposal["id"]),
        "messages": [models.message_json(m) for m in proposal["messages"]],
        "status": proposal["status"],
        "final_tally_result": {
            name: str(value) for name, value in proposal["final_tally_result"].items()
        },
        "submit_time": format_rfc3339(proposal["submit_time"]),
        "deposit_end_time": format_rfc3339(proposal["deposit_end_time"]),
        "total_deposit": [dict(coin) for coin in proposal["total_deposit"]],
        "voting_start_time": format_rfc3339(proposal["voting_start_time"]),
        "voting_end_time": format_rfc3339(proposal["voting_end_time"]),
        "metadata": proposal["metadata"],
        "title": proposal["title"],
        "summary": proposal["summary"],
        "proposer": proposal["proposer"],
        "expedited": proposal["expedited"],
        "failed_reason": proposal["failed_reason"],
        "votes": _votes_json(proposal),
        "tally_outcome": proposal["tally_outcome"],
    }


def _votes_json(proposal: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "proposal_id": str(proposal["id"]),
            "voter": voter,
            "options": [{"option": vote["option"], "weight": dec_text(DEC_ONE)}],
            "metadata": vote["metadata"],
        }
        for voter, vote in sorted(proposal["votes"].items())
    ]


def model_proposal(
    state: dict[str, Any],
    proposer: str,
    model_id: str,
    fields: dict[str, Any],
    *,
    deposit: list[dict[str, str]] | None = None,
    title: str | None = None,
    summary: str | None = None,
    metadata: str | None = None,
    expedited: bool = False,
) -> dict[str, Any]:
    """Build the MsgSubmitProposal body that wraps a MsgRegisterModel.

    The CLI's `model propose` and the server's admin endpoint both call this, so the
    two build the same transaction. Unset texts take gonka's admin-API defaults, and an
    unset deposit is the gov minimum deposit.
    """
    from inferctl.flow import models

    message = {
        "@type": models.REGISTER_MODEL,
        **models.register_model_body(state["authority"], proposer, model_id, fields),
    }
    units = fields.get("units_of_compute_per_token") or 0
    return proposal_body(
        proposer,
        [message],
        deposit or default_deposit(state, expedited),
        title=title or default_title(model_id),
        summary=summary or default_summary(model_id, units),
        metadata=DEFAULT_METADATA if metadata is None else metadata,
        expedited=expedited,
    )
