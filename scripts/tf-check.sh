#!/usr/bin/env bash
# The offline Terraform check CI runs. Every check prints PASS/FAIL with its target, and the last
# line is the standard summary "N passed, N failed"; the exit status is non-zero on any failure.
#
#   scripts/tf-check.sh              all checks
#   scripts/tf-check.sh CHECK...     only these checks: fmt, tflint, tfsec, terraform-compat,
#                                    terraform-test, mutate, or a directory
#                                    (terraform, terraform/bootstrap, terraform/modules/<name>)
#                                    whose checks are init+validate and, with a tests/ dir, tofu test
#   scripts/tf-check.sh --list       print the check names of a full run, one per line
#   (terraform-compat: `terraform validate` of every directory with a Terraform >= 1.5 binary, when one
#    is on PATH; the stack must work with Terraform as well as OpenTofu.
#    terraform-test: `terraform test` of every directory with tests, with Terraform >= 1.7.
#    mutate: scripts/tf-mutate.sh, the mutation check; part of a full run)
#
# Counting: fmt, tflint, tfsec and each validate are one check each; `tofu test` contributes its
# own "N passed, N failed" run counts (one failed check if it dies before printing them).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# shellcheck source=scripts/tf-env.sh
source "$root/scripts/tf-env.sh"

