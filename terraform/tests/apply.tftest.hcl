# The whole stack through the offline provider (tools/tfprovider; in-memory apply with
# SWITCHYARD_TF_OFFLINE_APPLY=1, set by scripts/tf-check.sh), with no mock and no module override:
# what stack.tftest.hcl cannot see because it replaces module.network with fixed outputs. Nothing
# reaches AWS. Placeholder IDs and ARNs are shaped like real ones, so every module's validation of
# what it receives from the others runs as in a real apply.
#
# The file name must sort before stack.tftest.hcl: OpenTofu 1.10 keeps that file's override_module
# of module.network for the test files that run after it (seen here as null network outputs), and
# files run in name order.

variables {
  environment                 = "prod"
  environment_suffix          = "td01"
  owner                       = "platform-team"
  certificate_arn             = "arn:aws:acm:us-east-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
  test_listener_allowed_cidrs = ["203.0.113.0/24"]
  alarm_email                 = "oncall@example.com"
}

# Egress is restricted by default: the tasks' HTTPS goes to the interface endpoints and the S3
# gateway endpoint only, not to 0.0.0.0/0 through NAT.
run "tasks_reach_only_the_vpc_endpoints_by_default" {
  command = apply

  assert {
    condition = (
      module.network.app_https_egress.cidrs == [] &&
      module.network.app_https_egress.security_groups == [module.network.vpc_endpoint_security_group_id] &&
      length(module.network.app_https_egress.prefix_lists) == 1 &&
      toset(keys(module.network.interface_endpoint_ids)) == toset(["ecr.api", "ecr.dkr", "secretsmanager", "logs", "sts"])
    )
    error_message = "By default the tasks' HTTPS egress must reach only the interface endpoints (ECR api/dkr, Secrets Manager, Logs, STS) and the S3 gateway endpoint."
  }
}

run "egress_opens_only_when_asked" {
  command = apply

  variables {
    restrict_app_egress_to_vpc_endpoints = false
  }

  assert {
    condition     = module.network.app_https_egress.cidrs == ["0.0.0.0/0"] && module.network.app_https_egress.prefix_lists == []
    error_message = "restrict_app_egress_to_vpc_endpoints = false must open HTTPS egress through NAT (and drop the S3-only rule)."
  }
}

# Single-daemon SQLite is the default product mode: no table, no key, a null output.
run "no_controller_table_by_default" {
  command = apply

  assert {
    condition     = length(module.controller_state) == 0 && output.controller_state_table == null
    error_message = "controller_state_table must default to off: no table and a null output."
  }
}

run "controller_table_when_asked" {
  command = apply

  variables {
    controller_state_table = {}
  }

  assert {
    condition = (
      output.controller_state_table.name == "ddb-switchyard-prod-td01" &&
      output.controller_state_table.arn == module.controller_state[0].table_arn &&
      output.controller_state_table.kms_key_arn == module.controller_state[0].kms_key_arn &&
      output.controller_state_table.daemon_policy_json == module.controller_state[0].daemon_policy_json
    )
    error_message = "controller_state_table = {} must create the table and output its name, ARN, key and the daemons' policy."
  }

  # The module's own tests check the table and the policy; here the wiring: deletion protection
  # on by default, and the policy on the table the root outputs.
  assert {
    condition     = module.controller_state[0].deletion_protection == true
    error_message = "The controller table must keep deletion protection on by default."
  }

  assert {
    condition     = jsondecode(output.controller_state_table.daemon_policy_json).Statement[0].Resource == [module.controller_state[0].table_arn, "${module.controller_state[0].table_arn}/index/*"]
    error_message = "The daemons' policy must name the table the root outputs."
  }
}

run "controller_table_protection_lifted_for_destroy" {
  command = apply

  variables {
    controller_state_table = { deletion_protection = false }
  }

  assert {
    condition     = module.controller_state[0].deletion_protection == false
    error_message = "controller_state_table.deletion_protection = false must reach the module."
  }
}
