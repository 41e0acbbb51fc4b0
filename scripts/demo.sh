#!/usr/bin/env bash
# The main job on embedded defaults, on a fresh machine: builds the pinned kumo emulator and switchyard,
# installs HAProxy, then runs test/traffic/demo in the traffic world (emulator, ECS tasks as real
# servers, HAProxy as the load balancer, alarms from real metrics, constant load, daemon with SQLite, a
# good release with live progress, then a bad one rolled back on its real errors). No AWS account;
# nothing leaves 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_EC2_METADATA_DISABLED=true CHECKPOINT_DISABLE=1
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN
scripts/tools.sh debs kumo
mkdir -p .tools/bin
go build -o .tools/bin/switchyard ./cmd/switchyard
(cd test/traffic && go build -o ../../.tools/bin/switchyard-demo ./demo)
export KUMO_BIN="$PWD/.tools/bin/kumo"
exec .tools/bin/switchyard-demo -switchyard "$PWD/.tools/bin/switchyard" "$@"
