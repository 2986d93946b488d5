#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run-fuzzer.sh FUZZER SEED_DIR ARTIFACT_DIR [libFuzzer option...]
# Runs a libFuzzer target from the seed corpus without writing into it: new
# inputs go to a scratch folder (libFuzzer writes to the first folder it is
# given), crash inputs to ARTIFACT_DIR. Exit status is libFuzzer's.
set -o errexit -o nounset -o pipefail

fuzzer=$1 seeds=$2 artifacts=$3
shift 3
[ -d "$seeds" ] || { echo "no seed corpus at $seeds" >&2; exit 1; }
scratch=$(mktemp -d "${TMPDIR:-/tmp}/packetfilter-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$artifacts"
"$fuzzer" -artifact_prefix="$artifacts/" -print_final_stats=1 "$@" "$scratch" "$seeds"
