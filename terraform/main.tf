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

  # The app connects with IAM database authentication as db_iam_username (short-lived tokens, no
  # password to go stale). The RDS-managed master secret is never injected into the container: ECS
  # resolves injected secrets once, at task start, so after a rotation running tasks would keep a
  # dead password. When the app needs the master user (bootstrap, migrations), it reads the secret
  # itself at runtime (app_reads_db_master_secret): the task role may GetSecretValue on it and the
  # container learns its ARN from DATABASE_MASTER_SECRET_ARN, so every read sees the current value.
  execution_secret_arns         = module.secrets.secret_arns
  execution_secret_kms_key_arns = [module.secrets.kms_key_arn]

  runtime_secret_arns         = var.app_reads_db_master_secret ? [module.database.master_user_secret_arn] : []
  runtime_secret_kms_key_arns = var.app_reads_db_master_secret ? [module.database.master_user_secret_kms_key_arn] : []

  # ECS rolling deployments of a colour watch that colour's target-group 5xx and unhealthy-host
  # alarms. The names follow the monitoring module's naming (module.monitoring.<colour>_alarm_names
  # cannot be passed in: the alarms depend on the ECS service names, a cycle); the root test
  # compares both.
  deployment_alarm_names = {
    for c in ["blue", "green"] : c => [for what in ["5xx", "unhealthy"] : "alarm-${c}-${what}-${var.environment}-${var.environment_suffix}"]
  }

  app_environment = merge(
    {
      DATABASE_HOST        = module.database.cluster_endpoint
      DATABASE_READER_HOST = module.database.reader_endpoint
      DATABASE_PORT        = tostring(module.database.port)
      DATABASE_NAME        = module.database.database_name
    },
    var.db_iam_username == null ? {} : { DATABASE_IAM_USER = var.db_iam_username },
    var.app_reads_db_master_secret ? { DATABASE_MASTER_SECRET_ARN = module.database.master_user_secret_arn } : {},
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

  vpc_cidr                             = var.vpc_cidr
  app_port                             = var.app_port
  restrict_app_egress_to_vpc_endpoints = var.restrict_app_egress_to_vpc_endpoints
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
  # extra_secret_arns stays empty: the master secret is never injected (local.runtime_secret_arns).
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

  secrets                     = local.app_secret_env
  secret_arns                 = local.execution_secret_arns
  secrets_kms_key_arns        = local.execution_secret_kms_key_arns
  runtime_secret_arns         = local.runtime_secret_arns
  runtime_secret_kms_key_arns = local.runtime_secret_kms_key_arns
  environment_variables       = local.app_environment
  readonly_root_filesystem    = var.readonly_root_filesystem
  deployment_alarm_names      = local.deployment_alarm_names

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
  allow_no_alarm_notifications  = var.allow_alarms_without_notification
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

module "controller_state" {
  source = "./modules/controller-state"
  count  = var.controller_state_table == null ? 0 : 1

  environment        = local.common.environment
  environment_suffix = local.common.environment_suffix
  project            = local.common.project
  owner              = local.common.owner
  tags               = local.common.tags

  deletion_protection = var.controller_state_table.deletion_protection
}
