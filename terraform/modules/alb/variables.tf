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

variable "vpc_id" {
  description = "ID of the VPC the target groups live in (network module output vpc_id)."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must be a VPC ID such as vpc-0123456789abcdef0."
  }
}

variable "public_subnet_ids" {
  description = "Public subnet IDs (one per AZ) the internet-facing ALB is placed in (network module output public_subnet_ids)."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_ids) >= 2 && alltrue([for s in var.public_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "public_subnet_ids must hold at least two subnet IDs (subnet-...) in different AZs; an ALB needs two AZs."
  }
}

variable "alb_security_group_id" {
  description = "Security group of the ALB, created by the network module (ingress 443/80 from the internet, egress to the app SG on app_port). This module only adds the test-listener ingress rules to it."
  type        = string

  validation {
    condition     = can(regex("^sg-[0-9a-f]{8,17}$", var.alb_security_group_id))
    error_message = "alb_security_group_id must be a security group ID such as sg-0123456789abcdef0."
  }
}

variable "app_port" {
  description = "Port the application container listens on; the target groups forward HTTP to it."
  type        = number
  default     = 8000

  validation {
    condition     = var.app_port >= 1 && var.app_port <= 65535 && floor(var.app_port) == var.app_port
    error_message = "app_port must be an integer between 1 and 65535."
  }
}

variable "certificate_arn" {
  description = "ARN of the ACM certificate (in the ALB's region) served by the HTTPS and test listeners."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN, e.g. arn:aws:acm:us-east-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab."
  }
}

variable "ssl_policy" {
  description = "TLS security policy of the HTTPS listeners. The default allows only TLS 1.3 and TLS 1.2 with forward-secret ciphers."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  validation {
    condition     = can(regex("^ELBSecurityPolicy-(TLS13-1-[23]-|FS-1-2-Res-)", var.ssl_policy))
    error_message = "ssl_policy must be a TLS 1.2+ forward-secrecy policy (ELBSecurityPolicy-TLS13-1-2-*, ELBSecurityPolicy-TLS13-1-3-* or ELBSecurityPolicy-FS-1-2-Res-*)."
  }
}

variable "initial_blue_weight" {
  description = "Weight of the blue target group when the listener and rules are first created. Afterwards switchyard owns the weights (Terraform ignores changes)."
  type        = number
  default     = 100

  validation {
    condition     = var.initial_blue_weight >= 0 && var.initial_blue_weight <= 999 && floor(var.initial_blue_weight) == var.initial_blue_weight
    error_message = "initial_blue_weight must be an integer between 0 and 999 (the ALB weighted-forward range)."
  }
}

variable "initial_green_weight" {
  description = "Weight of the green target group when the listener and rules are first created. Afterwards switchyard owns the weights (Terraform ignores changes)."
  type        = number
  default     = 0

  validation {
    condition     = var.initial_green_weight >= 0 && var.initial_green_weight <= 999 && floor(var.initial_green_weight) == var.initial_green_weight
    error_message = "initial_green_weight must be an integer between 0 and 999 (the ALB weighted-forward range)."
  }
}

variable "stickiness_enabled" {
  description = "Whether the weighted forward actions bind a client to the target group it first reached. Off by default so a weight shift moves traffic immediately; turn on only if the app keeps server-side session state."
  type        = bool
  default     = false
}

variable "stickiness_duration" {
  description = "Target-group stickiness duration in seconds (1-604800), used when stickiness_enabled is true."
  type        = number
  default     = 300

  validation {
    condition     = var.stickiness_duration >= 1 && var.stickiness_duration <= 604800 && floor(var.stickiness_duration) == var.stickiness_duration
    error_message = "stickiness_duration must be an integer between 1 and 604800 seconds (7 days)."
  }
}

variable "routing_rules" {
  description = "Path-based rules on the HTTPS listener, keyed by a short name. Each forwards to the blue/green pair with the same weights as the default action; switchyard shifts them together with the listener."
  type = map(object({
    priority      = number
    path_patterns = list(string)
  }))
  default = {
    api = {
      priority      = 100
      path_patterns = ["/api/*"]
    }
    static = {
      priority      = 200
      path_patterns = ["/static/*"]
    }
  }

  validation {
    condition     = alltrue([for k, r in var.routing_rules : can(regex("^[a-z][a-z0-9]{0,11}$", k))])
    error_message = "routing_rules keys must be short lowercase names matching ^[a-z][a-z0-9]{0,11}$ (they become part of resource names)."
  }

  validation {
    condition     = alltrue([for r in var.routing_rules : r.priority >= 1 && r.priority <= 50000 && floor(r.priority) == r.priority])
    error_message = "Every routing_rules priority must be an integer between 1 and 50000."
  }

  validation {
    condition     = length(distinct([for r in var.routing_rules : r.priority])) == length(var.routing_rules)
    error_message = "routing_rules priorities must be unique on the listener."
  }

  validation {
    condition     = alltrue([for r in var.routing_rules : length(r.path_patterns) >= 1 && length(r.path_patterns) <= 5 && alltrue([for p in r.path_patterns : startswith(p, "/") && length(p) <= 128])])
    error_message = "Each routing rule needs 1-5 path patterns, each starting with \"/\" and at most 128 characters."
  }
}

