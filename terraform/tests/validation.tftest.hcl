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

  mock_data "aws_availability_zones" {
    defaults = {
      names = ["us-east-1a", "us-east-1b", "us-east-1c"]
    }
  }

  mock_data "aws_elb_service_account" {
    defaults = {
      arn = "arn:aws:iam::127311923021:root"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_lb" {
    defaults = {
      arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/alb-prod-td01/0123456789abcdef"
      arn_suffix = "app/alb-prod-td01/0123456789abcdef"
      dns_name   = "alb-prod-td01-123456.us-east-1.elb.amazonaws.com"
    }
  }

  mock_resource "aws_lb_listener" {
    defaults = {
      arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/alb-prod-td01/0123456789abcdef/aaaaaaaaaaaaaaaa"
    }
  }

  mock_resource "aws_lb_listener_rule" {
    defaults = {
      arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/alb-prod-td01/0123456789abcdef/aaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbb"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
      key_id = "11111111-2222-3333-4444-555555555555"
    }
  }

  mock_resource "aws_secretsmanager_secret" {
    defaults = {
      arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:secret-django-secret-key-prod-td01-AbCdEf"
    }
  }

  mock_resource "aws_ecr_repository" {
    defaults = {
      arn            = "arn:aws:ecr:us-east-1:123456789012:repository/ecr-web-prod-td01"
      repository_url = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ecr-web-prod-td01"
    }
  }

  mock_resource "aws_rds_cluster" {
    defaults = {
      arn                 = "arn:aws:rds:us-east-1:123456789012:cluster:rds-prod-td01"
      cluster_resource_id = "cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
      endpoint            = "rds-prod-td01.cluster-abc.us-east-1.rds.amazonaws.com"
      reader_endpoint     = "rds-prod-td01.cluster-ro-abc.us-east-1.rds.amazonaws.com"
      master_user_secret = [{
        secret_arn    = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-11111111-2222-3333-4444-555555555555-AbCdEf"
        kms_key_id    = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
        secret_status = "active"
      }]
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:mock"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/mock"
    }
  }

  mock_resource "aws_ecs_cluster" {
    defaults = {
      arn = "arn:aws:ecs:us-east-1:123456789012:cluster/ecs-prod-td01"
    }
  }

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:us-east-1:123456789012:sns-alarms-prod-td01"
    }
  }

  mock_resource "aws_wafv2_web_acl" {
    defaults = {
      arn = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/waf-prod-td01/11111111-2222-3333-4444-555555555555"
    }
  }
}

# Fixed network outputs with distinct IDs per tier, so a module wired to the wrong tier is caught
# (mocks cannot give the for_each subnets of the network module distinct IDs; it has its own tests).
override_module {
  target = module.network
  outputs = {
    vpc_id                  = "vpc-0123456789abcdef0"
    vpc_cidr_block          = "10.40.0.0/16"
    availability_zones      = ["us-east-1a", "us-east-1b", "us-east-1c"]
    public_subnet_ids       = ["subnet-0000000000000001a", "subnet-0000000000000001b", "subnet-0000000000000001c"]
    app_subnet_ids          = ["subnet-0000000000000002a", "subnet-0000000000000002b", "subnet-0000000000000002c"]
    data_subnet_ids         = ["subnet-0000000000000003a", "subnet-0000000000000003b", "subnet-0000000000000003c"]
    nat_gateway_ids         = ["nat-0000000000000000a", "nat-0000000000000000b", "nat-0000000000000000c"]
    private_route_table_ids = ["rtb-0000000000000000a", "rtb-0000000000000000b", "rtb-0000000000000000c"]
    alb_security_group_id   = "sg-0000000000000000a"
    app_security_group_id   = "sg-0000000000000000b"
    db_security_group_id    = "sg-0000000000000000c"
    flow_log_id             = "fl-0000000000000000a"
  }
}

override_resource {
  target = module.alb.aws_lb_target_group.blue
  values = {
    arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-blue-prod-td01/1111111111111111"
    arn_suffix = "targetgroup/tg-blue-prod-td01/1111111111111111"
  }
}

override_resource {
  target = module.alb.aws_lb_target_group.green
  values = {
    arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-green-prod-td01/2222222222222222"
    arn_suffix = "targetgroup/tg-green-prod-td01/2222222222222222"
  }
}

# Distinct keys for the app secrets and the database (whose key also encrypts the master secret),
# so the execution role's KMS grants can be told apart.
override_resource {
  target = module.secrets.aws_kms_key.this
  values = {
    arn    = "arn:aws:kms:us-east-1:123456789012:key/aaaaaaaa-2222-3333-4444-555555555555"
    key_id = "aaaaaaaa-2222-3333-4444-555555555555"
  }
}

override_resource {
  target = module.database.aws_kms_key.this
  values = {
    arn    = "arn:aws:kms:us-east-1:123456789012:key/dddddddd-2222-3333-4444-555555555555"
    key_id = "dddddddd-2222-3333-4444-555555555555"
  }
}

variables {
  environment                 = "prod"
  environment_suffix          = "td01"
  owner                       = "platform-team"
  certificate_arn             = "arn:aws:acm:us-east-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
  test_listener_allowed_cidrs = ["203.0.113.0/24"]
  alarm_email                 = "oncall@example.com"
}

