#!/usr/bin/env bash
# Regenerate tests/data/gorand_vectors.json with the real Go math/rand.
# Needs the Go toolchain (Debian package golang-go). It needs no network access,
# because the program imports only the standard library.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
output="$repo_root/tests/data/gorand_vectors.json"

if ! command -v go >/dev/null 2>&1; then
    echo "error: 'go' not found on PATH; install the Go toolchain" \
        "(Debian: apt-get install -y golang-go) and rerun $0" >&2
    exit 1
fi

tmp="$(mktemp "$output.XXXXXX")"
trap 'rm -f "$tmp"' EXIT

# GOPROXY=off makes a stray module download fail instead of reaching the network.
(cd "$repo_root/tools/gorand-vectors" && GOPROXY=off go run main.go) >"$tmp"
chmod 644 "$tmp"
mv "$tmp" "$output"
trap - EXIT
echo "wrote $output ($(go version))" >&2
