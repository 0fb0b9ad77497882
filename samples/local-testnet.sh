#!/usr/bin/env bash
# Build a complete local testnet from nothing: genesis with three participants and one
# model, a second model through governance, ML nodes, PoC results, the block-height
# timeline through epoch 1, executor picks, a genesis export and a ledger check. Every
# step is one inferctl command.
#
# Usage: bash samples/local-testnet.sh [HOME]   (default: $INFERCTL_HOME, else ./state)
# Running it again starts the testnet over in the same home.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export INFERCTL_HOME="${1:-${INFERCTL_HOME:-./state}}"
# Fixed times make the ledger and the export byte-identical on every run.
export SOURCE_DATE_EPOCH=1735689600  # 2025-01-01T00:00:00Z

step() { printf '\n== %s\n' "$*" >&2; }

step "start over in $INFERCTL_HOME (only the ledger's own files are removed)"
mkdir -p "$INFERCTL_HOME"
rm -rf "$INFERCTL_HOME"/{LEDGER,segments,documents,snapshot.json,lock,lock.json}

step "genesis: 3 participants and 1 model from samples/testnet.toml"
inferctl genesis init --chain-id inferctl-testnet \
  --genesis-time 2025-01-01T00:00:00Z --config "$here/testnet.toml"
ALICE=$(inferctl address alice)
BOB=$(inferctl address bob)
CAROL=$(inferctl address carol)

step "register Qwen/QwQ-32B through governance: propose, vote, wait, tally"
PROPOSAL=$(inferctl model propose --proposer "$ALICE" --id Qwen/QwQ-32B \
  --units-of-compute-per-token 1000 --hf-repo Qwen/QwQ-32B \
  --hf-commit 976055f8c83f394f35dbd3ab09a285a984907bd0 \
  --model-arg=--quantization --model-arg=fp8 --v-ram 80 \
  --throughput-per-nonce 1000 --validation-threshold 0.98)
for voter in "$ALICE" "$BOB" "$CAROL"; do
  inferctl proposal vote "$PROPOSAL" yes --voter "$voter"
done
# The testnet's voting period is 30s; the tally runs one minute later on ledger time.
inferctl proposal tally "$PROPOSAL" --time 2025-01-01T00:01:00Z

step "ML nodes from gonka's node-config files; carol serves both models"
inferctl node register --participant "$ALICE" --file "$here/node-config.json"
inferctl node register --participant "$BOB" --file "$here/node-config-qwq-8x3090.json"
inferctl node register --participant "$CAROL" \
  --file "$here/node_payload_mock-server_genesis_2_nodes.json"
inferctl node register --participant "$CAROL" --id carol-qwq --host 10.0.0.3 \
  --inference-port 5000 --poc-port 8080 --max-concurrent 100 --model Qwen/QwQ-32B

step "advance into the PoC of epoch 1, which starts at block 50"
# The chain runs each epoch step at its block (samples/testnet.toml: 50-block
# epochs): PoC start at 50, formation at 59, the switch to epoch 1 at 60.
inferctl chain advance --to-height 55
inferctl epoch context

step "PoC results, then advance through the formation and the switch of epoch 1"
inferctl poc submit "$ALICE" --weight 100
inferctl poc submit "$BOB" --weight 200
inferctl poc submit "$CAROL" --weight 300
inferctl chain advance --to next-epoch
# At the switch block the chain still picks only members with a POC_SLOT node;
# from the next block on it picks from every member.
inferctl chain advance --blocks 1

step "pick executors for each model"
inferctl executor pick --model Qwen/QwQ-32B --seed 1
inferctl executor pick --model Qwen/Qwen2.5-7B-Instruct --seed 1

step "export the genesis and verify the ledger"
inferctl genesis export -o "$INFERCTL_HOME/exported-genesis.json"
inferctl genesis validate "$INFERCTL_HOME/exported-genesis.json"
inferctl ledger verify
inferctl status

step "done: the testnet is in $INFERCTL_HOME"
cat >&2 <<NEXT
Look around with: inferctl status, inferctl epoch show, inferctl ledger log,
inferctl executor list --model Qwen/QwQ-32B   (each takes --json and --help).
After 'make demo', put inferctl on PATH first: . .venv/bin/activate
docs/guide.md builds a similar testnet step by step and explains each step.
NEXT
