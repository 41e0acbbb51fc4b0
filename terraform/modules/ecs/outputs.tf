output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the ECS cluster."
  value       = aws_ecs_cluster.this.arn
}

output "blue_service_name" {
  description = "Name of the blue ECS service."
  value       = aws_ecs_service.this["blue"].name
}

output "green_service_name" {
  description = "Name of the green ECS service."
  value       = aws_ecs_service.this["green"].name
}

output "service_names" {
  description = "Service names by colour (blue, green)."
  value       = { for colour, svc in aws_ecs_service.this : colour => svc.name }
}

output "task_definition_arns" {
  description = "ARNs of the task definitions Terraform registered, by colour (blue, green). switchyard registers later revisions itself."
  value       = { for colour, td in aws_ecs_task_definition.this : colour => td.arn }
}

output "task_definition_families" {
  description = "Task definition families by colour (blue, green)."
  value       = { for colour, td in aws_ecs_task_definition.this : colour => td.family }
}

output "task_role_arn" {
  description = "ARN of the role the application containers assume."
  value       = aws_iam_role.task.arn
}

output "execution_role_arn" {
  description = "ARN of the task execution role (image pull, logs, secrets)."
  value       = aws_iam_role.execution.arn
}

output "log_group_name" {
  description = "Name of the KMS-encrypted CloudWatch log group of the application containers."
  value       = aws_cloudwatch_log_group.app.name
}

output "log_kms_key_arn" {
  description = "ARN of the KMS key encrypting the application log group."
  value       = aws_kms_key.logs.arn
}

output "container_name" {
  description = "Name of the application container in the task definitions."
  value       = var.container_name
}

output "service_subnet_ids" {
  description = "Map of colour => subnets the service's tasks run in (the private app subnets), read back from the services."
  value       = { for colour, svc in aws_ecs_service.this : colour => sort(tolist(svc.network_configuration[0].subnets)) }
}

output "execution_secret_arns" {
  description = "Secret ARNs the task execution role may read (secretsmanager:GetSecretValue), read back from its policy document."
  value = sort(distinct(flatten([
    for s in data.aws_iam_policy_document.execution.statement : tolist(s.resources) if contains(s.actions, "secretsmanager:GetSecretValue")
  ])))
}

output "deployment_alarm_names" {
  description = "Alarm names each service's ECS deployments watch (rollback on ALARM), by colour."
  value       = { for colour, svc in aws_ecs_service.this : colour => try(sort(tolist(svc.alarms[0].alarm_names)), []) }
}

output "container_insights_log_group_name" {
  description = "The Container Insights performance log group the module manages (KMS, retention)."
  value       = aws_cloudwatch_log_group.container_insights.name
}

output "runtime_secret_arns" {
  description = "Secrets the task role may read at runtime (echo of the input, for wiring checks)."
  value       = var.runtime_secret_arns
}

output "container_contract" {
  description = "By colour, read back from the task definitions Terraform registered: the HEALTH_CHECK_PATH the container is given, its health check command and whether its root filesystem is read-only (the image contract the tasks expect)."
  value = { for colour, td in aws_ecs_task_definition.this : colour => {
    health_check_path        = one([for e in jsondecode(td.container_definitions)[0].environment : e.value if e.name == "HEALTH_CHECK_PATH"])
    health_check_command     = jsondecode(td.container_definitions)[0].healthCheck.command
    readonly_root_filesystem = jsondecode(td.container_definitions)[0].readonlyRootFilesystem
  } }
}

output "db_connect_arns" {
  description = "Database users the task role may rds-db:connect as (IAM database authentication), read back from its policy document; empty without db_iam_auth."
  value = sort(distinct(flatten([
    for d in data.aws_iam_policy_document.task : [for s in d.statement : tolist(s.resources) if contains(s.actions, "rds-db:connect")]
  ])))
}
