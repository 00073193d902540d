#!/usr/bin/env bash
# Cycle speed, side by side in one run: policywatch and urlwatch 2.29 over the same 5 real crawl
# rounds of the genai-dev replay, every page served 20 times (880 pages a cycle, corpus selectors).
#   URLWATCH_BIN=/path/to/venv/bin/urlwatch bash bench/cycle_speed.sh [OUT_DIR]
# Needs ../shared beside the checkout and policywatch installed in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)}
mkdir -p "$out"
export PATH="$PWD/.venv/bin:$PATH"
shared=../shared
python3 "$shared/tools/score_replay.py" "$shared/corpus/genai-dev" --ticks 20:25 --copies 20 \
    --json "$out/policywatch.json" | tail -2
python3 "$shared/tools/score_replay.py" "$shared/corpus/genai-dev" --ticks 20:25 --copies 20 \
    --cycle-command "bash $shared/tools/peers/run_urlwatch.sh {urls} {state}" --json "$out/urlwatch.json" | tail -2
python3 - "$out" <<'PY'
import json, sys
pw = json.load(open(f"{sys.argv[1]}/policywatch.json"))["cycle_seconds"]
uw = json.load(open(f"{sys.argv[1]}/urlwatch.json"))["cycle_seconds"]
print(f"policywatch {pw} s, urlwatch {uw} s in check cycles: ratio {pw / uw:.2f} (target <= 0.33)")
PY
