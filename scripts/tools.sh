#!/usr/bin/env bash
# Builds the pinned external tools into .tools/bin (kumo, tofu, tflint, tfsec) from the Go module
# proxy. Idempotent: a tool already built at the pinned version is kept, so CI and developers pay the
# cold build (about 20 minutes on 2 cores) once per machine.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin="$root/.tools/bin"
mkdir -p "$bin"
export GOBIN="$bin" CHECKPOINT_DISABLE=1 AWS_EC2_METADATA_DISABLED=true

TOFU_VERSION=v1.10.10
TFLINT_VERSION=v0.64.0
TFSEC_VERSION=v1.26.0

stamp() { echo "$1" >"$bin/.$2.version"; }
have() { [ -x "$bin/$2" ] && [ "$(cat "$bin/.$2.version" 2>/dev/null)" = "$1" ]; }
step() { printf '[tools] %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }

want=${*:-debs kumo tofu tflint tfsec}
for t in $want; do
  case $t in
  debs)
    # The traffic world's real parts come from Debian: HAProxy (the data plane) and Prometheus; the
    # dashboard's browser tests use Debian's Chromium (headless).
    if command -v haproxy >/dev/null && command -v prometheus >/dev/null && command -v chromium >/dev/null; then continue; fi
    if [ "$(id -u)" != 0 ]; then
      echo "haproxy, prometheus and chromium are needed: sudo apt-get install -y haproxy prometheus chromium" >&2; exit 1
    fi
    step "installing haproxy, prometheus and chromium (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends haproxy prometheus chromium >/dev/null
    # The packages start system services; the tests start their own processes on loopback ports.
    (systemctl disable --now haproxy prometheus 2>/dev/null || service haproxy stop 2>/dev/null || true) >/dev/null 2>&1
    ;;
  kumo)
    # A test-only tool: pinned in its own module (tools/kumo/go.mod), not in the product's go.mod.
    v=$(cd tools/kumo && go list -m -f '{{.Version}}' github.com/sivchari/kumo)
    have "$v" kumo && continue
    step "building kumo $v (tools/kumo/go.mod tool line)"
    (cd tools/kumo && go build -o "$bin/kumo" github.com/sivchari/kumo/cmd/kumo)
    stamp "$v" kumo ;;
  tofu)
    have "$TOFU_VERSION" tofu && continue
    step "building OpenTofu $TOFU_VERSION"
    dir=$(GOFLAGS=-mod=mod go mod download -json "github.com/opentofu/opentofu@$TOFU_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    work=$(mktemp -d)
    cp -r "$dir/." "$work/"
    chmod -R u+w "$work"
    (cd "$work" && go build -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$bin/tofu" ./cmd/tofu)
    rm -rf "$work"
    stamp "$TOFU_VERSION" tofu ;;
  tflint)
    have "$TFLINT_VERSION" tflint && continue
    step "installing tflint $TFLINT_VERSION"
    (cd /tmp && go install "github.com/terraform-linters/tflint@$TFLINT_VERSION")
    stamp "$TFLINT_VERSION" tflint ;;
  tfsec)
    have "$TFSEC_VERSION" tfsec && continue
    step "installing tfsec $TFSEC_VERSION"
    (cd /tmp && go install "github.com/aquasecurity/tfsec/cmd/tfsec@$TFSEC_VERSION")
    stamp "$TFSEC_VERSION" tfsec ;;
  *) echo "unknown tool $t" >&2; exit 2 ;;
  esac
done
step "tools ready in $bin"
