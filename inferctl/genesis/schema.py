"""Field tables of the inference-module messages that a gonka genesis file carries.

Field numbers, names and types follow `inference-chain/proto/inference/inference/`
(`genesis.proto`, `params.proto`, `model.proto`, `participant.proto`) of
gonka-ai/gonka. The baseline is the version behind the mainnet genesis (commit
312044d28c7170d7f08bf88e41427396f3b95817, August 2025). Fields that later versions
added are in the tables too, marked `added_later`, so a genesis from a newer chain
decodes without loss. Fields that later versions reserved (the top-miner reward
fields) stay, because the mainnet file sets them.

Every table lists its fields in field-number order, which is also the order that
Cosmos proto JSON writes them in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STRING = "string"
BOOL = "bool"
BYTES = "bytes"
INT32 = "int32"
UINT32 = "uint32"
INT64 = "int64"
UINT64 = "uint64"
ENUM = "enum"
MESSAGE = "message"
RAW = "raw"  # a message whose fields inferctl does not model: kept as parsed JSON

INTEGER_KINDS = (INT32, UINT32, INT64, UINT64)
SIXTY_FOUR_BIT_KINDS = (INT64, UINT64)

INTEGER_RANGES = {
    INT32: (-(2**31), 2**31 - 1),
    UINT32: (0, 2**32 - 1),
    INT64: (-(2**63), 2**63 - 1),
    UINT64: (0, 2**64 - 1),
}


def _lower_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True, slots=True)
class Field:
    """One proto field: number, original (snake_case) name, kind and options.

    `target` names the nested message for MESSAGE fields and the enum for ENUM
    fields. `added_later` marks fields that the mainnet-era chain does not know.
    """

    number: int
    name: str
    kind: str
    target: str | None = None
    repeated: bool = False
    added_later: bool = False
    json_name: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "json_name", _lower_camel(self.name))


def _scalar(number: int, name: str, kind: str, *, later: bool = False) -> Field:
    return Field(number, name, kind, added_later=later)


def _message(number: int, name: str, target: str, *, later: bool = False) -> Field:
    return Field(number, name, MESSAGE, target=target, added_later=later)


def _repeated(
    number: int, name: str, kind: str, target: str | None = None, *, later: bool = False
) -> Field:
    return Field(number, name, kind, target=target, repeated=True, added_later=later)


def _enum(number: int, name: str, target: str) -> Field:
    return Field(number, name, ENUM, target=target)


ENUMS: dict[str, dict[str, int]] = {
    "ParticipantStatus": {
        "UNSPECIFIED": 0,
        "ACTIVE": 1,
        "INACTIVE": 2,
        "INVALID": 3,
        "RAMPING": 4,
    },
}

ENUM_NAMES: dict[str, dict[int, str]] = {
    enum_name: {number: name for name, number in values.items()}
    for enum_name, values in ENUMS.items()
}

_DECIMAL = "Decimal"

MESSAGES: dict[str, tuple[Field, ...]] = {
    "GenesisState": (
        _message(1, "params", "Params"),
        _message(2, "genesis_only_params", "GenesisOnlyParams"),
        _repeated(3, "model_list", MESSAGE, "Model"),
        _message(4, "cosm_wasm_params", "CosmWasmParams"),
        _repeated(5, "participant_list", MESSAGE, "Participant"),
        Field(6, "mlnode_version", RAW, added_later=True),
        Field(7, "bridge", RAW, added_later=True),
    ),
    "Params": (
        _message(1, "epoch_params", "EpochParams"),
        _message(2, "validation_params", "ValidationParams"),
        _message(3, "poc_params", "PocParams"),
        _message(4, "tokenomics_params", "TokenomicsParams"),
        _message(5, "collateral_params", "CollateralParams"),
        _message(6, "bitcoin_reward_params", "BitcoinRewardParams"),
        _message(7, "dynamic_pricing_params", "DynamicPricingParams"),
        _message(8, "bandwidth_limits_params", "BandwidthLimitsParams"),
        _message(9, "confirmation_poc_params", "ConfirmationPoCParams", later=True),
        _message(10, "genesis_guardian_params", "GenesisGuardianParams", later=True),
        _message(11, "developer_access_params", "DeveloperAccessParams", later=True),
        _message(
            12, "participant_access_params", "ParticipantAccessParams", later=True
        ),
        _message(
            13, "transfer_agent_access_params", "TransferAgentAccessParams", later=True
        ),
        _message(14, "subnet_escrow_params", "SubnetEscrowParams", later=True),
    ),
    "GenesisOnlyParams": (
        _scalar(1, "total_supply", INT64),
        _scalar(2, "originator_supply", INT64),
        _scalar(3, "top_reward_amount", INT64),
        _scalar(4, "standard_reward_amount", INT64),
        _scalar(5, "pre_programmed_sale_amount", INT64),
        _scalar(6, "top_rewards", INT32),
        _scalar(7, "supply_denom", STRING),
        _scalar(8, "top_reward_period", INT64),
        _scalar(9, "top_reward_payouts", INT64),
        _scalar(10, "top_reward_payouts_per_miner", INT64),
        _scalar(11, "top_reward_max_duration", INT64),
        _message(12, "max_individual_power_percentage", _DECIMAL),
        _scalar(13, "genesis_guardian_enabled", BOOL),
        _scalar(14, "genesis_guardian_network_maturity_threshold", INT64),
        _message(15, "genesis_guardian_multiplier", _DECIMAL),
        _repeated(16, "genesis_guardian_addresses", STRING),
    ),
    "TokenomicsParams": (
        _message(1, "subsidy_reduction_interval", _DECIMAL),
        _message(2, "subsidy_reduction_amount", _DECIMAL),
        _message(3, "current_subsidy_percentage", _DECIMAL),
        _message(4, "top_reward_allowed_failure", _DECIMAL),
        _scalar(5, "top_miner_poc_qualification", INT64),
        _scalar(6, "work_vesting_period", UINT64),
        _scalar(7, "reward_vesting_period", UINT64),
        _scalar(8, "top_miner_vesting_period", UINT64),
    ),
    "EpochParams": (
        _scalar(1, "epoch_length", INT64),
        _scalar(2, "epoch_multiplier", INT64),
        _scalar(3, "epoch_shift", INT64),
        _scalar(4, "default_unit_of_compute_price", INT64),
        _scalar(5, "poc_stage_duration", INT64),
        _scalar(6, "poc_exchange_duration", INT64),
        _scalar(7, "poc_validation_delay", INT64),
        _scalar(8, "poc_validation_duration", INT64),
        _scalar(9, "set_new_validators_delay", INT64),
        _scalar(10, "inference_validation_cutoff", INT64),
        _scalar(11, "inference_pruning_epoch_threshold", UINT64),
        _scalar(12, "inference_pruning_max", INT64, later=True),
        _scalar(13, "poc_pruning_max", INT64, later=True),
        _message(14, "poc_slot_allocation", _DECIMAL, later=True),
        _scalar(15, "confirmation_poc_safety_window", INT64, later=True),
    ),
    "ValidationParams": (
        _message(1, "false_positive_rate", _DECIMAL),
        _scalar(2, "min_ramp_up_measurements", INT32),
        _message(3, "pass_value", _DECIMAL),
        _message(4, "min_validation_average", _DECIMAL),
        _message(5, "max_validation_average", _DECIMAL),
        _scalar(6, "expiration_blocks", INT64),
        _scalar(7, "epochs_to_max", INT64),
        _scalar(8, "full_validation_traffic_cutoff", INT64),
        _message(9, "min_validation_halfway", _DECIMAL),
        _scalar(10, "min_validation_traffic_cutoff", INT64),
        _message(11, "miss_percentage_cutoff", _DECIMAL),
        _message(12, "miss_requests_penalty", _DECIMAL),
        _scalar(13, "timestamp_expiration", INT64),
        _scalar(14, "timestamp_advance", INT64),
        _scalar(15, "estimated_limits_per_block_kb", UINT64),
        _message(16, "invalid_reputation_preserve", _DECIMAL, later=True),
        _message(17, "bad_participant_invalidation_rate", _DECIMAL, later=True),
        _message(18, "invalidation_h_threshold", _DECIMAL, later=True),
        _message(19, "downtime_good_percentage", _DECIMAL, later=True),
        _message(20, "downtime_bad_percentage", _DECIMAL, later=True),
        _message(21, "downtime_h_threshold", _DECIMAL, later=True),
        _message(22, "downtime_reputation_preserve", _DECIMAL, later=True),
        _message(23, "quick_failure_threshold", _DECIMAL, later=True),
        _message(24, "binom_test_p0", _DECIMAL, later=True),
        _scalar(25, "claim_validation_enabled", BOOL, later=True),
        _scalar(26, "logprobs_mode", STRING, later=True),
    ),
    "PoCModelParams": (
        _scalar(1, "dim", INT32),
        _scalar(2, "n_layers", INT32),
        _scalar(3, "n_heads", INT32),
        _scalar(4, "n_kv_heads", INT32),
        _scalar(5, "vocab_size", INT32),
        _message(6, "ffn_dim_multiplier", _DECIMAL),
        _scalar(7, "multiple_of", INT32),
        _message(8, "norm_eps", _DECIMAL),
        _scalar(9, "rope_theta", INT32),
        _scalar(10, "use_scaled_rope", BOOL),
        _scalar(11, "seq_len", INT32),
        _message(12, "r_target", _DECIMAL),
    ),
    "PoCStatTestParams": (
        _message(1, "dist_threshold", _DECIMAL),
        _message(2, "p_mismatch", _DECIMAL),
        _message(3, "p_value_threshold", _DECIMAL),
    ),
    "PocParams": (
        _scalar(1, "default_difficulty", INT32),
        _scalar(2, "validation_sample_size", INT32),
        _scalar(3, "poc_data_pruning_epoch_threshold", UINT64),
        _message(4, "weight_scale_factor", _DECIMAL, later=True),
        _message(5, "model_params", "PoCModelParams", later=True),
        _scalar(6, "model_id", STRING, later=True),
        _scalar(7, "seq_len", INT64, later=True),
        _scalar(8, "poc_v2_enabled", BOOL, later=True),
        _scalar(9, "confirmation_poc_v2_enabled", BOOL, later=True),
        _message(10, "stat_test", "PoCStatTestParams", later=True),
        _scalar(11, "validation_slots", UINT32, later=True),
        _scalar(12, "poc_normalization_enabled", BOOL, later=True),
    ),
    _DECIMAL: (
        _scalar(1, "value", INT64),
        _scalar(2, "exponent", INT32),
    ),
    "CollateralParams": (
        _message(1, "slash_fraction_invalid", _DECIMAL),
        _message(2, "slash_fraction_downtime", _DECIMAL),
        _message(3, "downtime_missed_percentage_threshold", _DECIMAL),
        _scalar(4, "grace_period_end_epoch", UINT64),
        _message(5, "base_weight_ratio", _DECIMAL),
        _message(6, "collateral_per_weight_unit", _DECIMAL),
    ),
    "BitcoinRewardParams": (
        _scalar(1, "use_bitcoin_rewards", BOOL),
        _scalar(2, "initial_epoch_reward", UINT64),
        _message(3, "decay_rate", _DECIMAL),
        _scalar(4, "genesis_epoch", UINT64),
        _message(5, "utilization_bonus_factor", _DECIMAL),
        _message(6, "full_coverage_bonus_factor", _DECIMAL),
        _message(7, "partial_coverage_bonus_factor", _DECIMAL),
    ),
    "DynamicPricingParams": (
        _message(1, "stability_zone_lower_bound", _DECIMAL),
        _message(2, "stability_zone_upper_bound", _DECIMAL),
        _message(3, "price_elasticity", _DECIMAL),
        _scalar(4, "utilization_window_duration", UINT64),
        _scalar(5, "min_per_token_price", UINT64),
        _scalar(6, "base_per_token_price", UINT64),
        _scalar(7, "grace_period_end_epoch", UINT64),
        _scalar(8, "grace_period_per_token_price", UINT64),
    ),
    "BandwidthLimitsParams": (
        _scalar(1, "estimated_limits_per_block_kb", UINT64),
        _message(2, "kb_per_input_token", _DECIMAL),
        _message(3, "kb_per_output_token", _DECIMAL),
        _scalar(4, "invalidations_limit", UINT64, later=True),
        _scalar(5, "invalidations_sample_period", UINT64, later=True),
        _scalar(6, "invalidations_limit_curve", UINT64, later=True),
        _scalar(7, "minimum_concurrent_invalidations", UINT32, later=True),
        _scalar(8, "max_inferences_per_block", UINT64, later=True),
    ),
    "ConfirmationPoCParams": (
        _scalar(1, "expected_confirmations_per_epoch", UINT64),
        _message(2, "alpha_threshold", _DECIMAL),
        _message(3, "slash_fraction", _DECIMAL),
        _scalar(4, "upgrade_protection_window", INT64),
    ),
    "GenesisGuardianParams": (
        _scalar(1, "network_maturity_threshold", INT64),
        _scalar(2, "network_maturity_min_height", INT64),
        _repeated(3, "guardian_addresses", STRING),
    ),
    "DeveloperAccessParams": (
        _scalar(1, "until_block_height", INT64),
        _repeated(2, "allowed_developer_addresses", STRING),
    ),
    "ParticipantAccessParams": (
        _scalar(1, "new_participant_registration_start_height", INT64),
        _repeated(2, "blocked_participant_addresses", STRING),
        _scalar(3, "use_participant_allowlist", BOOL),
        _scalar(4, "participant_allowlist_until_block_height", INT64),
    ),
    "TransferAgentAccessParams": (_repeated(1, "allowed_transfer_addresses", STRING),),
    "SubnetApprovedVersion": (
        _scalar(1, "name", STRING),
        _scalar(2, "binary", STRING),
        _scalar(3, "sha256", STRING),
    ),
    "SubnetEscrowParams": (
        _scalar(1, "min_amount", UINT64),
        _scalar(2, "max_amount", UINT64),
        _scalar(3, "max_escrows_per_epoch", UINT32),
        _scalar(4, "group_size", UINT32),
        _repeated(5, "allowed_creator_addresses", STRING),
        _scalar(6, "token_price", UINT64),
        _repeated(7, "approved_versions", MESSAGE, "SubnetApprovedVersion"),
    ),
    "Model": (
        _scalar(1, "proposed_by", STRING),
        _scalar(2, "id", STRING),
        _scalar(3, "units_of_compute_per_token", UINT64),
        _scalar(4, "context_window", UINT64),
        _scalar(5, "quantization", STRING),
        _scalar(6, "coins_per_input_token", UINT64),
        _scalar(7, "coins_per_output_token", UINT64),
        _scalar(8, "hf_repo", STRING),
        _scalar(9, "hf_commit", STRING),
        _repeated(10, "model_args", STRING),
        _scalar(11, "v_ram", UINT64),
        _scalar(12, "throughput_per_nonce", UINT64),
        _message(13, "validation_threshold", _DECIMAL),
    ),
    "CosmWasmParams": (
        _scalar(1, "cw20_code", BYTES),
        _scalar(2, "cw20_code_id", UINT64),
    ),
    "Participant": (
        _scalar(1, "index", STRING),
        _scalar(2, "address", STRING),
        _scalar(3, "weight", INT32),
        _scalar(4, "join_time", INT64),
        _scalar(5, "join_height", INT64),
        _scalar(6, "last_inference_time", INT64),
        _scalar(7, "inference_url", STRING),
        _enum(8, "status", "ParticipantStatus"),
        _scalar(9, "coin_balance", INT64),
        _scalar(10, "validator_key", STRING),
        _scalar(11, "consecutive_invalid_inferences", INT64),
        _scalar(12, "worker_public_key", STRING),
        _scalar(13, "epochs_completed", UINT32),
        _message(14, "current_epoch_stats", "CurrentEpochStats"),
    ),
    "CurrentEpochStats": (
        _scalar(1, "inference_count", UINT64),
        _scalar(2, "missed_requests", UINT64),
        _scalar(3, "earned_coins", UINT64),
        _scalar(4, "rewarded_coins", UINT64),
        _scalar(5, "burned_coins", UINT64),
        _scalar(6, "validated_inferences", UINT64),
        _scalar(7, "invalidated_inferences", UINT64),
        _scalar(8, "first_missed_block", UINT64, later=True),
    ),
}

# The nested messages of Params that the mainnet-era chain requires to be set.
REQUIRED_PARAM_MESSAGES = tuple(f.name for f in MESSAGES["Params"] if not f.added_later)


def fields_by_key(message_name: str) -> dict[str, Field]:
    """Return the fields of a message keyed by both their proto and JSON names."""
    cached = _FIELDS_BY_KEY.get(message_name)
    if cached is None:
        cached = {}
        for item in MESSAGES[message_name]:
            cached[item.name] = item
            cached[item.json_name] = item
        _FIELDS_BY_KEY[message_name] = cached
    return cached


_FIELDS_BY_KEY: dict[str, dict[str, Field]] = {}