################################################################################
# Controller output
################################################################################

run "rejects_bad_region" {
  command = plan

  variables {
    region = "mars-1"
  }

  expect_failures = [var.region]
}

run "rejects_uppercase_environment" {
  command = plan

  variables {
    environment = "Prod"
  }

  expect_failures = [var.environment]
}

run "rejects_long_environment_suffix" {
  command = plan

  variables {
    environment_suffix = "td0123456789x"
  }

  expect_failures = [var.environment_suffix]
}

run "rejects_blank_owner" {
  command = plan

  variables {
    owner = "  "
  }

  expect_failures = [var.owner]
}

run "rejects_certificate_that_is_not_an_acm_arn" {
  command = plan

  variables {
    certificate_arn = "arn:aws:iam::123456789012:server-certificate/dash"
  }

  expect_failures = [var.certificate_arn]
}

run "rejects_bad_service_name" {
  command = plan

  variables {
    service_name = "Web-1"
  }

  expect_failures = [var.service_name]
}

run "rejects_privileged_app_port" {
  command = plan

  variables {
    app_port = 80
  }

  expect_failures = [var.app_port]
}

run "rejects_vpc_cidr_with_host_bits" {
  command = plan

  variables {
    vpc_cidr = "10.40.1.0/16"
  }

  expect_failures = [var.vpc_cidr]
}

run "rejects_vpc_cidr_too_large" {
  command = plan

  variables {
    vpc_cidr = "10.0.0.0/12"
  }

  expect_failures = [var.vpc_cidr]
}

run "rejects_vpc_cidr_too_small" {
  command = plan

  variables {
    vpc_cidr = "10.40.0.0/25"
  }

  expect_failures = [var.vpc_cidr]
}

run "rejects_vpc_cidr_garbage" {
  command = plan

  variables {
    vpc_cidr = "10.40.0.0"
  }

  expect_failures = [var.vpc_cidr]
}

run "rejects_non_fargate_task_cpu" {
  command = plan

  variables {
    task_cpu = 300
  }

  expect_failures = [var.task_cpu]
}

run "rejects_task_memory_below_fargate_minimum" {
  command = plan

  variables {
    task_memory = 256
  }

  expect_failures = [var.task_memory]
}

run "rejects_zero_desired_count" {
  command = plan

  variables {
    desired_count = 0
  }

  expect_failures = [var.desired_count]
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

run "rejects_fractional_market_hours_floor" {
  command = plan

  variables {
    market_hours_min_capacity = 2.5
  }

  expect_failures = [var.market_hours_min_capacity]
}

run "rejects_five_field_open_schedule" {
  command = plan

  variables {
    market_open_schedule = "cron(0 8 * * MON-FRI)"
  }

  expect_failures = [var.market_open_schedule]
}

run "rejects_non_cron_close_schedule" {
  command = plan

  variables {
    market_close_schedule = "rate(1 day)"
  }

  expect_failures = [var.market_close_schedule]
}

run "rejects_waf_rate_limit_below_aws_minimum" {
  command = plan

  variables {
    waf_rate_limit = 5
  }

  expect_failures = [var.waf_rate_limit]
}

run "rejects_test_listener_port_below_ephemeral_range" {
  command = plan

  variables {
    test_listener_port = 1023
  }

  expect_failures = [var.test_listener_port]
}

run "rejects_test_listener_port_443" {
  command = plan

  variables {
    test_listener_port = 443
  }

  expect_failures = [var.test_listener_port]
}

run "rejects_test_listener_port_above_65535" {
  command = plan

  variables {
    test_listener_port = 70000
  }

  expect_failures = [var.test_listener_port]
}

run "rejects_public_test_listener_cidr" {
  command = plan

  variables {
    test_listener_allowed_cidrs = ["0.0.0.0/0"]
  }

  expect_failures = [var.test_listener_allowed_cidrs]
}

run "rejects_deregistration_delay_above_3600" {
  command = plan

  variables {
    deregistration_delay = 4000
  }

  expect_failures = [var.deregistration_delay]
}

run "rejects_negative_deregistration_delay" {
  command = plan

  variables {
    deregistration_delay = -1
  }

  expect_failures = [var.deregistration_delay]
}

run "rejects_alarm_email_without_domain" {
  command = plan

  variables {
    alarm_email = "oncall"
  }

  expect_failures = [var.alarm_email]
}

run "rejects_relative_health_check_path" {
  command = plan

  variables {
    health_check_path = "healthz"
  }

  expect_failures = [var.health_check_path]
}

run "rejects_secrets_recovery_window_of_3_days" {
  command = plan

  variables {
    secrets_recovery_window_in_days = 3
  }

  expect_failures = [var.secrets_recovery_window_in_days]
}

run "rejects_db_instance_class_without_prefix" {
  command = plan

  variables {
    db_instance_class = "r6g.large"
  }

  expect_failures = [var.db_instance_class]
}

run "rejects_db_iam_username_with_uppercase" {
  command = plan

  variables {
    db_iam_username = "App-User"
  }

  expect_failures = [var.db_iam_username]
}
