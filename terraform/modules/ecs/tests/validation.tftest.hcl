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

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_ecs_cluster" {
    defaults = {
      arn = "arn:aws:ecs:us-east-1:123456789012:cluster/ecs-prod-td01"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:log-ecs-prod-td01"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/mock"
    }
  }
}

variables {
  environment            = "prod"
  environment_suffix     = "td01"
  owner                  = "platform-team"
  app_subnet_ids         = ["subnet-0000000000000000a", "subnet-0000000000000000b", "subnet-0000000000000000c"]
  app_security_group_id  = "sg-0123456789abcdef0"
  blue_target_group_arn  = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-blue-prod-td01/1111111111111111"
  green_target_group_arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-green-prod-td01/2222222222222222"
  ecr_repository_arn     = "arn:aws:ecr:us-east-1:123456789012:repository/ecr-web-prod-td01"
  container_image        = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ecr-web-prod-td01:bootstrap"
  secrets = {
    DJANGO_SECRET_KEY = "arn:aws:secretsmanager:us-east-1:123456789012:secret:secret-django-secret-key-prod-td01-AbCdEf"
    DATABASE_PASSWORD = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-1234-AbCdEf:password::"
  }
  secret_arns = [
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:secret-django-secret-key-prod-td01-AbCdEf",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-1234-AbCdEf",
  ]
  secrets_kms_key_arns  = ["arn:aws:kms:us-east-1:123456789012:key/99999999-2222-3333-4444-555555555555"]
  environment_variables = { DATABASE_HOST = "db.example.internal" }
  db_iam_auth = {
    cluster_resource_id = "cluster-ABCDEFGHIJKLMNOP"
    usernames           = ["app"]
  }
}

################################################################################
# ignore_changes
#
# ignore_changes on the services, proved with a mocked apply followed by a plan: the first run
# applies (to the mocked provider; only the test's in-memory state changes), the second plans with
# a new image and a new desired_count. switchyard owns the running task definition and autoscaling
# owns the count, so the plan must leave both services as applied.
################################################################################

run "rejects_min_above_max" {
  command = plan

  variables {
    min_capacity              = 5
    max_capacity              = 3
    desired_count             = 3
    market_hours_min_capacity = 3
  }

  expect_failures = [aws_appautoscaling_target.this]
}

run "rejects_invalid_fargate_combination" {
  command = plan

  variables {
    cpu    = 256
    memory = 4096
  }

  expect_failures = [aws_ecs_task_definition.this]
}

run "rejects_secret_not_in_secret_arns" {
  command = plan

  variables {
    secret_arns = ["arn:aws:secretsmanager:us-east-1:123456789012:secret:secret-django-secret-key-prod-td01-AbCdEf"]
  }

  expect_failures = [aws_ecs_task_definition.this]
}

run "rejects_secret_in_environment" {
  command = plan

  variables {
    environment_variables = { DJANGO_SECRET_KEY = "hunter2" }
  }

  expect_failures = [var.environment_variables]
}

run "rejects_bad_cron" {
  command = plan

  variables {
    market_open_schedule = "0 8 * * 1-5"
  }

  expect_failures = [var.market_open_schedule]
}

run "rejects_bad_cpu" {
  command = plan

  variables {
    cpu = 300
  }

  expect_failures = [var.cpu]
}

run "rejects_bad_suffix" {
  command = plan

  variables {
    environment_suffix = "TOO-LONG-SUFFIX"
  }

  expect_failures = [var.environment_suffix]
}

run "rejects_zero_min_capacity" {
  command = plan

  variables {
    min_capacity = 0
  }

  expect_failures = [var.min_capacity]
}

run "rejects_max_capacity_above_1000" {
  command = plan

  variables {
    max_capacity = 1001
  }

  expect_failures = [var.max_capacity]
}

run "rejects_zero_desired_count" {
  command = plan

  variables {
    desired_count = 0
  }

  expect_failures = [var.desired_count]
}

run "rejects_schedule_timezone_that_is_not_iana" {
  command = plan

  variables {
    schedule_timezone = "New York"
  }

  expect_failures = [var.schedule_timezone]
}

run "rejects_market_hours_floor_below_min_capacity" {
  command = plan

  variables {
    min_capacity              = 3
    market_hours_min_capacity = 2
    desired_count             = 3
  }

  expect_failures = [aws_appautoscaling_target.this]
}

run "rejects_market_hours_floor_above_max_capacity" {
  command = plan

  variables {
    max_capacity              = 5
    market_hours_min_capacity = 6
  }

  expect_failures = [aws_appautoscaling_target.this]
}

run "rejects_desired_count_above_max_capacity" {
  command = plan

  variables {
    max_capacity              = 5
    market_hours_min_capacity = 4
    desired_count             = 6
  }

  expect_failures = [aws_appautoscaling_target.this]
}
