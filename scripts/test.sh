#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs HAProxy and Prometheus (Debian) and builds
# the pinned tools (kumo, OpenTofu, tflint, tfsec) and the offline AWS provider plugin, then Go tests
# (unit + integration against the kumo emulator and the ECS stand-in, provisioning against real
# OpenTofu, the traffic world's module) and the offline Terraform checks.
# Ends with one summary line "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export AWS_EC2_METADATA_DISABLED=true CHECKPOINT_DISABLE=1
# Never let a test reach real AWS or the default credential chain.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN
export KUMO_BIN="$root/.tools/bin/kumo" PATH="$root/.tools/bin:$PATH"

fail=0
log=$(mktemp -d)
section() { printf '\n=== %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }

section "tools"
scripts/tools.sh || { echo "tool build failed"; exit 1; }
if [ -x scripts/tf-setup.sh ]; then
  scripts/tf-setup.sh || { echo "offline provider setup failed"; exit 1; }
fi

section "gofmt and go vet"
bad=$(gofmt -l $(git ls-files '*.go') 2>/dev/null)
if [ -n "$bad" ]; then echo "gofmt needed: $bad"; fail=1; fi
go vet ./... || fail=1

# The Terraform checks (tofu processes, about half the run) share nothing with the Go tests: they run
# alongside them and report at the end. SWITCHYARD_SERIAL=1 runs them after the Go tests instead.
tfpid=""
if [ -x scripts/tf-check.sh ] && [ "${SWITCHYARD_SERIAL:-}" != 1 ]; then
  section "terraform checks started in the background"
  (scripts/tf-check.sh >"$log/tf-check.txt" 2>&1; echo $? >"$log/tf-check.rc") &
  tfpid=$!
fi

section "go test (main module)"
go test -count=1 -v -timeout 30m ./... >"$log/go.txt" 2>&1
rc=$?
grep -E '^(ok|FAIL|---|panic)|^\s+--- FAIL|\.go:[0-9]+:' "$log/go.txt" | grep -v -- '--- PASS' | tail -200
[ $rc -eq 0 ] || { fail=1; tail -50 "$log/go.txt"; }
gp=$(grep -cE '^\s*--- PASS' "$log/go.txt"); gf=$(grep -cE '^\s*--- FAIL' "$log/go.txt")

wp=0; wf=0
if [ -d test/traffic ]; then
  section "go test (test/traffic: the traffic world, its own module)"
  # Real HAProxy data plane, real app tasks, ALB metrics and alarms, load through a real daemon.
  (cd test/traffic && go vet ./... && go test -count=1 -v -timeout 30m ./...) >"$log/traffic.txt" 2>&1
  rc=$?
  grep -E '^(ok|FAIL|---|panic)|^\s+--- FAIL|\.go:[0-9]+:' "$log/traffic.txt" | grep -v -- '--- PASS' | tail -100
  [ $rc -eq 0 ] || { fail=1; tail -50 "$log/traffic.txt"; }
  wp=$(grep -cE '^\s*--- PASS' "$log/traffic.txt"); wf=$(grep -cE '^\s*--- FAIL' "$log/traffic.txt")
fi

tp=0; tf=0
if [ -d tools/tfprovider ]; then
  section "go test (tools/tfprovider)"
  # TestTerraformChecks wraps tf-check.sh per check; the script runs below with finer counts, so skip it here.
  (cd tools/tfprovider && go vet ./... && SWITCHYARD_TF_CHECK=1 go test -count=1 -v -timeout 30m -skip '^TestTerraformChecks$' ./...) >"$log/tf-go.txt" 2>&1
  rc=$?
  grep -E '^(ok|FAIL|---)|^\s+--- FAIL' "$log/tf-go.txt" | grep -v -- '--- PASS' | tail -100
  [ $rc -eq 0 ] || { fail=1; tail -50 "$log/tf-go.txt"; }
  tp=$(grep -cE '^\s*--- PASS' "$log/tf-go.txt"); tf=$(grep -cE '^\s*--- FAIL' "$log/tf-go.txt")
fi

cp=0; cf=0
if [ -x scripts/tf-check.sh ]; then
  section "terraform checks (fmt, validate, tofu test, tflint, tfsec)"
  if [ -n "$tfpid" ]; then
    wait "$tfpid"
    cat "$log/tf-check.txt"
    [ "$(cat "$log/tf-check.rc" 2>/dev/null)" = 0 ] || fail=1
  else
    scripts/tf-check.sh 2>&1 | tee "$log/tf-check.txt"
    [ "${PIPESTATUS[0]}" -eq 0 ] || fail=1
  fi
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log/tf-check.txt" | tail -1)
  cp=$(echo "$line" | awk '{print $1}'); cf=$(echo "$line" | awk '{print $3}')
fi

passed=$((gp + wp + tp + ${cp:-0})); failed=$((gf + wf + tf + ${cf:-0}))
if [ $fail -ne 0 ] && [ $failed -eq 0 ]; then failed=1; fi
echo
echo "go tests: $gp passed, $gf failed; traffic world tests: $wp passed, $wf failed; tfprovider tests: $tp passed, $tf failed; terraform checks: ${cp:-0} passed, ${cf:-0} failed"
echo "tests: $passed passed, $failed failed"
exit $fail
