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

variable "app_subnet_ids" {
  description = "Private app-tier subnet IDs (one per AZ) the Fargate tasks run in (network module output app_subnet_ids)."
  type        = list(string)

  validation {
    condition     = length(var.app_subnet_ids) >= 2 && alltrue([for s in var.app_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "app_subnet_ids must hold at least two subnet IDs (subnet-...) in different AZs."
  }
}

variable "app_security_group_id" {
  description = "Security group of the tasks (network module output app_security_group_id): ingress from the ALB on app_port only."
  type        = string

  validation {
    condition     = can(regex("^sg-[0-9a-f]{8,17}$", var.app_security_group_id))
    error_message = "app_security_group_id must be a security group ID such as sg-0123456789abcdef0."
  }
}

variable "blue_target_group_arn" {
  description = "ARN of the blue target group (alb module output); the blue service registers its tasks there."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/", var.blue_target_group_arn))
    error_message = "blue_target_group_arn must be an ELB target group ARN (arn:aws:elasticloadbalancing:...:targetgroup/...)."
  }
}

variable "green_target_group_arn" {
  description = "ARN of the green target group (alb module output); the green service registers its tasks there."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/", var.green_target_group_arn))
    error_message = "green_target_group_arn must be an ELB target group ARN (arn:aws:elasticloadbalancing:...:targetgroup/...)."
  }
}

variable "ecr_repository_arn" {
  description = "ARN of the ECR repository holding the application image; the execution role may pull from this repository only."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", var.ecr_repository_arn))
    error_message = "ecr_repository_arn must be an ECR repository ARN (arn:aws:ecr:<region>:<account>:repository/<name>)."
  }
}

variable "container_image" {
  description = "Image of the first task definitions, <repository_url>:<tag> or <repository_url>@sha256:<digest>. switchyard registers new task definitions for each release."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$", var.container_image))
    error_message = "container_image must be <registry>/<repository>:<tag> or <registry>/<repository>@sha256:<digest>."
  }
}

variable "container_name" {
  description = "Name of the application container in the task definitions (switchyard replaces its image on release)."
  type        = string
  default     = "app"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_-]{0,254}$", var.container_name))
    error_message = "container_name must start with a letter and contain only letters, digits, hyphens and underscores (max 255)."
  }
}

variable "app_port" {
  description = "Port the application container listens on."
  type        = number
  default     = 8000

  validation {
    condition     = var.app_port >= 1 && var.app_port <= 65535 && floor(var.app_port) == var.app_port
    error_message = "app_port must be an integer between 1 and 65535."
  }
}

variable "cpu" {
  description = "Task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384. The memory must be a Fargate-supported size for this CPU."
  type        = number
  default     = 512

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.cpu)
    error_message = "cpu must be one of the Fargate sizes 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "memory" {
  description = "Task memory in MiB; must be valid for the chosen cpu (e.g. 512 CPU: 1024-4096 in 1024 steps; 1024 CPU: 2048-8192)."
  type        = number
  default     = 1024

  validation {
    condition     = var.memory >= 512 && var.memory <= 122880 && floor(var.memory) == var.memory
    error_message = "memory must be an integer between 512 and 122880 MiB (Fargate range); the exact sizes allowed depend on cpu."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture of the tasks: X86_64 or ARM64 (Graviton; the image must be built for it)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "readonly_root_filesystem" {
  description = "Mount the container root filesystem read-only, with /tmp as a writable bind mount of the task's ephemeral storage. Needs the image contract (README \"Image contract\"): the image declares VOLUME [\"/tmp\"] on a /tmp its user can write, otherwise ECS mounts /tmp root-owned 0755 and a non-root app cannot write it. Default false until the image honours it."
  type        = bool
  default     = false
}

variable "container_user" {
  description = "User (uid[:gid]) the container runs as; null keeps the image's USER. Set a non-root uid if the image does not."
  type        = string
  default     = null

  validation {
    condition     = var.container_user == null || can(regex("^[0-9]+(:[0-9]+)?$", var.container_user))
    error_message = "container_user must be a numeric uid or uid:gid such as 1000:1000."
  }

  validation {
    condition     = var.container_user == null || !can(regex("^0(:|$)", var.container_user))
    error_message = "container_user must not be root (uid 0)."
  }
}

variable "secrets" {
  description = "Secrets injected into the container, environment variable name => Secrets Manager secret ARN (optionally with :json-key:version-stage:version-id). Delivered through the task definition `secrets` (valueFrom), never as plain environment values."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.secrets) : can(regex("^[A-Z_][A-Z0-9_]*$", k))])
    error_message = "secrets keys must be environment variable names (uppercase letters, digits, underscores), e.g. DJANGO_SECRET_KEY."
  }

  validation {
    condition     = alltrue([for v in values(var.secrets) : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:", v))])
    error_message = "secrets values must be Secrets Manager secret ARNs (arn:aws:secretsmanager:<region>:<account>:secret:...)."
  }
}

variable "secret_arns" {
  description = "Exact Secrets Manager secret ARNs the task execution role may read (secretsmanager:GetSecretValue on exactly these). Every value in var.secrets must refer to one of them."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.secret_arns : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@!-]+$", a))])
    error_message = "secret_arns must be full Secrets Manager secret ARNs without wildcards."
  }
}

