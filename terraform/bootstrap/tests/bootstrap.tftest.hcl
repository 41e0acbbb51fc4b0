# Tests with a mocked AWS provider: no credentials, no network. Runs that read mocked computed
# values apply to the mock (known after apply in OpenTofu and Terraform alike); expect_failures
# runs plan.
# The mock replaces providers.tf's provider "aws" (region + default_tags).

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
}

variables {
  environment        = "prod"
  environment_suffix = "td01"
  owner              = "platform-team"
}

override_resource {
  target = aws_kms_key.state
  values = {
    arn    = "arn:aws:kms:us-east-1:123456789012:key/57a7e000-0000-0000-0000-000000000000"
    key_id = "57a7e000-0000-0000-0000-000000000000"
  }
}

override_resource {
  target = aws_s3_bucket.state
  values = {
    id  = "s3-tfstate-123456789012-prod-td01"
    arn = "arn:aws:s3:::s3-tfstate-123456789012-prod-td01"
  }
}

override_resource {
  target = aws_dynamodb_table.lock
  values = {
    id  = "ddb-tflock-prod-td01"
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/ddb-tflock-prod-td01"
  }
}

run "state_bucket_hardening" {
  command = apply

  assert {
    condition     = aws_s3_bucket.state.bucket == "s3-tfstate-123456789012-prod-td01" && length(aws_s3_bucket.state.bucket) <= 63
    error_message = "Bucket must be s3-tfstate-<account>-<env>-<suffix> (globally unique, <= 63 chars)."
  }

  assert {
    condition     = aws_s3_bucket.state.force_destroy == true
    error_message = "force_destroy must default to true (destroyable)."
  }

  assert {
    condition     = aws_s3_bucket_versioning.state.versioning_configuration[0].status == "Enabled"
    error_message = "Versioning must be enabled."
  }

  assert {
    condition = (
      aws_s3_bucket_public_access_block.state.block_public_acls &&
      aws_s3_bucket_public_access_block.state.block_public_policy &&
      aws_s3_bucket_public_access_block.state.ignore_public_acls &&
      aws_s3_bucket_public_access_block.state.restrict_public_buckets
    )
    error_message = "All four public access block settings must be true."
  }

  assert {
    condition     = aws_s3_bucket_ownership_controls.state.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "Object ownership must be BucketOwnerEnforced (ACLs disabled)."
  }

  assert {
    condition = anytrue([for r in aws_s3_bucket_server_side_encryption_configuration.state.rule :
      anytrue([for d in r.apply_server_side_encryption_by_default :
        d.sse_algorithm == "aws:kms" && d.kms_master_key_id == "arn:aws:kms:us-east-1:123456789012:key/57a7e000-0000-0000-0000-000000000000"
      ])
    ])
    error_message = "Default encryption must be SSE-KMS with the bootstrap key."
  }

  assert {
    condition = anytrue([for s in jsondecode(aws_s3_bucket_policy.state.policy).Statement :
      s.Effect == "Deny" && try(s.Condition.Bool["aws:SecureTransport"], "") == "false" && s.Principal == "*" && s.Action == "s3:*" &&
      contains(s.Resource, "arn:aws:s3:::s3-tfstate-123456789012-prod-td01/*")
    ])
    error_message = "Bucket policy must deny every non-TLS request."
  }

  assert {
    condition     = aws_kms_key.state.enable_key_rotation && aws_kms_alias.state.name == "alias/kms-tfstate-prod-td01"
    error_message = "State KMS key must rotate and be aliased alias/kms-tfstate-<env>-<suffix>."
  }
}

run "lock_table" {
  command = apply

  assert {
    condition     = aws_dynamodb_table.lock.name == "ddb-tflock-prod-td01"
    error_message = "Lock table must be named ddb-tflock-<env>-<suffix>."
  }

  assert {
    condition     = aws_dynamodb_table.lock.hash_key == "LockID" && anytrue([for a in aws_dynamodb_table.lock.attribute : a.name == "LockID" && a.type == "S"])
    error_message = "Lock table must have the string hash key LockID."
  }

  assert {
    condition     = aws_dynamodb_table.lock.billing_mode == "PAY_PER_REQUEST"
    error_message = "Lock table must be on-demand."
  }

  assert {
    condition     = aws_dynamodb_table.lock.server_side_encryption[0].enabled && aws_dynamodb_table.lock.server_side_encryption[0].kms_key_arn == "arn:aws:kms:us-east-1:123456789012:key/57a7e000-0000-0000-0000-000000000000"
    error_message = "Lock table must be encrypted with the bootstrap key."
  }

  assert {
    condition     = aws_dynamodb_table.lock.point_in_time_recovery[0].enabled
    error_message = "Point-in-time recovery must be on."
  }

  assert {
    condition     = aws_dynamodb_table.lock.deletion_protection_enabled == false
    error_message = "Deletion protection must default to false (destroyable)."
  }
}

