variable "environment" {
  description = "Environment name (e.g. prod, dev). Lowercase, starts with a letter, 2-10 characters. Used in every resource name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "environment must match ^[a-z][a-z0-9]{1,9}$ (lowercase letter first, 2-10 lowercase letters/digits), e.g. \"prod\"."
  }
}

variable "environment_suffix" {
  description = "Short unique suffix that distinguishes parallel stacks of the same environment (e.g. td01). Every resource name ends with -<environment>-<environment_suffix>."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]{2,12}$", var.environment_suffix))
    error_message = "environment_suffix must match ^[a-z0-9]{2,12}$ (2-12 lowercase letters/digits), e.g. \"td01\"."
  }
}

variable "project" {
  description = "Project name, applied as the Project tag."
  type        = string
  default     = "switchyard"

  validation {
    condition     = length(trimspace(var.project)) > 0
    error_message = "project must not be empty."
  }
}

variable "owner" {
  description = "Owning team or person, applied as the Owner tag."
  type        = string

  validation {
    condition     = length(trimspace(var.owner)) > 0
    error_message = "owner must not be empty."
  }
}

variable "tags" {
  description = "Extra tags merged into every taggable resource (Environment/Project/Owner/Name always win)."
  type        = map(string)
  default     = {}
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic (the recipient must confirm the subscription). Required unless allow_no_alarm_notifications is true."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address such as oncall@example.com, or null."
  }
}

# Alarms that page nobody look like monitoring and are not: a stack without a notification target
# must say so explicitly (e.g. a CI stack, or a topic subscribed outside Terraform).
variable "allow_no_alarm_notifications" {
  description = "Accept an alarm topic without a subscription from this module (alarm_email null): set true only where nobody needs to be paged (CI stacks) or the topic is subscribed outside Terraform. switchyard still reads the alarm states either way."
  type        = bool
  default     = false
}

variable "alb_arn_suffix" {
  description = "ARN suffix of the ALB (alb module output alb_arn_suffix), the LoadBalancer metric dimension."
  type        = string

  validation {
    condition     = can(regex("^app/[A-Za-z0-9-]+/[0-9a-f]+$", var.alb_arn_suffix))
    error_message = "alb_arn_suffix must look like app/<name>/<id>."
  }
}

variable "blue_target_group_arn_suffix" {
  description = "ARN suffix of the blue target group (alb module output), the TargetGroup metric dimension."
  type        = string

  validation {
    condition     = can(regex("^targetgroup/[A-Za-z0-9-]+/[0-9a-f]+$", var.blue_target_group_arn_suffix))
    error_message = "blue_target_group_arn_suffix must look like targetgroup/<name>/<id>."
  }
}

variable "green_target_group_arn_suffix" {
  description = "ARN suffix of the green target group (alb module output), the TargetGroup metric dimension."
  type        = string

  validation {
    condition     = can(regex("^targetgroup/[A-Za-z0-9-]+/[0-9a-f]+$", var.green_target_group_arn_suffix))
    error_message = "green_target_group_arn_suffix must look like targetgroup/<name>/<id>."
  }
}

variable "ecs_cluster_name" {
  description = "Name of the ECS cluster (ecs module output cluster_name)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.ecs_cluster_name))
    error_message = "ecs_cluster_name must be an ECS cluster name (letters, digits, hyphens, underscores)."
  }
}

variable "blue_service_name" {
  description = "Name of the blue ECS service (ecs module output blue_service_name)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.blue_service_name))
    error_message = "blue_service_name must be an ECS service name."
  }
}

variable "green_service_name" {
  description = "Name of the green ECS service (ecs module output green_service_name)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.green_service_name))
    error_message = "green_service_name must be an ECS service name."
  }
}

variable "db_cluster_identifier" {
  description = "Aurora cluster identifier (database module output cluster_identifier)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.db_cluster_identifier))
    error_message = "db_cluster_identifier must be an RDS cluster identifier (lowercase letter first, letters, digits, hyphens)."
  }
}

variable "db_writer_instance_id" {
  description = "Identifier of the Aurora writer instance (database module output writer_instance_id); FreeableMemory is watched on it."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.db_writer_instance_id))
    error_message = "db_writer_instance_id must be an RDS instance identifier."
  }
}

variable "db_reader_instance_id" {
  description = "Identifier of the Aurora reader instance (database module output reader_instance_id); AuroraReplicaLag and FreeableMemory are watched on it."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.db_reader_instance_id))
    error_message = "db_reader_instance_id must be an RDS instance identifier."
  }
}