variable "test_listener_port" {
  description = "Port of the HTTPS test listener that forwards to the idle colour (green at first), so a release can be verified before it takes production traffic."
  type        = number
  default     = 8443

  validation {
    condition     = var.test_listener_port >= 1 && var.test_listener_port <= 65535 && floor(var.test_listener_port) == var.test_listener_port && !contains([80, 443], var.test_listener_port)
    error_message = "test_listener_port must be an integer between 1 and 65535 and must not be 80 or 443 (the production listeners)."
  }
}

variable "test_listener_initial_colour" {
  description = "Colour the test listener forwards to when it is created (green: blue is live first). Afterwards switchyard points it at the idle colour (Terraform ignores changes)."
  type        = string
  default     = "green"

  validation {
    condition     = contains(["blue", "green"], var.test_listener_initial_colour)
    error_message = "test_listener_initial_colour must be \"blue\" or \"green\"."
  }
}

variable "test_listener_allowed_cidrs" {
  description = "IPv4 CIDRs (operators, CI runners, the switchyard host) allowed to reach the test listener. Empty means no ingress rule: the test listener exists but is unreachable."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.test_listener_allowed_cidrs : can(cidrnetmask(c))])
    error_message = "test_listener_allowed_cidrs must hold IPv4 CIDR blocks such as 203.0.113.0/24."
  }

  validation {
    condition     = !anytrue([for c in var.test_listener_allowed_cidrs : can(cidrnetmask(c)) && try(tonumber(split("/", c)[1]) < 8, false)])
    error_message = "test_listener_allowed_cidrs must not contain 0.0.0.0/0 or any block wider than /8: the test listener serves unreleased code and must not be public."
  }
}

variable "deregistration_delay" {
  description = "Seconds the ALB keeps draining in-flight requests to a deregistering target. switchyard waits this long before scaling the old colour down."
  type        = number
  default     = 30

  validation {
    condition     = var.deregistration_delay >= 0 && var.deregistration_delay <= 3600 && floor(var.deregistration_delay) == var.deregistration_delay
    error_message = "deregistration_delay must be an integer between 0 and 3600 seconds."
  }
}

variable "health_check_path" {
  description = "HTTP path the target groups probe; it must answer 200 when the task can serve traffic."
  type        = string
  default     = "/healthz"

  validation {
    condition     = can(regex("^/[A-Za-z0-9._~/-]*$", var.health_check_path)) && length(var.health_check_path) <= 1024
    error_message = "health_check_path must start with \"/\" and contain only URL path characters (at most 1024)."
  }
}

variable "health_check_interval" {
  description = "Seconds between target health checks (5-300)."
  type        = number
  default     = 10

  validation {
    condition     = var.health_check_interval >= 5 && var.health_check_interval <= 300
    error_message = "health_check_interval must be between 5 and 300 seconds."
  }
}

variable "health_check_timeout" {
  description = "Seconds before a health check without answer counts as failed (2-120, less than the interval)."
  type        = number
  default     = 5

  validation {
    condition     = var.health_check_timeout >= 2 && var.health_check_timeout <= 120
    error_message = "health_check_timeout must be between 2 and 120 seconds."
  }
}

variable "health_check_healthy_threshold" {
  description = "Consecutive successful checks before a target is healthy (2-10)."
  type        = number
  default     = 2

  validation {
    condition     = var.health_check_healthy_threshold >= 2 && var.health_check_healthy_threshold <= 10
    error_message = "health_check_healthy_threshold must be between 2 and 10."
  }
}

variable "health_check_unhealthy_threshold" {
  description = "Consecutive failed checks before a target is unhealthy (2-10)."
  type        = number
  default     = 2

  validation {
    condition     = var.health_check_unhealthy_threshold >= 2 && var.health_check_unhealthy_threshold <= 10
    error_message = "health_check_unhealthy_threshold must be between 2 and 10."
  }
}

variable "idle_timeout" {
  description = "ALB idle connection timeout in seconds (1-4000)."
  type        = number
  default     = 60

  validation {
    condition     = var.idle_timeout >= 1 && var.idle_timeout <= 4000
    error_message = "idle_timeout must be between 1 and 4000 seconds."
  }
}

variable "enable_deletion_protection" {
  description = "ALB deletion protection. Default false so the stack can be destroyed; production should set true (then destroy needs a prior apply with false)."
  type        = bool
  default     = false
}

variable "access_logs_force_destroy" {
  description = "Let destroy delete the access-log bucket with its objects. Default true for destroyable stacks; a regulated production stack should set false and keep the logs for its retention period."
  type        = bool
  default     = true
}

variable "access_logs_retention_days" {
  description = "Days after which access-log objects expire (noncurrent versions expire 30 days after that)."
  type        = number
  default     = 400

  validation {
    condition     = var.access_logs_retention_days >= 1 && var.access_logs_retention_days <= 3650 && floor(var.access_logs_retention_days) == var.access_logs_retention_days
    error_message = "access_logs_retention_days must be an integer between 1 and 3650."
  }
}
