# shellcheck shell=bash
# Source me (`source scripts/tf-env.sh`): environment for offline OpenTofu/Terraform runs against
# the schema-serving hashicorp/aws plugin that scripts/tf-setup.sh installs. Never reaches AWS or
# the registries: the CLI config allows only the local filesystem mirror.
_tf_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case ":$PATH:" in
*":$_tf_root/.tools/bin:"*) ;;
*) export PATH="$_tf_root/.tools/bin:$PATH" ;;
esac
export TF_CLI_CONFIG_FILE="$_tf_root/.tools/tf/tofurc"
export TF_PLUGIN_DIR="$_tf_root/.tools/tf/plugins"
export CHECKPOINT_DISABLE=1
export AWS_EC2_METADATA_DISABLED=true
export TF_IN_AUTOMATION=1
# Schema files the plugin serves, in load order (later files override types): the provider's own
# schema dump (read-only, outside the repo) and the hand-written overlay for the types it lacks.
export SWITCHYARD_TF_SCHEMA_FILES="$(cd "$_tf_root/.." && pwd)/shared/terraform/aws-provider-6.47.0-schema.json.gz:$_tf_root/terraform/schema-overlay/aws-overlay.json"

# tf_wait_tools waits while another scripts/tools.sh run is building, so a tool is never built twice
# concurrently (the build would race on the same output file).
tf_wait_tools() {
	local waited=0
	while pgrep -f 'scripts/tools\.sh' >/dev/null 2>&1; do
		if [ "$waited" -eq 0 ]; then
			echo "[tf] waiting for a running scripts/tools.sh to finish (see /tmp/tools.log)" >&2
		fi
		waited=$((waited + 1))
		sleep 5
	done
}
