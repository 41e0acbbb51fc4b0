# ECS Fargate cluster with a blue and a green service of the same application.
#
# Terraform creates both services once (blue live with desired_count tasks, green idle with 0) and
# afterwards only manages their shape (network, load balancer, deployment settings). switchyard
# owns the running task definition and the task counts during a release, and Application Auto
# Scaling owns desired_count in between: see the ignore_changes blocks below.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  name_suffix = "${var.environment}-${var.environment_suffix}"

  tags = merge(var.tags, {
    Environment = var.environment
    Project     = var.project
    Owner       = var.owner
  })

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  cluster_name   = "ecs-${local.name_suffix}"
  log_group_name = "log-ecs-${local.name_suffix}"
  log_group_arn  = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"

  # Container Insights writes its performance events to this AWS-fixed group and creates it on
  # first use when it does not exist (unencrypted, never expiring, left behind by destroy). The
  # module creates it first so it has the customer key and the retention, and destroy removes it.
  insights_log_group_name = "/aws/ecs/containerinsights/${local.cluster_name}/performance"
  insights_log_group_arn  = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.insights_log_group_name}"

  # Blue is live after the first apply; green is created idle (0 tasks, scaling suspended) and is
  # what the first release deploys to.
  colours = {
    blue = {
      target_group_arn = var.blue_target_group_arn
      desired_count    = var.desired_count
      min_capacity     = var.min_capacity
      idle             = false
    }
    green = {
      target_group_arn = var.green_target_group_arn
      desired_count    = 0
      min_capacity     = 0
      idle             = true
    }
  }

  # Fargate CPU/memory combinations
  # (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size).
  fargate_memory_ok = (
    var.cpu == 256 ? contains([512, 1024, 2048], var.memory) :
    var.cpu == 512 ? var.memory >= 1024 && var.memory <= 4096 && var.memory % 1024 == 0 :
    var.cpu == 1024 ? var.memory >= 2048 && var.memory <= 8192 && var.memory % 1024 == 0 :
    var.cpu == 2048 ? var.memory >= 4096 && var.memory <= 16384 && var.memory % 1024 == 0 :
    var.cpu == 4096 ? var.memory >= 8192 && var.memory <= 30720 && var.memory % 1024 == 0 :
    var.cpu == 8192 ? var.memory >= 16384 && var.memory <= 61440 && var.memory % 4096 == 0 :
    var.cpu == 16384 ? var.memory >= 32768 && var.memory <= 122880 && var.memory % 8192 == 0 :
    false
  )

  health_check_command = coalesce(var.container_health_check_command, [
    "CMD-SHELL",
    "python3 -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:${var.app_port}${var.health_check_path}', timeout=4)\" || exit 1",
  ])

  # Fargate supports no tmpfs mounts, so with a read-only root filesystem /tmp is a bind mount of
  # the task's ephemeral storage. ECS creates that mount root-owned with mode 0755 unless the image
  # declares VOLUME ["/tmp"] on a /tmp it made writable for its user (ECS then copies the image's
  # directory, permissions included): a non-root Django/gunicorn cannot write /tmp otherwise. The
  # mount therefore exists only with readonly_root_filesystem = true, the image contract that comes
  # with it (README "Image contract"); with a writable root filesystem the image's own /tmp is used.
  tmp_volume_name = "tmp"
  tmp_mount = var.readonly_root_filesystem ? [{
    sourceVolume  = local.tmp_volume_name
    containerPath = "/tmp"
    readOnly      = false
  }] : []

  # The app learns its health endpoint from HEALTH_CHECK_PATH: ALB health checks carry the target's
  # private IP as Host and the container check 127.0.0.1, so the app must answer that path with 200
  # whatever the Host (before Django's ALLOWED_HOSTS check) and without an HTTPS redirect.
  container_environment = merge(var.environment_variables, { HEALTH_CHECK_PATH = var.health_check_path })

  container_definitions = {
    for colour in keys(local.colours) : colour => jsonencode([
      merge(
        {
          name                   = var.container_name
          image                  = var.container_image
          essential              = true
          readonlyRootFilesystem = var.readonly_root_filesystem

          portMappings = [{
            name          = "http"
            containerPort = var.app_port
            hostPort      = var.app_port
            protocol      = "tcp"
            appProtocol   = "http"
          }]

          mountPoints = local.tmp_mount

          # Secrets come from Secrets Manager through valueFrom; never through `environment`.
          secrets = [for name in sort(keys(var.secrets)) : {
            name      = name
            valueFrom = var.secrets[name]
          }]

          environment = [for name in sort(keys(local.container_environment)) : {
            name  = name
            value = local.container_environment[name]
          }]

          logConfiguration = {
            logDriver = "awslogs"
            options = {
              awslogs-group         = aws_cloudwatch_log_group.app.name
              awslogs-region        = local.region
              awslogs-stream-prefix = colour
              mode                  = "non-blocking"
              max-buffer-size       = "25m"
            }
          }

          healthCheck = {
            command     = local.health_check_command
            interval    = 15
            timeout     = 5
            retries     = 3
            startPeriod = 30
          }

          linuxParameters = {
            initProcessEnabled = true
          }

          stopTimeout = 30
        },
        var.container_user == null ? {} : { user = var.container_user },
      )
    ])
  }
}

