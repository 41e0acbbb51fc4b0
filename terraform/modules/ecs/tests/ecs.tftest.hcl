# Tests with a mocked AWS provider: nothing reaches AWS. One file, so the provider mocks and the
# variables are stated once (OpenTofu 1.10 has no shared mock files). The ignore_changes runs first
# (a mocked apply, then plans against its in-memory state), then runs that apply to the mock (mocked
# computed values are known after apply in both OpenTofu and Terraform; Terraform leaves them
# unknown in plan runs), then the expect_failures runs, which plan: an unexpected error skips every
# later run of a file, so a broken validation must not hide the other checks.

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


  assert {
    condition     = aws_ecs_service.this["blue"].desired_count == 2 && aws_ecs_service.this["green"].desired_count == 0
    error_message = "desired_count must not be planned back from configuration (ignore_changes = [desired_count])."
  }

  assert {
    # The new image registers a new revision; the service must keep running revision 1.
    condition     = aws_ecs_service.this["blue"].task_definition == "arn:aws:ecs:us-east-1:123456789012:task-definition/td-prod-td01:1"
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

################################################################################
# Plans
################################################################################

run "cluster_has_container_insights" {
  command = apply

  assert {
    condition     = aws_ecs_cluster.this.name == "ecs-prod-td01"
    error_message = "Cluster name must be ecs-<env>-<suffix>."
  }

  assert {
    condition     = anytrue([for s in aws_ecs_cluster.this.setting : s.name == "containerInsights" && contains(["enhanced", "enabled"], s.value)])
    error_message = "Container Insights must be enabled on the cluster."
  }
}

run "task_definitions_are_fargate_awsvpc_readonly_with_secrets" {
  command = apply

  assert {
    condition = alltrue([
      for td in aws_ecs_task_definition.this :
      td.network_mode == "awsvpc" && toset(td.requires_compatibilities) == toset(["FARGATE"]) && td.cpu == "512" && td.memory == "1024"
    ])
    error_message = "Task definitions must be Fargate, awsvpc, 512 CPU / 1024 MiB."
  }

  # Read-only root only with the image contract (VOLUME ["/tmp"] writable by the app user): a bare
  # Fargate bind mount on /tmp is root-owned 0755, which a non-root Django/gunicorn cannot write.
  assert {
    condition     = alltrue([for td in aws_ecs_task_definition.this : jsondecode(td.container_definitions)[0].readonlyRootFilesystem == false])
    error_message = "The root filesystem must be writable by default (read-only needs the image contract)."
  }

  assert {
    condition = alltrue([
      for td in aws_ecs_task_definition.this :
      length(jsondecode(td.container_definitions)[0].mountPoints) == 0 && length(td.volume) == 0
    ])
    error_message = "Without a read-only root no /tmp bind mount may shadow the image's own /tmp (ECS would mount it root-owned 0755)."
  }

  assert {
    condition     = alltrue([for td in aws_ecs_task_definition.this : td.skip_destroy == true])
    error_message = "Task definition revisions must be kept (skip_destroy): switchyard rolls back to the previous revision."
  }

  # Health endpoint contract: the app is told its health path, which both checks request.
  assert {
    condition = alltrue([
      for td in aws_ecs_task_definition.this :
      contains([for e in jsondecode(td.container_definitions)[0].environment : "${e.name}=${e.value}"], "HEALTH_CHECK_PATH=/healthz")
    ])
    error_message = "The container must receive HEALTH_CHECK_PATH (the path it must answer with 200 for any Host header)."
  }

  assert {
    condition = alltrue([
      for td in aws_ecs_task_definition.this :
      jsondecode(td.container_definitions)[0].healthCheck.command[0] == "CMD-SHELL" &&
      strcontains(jsondecode(td.container_definitions)[0].healthCheck.command[1], "http://127.0.0.1:8000/healthz")
    ])
    error_message = "The container health check must GET health_check_path on 127.0.0.1:app_port."
  }

  assert {
    condition = alltrue([
      for td in aws_ecs_task_definition.this :
      toset([for s in jsondecode(td.container_definitions)[0].secrets : s.name]) == toset(["DJANGO_SECRET_KEY", "DATABASE_PASSWORD"])
    ])
    error_message = "Secrets must be injected through the container `secrets` list."
  }

  assert {
    condition = alltrue([
      for td in aws_ecs_task_definition.this :
      contains([for s in jsondecode(td.container_definitions)[0].secrets : s.valueFrom], var.secrets["DJANGO_SECRET_KEY"])
    ])
    error_message = "Secrets must reference their ARN through valueFrom."
  }

  assert {
    condition = alltrue([
      for td in aws_ecs_task_definition.this : (
        length([for e in jsondecode(td.container_definitions)[0].environment : e if contains(keys(var.secrets), e.name)]) == 0 &&
        length([for e in jsondecode(td.container_definitions)[0].environment : e if can(regex("arn:aws:secretsmanager", e.value))]) == 0
      )
    ])
    error_message = "No secret may appear in the container environment."
  }

  assert {
    condition = alltrue([
      for td in aws_ecs_task_definition.this :
      jsondecode(td.container_definitions)[0].logConfiguration.logDriver == "awslogs" &&
      jsondecode(td.container_definitions)[0].logConfiguration.options["awslogs-group"] == "log-ecs-prod-td01"
    ])
    error_message = "Containers must log with awslogs to the module's log group."
  }

  assert {
    condition     = alltrue([for td in aws_ecs_task_definition.this : jsondecode(td.container_definitions)[0].portMappings[0].containerPort == 8000])
    error_message = "The container must map the app port."
  }

  assert {
    condition     = alltrue([for td in aws_ecs_task_definition.this : length(jsondecode(td.container_definitions)[0].healthCheck.command) > 1])
    error_message = "The container must have a health check."
  }

  assert {
    condition     = aws_cloudwatch_log_group.container_insights.name == "/aws/ecs/containerinsights/ecs-prod-td01/performance" && aws_cloudwatch_log_group.container_insights.kms_key_id == aws_kms_key.logs.arn && aws_cloudwatch_log_group.container_insights.retention_in_days == 365
    error_message = "The Container Insights log group must be managed: AWS-fixed name, the module key and the retention."
  }

  assert {
    condition     = aws_cloudwatch_log_group.app.kms_key_id == aws_kms_key.logs.arn
    error_message = "The application log group must be KMS-encrypted."
  }
}

run "readonly_root_mounts_a_writable_tmp" {
  command = apply

  variables {
    readonly_root_filesystem = true
  }

  assert {
    condition = alltrue([
      for td in aws_ecs_task_definition.this :
      jsondecode(td.container_definitions)[0].readonlyRootFilesystem == true &&
      jsondecode(td.container_definitions)[0].mountPoints == [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }] &&
      [for v in td.volume : v.name] == ["tmp"]
    ])
    error_message = "A read-only root needs /tmp as a writable bind mount of a task volume (Fargate has no tmpfs)."
  }
}