variable "ecs_cpu_threshold" {
  description = "Average service CPU utilisation (percent) above which the ECS CPU alarms fire."
  type        = number
  default     = 85

  validation {
    condition     = var.ecs_cpu_threshold > 0 && var.ecs_cpu_threshold <= 100
    error_message = "ecs_cpu_threshold must be a percentage between 0 (exclusive) and 100."
  }
}

variable "ecs_memory_threshold" {
  description = "Average service memory utilisation (percent) above which the ECS memory alarms fire."
  type        = number
  default     = 85

  validation {
    condition     = var.ecs_memory_threshold > 0 && var.ecs_memory_threshold <= 100
    error_message = "ecs_memory_threshold must be a percentage between 0 (exclusive) and 100."
  }
}

variable "elb_5xx_threshold" {
  description = "ALB-generated 5xx responses per minute (HTTPCode_ELB_5XX_Count) above which the guard alarm fires."
  type        = number
  default     = 5

  validation {
    condition     = var.elb_5xx_threshold >= 0 && floor(var.elb_5xx_threshold) == var.elb_5xx_threshold
    error_message = "elb_5xx_threshold must be a non-negative integer count."
  }
}

variable "target_5xx_threshold" {
  description = "Target 5xx responses per alarm period (HTTPCode_Target_5XX_Count) above which a colour's and the load balancer's target-5xx alarms fire."
  type        = number
  default     = 5

  validation {
    condition     = var.target_5xx_threshold >= 0 && floor(var.target_5xx_threshold) == var.target_5xx_threshold
    error_message = "target_5xx_threshold must be a non-negative integer count."
  }
}

variable "latency_p99_threshold_seconds" {
  description = "p99 TargetResponseTime in seconds above which a colour's latency alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.latency_p99_threshold_seconds > 0 && var.latency_p99_threshold_seconds <= 60
    error_message = "latency_p99_threshold_seconds must be greater than 0 and at most 60."
  }
}

variable "shift_alarm_period" {
  description = "Period in seconds of the per-colour alarms switchyard watches during a shift. ALB metrics are published every 60 s, so 60 is the shortest useful period; 10/20/30 apply only to high-resolution custom metrics."
  type        = number
  default     = 60

  validation {
    condition     = contains([10, 20, 30], var.shift_alarm_period) || (var.shift_alarm_period >= 60 && var.shift_alarm_period % 60 == 0)
    error_message = "shift_alarm_period must be 10, 20, 30 or a multiple of 60 seconds."
  }
}

variable "shift_alarm_evaluation_periods" {
  description = "Evaluation periods of the per-colour alarms (all of them must breach). Small so a bad release is rolled back quickly."
  type        = number
  default     = 1

  validation {
    condition     = var.shift_alarm_evaluation_periods >= 1 && var.shift_alarm_evaluation_periods <= 10 && floor(var.shift_alarm_evaluation_periods) == var.shift_alarm_evaluation_periods
    error_message = "shift_alarm_evaluation_periods must be an integer between 1 and 10."
  }
}

variable "db_cpu_threshold" {
  description = "Aurora cluster CPU utilisation (percent) above which the database CPU alarm fires."
  type        = number
  default     = 80

  validation {
    condition     = var.db_cpu_threshold > 0 && var.db_cpu_threshold <= 100
    error_message = "db_cpu_threshold must be a percentage between 0 (exclusive) and 100."
  }
}

variable "db_connections_threshold" {
  description = "Aurora cluster DatabaseConnections above which the connections alarm fires (size it below max_connections of the instance class)."
  type        = number
  default     = 400

  validation {
    condition     = var.db_connections_threshold >= 1 && floor(var.db_connections_threshold) == var.db_connections_threshold
    error_message = "db_connections_threshold must be a positive integer."
  }
}

variable "db_freeable_memory_threshold_bytes" {
  description = "FreeableMemory (bytes) below which an Aurora instance's memory alarm fires. Default 256 MiB."
  type        = number
  default     = 268435456

  validation {
    condition     = var.db_freeable_memory_threshold_bytes >= 16777216
    error_message = "db_freeable_memory_threshold_bytes must be at least 16777216 (16 MiB)."
  }
}

variable "db_replica_lag_threshold_ms" {
  description = "AuroraReplicaLag (milliseconds) on the reader above which the replica-lag alarm fires."
  type        = number
  default     = 2000

  validation {
    condition     = var.db_replica_lag_threshold_ms >= 10 && var.db_replica_lag_threshold_ms <= 600000
    error_message = "db_replica_lag_threshold_ms must be between 10 and 600000 milliseconds."
  }
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before the SNS KMS key is deleted after destroy (7-30 days)."
  type        = number
  default     = 7

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30
    error_message = "kms_deletion_window_in_days must be between 7 and 30."
  }
}
