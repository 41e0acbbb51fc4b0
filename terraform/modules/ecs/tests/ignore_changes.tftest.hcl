# ignore_changes on the services, proved with a mocked apply followed by a plan: the first run
# applies (to the mocked provider; only the test's in-memory state changes), the second plans with
# a new image and a new desired_count. switchyard owns the running task definition and autoscaling
# owns the count, so the plan must leave both services as applied.

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

run "create" {
  command = apply

  override_resource {
    target = aws_ecs_task_definition.this
    values = {
      arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/td-prod-td01:1"
    }
  }
}

run "new_image_and_count_in_configuration_are_ignored" {
  command = plan

  variables {
    container_image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ecr-web-prod-td01:v2"
    desired_count   = 5
    max_capacity    = 10
    min_capacity    = 3
  }

  # What registering the new revision returns.
  override_resource {
    target = aws_ecs_task_definition.this
    values = {
      arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/td-prod-td01:2"
    }
  }

  assert {
    condition     = aws_ecs_service.this["blue"].desired_count == 2 && aws_ecs_service.this["green"].desired_count == 0
    error_message = "desired_count must not be planned back from configuration (ignore_changes = [desired_count])."
  }

  assert {
    # The new image registers revision 2; the service must keep running revision 1.
    condition     = aws_ecs_task_definition.this["blue"].arn == "arn:aws:ecs:us-east-1:123456789012:task-definition/td-prod-td01:2" && aws_ecs_service.this["blue"].task_definition == "arn:aws:ecs:us-east-1:123456789012:task-definition/td-prod-td01:1"
    error_message = "The service's task definition must not be planned back from configuration (ignore_changes = [task_definition])."
  }

  assert {
    condition     = aws_appautoscaling_target.this["blue"].min_capacity == 2 && aws_appautoscaling_target.this["blue"].max_capacity == 10
    error_message = "The scalable target's floor is moved by the market schedules and must not be planned back (ignore_changes = [min_capacity])."
  }

  assert {
    condition     = strcontains(aws_ecs_task_definition.this["blue"].container_definitions, ":v2")
    error_message = "The task definition itself still follows the configuration."
  }
}

run "max_capacity_stays_terraform_managed" {
  command = plan

  variables {
    max_capacity = 12
  }

  assert {
    condition     = aws_appautoscaling_target.this["blue"].max_capacity == 12 && aws_appautoscaling_target.this["green"].max_capacity == 12
    error_message = "max_capacity is not controller-owned (switchyard copies it but never changes it): a new value must be planned."
  }

}
