# The state bucket policy and the state key policy as the provider would receive them, through the
# offline provider (tools/tfprovider; in-memory apply with SWITCHYARD_TF_OFFLINE_APPLY=1 from
# scripts/tf-check.sh) and this directory's own provider configuration (providers.tf), instead of
# the mock of bootstrap.tftest.hcl: the ARNs in the policies are the ones the provider computes.
# Principals, actions, resources and conditions are compared exactly, lists as sets.

variables {
  environment        = "prod"
  environment_suffix = "td01"
  owner              = "platform-team"
}

run "rendered_state_policies" {
  command = apply

  assert {
    condition = (
      toset([for s in jsondecode(aws_s3_bucket_policy.state.policy).Statement : s.Sid]) == toset(["DenyInsecureTransport", "DenyOutdatedTls"]) &&
      length(jsondecode(aws_s3_bucket_policy.state.policy).Statement) == 2 &&
      aws_s3_bucket_policy.state.bucket == aws_s3_bucket.state.id
    )
    error_message = "The state bucket policy must hold exactly the TLS deny and the outdated-TLS deny."
  }

  # Both denies cover the bucket and every object in it, for everyone and every S3 action; a deny on
  # the bucket alone would leave the state objects readable over plain HTTP.
  assert {
    condition = alltrue([
      for s in jsondecode(aws_s3_bucket_policy.state.policy).Statement :
      s.Effect == "Deny" && s.Principal == "*" &&
      toset(flatten([s.Action])) == toset(["s3:*"]) &&
      toset(flatten([s.Resource])) == toset(["arn:aws:s3:::s3-tfstate-123456789012-prod-td01", "arn:aws:s3:::s3-tfstate-123456789012-prod-td01/*"]) &&
      !can(s.NotAction) && !can(s.NotResource) && !can(s.NotPrincipal)
    ])
    error_message = "Both statements must Deny s3:* to everyone on the state bucket and all its objects."
  }

  assert {
    condition = (
      { for s in jsondecode(aws_s3_bucket_policy.state.policy).Statement : s.Sid => s }["DenyInsecureTransport"].Condition == { Bool = { "aws:SecureTransport" = "false" } } &&
      { for s in jsondecode(aws_s3_bucket_policy.state.policy).Statement : s.Sid => s }["DenyOutdatedTls"].Condition == { NumericLessThan = { "s3:TlsVersion" = "1.2" } }
    )
    error_message = "Requests without TLS, or with TLS older than 1.2, must be denied."
  }

  # The key policy only delegates to IAM in this account: S3 and DynamoDB use the key with the
  # caller's credentials, so no service principal and no other account appears.
  assert {
    condition = (
      length(jsondecode(aws_kms_key.state.policy).Statement) == 1 &&
      jsondecode(aws_kms_key.state.policy).Statement[0].Sid == "AccountAdministration" &&
      jsondecode(aws_kms_key.state.policy).Statement[0].Effect == "Allow" &&
      jsondecode(aws_kms_key.state.policy).Statement[0].Principal == { AWS = "arn:aws:iam::123456789012:root" } &&
      toset(flatten([jsondecode(aws_kms_key.state.policy).Statement[0].Action])) == toset(["kms:*"]) &&
      toset(flatten([jsondecode(aws_kms_key.state.policy).Statement[0].Resource])) == toset(["*"]) &&
      !can(jsondecode(aws_kms_key.state.policy).Statement[0].Condition)
    )
    error_message = "The state key policy must hold exactly one statement: kms:* for the root of this account (IAM delegation)."
  }

  # The bucket and the lock table are encrypted with that key, so the policy above is the one that
  # governs the state.
  assert {
    condition = (
      one([for r in aws_s3_bucket_server_side_encryption_configuration.state.rule : r.apply_server_side_encryption_by_default[0].kms_master_key_id]) == aws_kms_key.state.arn &&
      aws_dynamodb_table.lock.server_side_encryption[0].kms_key_arn == aws_kms_key.state.arn
    )
    error_message = "The state bucket and lock table must use the bootstrap key."
  }
}
