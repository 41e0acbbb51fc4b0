# Input validation: every input that can be wrong is rejected (expect_failures). Its own file so
# the other files stay small for the mutation check (scripts/tf-mutate.sh runs only the files a
# mutation concerns); the mocks and variables are repeated (OpenTofu 1.10 has no shared mock files).

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

  mock_data "aws_region" {
    defaults = {
      region = "us-east-1"
    }
  }
}

variables {
  environment          = "prod"
  environment_suffix   = "td01"
  owner                = "platform-team"
  data_subnet_ids      = ["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"]
  availability_zones   = ["us-east-1a", "us-east-1b", "us-east-1c"]
  db_security_group_id = "sg-0db00000000000000"
}

override_resource {
  target = aws_kms_key.this
  values = {
    arn    = "arn:aws:kms:us-east-1:123456789012:key/dddddddd-0000-0000-0000-000000000000"
    key_id = "dddddddd-0000-0000-0000-000000000000"
  }
}

override_resource {
  target = aws_rds_cluster.this
  values = {
    id = "rds-aurora-prod-td01"
    master_user_secret = [{
      secret_arn    = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-1111-AbCdEf"
      kms_key_id    = "arn:aws:kms:us-east-1:123456789012:key/dddddddd-0000-0000-0000-000000000000"
      secret_status = "active"
    }]
  }
}

override_resource {
  target = aws_iam_role.monitoring
  values = { arn = "arn:aws:iam::123456789012:role/role-rds-monitoring-prod-td01" }
}

run "rejects_short_backup_retention" {
  command = plan
  variables {
    backup_retention_period = 3
  }
  expect_failures = [var.backup_retention_period]
}

run "rejects_bad_suffix" {
  command = plan
  variables {
    environment_suffix = "TD01"
  }
  expect_failures = [var.environment_suffix]
}

run "rejects_two_subnets" {
  command = plan
  variables {
    data_subnet_ids = ["subnet-0aaa", "subnet-0bbb"]
  }
  expect_failures = [var.data_subnet_ids]
}

run "rejects_duplicate_azs" {
  command = plan
  variables {
    availability_zones = ["us-east-1a", "us-east-1a", "us-east-1b"]
  }
  expect_failures = [var.availability_zones]
}

run "rejects_bad_monitoring_interval" {
  command = plan
  variables {
    monitoring_interval = 45
  }
  expect_failures = [var.monitoring_interval]
}

run "rejects_bad_pi_retention" {
  command = plan
  variables {
    performance_insights_retention_period = 30
  }
  expect_failures = [var.performance_insights_retention_period]
}

# A pinned minor with automatic minor upgrades makes every plan after the first upgrade a
# downgrade (16.8 -> 16.6, which RDS rejects).
run "rejects_pinned_minor_with_auto_minor_upgrades" {
  command = plan

  variables {
    engine_version = "16.6"
  }

  expect_failures = [aws_rds_cluster.this]
}

run "rejects_bad_engine_version" {
  command = plan
  variables {
    engine_version = "9.6"
  }
  expect_failures = [var.engine_version]
}

run "rejects_reserved_master_username" {
  command = plan
  variables {
    master_username = "postgres"
  }
  expect_failures = [var.master_username]
}

run "rejects_bad_backup_window" {
  command = plan
  variables {
    preferred_backup_window = "3am-4am"
  }
  expect_failures = [var.preferred_backup_window]
}

run "rejects_instance_class_without_db_prefix" {
  command = plan

  variables {
    instance_class = "r6g.large"
  }

  expect_failures = [var.instance_class]
}

run "rejects_rotation_schedule_in_minutes" {
  command = plan

  variables {
    master_user_secret_rotation_schedule = "rate(30 minutes)"
  }

  expect_failures = [var.master_user_secret_rotation_schedule]
}

run "rejects_rotation_schedule_that_is_not_an_expression" {
  command = plan

  variables {
    master_user_secret_rotation_schedule = "weekly"
  }

  expect_failures = [var.master_user_secret_rotation_schedule]
}
