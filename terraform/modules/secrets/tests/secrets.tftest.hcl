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
    arn    = "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012"
    key_id = "12345678-1234-1234-1234-123456789012"
  }
}

override_resource {
  target = aws_secretsmanager_secret.app
  values = {
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:secret-app-prod-td01-AbCdEf"
  }
}

run "defaults" {
  command = apply

  variables {
    extra_secret_arns = ["arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-0000-AbCdEf"]
  }

  assert {
    condition     = aws_kms_key.this.enable_key_rotation && aws_kms_alias.this.name == "alias/kms-secrets-prod-td01"
    error_message = "Secrets KMS key must rotate and be aliased alias/kms-secrets-<env>-<suffix>."
  }

  # The key policy is asserted exactly (rendered JSON, no mock) in policies.tftest.hcl.

  assert {
    condition     = keys(aws_secretsmanager_secret.app) == tolist(["django_secret_key"]) || toset(keys(aws_secretsmanager_secret.app)) == toset(["django_secret_key"])
    error_message = "The default app secret is django_secret_key."
  }

  assert {
    condition     = aws_secretsmanager_secret.app["django_secret_key"].name == "secret-django-secret-key-prod-td01"
    error_message = "Secret must be named secret-<name>-<env>-<suffix>."
  }

  assert {
    condition     = aws_secretsmanager_secret.app["django_secret_key"].kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012"
    error_message = "Secrets must be encrypted with the module's customer managed key."
  }

  assert {
    condition     = aws_secretsmanager_secret.app["django_secret_key"].recovery_window_in_days == 0
    error_message = "recovery_window_in_days must default to 0 (destroyable)."
  }

  assert {
    condition     = length(aws_secretsmanager_secret_rotation.app) == 0
    error_message = "No rotation without a rotation Lambda."
  }

  assert {
    condition = (
      output.app_secret_arns["django_secret_key"] == "arn:aws:secretsmanager:us-east-1:123456789012:secret:secret-app-prod-td01-AbCdEf" &&
      length(output.secret_arns) == 2 &&
      contains(output.secret_arns, "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-0000-AbCdEf") &&
      contains(output.secret_arns, output.app_secret_arns["django_secret_key"])
    )
    error_message = "secret_arns must be the app secret ARNs plus extra_secret_arns."
  }

  assert {
    condition = alltrue([for t in [aws_kms_key.this.tags, aws_secretsmanager_secret.app["django_secret_key"].tags] :
    t["Environment"] == "prod" && t["Project"] == "switchyard" && t["Owner"] == "platform-team" && endswith(t["Name"], "-prod-td01")])
    error_message = "Resources must carry Environment/Project/Owner tags and a Name ending in -<env>-<suffix>."
  }
}

run "rotation_when_lambda_given" {
  command = apply

  variables {
    recovery_window_in_days = 30
    app_secrets = {
      django_secret_key = {
        description = "Django SECRET_KEY"
      }
      api_token = {
        description         = "Market data API token"
        rotation_lambda_arn = "arn:aws:lambda:us-east-1:123456789012:function:lambda-rotate-prod-td01"
        rotation_days       = 14
      }
    }
  }

  assert {
    condition     = length(aws_secretsmanager_secret.app) == 2 && length(aws_secretsmanager_secret_rotation.app) == 1
    error_message = "Two secrets, rotation only for the one with a Lambda."
  }

  assert {
    condition = (
      aws_secretsmanager_secret_rotation.app["api_token"].rotation_lambda_arn == "arn:aws:lambda:us-east-1:123456789012:function:lambda-rotate-prod-td01" &&
      aws_secretsmanager_secret_rotation.app["api_token"].rotation_rules[0].automatically_after_days == 14
    )
    error_message = "Rotation must use the given Lambda and schedule."
  }

  assert {
    condition     = aws_secretsmanager_secret.app["api_token"].recovery_window_in_days == 30 && aws_secretsmanager_secret.app["api_token"].name == "secret-api-token-prod-td01"
    error_message = "recovery_window_in_days input and naming must apply to every secret."
  }
}

run "rejects_bad_suffix" {
  command = plan
  variables {
    environment_suffix = "td_01"
  }
  expect_failures = [var.environment_suffix]
}

run "rejects_bad_recovery_window" {
  command = plan
  variables {
    recovery_window_in_days = 3
  }
  expect_failures = [var.recovery_window_in_days]
}

run "rejects_bad_secret_name" {
  command = plan
  variables {
    app_secrets = {
      "Django-Key" = { description = "bad key" }
    }
  }
  expect_failures = [var.app_secrets]
}

run "rejects_bad_rotation_lambda" {
  command = plan
  variables {
    app_secrets = {
      django_secret_key = { description = "x", rotation_lambda_arn = "my-function" }
    }
  }
  expect_failures = [var.app_secrets]
}

run "rejects_non_secret_extra_arn" {
  command = plan
  variables {
    extra_secret_arns = ["arn:aws:s3:::not-a-secret"]
  }
  expect_failures = [var.extra_secret_arns]
}
