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

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && try(cidrhost(var.vpc_cidr, 0) == split("/", var.vpc_cidr)[0], false)
    error_message = "vpc_cidr must be an IPv4 network address in CIDR form with host bits zero, e.g. 10.40.0.0/16."
  }

  validation {
    condition     = try(tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 24, false)
    error_message = "vpc_cidr prefix length must be between /16 and /24 (each of the 9 subnets is 4 bits longer and AWS subnets stop at /28)."
  }
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
  description = "Port of the HTTPS test listener that forwards to the idle colour only (green at first; switchyard re-points it after each release)."
  type        = number
  default     = 8443

  # The public subnets' NACL admits only 80, 443 and the ephemeral range 1024-65535 inbound, so a
  # test listener below 1024 would be unreachable even from the allowed CIDRs.
  validation {
    condition     = var.test_listener_port >= 1024 && var.test_listener_port <= 65535 && floor(var.test_listener_port) == var.test_listener_port
    error_message = "test_listener_port must be an integer between 1024 and 65535: the public NACL only admits 80, 443 and the ephemeral range 1024-65535."
  }
}

variable "test_listener_allowed_cidrs" {
  description = "IPv4 CIDRs allowed to reach the test listener (operators, CI, the switchyard host). Empty = unreachable."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.test_listener_allowed_cidrs : can(cidrnetmask(c)) && try(tonumber(split("/", c)[1]) >= 8, false)])
    error_message = "test_listener_allowed_cidrs must hold IPv4 CIDR blocks no wider than /8 (the test listener serves unreleased code and must not be public), e.g. 203.0.113.0/24."
  }
}

variable "health_check_path" {
  description = "Health check path of the target groups and the container health check."
  type        = string
  default     = "/healthz"

  validation {
    condition     = can(regex("^/[A-Za-z0-9._~/-]*$", var.health_check_path)) && length(var.health_check_path) <= 1024
    error_message = "health_check_path must start with \"/\" and contain only URL path characters (at most 1024)."
  }
}

variable "deregistration_delay" {
  description = "Target group deregistration delay (seconds); switchyard waits it out before scaling the old colour down."
  type        = number
  default     = 30

  validation {
    condition     = var.deregistration_delay >= 0 && var.deregistration_delay <= 3600 && floor(var.deregistration_delay) == var.deregistration_delay
    error_message = "deregistration_delay must be an integer between 0 and 3600 seconds."
  }
}

# Trade-off: with the restriction (default) the tasks reach only ECR, Secrets Manager, CloudWatch
# Logs, STS (interface endpoints, ~USD 110/month for 5 endpoints x 3 AZs plus data) and S3 (gateway
# endpoint, free); any other API the app calls needs its own endpoint or the restriction off.
variable "restrict_app_egress_to_vpc_endpoints" {
  description = "Limit the ECS tasks' HTTPS egress to the stack's VPC endpoints (ECR api/dkr, Secrets Manager, CloudWatch Logs, STS, S3) instead of 0.0.0.0/0 through NAT. Set false if the app must call other APIs (market data, e-mail, other AWS services without an endpoint)."
  type        = bool
  default     = true
}

variable "alb_deletion_protection" {
  description = "ALB deletion protection. false keeps the stack destroyable; set true in production (destroy then needs an apply with false first)."
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

  validation {
    condition     = var.waf_rate_limit >= 10 && var.waf_rate_limit <= 2000000000 && floor(var.waf_rate_limit) == var.waf_rate_limit
    error_message = "waf_rate_limit must be an integer between 10 and 2000000000 (AWS WAF limits)."
  }
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

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.task_cpu)
    error_message = "task_cpu must be one of the Fargate sizes 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "task_memory" {
  description = "Fargate task memory in MiB (must suit task_cpu; the ecs module checks the combination)."
  type        = number
  default     = 1024

  validation {
    condition     = var.task_memory >= 512 && var.task_memory <= 122880 && floor(var.task_memory) == var.task_memory
    error_message = "task_memory must be an integer between 512 and 122880 MiB (Fargate range); the sizes allowed depend on task_cpu."
  }
}