variable "secrets_kms_key_arns" {
  description = "ARNs of the KMS keys that encrypt the secrets in secret_arns; the execution role may kms:Decrypt with them through Secrets Manager only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.secrets_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]+$", a))])
    error_message = "secrets_kms_key_arns must be KMS key ARNs (arn:aws:kms:<region>:<account>:key/<id>), not aliases."
  }
}

variable "environment_variables" {
  description = "Non-secret environment variables of the container (name => value). Anything sensitive belongs in var.secrets."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.environment_variables) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k))])
    error_message = "environment_variables keys must be valid environment variable names."
  }

  validation {
    condition     = !anytrue([for k in keys(var.environment_variables) : can(regex("(?i)(password|passwd|secret|token|private_key|api_key|credential)", k)) && !endswith(k, "_ARN")])
    error_message = "environment_variables must not carry secrets (a name contains password/secret/token/private_key/api_key/credential): pass them in var.secrets so they are injected from Secrets Manager. Names ending in _ARN (a secret's ARN, not its value) are allowed."
  }
}

variable "health_check_path" {
  description = "HTTP path the container health check requests on 127.0.0.1:app_port."
  type        = string
  default     = "/healthz"

  validation {
    condition     = can(regex("^/[A-Za-z0-9._~/-]*$", var.health_check_path))
    error_message = "health_check_path must start with \"/\" and contain only URL path characters."
  }
}

variable "container_health_check_command" {
  description = "Container health check command (ECS healthCheck.command). null uses a Python one-liner that GETs health_check_path (the Django image has Python but not necessarily curl)."
  type        = list(string)
  default     = null

  validation {
    condition     = var.container_health_check_command == null || try(contains(["CMD", "CMD-SHELL"], var.container_health_check_command[0]), false)
    error_message = "container_health_check_command must start with \"CMD\" or \"CMD-SHELL\"."
  }
}

variable "health_check_grace_period_seconds" {
  description = "Seconds ECS ignores failing ALB health checks after a task starts (0-2147483647)."
  type        = number
  default     = 60

  validation {
    condition     = var.health_check_grace_period_seconds >= 0 && var.health_check_grace_period_seconds <= 2147483647
    error_message = "health_check_grace_period_seconds must be between 0 and 2147483647."
  }
}

variable "desired_count" {
  description = "Initial task count of the blue (live) service. Green starts at 0. Afterwards switchyard and autoscaling own the counts."
  type        = number
  default     = 2

  validation {
    condition     = var.desired_count >= 1 && var.desired_count <= 1000 && floor(var.desired_count) == var.desired_count
    error_message = "desired_count must be an integer between 1 and 1000."
  }
}

variable "min_capacity" {
  description = "Autoscaling floor of the live service outside market hours. Must be <= max_capacity."
  type        = number
  default     = 2

  validation {
    condition     = var.min_capacity >= 1 && var.min_capacity <= 1000 && floor(var.min_capacity) == var.min_capacity
    error_message = "min_capacity must be an integer between 1 and 1000 (a live service never scales to zero)."
  }
}

variable "max_capacity" {
  description = "Autoscaling ceiling of each service. Must be >= min_capacity and >= market_hours_min_capacity."
  type        = number
  default     = 10

  validation {
    condition     = var.max_capacity >= 1 && var.max_capacity <= 1000 && floor(var.max_capacity) == var.max_capacity
    error_message = "max_capacity must be an integer between 1 and 1000."
  }
}

variable "market_hours_min_capacity" {
  description = "Autoscaling floor during US market hours (raised by market_open_schedule, lowered back to min_capacity by market_close_schedule). Must be between min_capacity and max_capacity."
  type        = number
  default     = 4

  validation {
    condition     = var.market_hours_min_capacity >= 1 && var.market_hours_min_capacity <= 1000 && floor(var.market_hours_min_capacity) == var.market_hours_min_capacity
    error_message = "market_hours_min_capacity must be an integer between 1 and 1000."
  }
}

variable "market_open_schedule" {
  description = "Application Auto Scaling cron expression (6 fields, in schedule_timezone) that raises the floor before the US market opens."
  type        = string
  default     = "cron(0 8 ? * MON-FRI *)"

  validation {
    condition     = can(regex("^cron\\([0-9*?,/LW#-]+ [0-9*?,/LW#-]+ [0-9*?,/LW#-]+ [0-9A-Z*?,/LW#-]+ [0-9A-Z*?,/LW#-]+ [0-9*?,/-]+\\)$", var.market_open_schedule))
    error_message = "market_open_schedule must be a 6-field cron expression such as cron(0 8 ? * MON-FRI *) (minutes hours day-of-month month day-of-week year)."
  }
}

