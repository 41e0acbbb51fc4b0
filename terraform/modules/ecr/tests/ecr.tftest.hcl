# Tests with a mocked AWS provider: no credentials, no network. Runs that read mocked computed
# values apply to the mock (known after apply in OpenTofu and Terraform alike); expect_failures
# runs plan.

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
  target = aws_kms_key.this
  values = {
    arn    = "arn:aws:kms:us-east-1:123456789012:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    key_id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
  }
}

run "repository_hardening" {
  command = apply

  assert {
    condition     = aws_ecr_repository.this.name == "ecr-web-prod-td01"
    error_message = "Repository must be named ecr-<qualifier>-<env>-<suffix>."
  }

  assert {
    condition     = aws_ecr_repository.this.image_tag_mutability == "IMMUTABLE"
    error_message = "Image tags must be IMMUTABLE."
  }

  assert {
    condition     = aws_ecr_repository.this.image_scanning_configuration[0].scan_on_push
    error_message = "scan_on_push must be enabled."
  }

  assert {
    condition     = aws_ecr_repository.this.encryption_configuration[0].encryption_type == "KMS" && aws_ecr_repository.this.encryption_configuration[0].kms_key == "arn:aws:kms:us-east-1:123456789012:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    error_message = "Repository must be KMS-encrypted with the module's customer managed key."
  }

  assert {
    condition     = length(aws_kms_key.this) == 1 && aws_kms_key.this[0].enable_key_rotation && aws_kms_alias.this[0].name == "alias/kms-ecr-prod-td01"
    error_message = "A rotating KMS key with alias alias/kms-ecr-<env>-<suffix> must be created when none is passed in."
  }

  assert {
    condition     = aws_ecr_repository.this.force_delete == true
    error_message = "force_delete must default to true (destroyable stacks)."
  }

  assert {
    condition = alltrue([for t in [aws_ecr_repository.this.tags, aws_kms_key.this[0].tags] :
    t["Environment"] == "prod" && t["Project"] == "switchyard" && t["Owner"] == "platform-team" && endswith(t["Name"], "-prod-td01")])
    error_message = "Resources must carry Environment/Project/Owner tags and a Name ending in -<env>-<suffix>."
  }
}

run "lifecycle_policy" {
  command = apply

  variables {
    keep_tagged_images         = 25
    untagged_image_expiry_days = 3
  }

  assert {
    condition = (
      jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[0].selection.tagStatus == "untagged" &&
      jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[0].selection.countType == "sinceImagePushed" &&
      jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[0].selection.countNumber == 3
    )
    error_message = "Rule 1 must expire untagged images after untagged_image_expiry_days."
  }

  assert {
    condition = (
      jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[1].selection.tagStatus == "tagged" &&
      jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[1].selection.countType == "imageCountMoreThan" &&
      jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[1].selection.countNumber == 25
    )
    error_message = "Rule 2 must keep the last keep_tagged_images tagged images."
  }
}

# Same default as the root stack: the account-wide setting is taken over only when asked for.
run "registry_scanning_off_by_default" {
  command = apply

  assert {
    condition     = length(aws_ecr_registry_scanning_configuration.this) == 0 && aws_ecr_repository.this.image_scanning_configuration[0].scan_on_push
    error_message = "The module must not manage the account-wide registry scanning by default (the root's default is false); the repository still scans on push."
  }
}

run "registry_enhanced_scanning_when_enabled" {
  command = apply

  variables {
    enable_registry_enhanced_scanning = true
  }

  assert {
    condition     = length(aws_ecr_registry_scanning_configuration.this) == 1 && aws_ecr_registry_scanning_configuration.this[0].scan_type == "ENHANCED"
    error_message = "Enabled registry scanning must be ENHANCED."
  }

  assert {
    condition = anytrue([for r in aws_ecr_registry_scanning_configuration.this[0].rule :
      r.scan_frequency == "CONTINUOUS_SCAN" && anytrue([for f in r.repository_filter : f.filter == "ecr-web-prod-td01" && f.filter_type == "WILDCARD"])
    ])
    error_message = "Registry scanning must have a continuous-scan rule for this repository."
  }
}

run "external_kms_key" {
  command = apply

  variables {
    kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/99999999-8888-7777-6666-555555555555"
  }

  assert {
    condition     = length(aws_kms_key.this) == 0 && aws_ecr_repository.this.encryption_configuration[0].kms_key == "arn:aws:kms:us-east-1:123456789012:key/99999999-8888-7777-6666-555555555555"
    error_message = "A passed-in key must be used and no key created."
  }
}

run "rejects_bad_suffix" {
  command = plan
  variables {
    environment_suffix = "x"
  }
  expect_failures = [var.environment_suffix]
}

run "rejects_zero_tagged_images" {
  command = plan
  variables {
    keep_tagged_images = 0
  }
  expect_failures = [var.keep_tagged_images]
}

run "rejects_bad_untagged_expiry" {
  command = plan
  variables {
    untagged_image_expiry_days = 0
  }
  expect_failures = [var.untagged_image_expiry_days]
}

run "rejects_bad_scan_frequency" {
  command = plan
  variables {
    enhanced_scan_frequency = "HOURLY"
  }
  expect_failures = [var.enhanced_scan_frequency]
}

run "rejects_bad_kms_arn" {
  command = plan
  variables {
    kms_key_arn = "alias/my-key"
  }
  expect_failures = [var.kms_key_arn]
}