################################################################################
# Logging
################################################################################

data "aws_iam_policy_document" "logs_kms" {
  statement {
    sid       = "AccountAdministration"
    effect    = "Allow"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid    = "CloudWatchLogsUseForModuleLogGroups"
    effect = "Allow"
    actions = [
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = [local.log_group_arn, local.insights_log_group_arn]
    }
  }
}

resource "aws_kms_key" "logs" {
  description             = "Encrypts the ECS application log group ${local.log_group_name}."
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days
  policy                  = data.aws_iam_policy_document.logs_kms.json

  tags = merge(local.tags, { Name = "kms-ecs-logs-${local.name_suffix}" })
}

resource "aws_kms_alias" "logs" {
  name          = "alias/kms-ecs-logs-${local.name_suffix}"
  target_key_id = aws_kms_key.logs.key_id
}

resource "aws_cloudwatch_log_group" "app" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn

  tags = merge(local.tags, { Name = local.log_group_name })
}

resource "aws_cloudwatch_log_group" "container_insights" {
  name              = local.insights_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn

  tags = merge(local.tags, { Name = "log-ecs-insights-${local.name_suffix}" })
}

################################################################################
# Cluster
################################################################################

resource "aws_ecs_cluster" "this" {
  name = local.cluster_name

  setting {
    name  = "containerInsights"
    value = "enhanced"
  }

  dynamic "configuration" {
    for_each = var.enable_execute_command ? [1] : []

    content {
      execute_command_configuration {
        kms_key_id = aws_kms_key.logs.arn
        logging    = "OVERRIDE"

        log_configuration {
          cloud_watch_encryption_enabled = true
          cloud_watch_log_group_name     = aws_cloudwatch_log_group.app.name
        }
      }
    }
  }

  tags = merge(local.tags, { Name = local.cluster_name })

  # Container Insights must find its group already there (with key and retention).
  depends_on = [aws_cloudwatch_log_group.container_insights]
}

################################################################################
# IAM
################################################################################

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    sid     = "EcsTasksAssume"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    # Confused-deputy protection: only ECS acting for this account may assume the roles.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:*"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name                  = "role-ecs-exec-${local.name_suffix}"
  description           = "ECS task execution role: pulls the image, writes logs and resolves the task's secrets."
  assume_role_policy    = data.aws_iam_policy_document.ecs_tasks_assume.json
  force_detach_policies = true

  tags = merge(local.tags, { Name = "role-ecs-exec-${local.name_suffix}" })
}

