###############################################################################
# The DynamoDB table several `switchyard serve` daemons share (store.driver
# dynamodb, docs/ha.md): deployments, events, leases and commands, keyed pk/sk,
# with the two indexes pkg/dynamo queries (gsi1: every deployment, gsi2: one
# service's), TTL on expires_ttl (released leases, answered commands), PITR,
# deletion protection and a dedicated customer managed KMS key.
#
# The stack defines no IAM role for the controller (it runs outside the stack,
# see README), so the least-privilege policy it needs is an output
# (daemon_policy_json) for whoever creates that role.
###############################################################################

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  name_suffix = "${var.environment}-${var.environment_suffix}"

  tags = merge(var.tags, {
    Environment = var.environment
    Project     = var.project
    Owner       = var.owner
  })

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  table_name = "ddb-switchyard-${local.name_suffix}"

  # The key schema EnsureTable (pkg/dynamo/store.go) creates; a daemon started on this table finds
  # it as it would have made it. All keys are strings.
  key_attributes = ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"]
  indexes = {
    gsi1 = { hash = "gsi1pk", range = "gsi1sk" } # every deployment, newest first
    gsi2 = { hash = "gsi2pk", range = "gsi2sk" } # one service's deployments, newest first
  }

  # The item calls pkg/dynamo makes: GetItem, PutItem, UpdateItem, Query (table and both indexes),
  # TransactWriteItems, whose Put/Update/Delete/ConditionCheck parts are each authorised as their
  # own action; DescribeTable from EnsureTable. No CreateTable: this table is Terraform's.
  daemon_table_actions = [
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:TransactWriteItems",
    "dynamodb:UpdateItem",
  ]
  # What DynamoDB does with the caller's credentials on a table under a customer managed key (the
  # table-user actions of AWS's DynamoDB key policy example, without the table-management ones,
  # CreateGrant and ReEncrypt*, which only the deploying role needs), and only through DynamoDB.
  daemon_key_actions = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
}

resource "aws_kms_key" "this" {
  description             = "Encrypts the switchyard controller table ${local.table_name}"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Delegates to IAM only: DynamoDB uses the key with the caller's credentials, so the
        # daemons get kms:Decrypt etc. from their own IAM policy (daemon_policy_json, limited to
        # this key and to calls through DynamoDB). No wildcard principals.
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
    ]
  })

  tags = merge(local.tags, { Name = "kms-switchyard-state-${local.name_suffix}" })
}

resource "aws_kms_alias" "this" {
  name          = "alias/kms-switchyard-state-${local.name_suffix}"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_dynamodb_table" "this" {
  name         = local.table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"

  deletion_protection_enabled = var.deletion_protection

  dynamic "attribute" {
    for_each = toset(local.key_attributes)
    content {
      name = attribute.value
      type = "S"
    }
  }

  dynamic "global_secondary_index" {
    for_each = local.indexes
    content {
      name            = global_secondary_index.key
      projection_type = "ALL"

      # key_schema replaces the deprecated hash_key/range_key of the index in provider 6.x.
      key_schema {
        attribute_name = global_secondary_index.value.hash
        key_type       = "HASH"
      }
      key_schema {
        attribute_name = global_secondary_index.value.range
        key_type       = "RANGE"
      }
    }
  }

  # Released leases and answered commands carry expires_ttl (epoch seconds); DynamoDB deletes them.
  ttl {
    attribute_name = "expires_ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.this.arn
  }

  tags = merge(local.tags, { Name = local.table_name })
}
