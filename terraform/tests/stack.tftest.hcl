# Root-stack plans with a mocked AWS provider, in one file so the provider mocks, the fixed network
# outputs and the shared variables are stated once (OpenTofu 1.10 has no shared mock files:
# mock_provider takes no `source`). Nothing reaches AWS (no credentials are needed and the S3 backend
# is not initialised: run `tofu init -backend=false`).
#
# Runs, in order:
#   1. controller: the shape of the `controller` output switchyard reads and that it points at the
#      right module outputs;
#   2. wiring: each module is given the other modules' outputs it must get (tiers, the ALB for the
#      WAF, the secrets for the execution role), proved through outputs the modules read back from
#      their own resources;
#   3. validation: boundary values still plan, then every root input that can be wrong is rejected
#      at the root, with the root's message, before any module sees it (expect_failures on the root
#      variable).
# The expect_failures runs come last: an unexpected error in a run skips every later run of the
# file, so a broken validation must not hide the controller and wiring checks.
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

run "controller_output_has_the_contract_shape" {
  command = apply

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
  command = apply

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
  command = apply

  variables {
    service_name = "dash"
  }

  assert {
    condition     = toset(keys(output.controller.services)) == toset(["dash"])
    error_message = "controller.services must be keyed by service_name."
  }
}

################################################################################
# Wiring between the modules
################################################################################

run "tiers_alb_public_ecs_app_aurora_data" {
  command = apply

  assert {
    condition     = toset(module.alb.subnet_ids) == toset(module.network.public_subnet_ids)
    error_message = "The ALB must be placed in the public subnets."
  }

  assert {
    condition     = toset(keys(module.ecs.service_subnet_ids)) == toset(["blue", "green"])
    error_message = "Both colours' services must be planned."
  }

  assert {
    condition     = alltrue([for colour, ids in module.ecs.service_subnet_ids : toset(ids) == toset(module.network.app_subnet_ids)])
    error_message = "Both ECS services must run in the private app subnets."
  }

  assert {
    condition     = toset(module.database.subnet_ids) == toset(module.network.data_subnet_ids)
    error_message = "Aurora's subnet group must hold the private data subnets."
  }

  assert {
    condition     = module.database.security_group_ids == tolist([module.network.db_security_group_id])
    error_message = "Aurora must use the network module's db security group only."
  }
}

run "waf_protects_the_alb" {
  command = apply

  assert {
    condition     = module.waf.associated_resource_arn == module.alb.alb_arn && module.alb.alb_arn == "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/alb-prod-td01/0123456789abcdef"
    error_message = "The web ACL must be associated with module.alb.alb_arn."
  }

  assert {
    condition     = module.waf.log_group_name == "aws-waf-logs-prod-td01"
    error_message = "WAF logs must go to the aws-waf-logs-<env>-<suffix> group (AWS requires the prefix)."
  }
}

run "execution_role_reads_only_the_app_secrets_by_default" {
  command = apply

  assert {
    condition     = var.app_reads_db_master_secret == false
    error_message = "app_reads_db_master_secret must default to false (IAM database authentication is the least-privilege path)."
  }

  assert {
    condition     = length(module.ecs.execution_secret_arns) > 0 && toset(module.ecs.execution_secret_arns) == toset(values(module.secrets.app_secret_arns))
    error_message = "The execution role may read exactly the app secrets."
  }

  assert {
    condition     = toset(local.execution_secret_kms_key_arns) == toset([module.secrets.kms_key_arn]) && length(local.execution_secret_kms_key_arns) == 1 && length(module.ecs.runtime_secret_arns) == 0
    error_message = "Only the secrets KMS key may be decrypted, and the task role reads no secret by default."
  }

  assert {
    condition     = toset(keys(local.app_secret_env)) == toset(["DJANGO_SECRET_KEY"]) && !contains(keys(local.app_environment), "DATABASE_MASTER_SECRET_ARN")
    error_message = "Only the app secrets are injected into the container by default."
  }

  assert {
    condition     = local.app_environment["DATABASE_IAM_USER"] == "app"
    error_message = "The app must be told its IAM database user."
  }
}

# The master secret rotates (RDS-managed); a value injected at task start would go stale, so it is
# never injected: the app reads it at runtime through the task role.
run "master_secret_is_read_at_runtime_never_injected" {
  command = apply

  variables {
    app_reads_db_master_secret = true
  }

  assert {
    condition     = toset(module.ecs.execution_secret_arns) == toset(values(module.secrets.app_secret_arns)) && toset(keys(local.app_secret_env)) == toset(["DJANGO_SECRET_KEY"])
    error_message = "The master secret must not be injected (execution role and container secrets hold the app secrets only)."
  }

  assert {
    condition     = module.ecs.runtime_secret_arns == tolist([module.database.master_user_secret_arn]) && toset(local.runtime_secret_kms_key_arns) == toset([module.database.master_user_secret_kms_key_arn])
    error_message = "The task role must read exactly the master secret (and decrypt with its key) at runtime."
  }

  assert {
    condition     = local.app_environment["DATABASE_MASTER_SECRET_ARN"] == module.database.master_user_secret_arn
    error_message = "The container must learn the master secret's ARN to read it at runtime."
  }
}

