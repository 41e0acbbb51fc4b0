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

variable "data_subnet_ids" {
  description = "IDs of the 3 private data subnets (network module data_subnet_ids) for the DB subnet group. Never pass public or app subnets."
  type        = list(string)

  validation {
    condition     = length(var.data_subnet_ids) == 3 && length(distinct(var.data_subnet_ids)) == 3
    error_message = "data_subnet_ids must contain exactly 3 distinct subnet IDs (one data subnet per AZ)."
  }
}

variable "availability_zones" {
  description = "The 3 AZs of the data subnets (network module availability_zones). The writer is placed in the first, the reader in the second."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) == 3 && length(distinct(var.availability_zones)) == 3
    error_message = "availability_zones must contain exactly 3 distinct AZ names."
  }
}

variable "db_security_group_id" {
  description = "ID of the DB security group (network module db_security_group_id): 5432 from the app tier only."
  type        = string

  validation {
    condition     = can(regex("^sg-[0-9a-f]+$", var.db_security_group_id))
    error_message = "db_security_group_id must be a security group ID (sg-...)."
  }
}

# Major version only by default, the way terraform-aws-modules/rds-aurora and the provider docs
# ("the value can contain a partial version where supported by the API"; the actual version is
# engine_version_actual) handle automatic minor upgrades: RDS picks the current minor at creation,
# upgrades it in the maintenance window, and the provider keeps a configured "16" in state while the
# cluster runs 16.x, so a later plan shows no diff. A pinned "16.6" would read back as "16.8" after
# an automatic upgrade and every later plan would try to downgrade to 16.6, which RDS rejects; a
# pinned minor therefore needs auto_minor_version_upgrade = false (precondition on the cluster).
variable "engine_version" {
  description = "Aurora PostgreSQL engine version: the major version (default \"16\", RDS picks and upgrades the minor) or major.minor to pin one, which requires auto_minor_version_upgrade = false. The cluster parameter group family is derived from the major version."
  type        = string
  default     = "16"

  validation {
    condition     = can(regex("^1[4-7](\\.[0-9]+)?$", var.engine_version))
    error_message = "engine_version must be an Aurora PostgreSQL major version 14-17 (e.g. \"16\") or major.minor (e.g. \"16.6\")."
  }
}

variable "auto_minor_version_upgrade" {
  description = "Let RDS apply minor engine upgrades to the instances in the maintenance window. Requires engine_version to be a major version only; set false to pin a minor version."
  type        = bool
  default     = true
}

variable "instance_class" {
  description = "Instance class of the writer and the reader (same class so a failover does not shrink capacity)."
  type        = string
  default     = "db.r6g.large"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.instance_class))
    error_message = "instance_class must look like db.<family>.<size>, e.g. db.r6g.large."
  }
}

variable "database_name" {
  description = "Name of the initial database created in the cluster."
  type        = string
  default     = "switchyard"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.database_name))
    error_message = "database_name must start with a lowercase letter and contain only lowercase letters, digits and underscores (max 63)."
  }
}

variable "master_username" {
  description = "Master user name. The password is generated and stored by RDS in Secrets Manager (manage_master_user_password), never in Terraform state."
  type        = string
  default     = "dbadmin"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,15}$", var.master_username)) && !contains(["admin", "postgres", "rdsadmin", "root", "master"], var.master_username)
    error_message = "master_username must be 1-16 lowercase letters/digits/underscores starting with a letter and must not be a reserved name (admin, postgres, rdsadmin, root, master)."
  }
}

variable "master_user_secret_kms_key_id" {
  description = "KMS key (ARN) to encrypt the RDS-managed master user secret. null = use this module's database key. Pass the secrets module's kms_key_arn to keep every secret the tasks read under one key."
  type        = string
  default     = null

  validation {
    condition     = var.master_user_secret_kms_key_id == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/.+$", var.master_user_secret_kms_key_id))
    error_message = "master_user_secret_kms_key_id must be null or a KMS key/alias ARN."
  }
}