tf_dirs() {
	local d
	for d in terraform terraform/bootstrap terraform/modules/*; do
		compgen -G "$d/*.tf" >/dev/null && echo "$d"
	done
}

if [ "${1:-}" = "--list" ]; then
	echo fmt
	tf_dirs
	echo tflint
	echo tfsec
	echo terraform-compat
	echo terraform-test
	echo mutate
	exit 0
fi

checks=("$@")
if [ ${#checks[@]} -eq 0 ]; then
	mapfile -t checks < <("$0" --list)
fi

passed=0
failed=0
failures=()
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

pass() { passed=$((passed + ${2:-1})); printf 'PASS  %s\n' "$1"; }
fail() {
	failed=$((failed + ${2:-1}))
	failures+=("$1")
	printf 'FAIL  %s\n' "$1"
	# Show the tool output of the failed step, indented, so CI logs say why.
	[ -n "${3:-}" ] && [ -s "$3" ] && sed 's/^/      | /' "$3"
}

# run_logged LOG CMD...: run quietly, keep output for failure reports.
run_logged() { local log=$1; shift; "$@" >"$log" 2>&1; }

setup_done=0
ensure_setup() {
	[ "$setup_done" = 1 ] && return 0
	setup_done=1
	if ! run_logged "$logdir/setup.log" "$root/scripts/tf-setup.sh"; then
		cat "$logdir/setup.log" >&2
		echo "[tf-check] scripts/tf-setup.sh failed" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
}

check_fmt() {
	local log="$logdir/fmt.log"
	if run_logged "$log" tofu fmt -check -recursive -diff -no-color terraform; then
		pass "fmt (tofu fmt -check -recursive terraform)"
	else
		fail "fmt (tofu fmt -check -recursive terraform)" 1 "$log"
	fi
}

check_dir() {
	local dir=$1 name log
	name=${dir//\//_}
	log="$logdir/$name.init.log"
	# Lock files are gitignored and only pin the local plugin: drop a stale one (a rebuilt plugin has a
	# new checksum, which `init -upgrade` refuses for the same version).
	rm -f "$dir/.terraform.lock.hcl"
	if ! run_logged "$log" tofu -chdir="$dir" init -backend=false -upgrade -input=false -no-color -plugin-dir="$TF_PLUGIN_DIR"; then
		fail "validate $dir (tofu init failed)" 1 "$log"
		return
	fi
	log="$logdir/$name.validate.log"
	if run_logged "$log" tofu -chdir="$dir" validate -no-color; then
		pass "validate $dir"
	else
		fail "validate $dir" 1 "$log"
		return
	fi
	[ -d "$dir/tests" ] || return 0
	compgen -G "$dir/tests/*.tftest.hcl" >/dev/null || return 0
	log="$logdir/$name.test.log"
	# The policy tests "apply" to the offline provider in memory (tools/tfprovider/offline/apply.go) so
	# that aws_iam_policy_document renders; nothing reaches AWS.
	SWITCHYARD_TF_OFFLINE_APPLY=1 run_logged "$log" tofu -chdir="$dir" test -no-color
	record_test_result "test $dir" $? "$log"
}

# record_test_result LABEL RC LOG: count a `tofu test`/`terraform test` run by its own summary line,
# "Success! 3 passed, 0 failed." or "Failure! 1 passed, 1 failed, 2 skipped.".
record_test_result() {
	local label=$1 rc=$2 log=$3 summary p f
	summary=$(grep -E '^(Success|Failure)! [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	summary=${summary#*! }
	summary=${summary%.}
	if [ -n "$summary" ]; then
		p=${summary%% passed*}
		f=${summary#*, }
		f=${f%% failed*}
		if [ "$rc" -eq 0 ] && [ "$f" -eq 0 ]; then
			pass "$label ($summary)" "$p"
		else
			passed=$((passed + p))
			# A non-zero exit with "0 failed" (e.g. errored runs) still counts as a failure.
			[ "$f" -eq 0 ] && f=1
			fail "$label ($summary)" "$f" "$log"
		fi
	elif [ "$rc" -eq 0 ]; then
		pass "$label"
	else
		fail "$label (test run errored)" 1 "$log"
	fi
}

ensure_lint_tools() {
	local t missing=()
	for t in tflint tfsec; do
		[ -x "$root/.tools/bin/$t" ] || missing+=("$t")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	tf_wait_tools
	run_logged "$logdir/tools.log" "$root/scripts/tools.sh" "${missing[@]}" || cat "$logdir/tools.log" >&2
}

check_tflint() {
	ensure_lint_tools
	local log="$logdir/tflint.log"
	if run_logged "$log" tflint --chdir=terraform --recursive --config="$root/terraform/.tflint.hcl" --no-color; then
		pass "tflint (terraform ruleset, recursive)"
	else
		fail "tflint (terraform ruleset, recursive)" 1 "$log"
	fi
}

check_tfsec() {
	ensure_lint_tools
	local log="$logdir/tfsec.log"
	if run_logged "$log" tfsec terraform --minimum-severity HIGH --no-color --no-module-downloads; then
		pass "tfsec (HIGH and CRITICAL)"
	else
		fail "tfsec (HIGH and CRITICAL)" 1 "$log"
	fi
}

# check_terraform_compat validates every directory with Terraform (not OpenTofu), through the same
# offline provider mirror, in a scratch copy so that neither tool sees the other's lock files.
check_terraform_compat() {
	local tf ver d log copy
	tf=$(command -v terraform) || { printf 'SKIP  terraform-compat (no terraform binary on PATH)\n'; return 0; }
	ver=$("$tf" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([0-9.]*\)".*/\1/p')
	if [ -z "$ver" ] || [ "$(printf '%s\n' 1.5.0 "$ver" | sort -V | head -n1)" != 1.5.0 ]; then
		printf 'SKIP  terraform-compat (terraform %s is older than 1.5)\n' "${ver:-unknown}"
		return 0
	fi
	copy=$(mktemp -d)
	cp -r terraform "$copy/"
	find "$copy" -name .terraform -type d -prune -exec rm -rf {} + -o -name .terraform.lock.hcl -exec rm -f {} +
	while read -r d; do
		log="$logdir/tfcompat_${d//\//_}.log"
		if run_logged "$log" "$tf" -chdir="$copy/$d" init -backend=false -input=false -no-color -plugin-dir="$TF_PLUGIN_DIR" &&
			run_logged "$log.validate" "$tf" -chdir="$copy/$d" validate -no-color; then
			pass "terraform $ver validate $d"
		else
			cat "$log.validate" >>"$log" 2>/dev/null
			fail "terraform $ver validate $d" 1 "$log"
		fi
	done < <(tf_dirs)
	rm -rf "$copy"
}

