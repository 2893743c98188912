#!/usr/bin/env bash
# Quality floors on real labelled appeals in ../shared/data (never copied into
# the repo). The floors sit a little under what was measured on these fixed
# splits (Kursk seed 1: accuracy 0.8329, macro-F1 0.4657; St Petersburg seed 1:
# 0.9304, 0.8454), so a regression fails CI but run-to-run noise does not.
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/data
if [ ! -d "$data" ]; then
	echo "quality.sh: $data is absent; cannot check the classifier floors" >&2
	exit 1
fi
go run ./examples/evaluate -data "$data/kursk/train.jsonl" -split 0.8 -seed 1 \
	-min-accuracy 0.80 -min-macro-f1 0.40 | tail -n 1
go run ./examples/evaluate -data "$data/spb/dev.jsonl.gz" -split 0.8 -seed 1 \
	-min-accuracy 0.92 -min-macro-f1 0.82 | tail -n 1