run "outputs_and_tags" {
  command = apply

  assert {
    condition     = output.state_bucket_name == "s3-tfstate-123456789012-prod-td01" && output.lock_table_name == "ddb-tflock-prod-td01"
    error_message = "Outputs must expose the bucket and table names."
  }

  assert {
    condition = (
      strcontains(output.backend_hcl, "bucket         = \"s3-tfstate-123456789012-prod-td01\"") &&
      strcontains(output.backend_hcl, "key            = \"switchyard/prod-td01/terraform.tfstate\"") &&
      strcontains(output.backend_hcl, "region         = \"us-east-1\"") &&
      strcontains(output.backend_hcl, "encrypt        = true") &&
      contains(split("\n", output.backend_hcl), "dynamodb_table = \"ddb-tflock-prod-td01\"") &&
      !strcontains(output.backend_hcl, "use_lockfile")
    )
    error_message = "backend_hcl must render bucket, key, region, encrypt and dynamodb_table."
  }

  assert {
    condition = alltrue([for t in [aws_s3_bucket.state.tags, aws_dynamodb_table.lock.tags, aws_kms_key.state.tags] :
    t["Environment"] == "prod" && t["Project"] == "switchyard" && t["Owner"] == "platform-team" && endswith(t["Name"], "-prod-td01")])
    error_message = "Resources must carry Environment/Project/Owner tags and a Name ending in -<env>-<suffix>."
  }
}

run "backend_locks_with_the_lock_file" {
  command = apply

  variables {
    state_locking = "lockfile"
  }

  assert {
    condition     = contains(split("\n", output.backend_hcl), "use_lockfile   = true") && !strcontains(output.backend_hcl, "dynamodb_table")
    error_message = "state_locking = lockfile must render use_lockfile = true and no (deprecated) dynamodb_table."
  }
}

run "backend_locks_with_both_while_migrating" {
  command = apply

  variables {
    state_locking = "both"
  }

  assert {
    condition     = contains(split("\n", output.backend_hcl), "use_lockfile   = true") && contains(split("\n", output.backend_hcl), "dynamodb_table = \"ddb-tflock-prod-td01\"")
    error_message = "state_locking = both must render use_lockfile and dynamodb_table."
  }
}

run "rejects_unknown_state_locking" {
  command = plan

  variables {
    state_locking = "s3"
  }

  expect_failures = [var.state_locking]
}

run "production_settings" {
  command = apply

  variables {
    force_destroy                  = false
    lock_table_deletion_protection = true
    state_key                      = "trading/prod.tfstate"
  }

  assert {
    condition     = aws_s3_bucket.state.force_destroy == false && aws_dynamodb_table.lock.deletion_protection_enabled
    error_message = "Production inputs must protect the bucket and table."
  }

  assert {
    condition     = strcontains(output.backend_hcl, "key            = \"trading/prod.tfstate\"")
    error_message = "state_key must be rendered into backend_hcl."
  }
}

run "rejects_bad_suffix" {
  command = plan
  variables {
    environment_suffix = "TD-01"
  }
  expect_failures = [var.environment_suffix]
}

run "rejects_bad_region" {
  command = plan
  variables {
    region = "US East"
  }
  expect_failures = [var.region]
}

run "rejects_short_noncurrent_retention" {
  command = plan
  variables {
    noncurrent_version_retention_days = 3
  }
  expect_failures = [var.noncurrent_version_retention_days]
}

run "rejects_bad_state_key" {
  command = plan
  variables {
    state_key = "state.json"
  }
  expect_failures = [var.state_key]
}

run "access_logging_opt_in" {
  command = apply

  variables {
    access_log_bucket = "s3-logarchive-123456789012"
  }

  assert {
    condition     = length(aws_s3_bucket_logging.state) == 1 && aws_s3_bucket_logging.state[0].target_bucket == "s3-logarchive-123456789012" && aws_s3_bucket_logging.state[0].target_prefix == "tfstate/s3-tfstate-123456789012-prod-td01/"
    error_message = "Access logs must go to the given log bucket under tfstate/<bucket>/."
  }
}

run "no_access_logging_by_default" {
  command = apply

  assert {
    condition     = length(aws_s3_bucket_logging.state) == 0
    error_message = "Access logging is opt-in."
  }
}