# The fixes of the root defaults reach the modules: IAM database authentication as db_iam_username
# (a rotated master password never goes stale in a task) and a writable root filesystem until the
# image honours the read-only contract. (module.network is overridden here: its egress wiring is
# checked in apply.tftest.hcl.)
run "root_defaults_reach_the_modules" {
  command = apply

  assert {
    condition     = module.ecs.db_connect_arns == tolist(["arn:aws:rds-db:us-east-1:123456789012:dbuser:${module.database.cluster_resource_id}/app"]) && local.app_environment["DATABASE_IAM_USER"] == "app"
    error_message = "The task role must rds-db:connect as db_iam_username (default app) on the stack's cluster, and the app must be told the user; got ${jsonencode(module.ecs.db_connect_arns)}."
  }

  assert {
    condition     = alltrue([for c in values(module.ecs.container_contract) : c.readonly_root_filesystem == false])
    error_message = "The root filesystem must stay writable by default (read-only needs the image contract)."
  }
}

run "root_inputs_reach_the_modules" {
  command = apply

  variables {
    readonly_root_filesystem   = true
    db_iam_username            = null
    app_reads_db_master_secret = true
  }

  assert {
    condition     = alltrue([for c in values(module.ecs.container_contract) : c.readonly_root_filesystem == true])
    error_message = "readonly_root_filesystem must reach the task definitions."
  }

  assert {
    condition     = length(module.ecs.db_connect_arns) == 0 && !contains(keys(local.app_environment), "DATABASE_IAM_USER")
    error_message = "db_iam_username = null must grant no rds-db:connect."
  }
}

# Health endpoint contract: the ALB target groups and the container check request the same path,
# the one the app is told (HEALTH_CHECK_PATH), so a non-default path reaches all three.
run "health_checks_request_the_path_the_app_is_told" {
  command = apply

  variables {
    health_check_path = "/status/ready"
  }

  assert {
    condition = (
      module.alb.health_check_paths == { blue = "/status/ready", green = "/status/ready" } &&
      toset(keys(module.ecs.container_contract)) == toset(["blue", "green"]) &&
      alltrue([for c, h in module.ecs.container_contract : h.health_check_path == "/status/ready" && h.health_check_command[0] == "CMD-SHELL" && strcontains(h.health_check_command[1], "'http://127.0.0.1:8000/status/ready'")])
    )
    error_message = "The ALB health checks, the container health check and HEALTH_CHECK_PATH must all use health_check_path."
  }
}

# ECS deployments of each colour watch that colour's alarms; the names the root builds must be the
# alarms the monitoring module creates.
run "deployments_watch_the_monitoring_alarms" {
  command = apply

  assert {
    condition = (
      module.ecs.deployment_alarm_names["blue"] == sort(["alarm-blue-5xx-prod-td01", "alarm-blue-unhealthy-prod-td01"]) &&
      module.ecs.deployment_alarm_names["green"] == sort(["alarm-green-5xx-prod-td01", "alarm-green-unhealthy-prod-td01"]) &&
      alltrue([for n in module.ecs.deployment_alarm_names["blue"] : contains(module.monitoring.blue_alarm_names, n)]) &&
      alltrue([for n in module.ecs.deployment_alarm_names["green"] : contains(module.monitoring.green_alarm_names, n)])
    )
    error_message = "Each colour's ECS deployment alarms must be that colour's 5xx and unhealthy-host alarms from module.monitoring."
  }
}

# Alarms page someone by default: the e-mail reaches the topic, and the root does not pass the
# "no notifications" opt-out unless asked to (the monitoring module then rejects a missing e-mail).
run "alarms_notify_the_email_by_default" {
  command = apply

  assert {
    condition     = module.monitoring.notifications == { email = "oncall@example.com", unsubscribed_allowed = false }
    error_message = "The alarm e-mail must be subscribed and the no-notification opt-out off by default."
  }
}

run "alarms_without_notification_only_when_allowed" {
  command = apply

  variables {
    alarm_email                       = null
    allow_alarms_without_notification = true
  }

  assert {
    condition     = output.sns_topic_arn != null && module.monitoring.notifications == { email = null, unsubscribed_allowed = true }
    error_message = "An explicitly accepted topic without subscription must still plan, with no subscription."
  }
}

run "provider_default_tags_carry_environment_project_owner" {
  command = apply

  variables {
    project = "tradedash"
  }

  assert {
    condition = local.provider_default_tags == {
      Environment = "prod"
      Project     = "tradedash"
      Owner       = "platform-team"
    }
    error_message = "The provider's default_tags must be exactly Environment, Project and Owner from the inputs."
  }
}

run "registry_scanning_is_off_at_the_root_by_default" {
  command = apply

  assert {
    condition     = module.ecr.registry_scanning_managed == false
    error_message = "The account-wide registry scanning configuration must not be managed unless enable_registry_enhanced_scanning is set."
  }
}

run "registry_scanning_can_be_turned_on_at_the_root" {
  command = apply

  variables {
    enable_registry_enhanced_scanning = true
  }

  assert {
    condition     = module.ecr.registry_scanning_managed == true
    error_message = "enable_registry_enhanced_scanning must reach the ecr module."
  }
}

################################################################################
# Root input validation
################################################################################

run "accepts_boundary_values" {
  command = apply

  variables {
    vpc_cidr                        = "10.40.0.0/24"
    test_listener_port              = 1024
    test_listener_allowed_cidrs     = ["10.0.0.0/8"]
    deregistration_delay            = 0
    waf_rate_limit                  = 10
    task_cpu                        = 256
    task_memory                     = 512
    desired_count                   = 1
    min_capacity                    = 1
    max_capacity                    = 1000
    market_hours_min_capacity       = 1
    alarm_email                     = "oncall@example.com"
    secrets_recovery_window_in_days = 30
    db_iam_username                 = null
    app_reads_db_master_secret      = true
  }

  assert {
    condition     = output.controller.services.web.deregistration_delay_seconds == 0
    error_message = "Boundary values must plan."
  }
}