run "deployments_watch_the_colour_alarms" {
  command = apply

  variables {
    deployment_alarm_names = {
      blue  = ["alarm-blue-5xx-prod-td01", "alarm-blue-unhealthy-prod-td01"]
      green = ["alarm-green-5xx-prod-td01"]
    }
  }

  assert {
    condition = (
      toset(aws_ecs_service.this["blue"].alarms[0].alarm_names) == toset(["alarm-blue-5xx-prod-td01", "alarm-blue-unhealthy-prod-td01"]) &&
      toset(aws_ecs_service.this["green"].alarms[0].alarm_names) == toset(["alarm-green-5xx-prod-td01"]) &&
      alltrue([for s in aws_ecs_service.this : s.alarms[0].enable && s.alarms[0].rollback])
    )
    error_message = "Each colour's ECS deployments must watch that colour's alarms and roll back on ALARM."
  }
}

run "services_are_private_with_circuit_breaker" {
  command = apply

  assert {
    condition     = aws_ecs_service.this["blue"].name == "svc-blue-prod-td01" && aws_ecs_service.this["green"].name == "svc-green-prod-td01"
    error_message = "Service names must be svc-<colour>-<env>-<suffix>."
  }

  assert {
    condition     = aws_ecs_service.this["blue"].desired_count == 2 && aws_ecs_service.this["green"].desired_count == 0
    error_message = "Blue must start with desired_count tasks and green with 0."
  }

  assert {
    condition = alltrue([
      for s in aws_ecs_service.this :
      s.launch_type == "FARGATE" && s.network_configuration[0].assign_public_ip == false &&
      toset(s.network_configuration[0].security_groups) == toset([var.app_security_group_id]) &&
      toset(s.network_configuration[0].subnets) == toset(var.app_subnet_ids)
    ])
    error_message = "Services must run on Fargate in the app subnets with the app SG and no public IP."
  }

  assert {
    condition = alltrue([
      for s in aws_ecs_service.this :
      s.deployment_circuit_breaker[0].enable && s.deployment_circuit_breaker[0].rollback &&
      s.deployment_minimum_healthy_percent == 100 && s.deployment_maximum_percent == 200
    ])
    error_message = "Services must use the circuit breaker with rollback and 100/200 deployment percentages."
  }

  assert {
    condition     = one(aws_ecs_service.this["blue"].load_balancer[*].target_group_arn) == var.blue_target_group_arn && one(aws_ecs_service.this["green"].load_balancer[*].target_group_arn) == var.green_target_group_arn
    error_message = "Each service must register with its own colour's target group."
  }

  assert {
    condition     = alltrue([for s in aws_ecs_service.this : one(s.load_balancer[*].container_port) == 8000 && one(s.load_balancer[*].container_name) == "app"])
    error_message = "The load balancer block must point at the app container and port."
  }
}