# terraform_binary prints a Terraform >= MIN binary, or returns 1 after printing a SKIP line.
terraform_binary() {
	local min=$1 what=$2 tf ver
	tf=$(command -v terraform) || { printf 'SKIP  %s (no terraform binary on PATH)\n' "$what"; return 1; }
	ver=$("$tf" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([0-9.]*\)".*/\1/p')
	if [ -z "$ver" ] || [ "$(printf '%s\n' "$min" "$ver" | sort -V | head -n1)" != "$min" ]; then
		printf 'SKIP  %s (terraform %s is older than %s)\n' "$what" "${ver:-unknown}" "$min"
		return 1
	fi
	echo "$tf $ver"
}

# scratch_copy prints a copy of terraform/ without lock files or plugin caches, so neither tool sees
# the other's.
scratch_copy() {
	local copy
	copy=$(mktemp -d "$logdir/copy.XXXXXX")
	cp -r terraform "$copy/"
	find "$copy" -name .terraform -type d -prune -exec rm -rf {} + -o -name .terraform.lock.hcl -exec rm -f {} +
	echo "$copy"
}

# check_terraform_test runs `terraform test` in every directory with tests, on the same files as
# `tofu test`. They are written for both: runs that read mocked computed values apply to the mock
# (Terraform, unlike OpenTofu, leaves mocked values unknown in plan runs unless
# `override_during = plan`, Terraform >= 1.11, which OpenTofu rejects), and the plan runs read only
# configuration or state. Terraform >= 1.7 has mock providers; 1.11 is what CI has.
check_terraform_test() {
	local tfv tf ver copy d log
	tfv=$(terraform_binary 1.7.0 terraform-test) || return 0
	tf=${tfv% *}
	ver=${tfv#* }
	copy=$(scratch_copy)
	while read -r d; do
		compgen -G "$copy/$d/tests/*.tftest.hcl" >/dev/null || continue
		log="$logdir/tftest_${d//\//_}.log"
		if ! run_logged "$log" "$tf" -chdir="$copy/$d" init -backend=false -input=false -no-color -plugin-dir="$TF_PLUGIN_DIR"; then
			fail "terraform $ver test $d (init failed)" 1 "$log"
			continue
		fi
		SWITCHYARD_TF_OFFLINE_APPLY=1 run_logged "$log" "$tf" -chdir="$copy/$d" test -no-color
		record_test_result "terraform $ver test $d" $? "$log"
	done < <(tf_dirs)
	rm -rf "$copy"
}

# check_mutate runs the mutation check (scripts/tf-mutate.sh): every deliberate break of a
# constraint must make a test fail. One check; the score and any survivor are printed.
check_mutate() {
	local log="$logdir/mutate.log" score
	run_logged "$log" "$root/scripts/tf-mutate.sh"
	local rc=$?
	score=$(grep -E '^mutation score:' "$log" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		pass "mutate (${score:-no score})"
	else
		fail "mutate (${score:-no score})" 1 "$log"
	fi
}

for c in "${checks[@]}"; do
	case $c in
	fmt) ensure_setup; check_fmt ;;
	terraform-compat) ensure_setup; check_terraform_compat ;;
	terraform-test) ensure_setup; check_terraform_test ;;
	mutate) ensure_setup; check_mutate ;;
	tflint) check_tflint ;;
	tfsec) check_tfsec ;;
	*)
		c=${c%/}
		if [ -d "$c" ] && compgen -G "$c/*.tf" >/dev/null; then
			ensure_setup
			check_dir "$c"
		else
			fail "unknown check or directory without .tf files: $c"
		fi ;;
	esac
done

if [ ${#failures[@]} -gt 0 ]; then
	echo
	echo "Failed checks:"
	printf '  - %s\n' "${failures[@]}"
fi
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