variable "desired_count" {
  description = "Initial task count of the blue service (green starts at 0). Must be between min_capacity and max_capacity."
  type        = number
  default     = 2

  # The relations between the counts (min <= desired/market floor <= max) are checked by the ecs
  # module's preconditions: Terraform 1.5 validations cannot refer to other variables.
  validation {
    condition     = var.desired_count >= 1 && var.desired_count <= 1000 && floor(var.desired_count) == var.desired_count
    error_message = "desired_count must be an integer between 1 and 1000 (a live service never scales to zero)."
  }
}

variable "min_capacity" {
  description = "Autoscaling floor of the live service outside market hours. Must be <= max_capacity."
  type        = number
  default     = 2

  # The relations between the counts (min <= desired/market floor <= max) are checked by the ecs
  # module's preconditions: Terraform 1.5 validations cannot refer to other variables.
  validation {
    condition     = var.min_capacity >= 1 && var.min_capacity <= 1000 && floor(var.min_capacity) == var.min_capacity
    error_message = "min_capacity must be an integer between 1 and 1000 (a live service never scales to zero)."
  }
}

variable "max_capacity" {
  description = "Autoscaling ceiling of each service. Must be >= min_capacity and market_hours_min_capacity."
  type        = number
  default     = 10

  # The relations between the counts (min <= desired/market floor <= max) are checked by the ecs
  # module's preconditions: Terraform 1.5 validations cannot refer to other variables.
  validation {
    condition     = var.max_capacity >= 1 && var.max_capacity <= 1000 && floor(var.max_capacity) == var.max_capacity
    error_message = "max_capacity must be an integer between 1 and 1000 (a live service never scales to zero)."
  }
}

variable "market_hours_min_capacity" {
  description = "Autoscaling floor during US market hours. Must be between min_capacity and max_capacity."
  type        = number
  default     = 4

  # The relations between the counts (min <= desired/market floor <= max) are checked by the ecs
  # module's preconditions: Terraform 1.5 validations cannot refer to other variables.
  validation {
    condition     = var.market_hours_min_capacity >= 1 && var.market_hours_min_capacity <= 1000 && floor(var.market_hours_min_capacity) == var.market_hours_min_capacity
    error_message = "market_hours_min_capacity must be an integer between 1 and 1000 (a live service never scales to zero)."
  }
}

variable "market_open_schedule" {
  description = "Cron (America/New_York) raising the floor before the market opens."
  type        = string
  default     = "cron(0 8 ? * MON-FRI *)"

  validation {
    condition     = can(regex("^cron\\([0-9*?,/LW#-]+ [0-9*?,/LW#-]+ [0-9*?,/LW#-]+ [0-9A-Z*?,/LW#-]+ [0-9A-Z*?,/LW#-]+ [0-9*?,/-]+\\)$", var.market_open_schedule))
    error_message = "market_open_schedule must be a 6-field cron expression such as cron(0 8 ? * MON-FRI *) (minutes hours day-of-month month day-of-week year)."
  }
}

variable "market_close_schedule" {
  description = "Cron (America/New_York) lowering the floor after the market closes."
  type        = string
  default     = "cron(30 16 ? * MON-FRI *)"

  validation {
    condition     = can(regex("^cron\\([0-9*?,/LW#-]+ [0-9*?,/LW#-]+ [0-9*?,/LW#-]+ [0-9A-Z*?,/LW#-]+ [0-9A-Z*?,/LW#-]+ [0-9*?,/-]+\\)$", var.market_close_schedule))
    error_message = "market_close_schedule must be a 6-field cron expression such as cron(30 16 ? * MON-FRI *) (minutes hours day-of-month month day-of-week year)."
  }
}

