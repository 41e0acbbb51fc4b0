# CONTRACT: switchyard reads this output (`switchyard provision output`) to learn what it may
# shift. Its shape is fixed by schema_version; any change to keys or meaning needs a new
# schema_version and a matching switchyard release. See README.md "Controller contract".
output "controller" {
  description = "Machine-readable contract consumed by the switchyard controller (schema_version 1)."
  value = {
    schema_version     = 1
    region             = var.region
    environment        = var.environment
    environment_suffix = var.environment_suffix
    repository_url     = module.ecr.repository_url
    services = {
      (var.service_name) = {
        cluster                      = module.ecs.cluster_name
        blue_service                 = module.ecs.blue_service_name
        green_service                = module.ecs.green_service_name
        container                    = module.ecs.container_name
        image_repository             = module.ecr.repository_url
        listener_arn                 = module.alb.https_listener_arn
        rule_arns                    = module.alb.production_rule_arns
        test_listener_arn            = module.alb.test_listener_arn
        blue_target_group_arn        = module.alb.blue_target_group_arn
        green_target_group_arn       = module.alb.green_target_group_arn
        deregistration_delay_seconds = module.alb.deregistration_delay_seconds
        alarm_names                  = module.monitoring.guard_alarm_names
        blue_alarm_names             = module.monitoring.blue_alarm_names
        green_alarm_names            = module.monitoring.green_alarm_names
      }
    }
  }
}

output "alb_dns_name" {
  description = "Public DNS name of the ALB; point the service's DNS record (alias) at it."
  value       = module.alb.alb_dns_name
}

output "alb_zone_id" {
  description = "Route 53 zone ID of the ALB for alias records."
  value       = module.alb.alb_zone_id
}

output "vpc_id" {
  description = "ID of the VPC."
  value       = module.network.vpc_id
}

output "ecr_repository_url" {
  description = "ECR repository to push release images to."
  value       = module.ecr.repository_url
}

output "ecs_cluster_name" {
  description = "Name of the ECS cluster."
  value       = module.ecs.cluster_name
}

output "db_cluster_endpoint" {
  description = "Writer endpoint of the Aurora cluster."
  value       = module.database.cluster_endpoint
}

output "db_reader_endpoint" {
  description = "Reader endpoint of the Aurora cluster."
  value       = module.database.reader_endpoint
}

output "db_master_user_secret_arn" {
  description = "ARN of the RDS-managed master user secret."
  value       = module.database.master_user_secret_arn
}

output "app_secret_names" {
  description = "Names of the application secrets, to set their values out of band (aws secretsmanager put-secret-value)."
  value       = module.secrets.app_secret_names
}

output "waf_web_acl_arn" {
  description = "ARN of the WAF web ACL protecting the ALB."
  value       = module.waf.web_acl_arn
}

output "sns_topic_arn" {
  description = "ARN of the alarm topic."
  value       = module.monitoring.sns_topic_arn
}

output "alarm_names" {
  description = "Names of every CloudWatch alarm of the stack."
  value       = module.monitoring.alarm_names
}

# Not part of the controller contract (schema_version 1): the table name goes into the daemons'
# store.table, and the policy onto the role they run as (the stack defines no such role).
output "controller_state_table" {
  description = "The switchyard daemons' shared DynamoDB table when controller_state_table is set, else null: name (store.table), arn, kms_key_arn, and daemon_policy_json, the least-privilege IAM policy document for the daemons' role."
  value = var.controller_state_table == null ? null : {
    name               = module.controller_state[0].table_name
    arn                = module.controller_state[0].table_arn
    kms_key_arn        = module.controller_state[0].kms_key_arn
    daemon_policy_json = module.controller_state[0].daemon_policy_json
  }
}
