#!/usr/bin/env bash
# The main job on embedded defaults, on a fresh machine: builds the pinned kumo emulator and switchyard,
# then runs test/demo (emulator + ECS stand-in on loopback, demo stack, daemon with SQLite, a release
# with live progress, then an automatic rollback). No AWS account; nothing leaves 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_EC2_METADATA_DISABLED=true CHECKPOINT_DISABLE=1
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN
scripts/tools.sh debs kumo
mkdir -p .tools/bin
go build -o .tools/bin/switchyard ./cmd/switchyard
go build -o .tools/bin/switchyard-demo ./test/demo
export KUMO_BIN="$PWD/.tools/bin/kumo"
exec .tools/bin/switchyard-demo -switchyard "$PWD/.tools/bin/switchyard" "$@"
