# Root-stack plan with a mocked AWS provider: checks the shape of the `controller` output switchyard
# reads and that it points at the right module outputs. The wiring between the modules is checked in
# wiring.tftest.hcl and the root input validations in validation.tftest.hcl. Nothing reaches AWS
# (no credentials are needed and the S3 backend is not initialised: run `tofu init -backend=false`).
#
# Mocked computed values are shaped like real ones because the modules validate the IDs and ARNs
# they receive from each other.

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

# The network module is replaced by fixed outputs: its per-AZ subnets are for_each instances, and
# mocks cannot give instances of one resource distinct IDs (the database module requires 3 distinct
# data subnets). The network module has its own tests.
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

variables {
  environment                 = "prod"
  environment_suffix          = "td01"
  owner                       = "platform-team"
  certificate_arn             = "arn:aws:acm:us-east-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
  test_listener_allowed_cidrs = ["203.0.113.0/24"]
}

run "controller_output_has_the_contract_shape" {
  command = plan

  assert {
    condition = toset(keys(output.controller)) == toset([
      "schema_version", "region", "environment", "environment_suffix", "repository_url", "services",
    ])
    error_message = "controller must have exactly the contract's top-level keys."
  }

  assert {
    condition     = output.controller.schema_version == 1 && output.controller.region == "us-east-1" && output.controller.environment == "prod" && output.controller.environment_suffix == "td01"
    error_message = "controller must report schema_version 1, the region and the environment."
  }

  assert {
    condition     = toset(keys(output.controller.services)) == toset(["web"])
    error_message = "controller.services must be keyed by service_name (default web)."
  }

  assert {
    condition = toset(keys(output.controller.services.web)) == toset([
      "cluster", "blue_service", "green_service", "container", "image_repository", "listener_arn", "rule_arns",
      "test_listener_arn", "blue_target_group_arn", "green_target_group_arn", "deregistration_delay_seconds",
      "alarm_names", "blue_alarm_names", "green_alarm_names",
    ])
    error_message = "controller.services.web must have exactly the contract's keys."
  }
}

run "controller_output_points_at_the_module_outputs" {
  command = plan

  assert {
    condition     = output.controller.services.web.blue_target_group_arn == module.alb.blue_target_group_arn && output.controller.services.web.blue_target_group_arn == "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-blue-prod-td01/1111111111111111"
    error_message = "blue_target_group_arn must be the alb module's blue target group."
  }

  assert {
    condition     = output.controller.services.web.green_target_group_arn == module.alb.green_target_group_arn && output.controller.services.web.green_target_group_arn != output.controller.services.web.blue_target_group_arn
    error_message = "green_target_group_arn must be the alb module's green target group."
  }

  assert {
    condition     = output.controller.services.web.listener_arn == module.alb.https_listener_arn && output.controller.services.web.test_listener_arn == module.alb.test_listener_arn
    error_message = "Listener ARNs must come from the alb module."
  }

  assert {
    condition     = length(output.controller.services.web.rule_arns) == 2 && output.controller.services.web.rule_arns == module.alb.production_rule_arns
    error_message = "rule_arns must be the alb module's production rules (api and static)."
  }

  assert {
    condition     = output.controller.services.web.deregistration_delay_seconds == 30
    error_message = "deregistration_delay_seconds must be the target group delay."
  }

  assert {
    condition = (
      output.controller.services.web.cluster == "ecs-prod-td01" &&
      output.controller.services.web.blue_service == "svc-blue-prod-td01" &&
      output.controller.services.web.green_service == "svc-green-prod-td01" &&
      output.controller.services.web.container == "app"
    )
    error_message = "Cluster, services and container must come from the ecs module."
  }

  assert {
    condition     = output.controller.repository_url == module.ecr.repository_url && output.controller.services.web.image_repository == module.ecr.repository_url
    error_message = "Repository URL must come from the ecr module."
  }

  assert {
    condition = (
      output.controller.services.web.alarm_names == module.monitoring.guard_alarm_names &&
      output.controller.services.web.blue_alarm_names == ["alarm-blue-5xx-prod-td01", "alarm-blue-unhealthy-prod-td01", "alarm-blue-p99-prod-td01"] &&
      output.controller.services.web.green_alarm_names == ["alarm-green-5xx-prod-td01", "alarm-green-unhealthy-prod-td01", "alarm-green-p99-prod-td01"]
    )
    error_message = "Alarm name lists must come from the monitoring module."
  }
}

run "service_name_changes_the_services_key" {
  command = plan

  variables {
    service_name = "dash"
  }

  assert {
    condition     = toset(keys(output.controller.services)) == toset(["dash"])
    error_message = "controller.services must be keyed by service_name."
  }
}

run "rejects_bad_region" {
  command = plan

  variables {
    region = "mars-1"
  }

  expect_failures = [var.region]
}
