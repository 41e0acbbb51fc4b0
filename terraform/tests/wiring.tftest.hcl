# Root-stack wiring with a mocked AWS provider: each module is given the other modules' outputs it
# must get (tiers, the ALB for the WAF, the secrets for the execution role), proved through outputs
# the modules read back from their own resources. Nothing reaches AWS.

# Mocked computed values are shaped like real ones because the modules validate the IDs and ARNs
# they receive from each other (same mocks as controller.tftest.hcl).
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
}

run "tiers_alb_public_ecs_app_aurora_data" {
  command = plan

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
  command = plan

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
  command = plan

  assert {
    condition     = var.inject_db_master_credentials == false
    error_message = "inject_db_master_credentials must default to false (IAM database authentication is the least-privilege path)."
  }

  assert {
    condition     = length(module.ecs.execution_secret_arns) > 0 && toset(module.ecs.execution_secret_arns) == toset(values(module.secrets.app_secret_arns))
    error_message = "Without master credentials, the execution role may read exactly the app secrets."
  }

  assert {
    condition     = !contains(module.ecs.execution_secret_arns, module.database.master_user_secret_arn)
    error_message = "The execution role must not read the database master secret unless it is injected."
  }

  assert {
    condition     = local.execution_secret_kms_key_arns == tolist([module.secrets.kms_key_arn])
    error_message = "Without master credentials, only the secrets KMS key may be decrypted."
  }

  assert {
    condition     = toset(keys(local.app_secret_env)) == toset(["DJANGO_SECRET_KEY"]) && length(local.db_master_secret_env) == 0
    error_message = "Only the app secrets are injected into the container by default."
  }

  assert {
    condition     = local.app_environment["DATABASE_IAM_USER"] == "app"
    error_message = "The app must be told its IAM database user."
  }
}

run "execution_role_reads_app_secrets_and_master_secret_when_injected" {
  command = plan

  variables {
    inject_db_master_credentials = true
  }

  assert {
    condition     = toset(module.ecs.execution_secret_arns) == setunion(toset(values(module.secrets.app_secret_arns)), toset([module.database.master_user_secret_arn]))
    error_message = "With master credentials, the execution role may read the app secrets plus the master secret, nothing else."
  }

  assert {
    condition     = toset(local.execution_secret_kms_key_arns) == toset([module.secrets.kms_key_arn, module.database.master_user_secret_kms_key_arn]) && length(local.execution_secret_kms_key_arns) == 2
    error_message = "With master credentials, the execution role may decrypt with the secrets key and the master secret's key."
  }

  assert {
    condition = local.db_master_secret_env == tomap({
      DATABASE_USERNAME = "${module.database.master_user_secret_arn}:username::"
      DATABASE_PASSWORD = "${module.database.master_user_secret_arn}:password::"
    })
    error_message = "The master secret's username and password keys must be injected through the task definition secrets."
  }
}

run "provider_default_tags_carry_environment_project_owner" {
  command = plan

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
  command = plan

  assert {
    condition     = module.ecr.registry_scanning_managed == false
    error_message = "The account-wide registry scanning configuration must not be managed unless enable_registry_enhanced_scanning is set."
  }
}

run "registry_scanning_can_be_turned_on_at_the_root" {
  command = plan

  variables {
    enable_registry_enhanced_scanning = true
  }

  assert {
    condition     = module.ecr.registry_scanning_managed == true
    error_message = "enable_registry_enhanced_scanning must reach the ecr module."
  }
}
