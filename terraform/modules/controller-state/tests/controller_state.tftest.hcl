# The controller table as the provider would receive it, through the offline provider
# (tools/tfprovider; in-memory apply with SWITCHYARD_TF_OFFLINE_APPLY=1 from scripts/tf-check.sh):
# keys, indexes, TTL, PITR, deletion protection and the KMS key compared exactly, and the daemons'
# policy decoded and compared statement by statement (lists as sets). The key schema is the one
# pkg/dynamo's EnsureTable creates (store.go), so a daemon started on this table uses it unchanged.

provider "aws" {
  region = "us-east-1"
}

variables {
  environment        = "prod"
  environment_suffix = "td01"
  owner              = "platform-team"
}

run "table_has_the_daemons_schema" {
  command = apply

  assert {
    condition = (
      aws_dynamodb_table.this.name == "ddb-switchyard-prod-td01" &&
      aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST" &&
      aws_dynamodb_table.this.hash_key == "pk" &&
      aws_dynamodb_table.this.range_key == "sk" &&
      length(aws_dynamodb_table.this.local_secondary_index) == 0 &&
      !coalesce(aws_dynamodb_table.this.stream_enabled, false)
    )
    error_message = "The table must be ddb-switchyard-<environment>-<suffix>, on-demand, keyed pk (hash) / sk (range), without LSIs or streams."
  }

  assert {
    condition = toset([for a in aws_dynamodb_table.this.attribute : "${a.name}:${a.type}"]) == toset([
      "pk:S", "sk:S", "gsi1pk:S", "gsi1sk:S", "gsi2pk:S", "gsi2sk:S",
    ])
    error_message = "The table must define exactly the string key attributes pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk."
  }

  assert {
    condition = {
      for g in aws_dynamodb_table.this.global_secondary_index : g.name => {
        projection = g.projection_type
        keys       = [for k in g.key_schema : "${k.attribute_name}:${k.key_type}"]
        included   = g.non_key_attributes == null
      }
      } == {
      gsi1 = { projection = "ALL", keys = ["gsi1pk:HASH", "gsi1sk:RANGE"], included = true }
      gsi2 = { projection = "ALL", keys = ["gsi2pk:HASH", "gsi2sk:RANGE"], included = true }
    }
    error_message = "The table must have exactly the indexes gsi1 (gsi1pk/gsi1sk) and gsi2 (gsi2pk/gsi2sk), both projecting ALL: the daemons list deployments from them."
  }

  assert {
    condition     = length(aws_dynamodb_table.this.ttl) == 1 && aws_dynamodb_table.this.ttl[0].enabled == true && aws_dynamodb_table.this.ttl[0].attribute_name == "expires_ttl"
    error_message = "TTL must be on, on expires_ttl (released leases and answered commands)."
  }

  assert {
    condition     = length(aws_dynamodb_table.this.point_in_time_recovery) == 1 && aws_dynamodb_table.this.point_in_time_recovery[0].enabled == true
    error_message = "Point-in-time recovery must be on."
  }

  assert {
    condition     = aws_dynamodb_table.this.deletion_protection_enabled == true
    error_message = "Deletion protection must be on by default."
  }

  assert {
    condition = (
      length(aws_dynamodb_table.this.server_side_encryption) == 1 &&
      aws_dynamodb_table.this.server_side_encryption[0].enabled == true &&
      aws_dynamodb_table.this.server_side_encryption[0].kms_key_arn == aws_kms_key.this.arn &&
      aws_kms_key.this.enable_key_rotation == true &&
      aws_kms_alias.this.target_key_id == aws_kms_key.this.key_id &&
      aws_kms_alias.this.name == "alias/kms-switchyard-state-prod-td01"
    )
    error_message = "The table must be encrypted with the module's own customer managed key (rotation on, alias kms-switchyard-state-<environment>-<suffix>)."
  }

  assert {
    condition     = aws_dynamodb_table.this.tags.Name == "ddb-switchyard-prod-td01" && aws_dynamodb_table.this.tags.Environment == "prod" && aws_dynamodb_table.this.tags.Owner == "platform-team"
    error_message = "The table must carry Name, Environment and Owner tags."
  }

  assert {
    condition     = output.table_name == aws_dynamodb_table.this.name && output.table_arn == aws_dynamodb_table.this.arn && output.kms_key_arn == aws_kms_key.this.arn
    error_message = "The outputs must name the table, its ARN and its key."
  }
}

# The key only delegates to IAM in this account: DynamoDB uses it with the caller's credentials.
run "key_policy_delegates_to_iam_only" {
  command = apply

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
    error_message = "The table key policy must hold exactly one statement: kms:* for the root of this account (IAM delegation)."
  }
}

# docs/ha.md's statement without CreateTable (the table is Terraform's), on this table and its
# indexes only, plus the key's use through DynamoDB only. Exactly two statements, nothing else.
run "daemon_policy_is_least_privilege" {
  command = apply

  assert {
    condition     = jsondecode(output.daemon_policy_json).Version == "2012-10-17" && length(jsondecode(output.daemon_policy_json).Statement) == 2
    error_message = "The daemon policy must hold exactly two statements (table, key)."
  }

  assert {
    condition = (
      jsondecode(output.daemon_policy_json).Statement[0].Sid == "SwitchyardStateTable" &&
      jsondecode(output.daemon_policy_json).Statement[0].Effect == "Allow" &&
      toset(flatten([jsondecode(output.daemon_policy_json).Statement[0].Action])) == toset([
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query",
        "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:TransactWriteItems",
        "dynamodb:DescribeTable",
      ]) &&
      toset(flatten([jsondecode(output.daemon_policy_json).Statement[0].Resource])) == toset([
        aws_dynamodb_table.this.arn, "${aws_dynamodb_table.this.arn}/index/*",
      ]) &&
      !can(jsondecode(output.daemon_policy_json).Statement[0].Condition) &&
      !can(jsondecode(output.daemon_policy_json).Statement[0].NotAction) &&
      !can(jsondecode(output.daemon_policy_json).Statement[0].NotResource)
    )
    error_message = "The table statement must allow exactly the daemon's item, query and DescribeTable actions (no CreateTable, Scan or wildcard) on this table and its indexes."
  }

  assert {
    condition = (
      jsondecode(output.daemon_policy_json).Statement[1].Sid == "SwitchyardStateTableKey" &&
      jsondecode(output.daemon_policy_json).Statement[1].Effect == "Allow" &&
      toset(flatten([jsondecode(output.daemon_policy_json).Statement[1].Action])) == toset([
        "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey",
      ]) &&
      toset(flatten([jsondecode(output.daemon_policy_json).Statement[1].Resource])) == toset([aws_kms_key.this.arn]) &&
      jsondecode(output.daemon_policy_json).Statement[1].Condition == {
        StringEquals = { "kms:ViaService" = "dynamodb.us-east-1.amazonaws.com" }
      }
    )
    error_message = "The key statement must allow only Decrypt/DescribeKey/Encrypt/GenerateDataKey on the table's key, through DynamoDB in this region only."
  }
}

run "deletion_protection_can_be_lifted_for_destroy" {
  command = apply

  variables {
    deletion_protection = false
  }

  assert {
    condition     = aws_dynamodb_table.this.deletion_protection_enabled == false
    error_message = "deletion_protection = false must reach the table (destroy needs it)."
  }
}

run "rejects_short_key_deletion_window" {
  command = plan

  variables {
    kms_deletion_window_in_days = 3
  }

  expect_failures = [var.kms_deletion_window_in_days]
}
