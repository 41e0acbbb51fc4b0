variable "region" {
  description = "AWS region of the stack. The stack is designed and tested for us-east-1 (the ALB log-delivery account and market schedule assume it), but any region name is accepted."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

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

variable "service_name" {
  description = "Name of the service in the controller contract (key under controller.services) and the ECR repository qualifier."
  type        = string
  default     = "web"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.service_name))
    error_message = "service_name must be 2-12 lowercase letters or digits, starting with a letter (e.g. web)."
  }
}

################################################################################
# Network
################################################################################

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC (/16 to /24); split into 3 public, 3 app and 3 data subnets."
  type        = string
  default     = "10.40.0.0/16"
}

variable "app_port" {
  description = "Port the Django container listens on (target groups, security groups, container port mapping)."
  type        = number
  default     = 8000

  validation {
    condition     = var.app_port >= 1024 && var.app_port <= 65535 && floor(var.app_port) == var.app_port
    error_message = "app_port must be an unprivileged port between 1024 and 65535 (the container runs as non-root)."
  }
}

################################################################################
# Load balancer and WAF
################################################################################

variable "certificate_arn" {
  description = "ACM certificate ARN (same region) for the HTTPS and test listeners."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN, e.g. arn:aws:acm:us-east-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab."
  }
}

variable "test_listener_port" {
  description = "Port of the HTTPS test listener that forwards to the green target group only."
  type        = number
  default     = 8443
}

variable "test_listener_allowed_cidrs" {
  description = "IPv4 CIDRs allowed to reach the test listener (operators, CI, the switchyard host). Empty = unreachable."
  type        = list(string)
  default     = []
}

variable "health_check_path" {
  description = "Health check path of the target groups and the container health check."
  type        = string
  default     = "/healthz"
}

variable "deregistration_delay" {
  description = "Target group deregistration delay (seconds); switchyard waits it out before scaling the old colour down."
  type        = number
  default     = 30
}

variable "alb_deletion_protection" {
  description = "ALB deletion protection. false keeps the stack destroyable; set true in production."
  type        = bool
  default     = false
}

variable "alb_access_logs_force_destroy" {
  description = "Let destroy delete the ALB access-log bucket with its logs. true keeps the stack destroyable; set false in production to retain the logs."
  type        = bool
  default     = true
}

variable "waf_rate_limit" {
  description = "Requests per client IP per 5 minutes before the WAF rate-based rule blocks the IP."
  type        = number
  default     = 2000
}

################################################################################
# Container image and tasks
################################################################################

variable "initial_image_tag" {
  description = "Image tag in the stack's ECR repository used by the first task definitions (push it before apply). switchyard registers the task definitions of later releases."
  type        = string
  default     = "bootstrap"

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.initial_image_tag))
    error_message = "initial_image_tag must be a valid image tag (letters, digits, _ . -; at most 128 characters)."
  }
}

variable "task_cpu" {
  description = "Fargate task CPU units (256, 512, 1024, 2048, 4096, 8192, 16384)."
  type        = number
  default     = 512
}

variable "task_memory" {
  description = "Fargate task memory in MiB (must suit task_cpu)."
  type        = number
  default     = 1024
}

variable "desired_count" {
  description = "Initial task count of the blue service (green starts at 0)."
  type        = number
  default     = 2
}

variable "min_capacity" {
  description = "Autoscaling floor of the live service outside market hours."
  type        = number
  default     = 2
}

variable "max_capacity" {
  description = "Autoscaling ceiling of each service."
  type        = number
  default     = 10
}

variable "market_hours_min_capacity" {
  description = "Autoscaling floor during US market hours."
  type        = number
  default     = 4
}

variable "market_open_schedule" {
  description = "Cron (America/New_York) raising the floor before the market opens."
  type        = string
  default     = "cron(0 8 ? * MON-FRI *)"
}

variable "market_close_schedule" {
  description = "Cron (America/New_York) lowering the floor after the market closes."
  type        = string
  default     = "cron(30 16 ? * MON-FRI *)"
}

variable "app_environment" {
  description = "Extra non-secret environment variables of the Django container (name => value). Secrets go in app_secrets."
  type        = map(string)
  default     = {}
}

variable "app_secrets" {
  description = "Application secrets created in Secrets Manager (snake_case key => settings) and injected into the container as UPPER_CASE environment variables through the task definition `secrets`. Values are set out of band."
  type = map(object({
    description         = string
    rotation_lambda_arn = optional(string)
    rotation_days       = optional(number, 30)
  }))
  default = {
    django_secret_key = {
      description = "Django SECRET_KEY for the trading dashboard"
    }
  }
}

variable "secrets_recovery_window_in_days" {
  description = "Secrets Manager recovery window. 0 deletes secrets immediately on destroy (destroyable stacks); production should use 7-30."
  type        = number
  default     = 0
}

################################################################################
# Database
################################################################################

variable "db_instance_class" {
  description = "Aurora PostgreSQL instance class of the writer and the reader."
  type        = string
  default     = "db.r6g.large"
}

variable "db_iam_username" {
  description = "Database user the app connects as with IAM authentication (task role gets rds-db:connect for it; create it in the database with GRANT rds_iam). null grants no IAM database access."
  type        = string
  default     = "app"
}

variable "inject_db_master_credentials" {
  description = "Inject the RDS-managed master user secret into the container (DATABASE_USERNAME / DATABASE_PASSWORD). Convenient for a first deployment and for migrations; production should use IAM authentication (db_iam_username) and set this to false."
  type        = bool
  default     = true
}

variable "db_skip_final_snapshot" {
  description = "Skip the final snapshot on destroy. true keeps the stack destroyable without leftovers; production should set false."
  type        = bool
  default     = true
}

variable "db_deletion_protection" {
  description = "Aurora deletion protection. false keeps the stack destroyable; production should set true."
  type        = bool
  default     = false
}

################################################################################
# Monitoring
################################################################################

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic; null = no subscription."
  type        = string
  default     = null
}

variable "ecr_force_delete" {
  description = "Let destroy delete the ECR repository with its images. true keeps the stack destroyable; production should set false."
  type        = bool
  default     = true
}