variable "master_user_secret_rotation_schedule" {
  description = "Rotation schedule (rate() or cron() expression) of the RDS-managed master user secret, applied through Secrets Manager managed rotation (no Lambda). RDS defaults to every 7 days; null leaves the RDS default unmanaged."
  type        = string
  default     = "rate(7 days)"

  validation {
    condition     = var.master_user_secret_rotation_schedule == null || can(regex("^(rate\\([0-9]+ (hours|days)\\)|cron\\(.+\\))$", var.master_user_secret_rotation_schedule))
    error_message = "master_user_secret_rotation_schedule must be null, rate(<n> hours|days) or cron(...)."
  }
}

variable "backup_retention_period" {
  description = "Days automated backups are kept (7-35). Below 7 is rejected: point-in-time recovery for a week is the minimum for this workload."
  type        = number
  default     = 14

  validation {
    condition     = var.backup_retention_period >= 7 && var.backup_retention_period <= 35 && floor(var.backup_retention_period) == var.backup_retention_period
    error_message = "backup_retention_period must be an integer between 7 and 35 days."
  }
}

variable "preferred_backup_window" {
  description = "Daily backup window in UTC (hh24:mi-hh24:mi, at least 30 minutes, must not overlap the maintenance window)."
  type        = string
  default     = "03:00-04:00"

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$", var.preferred_backup_window))
    error_message = "preferred_backup_window must be hh24:mi-hh24:mi in UTC, e.g. 03:00-04:00."
  }
}

variable "preferred_maintenance_window" {
  description = "Weekly maintenance window in UTC (ddd:hh24:mi-ddd:hh24:mi), outside market hours and the backup window."
  type        = string
  default     = "sun:05:00-sun:06:00"

  validation {
    condition     = can(regex("^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$", var.preferred_maintenance_window))
    error_message = "preferred_maintenance_window must be ddd:hh24:mi-ddd:hh24:mi in UTC, e.g. sun:05:00-sun:06:00."
  }
}

variable "monitoring_interval" {
  description = "Enhanced Monitoring interval in seconds (0 disables it and the monitoring role)."
  type        = number
  default     = 60

  validation {
    condition     = contains([0, 1, 5, 10, 15, 30, 60], var.monitoring_interval)
    error_message = "monitoring_interval must be one of 0, 1, 5, 10, 15, 30, 60."
  }
}

variable "performance_insights_retention_period" {
  description = "Performance Insights retention in days: 7 (free tier), 731, or a multiple of 31 up to 713."
  type        = number
  default     = 7

  validation {
    condition     = contains([7, 731], var.performance_insights_retention_period) || (var.performance_insights_retention_period % 31 == 0 && var.performance_insights_retention_period >= 31 && var.performance_insights_retention_period <= 713)
    error_message = "performance_insights_retention_period must be 7, 731, or a multiple of 31 between 31 and 713."
  }
}

variable "log_retention_days" {
  description = "Retention of the exported PostgreSQL log group /aws/rds/cluster/<cluster>/postgresql (a CloudWatch Logs value)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the CloudWatch Logs values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "ca_cert_identifier" {
  description = "Certificate authority of the instances' server certificates (clients verifying TLS must trust it)."
  type        = string
  default     = "rds-ca-rsa2048-g1"

  validation {
    condition     = can(regex("^rds-ca-[a-z0-9-]+$", var.ca_cert_identifier))
    error_message = "ca_cert_identifier must be an RDS CA identifier such as rds-ca-rsa2048-g1."
  }
}

variable "skip_final_snapshot" {
  description = "Skip the final snapshot on destroy. Default true keeps test/demo stacks destroyable; set false in production so destroy leaves snapshot rds-final-<env>-<suffix>."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Block deletion of the cluster. Default false keeps test/demo stacks destroyable; set true in production."
  type        = bool
  default     = false
}

variable "apply_immediately" {
  description = "Apply modifications immediately instead of in the next maintenance window. Keep false in production."
  type        = bool
  default     = false
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before the database KMS key is deleted after destroy (7-30 days)."
  type        = number
  default     = 7

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30 && floor(var.kms_deletion_window_in_days) == var.kms_deletion_window_in_days
    error_message = "kms_deletion_window_in_days must be an integer between 7 and 30."
  }
}