# The AmazonECSTaskExecutionRolePolicy permissions, narrowed to this stack's repository and log
# group, plus the secrets of this task definition and nothing else.
data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "EcrAuthToken"
    effect    = "Allow"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # GetAuthorizationToken supports no resource-level permissions.
  }

  statement {
    sid    = "EcrPullAppRepository"
    effect = "Allow"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:GetDownloadUrlForLayer",
      "ecr:BatchGetImage",
    ]
    resources = [var.ecr_repository_arn]
  }

  #tfsec:ignore:aws-iam-no-policy-wildcards "<log-group-arn>:*" names this one log group's streams, nothing else
  statement {
    sid     = "WriteAppLogs"
    effect  = "Allow"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    # "<log-group-arn>:*" is the form CloudWatch Logs matches for both the group (CreateLogStream)
    # and its streams (PutLogEvents); no other group is reachable.
    resources = ["${aws_cloudwatch_log_group.app.arn}:*"]
  }

  dynamic "statement" {
    for_each = length(var.secret_arns) > 0 ? [1] : []

    content {
      sid       = "ReadTaskSecrets"
      effect    = "Allow"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = var.secret_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.secrets_kms_key_arns) > 0 ? [1] : []

    content {
      sid       = "DecryptTaskSecrets"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = var.secrets_kms_key_arns

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "policy-ecs-exec-${local.name_suffix}"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_iam_role" "task" {
  name                  = "role-ecs-task-${local.name_suffix}"
  description           = "Role assumed by the application containers: only what the app itself needs."
  assume_role_policy    = data.aws_iam_policy_document.ecs_tasks_assume.json
  force_detach_policies = true

  tags = merge(local.tags, { Name = "role-ecs-task-${local.name_suffix}" })
}

data "aws_iam_policy_document" "task" {
  count = var.db_iam_auth != null || var.enable_execute_command || length(var.runtime_secret_arns) > 0 ? 1 : 0

  # Secrets the app reads itself at runtime (GetSecretValue when it connects), so a rotated value
  # is picked up without restarting tasks; injected `secrets` are resolved once at task start.
  dynamic "statement" {
    for_each = length(var.runtime_secret_arns) > 0 ? [1] : []

    content {
      sid       = "ReadRuntimeSecrets"
      effect    = "Allow"
      actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      resources = var.runtime_secret_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.runtime_secret_kms_key_arns) > 0 ? [1] : []

    content {
      sid       = "DecryptRuntimeSecrets"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = var.runtime_secret_kms_key_arns

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.db_iam_auth == null ? [] : [var.db_iam_auth]

    content {
      sid     = "RdsIamAuth"
      effect  = "Allow"
      actions = ["rds-db:connect"]
      resources = [
        for u in statement.value.usernames :
        "arn:${local.partition}:rds-db:${local.region}:${local.account_id}:dbuser:${statement.value.cluster_resource_id}/${u}"
      ]
    }
  }

  dynamic "statement" {
    for_each = var.enable_execute_command ? [1] : []

    content {
      sid    = "EcsExecChannel"
      effect = "Allow"
      actions = [
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
      ]
      resources = ["*"] # ssmmessages supports no resource-level permissions.
    }
  }

  dynamic "statement" {
    for_each = var.enable_execute_command ? [1] : []

    content {
      sid       = "EcsExecLogs"
      effect    = "Allow"
      actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
      resources = ["${aws_cloudwatch_log_group.app.arn}:*"]
    }
  }

  dynamic "statement" {
    for_each = var.enable_execute_command ? [1] : []

    content {
      sid       = "EcsExecLogsDescribe"
      effect    = "Allow"
      actions   = ["logs:DescribeLogGroups"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.enable_execute_command ? [1] : []

    content {
      sid       = "EcsExecKms"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [aws_kms_key.logs.arn]
    }
  }
}

resource "aws_iam_role_policy" "task" {
  count = length(data.aws_iam_policy_document.task)

  name   = "policy-ecs-task-${local.name_suffix}"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task[0].json
}

################################################################################
# Task definitions and services
################################################################################

resource "aws_ecs_task_definition" "this" {
  for_each = local.colours

  family                   = "td-${each.key}-${local.name_suffix}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.cpu)
  memory                   = tostring(var.memory)
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions    = local.container_definitions[each.key]

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  dynamic "volume" {
    for_each = var.readonly_root_filesystem ? [local.tmp_volume_name] : []

    content {
      name = volume.value
    }
  }

  # A new revision must not deregister the previous one: switchyard rolls a release back to the
  # revision the service ran before, and deregistered (INACTIVE) revisions cannot start new tasks.
  skip_destroy = true

  tags = merge(local.tags, { Name = "td-${each.key}-${local.name_suffix}", Colour = each.key })

  lifecycle {
    precondition {
      condition     = local.fargate_memory_ok
      error_message = "memory ${var.memory} MiB is not a Fargate size for cpu ${var.cpu}: 256 -> 512/1024/2048; 512 -> 1024-4096; 1024 -> 2048-8192; 2048 -> 4096-16384; 4096 -> 8192-30720 (1024 steps); 8192 -> 16384-61440 (4096 steps); 16384 -> 32768-122880 (8192 steps)."
    }

    precondition {
      condition     = alltrue([for v in values(var.secrets) : anytrue([for a in var.secret_arns : v == a || startswith(v, "${a}:")])])
      error_message = "Every value in secrets must be one of secret_arns (optionally followed by :json-key:stage:version); otherwise the execution role cannot read it and tasks fail to start."
    }
  }
}

resource "aws_ecs_service" "this" {
  for_each = local.colours

  name             = "svc-${each.key}-${local.name_suffix}"
  cluster          = aws_ecs_cluster.this.arn
  task_definition  = aws_ecs_task_definition.this[each.key].arn
  desired_count    = each.value.desired_count
  launch_type      = "FARGATE"
  platform_version = "LATEST"

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = var.health_check_grace_period_seconds
  availability_zone_rebalancing      = "ENABLED"
  enable_ecs_managed_tags            = true
  propagate_tags                     = "SERVICE"
  enable_execute_command             = var.enable_execute_command
  wait_for_steady_state              = false

  deployment_controller {
    type = "ECS"
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # ECS rolling deployments (a new revision on a colour, a replaced task set) watch the colour's
  # alarms and roll back when one fires, on top of the circuit breaker's failed-task count.
  dynamic "alarms" {
    for_each = length(lookup(var.deployment_alarm_names, each.key, [])) > 0 ? [var.deployment_alarm_names[each.key]] : []

    content {
      alarm_names = alarms.value
      enable      = true
      rollback    = true
    }
  }

  network_configuration {
    subnets          = var.app_subnet_ids
    security_groups  = [var.app_security_group_id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = each.value.target_group_arn
    container_name   = var.container_name
    container_port   = var.app_port
  }

  tags = merge(local.tags, { Name = "svc-${each.key}-${local.name_suffix}", Colour = each.key })

  lifecycle {
    # switchyard owns the running task definition and the counts during a release (it registers a
    # new revision and scales the colours), and Application Auto Scaling owns desired_count in
    # between. Terraform must not roll either back on the next apply.
    ignore_changes = [task_definition, desired_count]
  }

  depends_on = [aws_iam_role_policy.execution]
}

################################################################################
# Auto scaling
################################################################################

resource "aws_appautoscaling_target" "this" {
  for_each = local.colours

  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.this[each.key].name}"
  min_capacity       = each.value.min_capacity
  max_capacity       = var.max_capacity

  # The idle colour starts with scaling suspended so it stays at 0 tasks (neither target tracking
  # nor the market-hours floor may start tasks that receive no traffic).
  suspended_state {
    dynamic_scaling_in_suspended  = each.value.idle
    dynamic_scaling_out_suspended = each.value.idle
    scheduled_scaling_suspended   = each.value.idle
  }

  tags = merge(local.tags, { Name = "scaling-${each.key}-${local.name_suffix}", Colour = each.key })

  lifecycle {
    # The market schedules move min_capacity every trading day, and the live/idle role (floor and
    # suspension) moves between the colours with each release. Terraform sets them only at
    # creation. max_capacity is deliberately NOT ignored: switchyard copies the live colour's
    # maximum to the new live colour on hand-over but never changes the value, so it stays
    # Terraform's and a changed max_capacity input is applied (drift in it is real drift).
    ignore_changes = [min_capacity, suspended_state]

    precondition {
      condition     = var.min_capacity <= var.max_capacity
      error_message = "min_capacity (${var.min_capacity}) must be less than or equal to max_capacity (${var.max_capacity})."
    }

    precondition {
      condition     = var.market_hours_min_capacity >= var.min_capacity && var.market_hours_min_capacity <= var.max_capacity
      error_message = "market_hours_min_capacity (${var.market_hours_min_capacity}) must be between min_capacity (${var.min_capacity}) and max_capacity (${var.max_capacity})."
    }

    precondition {
      condition     = var.desired_count >= var.min_capacity && var.desired_count <= var.max_capacity
      error_message = "desired_count (${var.desired_count}) must be between min_capacity (${var.min_capacity}) and max_capacity (${var.max_capacity})."
    }
  }
}

resource "aws_appautoscaling_policy" "cpu" {
  for_each = local.colours

  name               = "policy-cpu-${each.key}-${local.name_suffix}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[each.key].service_namespace
  scalable_dimension = aws_appautoscaling_target.this[each.key].scalable_dimension
  resource_id        = aws_appautoscaling_target.this[each.key].resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = var.cpu_target_utilization
    scale_in_cooldown  = var.scale_in_cooldown
    scale_out_cooldown = var.scale_out_cooldown

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "memory" {
  for_each = local.colours

  name               = "policy-memory-${each.key}-${local.name_suffix}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[each.key].service_namespace
  scalable_dimension = aws_appautoscaling_target.this[each.key].scalable_dimension
  resource_id        = aws_appautoscaling_target.this[each.key].resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = var.memory_target_utilization
    scale_in_cooldown  = var.scale_in_cooldown
    scale_out_cooldown = var.scale_out_cooldown

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageMemoryUtilization"
    }
  }
}

# Raise the floor before the US cash session opens (09:30 New York time) so capacity is there
# before the opening burst, and drop it again after the close; schedule_timezone keeps both on New
# York time across daylight-saving changes.
resource "aws_appautoscaling_scheduled_action" "market_open" {
  for_each = local.colours

  name               = "sched-market-open-${each.key}-${local.name_suffix}"
  service_namespace  = aws_appautoscaling_target.this[each.key].service_namespace
  scalable_dimension = aws_appautoscaling_target.this[each.key].scalable_dimension
  resource_id        = aws_appautoscaling_target.this[each.key].resource_id
  schedule           = var.market_open_schedule
  timezone           = var.schedule_timezone

  scalable_target_action {
    min_capacity = tostring(var.market_hours_min_capacity)
    max_capacity = tostring(var.max_capacity)
  }
}

resource "aws_appautoscaling_scheduled_action" "market_close" {
  for_each = local.colours

  name               = "sched-market-close-${each.key}-${local.name_suffix}"
  service_namespace  = aws_appautoscaling_target.this[each.key].service_namespace
  scalable_dimension = aws_appautoscaling_target.this[each.key].scalable_dimension
  resource_id        = aws_appautoscaling_target.this[each.key].resource_id
  schedule           = var.market_close_schedule
  timezone           = var.schedule_timezone

  scalable_target_action {
    min_capacity = tostring(var.min_capacity)
    max_capacity = tostring(var.max_capacity)
  }

  # Application Auto Scaling rejects concurrent changes to the same scalable target.
  depends_on = [aws_appautoscaling_scheduled_action.market_open]
}