run "iam_is_least_privilege" {
  command = apply

  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.execution.statement : tolist(s.resources) if contains(s.actions, "secretsmanager:GetSecretValue")
    ])) == toset(var.secret_arns)
    error_message = "secretsmanager:GetSecretValue must be granted on exactly secret_arns."
  }

  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.execution.statement : tolist(s.resources) if contains(s.actions, "ecr:BatchGetImage")
    ])) == toset([var.ecr_repository_arn])
    error_message = "Image pull must be limited to the stack's repository."
  }

  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.execution.statement : [for r in s.resources : r != "*"] if !contains(s.actions, "ecr:GetAuthorizationToken")
    ]))
    error_message = "Only ecr:GetAuthorizationToken may use a wildcard resource."
  }

  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.execution.statement : tolist(s.resources) if contains(s.actions, "kms:Decrypt")
    ])) == toset(var.secrets_kms_key_arns)
    error_message = "kms:Decrypt must be limited to the secrets KMS keys."
  }

  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.task[0].statement : tolist(s.resources) if contains(s.actions, "rds-db:connect")
    ])) == toset(["arn:aws:rds-db:us-east-1:123456789012:dbuser:cluster-ABCDEFGHIJKLMNOP/app"])
    error_message = "The task role must be allowed rds-db:connect only as the configured database user."
  }

  assert {
    condition     = aws_iam_role.execution.name == "role-ecs-exec-prod-td01" && aws_iam_role.task.name == "role-ecs-task-prod-td01"
    error_message = "Role names must be role-ecs-<kind>-<env>-<suffix>."
  }
}

run "autoscaling_tracks_cpu_and_memory_for_both_services" {
  command = apply

  assert {
    condition     = toset(keys(aws_appautoscaling_target.this)) == toset(["blue", "green"])
    error_message = "Both services must have a scalable target."
  }

  assert {
    condition     = aws_appautoscaling_target.this["blue"].min_capacity == 2 && aws_appautoscaling_target.this["blue"].max_capacity == 10
    error_message = "Blue must scale between min_capacity and max_capacity."
  }

  assert {
    condition     = aws_appautoscaling_target.this["green"].min_capacity == 0 && aws_appautoscaling_target.this["green"].suspended_state[0].scheduled_scaling_suspended
    error_message = "The idle green colour must start with floor 0 and scaling suspended."
  }

  assert {
    condition = alltrue([
      for c in ["blue", "green"] :
      aws_appautoscaling_policy.cpu[c].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "ECSServiceAverageCPUUtilization" &&
      aws_appautoscaling_policy.memory[c].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "ECSServiceAverageMemoryUtilization" &&
      aws_appautoscaling_policy.cpu[c].policy_type == "TargetTrackingScaling"
    ])
    error_message = "Both services need CPU and memory target tracking."
  }

  assert {
    condition = alltrue([
      for c in ["blue", "green"] : (
        aws_appautoscaling_scheduled_action.market_open[c].timezone == "America/New_York" &&
        aws_appautoscaling_scheduled_action.market_close[c].timezone == "America/New_York" &&
        aws_appautoscaling_scheduled_action.market_open[c].schedule == "cron(0 8 ? * MON-FRI *)" &&
        aws_appautoscaling_scheduled_action.market_close[c].schedule == "cron(30 16 ? * MON-FRI *)" &&
        aws_appautoscaling_scheduled_action.market_open[c].scalable_target_action[0].min_capacity == "4" &&
        aws_appautoscaling_scheduled_action.market_close[c].scalable_target_action[0].min_capacity == "2"
      )
    ])
    error_message = "Market open/close scheduled actions must run in America/New_York and move the floor 2 -> 4 -> 2."
  }
}

run "names_and_tags" {
  command = apply

  assert {
    condition = alltrue([
      for t in [aws_ecs_cluster.this.tags, aws_ecs_service.this["blue"].tags, aws_ecs_task_definition.this["green"].tags, aws_cloudwatch_log_group.app.tags, aws_iam_role.task.tags] :
      t["Environment"] == "prod" && t["Project"] == "switchyard" && t["Owner"] == "platform-team" && endswith(t["Name"], "-prod-td01")
    ])
    error_message = "Resources must carry Environment/Project/Owner and a Name ending with the suffix."
  }

  assert {
    condition     = aws_ecs_task_definition.this["blue"].family == "td-blue-prod-td01" && aws_cloudwatch_log_group.app.name == "log-ecs-prod-td01"
    error_message = "Family and log group names must end with the suffix."
  }
}
