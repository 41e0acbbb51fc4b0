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

  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    }
  }

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:us-east-1:123456789012:sns-alarms-prod-td01"
    }
  }
}

variables {
  environment                   = "prod"
  environment_suffix            = "td01"
  owner                         = "platform-team"
  alb_arn_suffix                = "app/alb-prod-td01/0123456789abcdef"
  blue_target_group_arn_suffix  = "targetgroup/tg-blue-prod-td01/1111111111111111"
  green_target_group_arn_suffix = "targetgroup/tg-green-prod-td01/2222222222222222"
  ecs_cluster_name              = "ecs-prod-td01"
  blue_service_name             = "svc-blue-prod-td01"
  green_service_name            = "svc-green-prod-td01"
  db_cluster_identifier         = "rds-prod-td01"
  db_writer_instance_id         = "rds-writer-prod-td01"
  db_reader_instance_id         = "rds-reader-prod-td01"
  alarm_email                   = "oncall@example.com"
}

run "rejects_alarms_without_notification_target" {
  command = plan

  variables {
    alarm_email = null
  }

  expect_failures = [aws_sns_topic.alarms]
}

run "rejects_bad_email" {
  command = plan

  variables {
    alarm_email = "not-an-email"
  }

  expect_failures = [var.alarm_email]
}

run "rejects_bad_period" {
  command = plan

  variables {
    shift_alarm_period = 45
  }

  expect_failures = [var.shift_alarm_period]
}

run "rejects_zero_latency_threshold" {
  command = plan

  variables {
    latency_p99_threshold_seconds = 0
  }

  expect_failures = [var.latency_p99_threshold_seconds]
}

run "rejects_bad_suffix" {
  command = plan

  variables {
    environment_suffix = "-"
  }

  expect_failures = [var.environment_suffix]
}

run "rejects_ecs_cpu_threshold_above_100" {
  command = plan

  variables {
    ecs_cpu_threshold = 101
  }

  expect_failures = [var.ecs_cpu_threshold]
}

run "rejects_zero_ecs_memory_threshold" {
  command = plan

  variables {
    ecs_memory_threshold = 0
  }

  expect_failures = [var.ecs_memory_threshold]
}

run "rejects_negative_elb_5xx_threshold" {
  command = plan

  variables {
    elb_5xx_threshold = -1
  }

  expect_failures = [var.elb_5xx_threshold]
}

run "rejects_fractional_target_5xx_threshold" {
  command = plan

  variables {
    target_5xx_threshold = 0.5
  }

  expect_failures = [var.target_5xx_threshold]
}

run "rejects_shift_alarm_evaluation_periods_above_10" {
  command = plan

  variables {
    shift_alarm_evaluation_periods = 11
  }

  expect_failures = [var.shift_alarm_evaluation_periods]
}

run "rejects_db_cpu_threshold_above_100" {
  command = plan

  variables {
    db_cpu_threshold = 150
  }

  expect_failures = [var.db_cpu_threshold]
}

run "rejects_zero_db_connections_threshold" {
  command = plan

  variables {
    db_connections_threshold = 0
  }

  expect_failures = [var.db_connections_threshold]
}

run "rejects_db_freeable_memory_threshold_below_16_mib" {
  command = plan

  variables {
    db_freeable_memory_threshold_bytes = 1024
  }

  expect_failures = [var.db_freeable_memory_threshold_bytes]
}

run "rejects_db_replica_lag_threshold_below_10_ms" {
  command = plan

  variables {
    db_replica_lag_threshold_ms = 5
  }

  expect_failures = [var.db_replica_lag_threshold_ms]
}
