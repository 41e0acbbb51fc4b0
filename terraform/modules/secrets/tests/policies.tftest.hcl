# The secrets key policy as the provider would receive it, through the offline provider
# (tools/tfprovider; in-memory apply with SWITCHYARD_TF_OFFLINE_APPLY=1 from scripts/tf-check.sh):
# the account and partition come from its data sources, not from a mock. Principals, actions,
# resources and conditions are compared exactly, lists as sets.

provider "aws" {
  region = "us-east-1"
}

variables {
  environment        = "prod"
  environment_suffix = "td01"
  owner              = "platform-team"
}

run "rendered_key_policy" {
  command = apply

  # Secrets Manager uses the key with the caller's credentials, so the key policy only delegates to
  # IAM in this account; readers get kms:Decrypt from their own IAM policy (the ECS execution role
  # does, through Secrets Manager only). No wildcard or foreign principal, no service principal.
  assert {
    condition = (
      length(jsondecode(aws_kms_key.this.policy).Statement) == 1 &&
      jsondecode(aws_kms_key.this.policy).Statement[0].Sid == "AccountAdministration" &&
      jsondecode(aws_kms_key.this.policy).Statement[0].Effect == "Allow" &&
      jsondecode(aws_kms_key.this.policy).Statement[0].Principal == { AWS = "arn:aws:iam::123456789012:root" } &&
      toset(flatten([jsondecode(aws_kms_key.this.policy).Statement[0].Action])) == toset(["kms:*"]) &&
      toset(flatten([jsondecode(aws_kms_key.this.policy).Statement[0].Resource])) == toset(["*"]) &&
      !can(jsondecode(aws_kms_key.this.policy).Statement[0].Condition) &&
      !can(jsondecode(aws_kms_key.this.policy).Statement[0].NotPrincipal)
    )
    error_message = "The secrets key policy must hold exactly one statement: kms:* for the root of this account (IAM delegation)."
  }

  assert {
    condition     = alltrue([for s in aws_secretsmanager_secret.app : s.kms_key_id == aws_kms_key.this.arn])
    error_message = "Every secret must be encrypted with the key this policy governs."
  }
}