variable "readonly_root_filesystem" {
  description = "Run the container with a read-only root filesystem and /tmp as a writable task bind mount. Needs the image contract (README \"Image contract\"): the image declares VOLUME [\"/tmp\"] on a /tmp its non-root user can write; without it ECS mounts /tmp root-owned 0755 and Django/gunicorn cannot write temporary files. Default false until the image honours it."
  type        = bool
  default     = false
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

  validation {
    condition     = var.secrets_recovery_window_in_days == 0 || (var.secrets_recovery_window_in_days >= 7 && var.secrets_recovery_window_in_days <= 30 && floor(var.secrets_recovery_window_in_days) == var.secrets_recovery_window_in_days)
    error_message = "secrets_recovery_window_in_days must be 0 or an integer between 7 and 30."
  }
}

################################################################################
# Database
################################################################################

variable "db_instance_class" {
  description = "Aurora PostgreSQL instance class of the writer and the reader."
  type        = string
  default     = "db.r6g.large"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.db_instance_class))
    error_message = "db_instance_class must look like db.<family>.<size>, e.g. db.r6g.large."
  }
}

variable "db_iam_username" {
  description = "Database user the app connects as with IAM authentication (task role gets rds-db:connect for it; create it in the database with GRANT rds_iam). null grants no IAM database access (then the app needs inject_db_master_credentials)."
  type        = string
  default     = "app"

  validation {
    condition     = var.db_iam_username == null || can(regex("^[a-z_][a-z0-9_]{0,62}$", var.db_iam_username))
    error_message = "db_iam_username must be null or a PostgreSQL user name (lowercase letters, digits, _; at most 63 characters; not starting with a digit)."
  }
}

# Off by default: the app connects as db_iam_username with IAM authentication (short-lived tokens,
# rds-db:connect for that user only). The master secret is never injected into the container (an
# injected value is resolved once per task and goes stale when RDS rotates it); with this on, the
# app reads it at runtime through the task role, for bootstrap work such as creating the IAM user.
variable "app_reads_db_master_secret" {
  description = "Let the application read the RDS-managed master user secret at runtime (task role secretsmanager:GetSecretValue on that secret; its ARN in DATABASE_MASTER_SECRET_ARN), so it always gets the current password after a rotation. Default false: the app uses IAM database authentication as db_iam_username. Turn on only for bootstrap work (creating the IAM user, migrations as the master user)."
  type        = bool
  default     = false
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
  description = "E-mail address subscribed to the alarm topic (on-call). Required unless allow_alarms_without_notification is true: alarms that notify nobody are not monitoring."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address such as oncall@example.com, or null."
  }
}

variable "allow_alarms_without_notification" {
  description = "Accept an alarm topic without an e-mail subscription (alarm_email null): only where nobody needs to be paged (CI stacks) or the topic is subscribed outside this stack (sns_topic_arn output). switchyard reads alarm states either way."
  type        = bool
  default     = false
}

# The registry scanning configuration is ONE per account and region: managing it here replaces
# every registry scanning rule of the account, and destroying the stack resets it. Turn it on only
# where this stack owns the account's registry scanning configuration; otherwise the repository
# still scans on push (basic scanning) and the account's own configuration applies.
variable "enable_registry_enhanced_scanning" {
  description = "Manage the account-wide ECR registry scanning configuration (ENHANCED / Amazon Inspector, continuous scan of this repository). Default false because the setting replaces all registry scanning rules of the account; enable where this stack owns them."
  type        = bool
  default     = false
}

variable "ecr_force_delete" {
  description = "Let destroy delete the ECR repository with its images. true keeps the stack destroyable; production should set false."
  type        = bool
  default     = true
}

################################################################################
# Controller state (several switchyard daemons)
################################################################################

# Off by default: one switchyard daemon with its SQLite store is the default product mode and
# needs no AWS state. Turn it on to run several daemons sharing a DynamoDB table (docs/ha.md).
variable "controller_state_table" {
  description = "Create the DynamoDB table several switchyard daemons share (store.driver dynamodb, docs/ha.md): keys pk/sk, indexes gsi1/gsi2, TTL on expires_ttl, PITR, its own KMS key, on-demand billing. null (default) creates nothing: a single daemon keeps its state in SQLite. deletion_protection defaults to true; set false only to destroy the table."
  type = object({
    deletion_protection = optional(bool, true)
  })
  default = null
}