variable "market_close_schedule" {
  description = "Application Auto Scaling cron expression (6 fields, in schedule_timezone) that lowers the floor after the US market closes."
  type        = string
  default     = "cron(30 16 ? * MON-FRI *)"

  validation {
    condition     = can(regex("^cron\\([0-9*?,/LW#-]+ [0-9*?,/LW#-]+ [0-9*?,/LW#-]+ [0-9A-Z*?,/LW#-]+ [0-9A-Z*?,/LW#-]+ [0-9*?,/-]+\\)$", var.market_close_schedule))
    error_message = "market_close_schedule must be a 6-field cron expression such as cron(30 16 ? * MON-FRI *) (minutes hours day-of-month month day-of-week year)."
  }
}

variable "schedule_timezone" {
  description = "IANA time zone of the market schedules, so they follow US daylight saving time."
  type        = string
  default     = "America/New_York"

  validation {
    condition     = can(regex("^(UTC|[A-Z][A-Za-z_]+(/[A-Z][A-Za-z_+-]+){1,2})$", var.schedule_timezone))
    error_message = "schedule_timezone must be an IANA time zone name such as America/New_York or UTC."
  }
}

variable "cpu_target_utilization" {
  description = "Target average CPU utilisation (percent) of the target-tracking policy."
  type        = number
  default     = 60

  validation {
    condition     = var.cpu_target_utilization >= 10 && var.cpu_target_utilization <= 90
    error_message = "cpu_target_utilization must be between 10 and 90 percent."
  }
}

variable "memory_target_utilization" {
  description = "Target average memory utilisation (percent) of the target-tracking policy."
  type        = number
  default     = 70

  validation {
    condition     = var.memory_target_utilization >= 10 && var.memory_target_utilization <= 90
    error_message = "memory_target_utilization must be between 10 and 90 percent."
  }
}

variable "scale_in_cooldown" {
  description = "Seconds after a scale-in before another scale-in (0-3600)."
  type        = number
  default     = 300

  validation {
    condition     = var.scale_in_cooldown >= 0 && var.scale_in_cooldown <= 3600
    error_message = "scale_in_cooldown must be between 0 and 3600 seconds."
  }
}

variable "scale_out_cooldown" {
  description = "Seconds after a scale-out before another scale-out (0-3600)."
  type        = number
  default     = 60

  validation {
    condition     = var.scale_out_cooldown >= 0 && var.scale_out_cooldown <= 3600
    error_message = "scale_out_cooldown must be between 0 and 3600 seconds."
  }
}

variable "db_iam_auth" {
  description = "IAM database authentication for the task role: the Aurora cluster resource ID (cluster-XXXX) and the database users the app may connect as (rds-db:connect). null grants no database access."
  type = object({
    cluster_resource_id = string
    usernames           = list(string)
  })
  default = null

  validation {
    condition     = var.db_iam_auth == null || can(regex("^cluster-[A-Z0-9]+$", var.db_iam_auth.cluster_resource_id))
    error_message = "db_iam_auth.cluster_resource_id must be an Aurora cluster resource ID such as cluster-ABCDEFGHIJKLMNOP."
  }

  validation {
    condition     = var.db_iam_auth == null || try(length(var.db_iam_auth.usernames) > 0 && alltrue([for u in var.db_iam_auth.usernames : can(regex("^[a-z_][a-z0-9_]{0,62}$", u))]), false)
    error_message = "db_iam_auth.usernames must list at least one database user name (lowercase letters, digits, underscores); wildcards are not allowed."
  }
}

variable "enable_execute_command" {
  description = "Allow ECS Exec into running tasks (break-glass debugging; sessions are logged to the cluster log group). Off by default."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the application log group in days (a CloudWatch Logs allowed value)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before the log-encryption KMS key is deleted after destroy (7-30 days)."
  type        = number
  default     = 7

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30
    error_message = "kms_deletion_window_in_days must be between 7 and 30."
  }
}

variable "deployment_alarm_names" {
  description = "CloudWatch alarm names per colour (blue, green) that the colour's ECS deployments watch, rolling back when one goes to ALARM (aws_ecs_service alarms block). A colour without names gets no alarms block."
  type        = map(list(string))
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.deployment_alarm_names) : contains(["blue", "green"], k)])
    error_message = "deployment_alarm_names keys must be blue or green."
  }
}

variable "runtime_secret_arns" {
  description = "Secrets Manager secret ARNs the application reads itself at runtime through the task role (secretsmanager:GetSecretValue on exactly these), e.g. a rotated database secret that must never go stale in a running task."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.runtime_secret_arns : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@!-]+$", a))])
    error_message = "runtime_secret_arns must be full Secrets Manager secret ARNs without wildcards."
  }
}

variable "runtime_secret_kms_key_arns" {
  description = "KMS keys of runtime_secret_arns; the task role may kms:Decrypt with them through Secrets Manager only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.runtime_secret_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]+$", a))])
    error_message = "runtime_secret_kms_key_arns must be KMS key ARNs, not aliases."
  }
}
