# switchyard stack: VPC (3 AZs) -> ALB + WAF -> ECS Fargate blue/green services -> Aurora PostgreSQL,
# with secrets in Secrets Manager, the image in ECR and CloudWatch alarms on an encrypted SNS topic.
# The `controller` output (outputs.tf) is what switchyard reads to drive releases.

locals {
  common = {
    environment        = var.environment
    environment_suffix = var.environment_suffix
    project            = var.project
    owner              = var.owner
    tags               = var.tags
  }

  # App secrets become UPPER_CASE environment variables (django_secret_key -> DJANGO_SECRET_KEY).
  app_secret_env = { for k, arn in module.secrets.app_secret_arns : upper(k) => arn }

  # The RDS-managed master secret is JSON {"username", "password"}; ECS extracts single keys with
  # the <arn>:<json-key>:: form. Injected only when inject_db_master_credentials is true (default
  # false: the app uses IAM database authentication).
  db_master_secret_env = var.inject_db_master_credentials ? {
    DATABASE_USERNAME = "${module.database.master_user_secret_arn}:username::"
    DATABASE_PASSWORD = "${module.database.master_user_secret_arn}:password::"
  } : {}

  # What the task execution role may read: the app secrets, plus the master secret (and its KMS key)
  # only when it is injected. Added here rather than through the secrets module's
  # extra_secret_arns so module.secrets does not depend on module.database: the first targeted
  # apply (README, "Deploying from nothing") creates the secrets without the database.
  execution_secret_arns = concat(
    module.secrets.secret_arns,
    var.inject_db_master_credentials ? [module.database.master_user_secret_arn] : [],
  )
  execution_secret_kms_key_arns = distinct(concat(
    [module.secrets.kms_key_arn],
    var.inject_db_master_credentials ? [module.database.master_user_secret_kms_key_arn] : [],
  ))

  app_environment = merge(
    {
      DATABASE_HOST        = module.database.cluster_endpoint
      DATABASE_READER_HOST = module.database.reader_endpoint
      DATABASE_PORT        = tostring(module.database.port)
      DATABASE_NAME        = module.database.database_name
    },
    var.db_iam_username == null ? {} : { DATABASE_IAM_USER = var.db_iam_username },
    var.app_environment,
  )
}

module "network" {
  source = "./modules/network"

  environment        = local.common.environment
  environment_suffix = local.common.environment_suffix
  project            = local.common.project
  owner              = local.common.owner
  tags               = local.common.tags

  vpc_cidr = var.vpc_cidr
  app_port = var.app_port
  # The test-listener ingress rules are created by the alb module next to the listener itself, so
  # the network module's optional test-listener rule stays off (test_listener_port = null).
}

module "ecr" {
  source = "./modules/ecr"

  environment        = local.common.environment
  environment_suffix = local.common.environment_suffix
  project            = local.common.project
  owner              = local.common.owner
  tags               = local.common.tags

  repository_qualifier = var.service_name
  force_delete         = var.ecr_force_delete
  # Account-wide setting: off at the root unless this stack owns the registry scanning rules.
  enable_registry_enhanced_scanning = var.enable_registry_enhanced_scanning
}

module "secrets" {
  source = "./modules/secrets"

  environment        = local.common.environment
  environment_suffix = local.common.environment_suffix
  project            = local.common.project
  owner              = local.common.owner
  tags               = local.common.tags

  app_secrets             = var.app_secrets
  recovery_window_in_days = var.secrets_recovery_window_in_days
  # extra_secret_arns stays empty: the master secret is added in local.execution_secret_arns so
  # this module has no dependency on the database.
}

module "database" {
  source = "./modules/database"

  environment        = local.common.environment
  environment_suffix = local.common.environment_suffix
  project            = local.common.project
  owner              = local.common.owner
  tags               = local.common.tags

  data_subnet_ids      = module.network.data_subnet_ids
  availability_zones   = module.network.availability_zones
  db_security_group_id = module.network.db_security_group_id
  instance_class       = var.db_instance_class
  skip_final_snapshot  = var.db_skip_final_snapshot
  deletion_protection  = var.db_deletion_protection
}

module "alb" {
  source = "./modules/alb"

  environment        = local.common.environment
  environment_suffix = local.common.environment_suffix
  project            = local.common.project
  owner              = local.common.owner
  tags               = local.common.tags

  vpc_id                      = module.network.vpc_id
  public_subnet_ids           = module.network.public_subnet_ids
  alb_security_group_id       = module.network.alb_security_group_id
  app_port                    = var.app_port
  certificate_arn             = var.certificate_arn
  test_listener_port          = var.test_listener_port
  test_listener_allowed_cidrs = var.test_listener_allowed_cidrs
  health_check_path           = var.health_check_path
  deregistration_delay        = var.deregistration_delay
  enable_deletion_protection  = var.alb_deletion_protection
  access_logs_force_destroy   = var.alb_access_logs_force_destroy
}

module "waf" {
  source = "./modules/waf"

  environment        = local.common.environment
  environment_suffix = local.common.environment_suffix
  project            = local.common.project
  owner              = local.common.owner
  tags               = local.common.tags

  alb_arn    = module.alb.alb_arn
  rate_limit = var.waf_rate_limit
}

module "ecs" {
  source = "./modules/ecs"

  environment        = local.common.environment
  environment_suffix = local.common.environment_suffix
  project            = local.common.project
  owner              = local.common.owner
  tags               = local.common.tags

  app_subnet_ids         = module.network.app_subnet_ids
  app_security_group_id  = module.network.app_security_group_id
  blue_target_group_arn  = module.alb.blue_target_group_arn
  green_target_group_arn = module.alb.green_target_group_arn
  ecr_repository_arn     = module.ecr.repository_arn
  container_image        = "${module.ecr.repository_url}:${var.initial_image_tag}"
  app_port               = var.app_port
  health_check_path      = var.health_check_path
  cpu                    = var.task_cpu
  memory                 = var.task_memory

  secrets               = merge(local.app_secret_env, local.db_master_secret_env)
  secret_arns           = local.execution_secret_arns
  secrets_kms_key_arns  = local.execution_secret_kms_key_arns
  environment_variables = local.app_environment

  db_iam_auth = var.db_iam_username == null ? null : {
    cluster_resource_id = module.database.cluster_resource_id
    usernames           = [var.db_iam_username]
  }

  desired_count             = var.desired_count
  min_capacity              = var.min_capacity
  max_capacity              = var.max_capacity
  market_hours_min_capacity = var.market_hours_min_capacity
  market_open_schedule      = var.market_open_schedule
  market_close_schedule     = var.market_close_schedule
}

module "monitoring" {
  source = "./modules/monitoring"

  environment        = local.common.environment
  environment_suffix = local.common.environment_suffix
  project            = local.common.project
  owner              = local.common.owner
  tags               = local.common.tags

  alarm_email                   = var.alarm_email
  alb_arn_suffix                = module.alb.alb_arn_suffix
  blue_target_group_arn_suffix  = module.alb.blue_target_group_arn_suffix
  green_target_group_arn_suffix = module.alb.green_target_group_arn_suffix
  ecs_cluster_name              = module.ecs.cluster_name
  blue_service_name             = module.ecs.blue_service_name
  green_service_name            = module.ecs.green_service_name
  db_cluster_identifier         = module.database.cluster_identifier
  db_writer_instance_id         = module.database.writer_instance_id
  db_reader_instance_id         = module.database.reader_instance_id
}
