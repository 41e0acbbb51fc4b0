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

variable "alb_arn" {
  description = "ARN of the application load balancer the web ACL protects (alb module output alb_arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:loadbalancer/app/", var.alb_arn))
    error_message = "alb_arn must be an application load balancer ARN (arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/...)."
  }
}

variable "rate_limit" {
  description = "Maximum requests per client IP within rate_limit_window_seconds before the rate-based rule blocks that IP."
  type        = number
  default     = 2000

  validation {
    condition     = var.rate_limit >= 10 && var.rate_limit <= 2000000000 && floor(var.rate_limit) == var.rate_limit
    error_message = "rate_limit must be an integer between 10 and 2000000000 (AWS WAF limits)."
  }
}

variable "rate_limit_window_seconds" {
  description = "Evaluation window of the rate-based rule in seconds: 60, 120, 300 or 600."
  type        = number
  default     = 300

  validation {
    condition     = contains([60, 120, 300, 600], var.rate_limit_window_seconds)
    error_message = "rate_limit_window_seconds must be one of 60, 120, 300 or 600."
  }
}

variable "common_rule_set_count_overrides" {
  description = "Names of rules in AWSManagedRulesCommonRuleSet to switch from block to count (e.g. SizeRestrictions_BODY for large form posts). Keep empty unless a false positive is proven in the WAF logs."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for n in var.common_rule_set_count_overrides : can(regex("^[A-Za-z0-9_]+$", n))])
    error_message = "common_rule_set_count_overrides entries must be managed rule names such as SizeRestrictions_BODY."
  }
}

variable "body_oversize_handling" {
  description = "What the custom SQLi/XSS body rules do with bodies larger than WAF inspects (8 KB for ALB): CONTINUE (inspect the first part), MATCH (block) or NO_MATCH."
  type        = string
  default     = "CONTINUE"

  validation {
    condition     = contains(["CONTINUE", "MATCH", "NO_MATCH"], var.body_oversize_handling)
    error_message = "body_oversize_handling must be CONTINUE, MATCH or NO_MATCH."
  }
}

variable "sqli_sensitivity_level" {
  description = "Sensitivity of the custom SQL-injection statements: LOW (fewer false positives) or HIGH."
  type        = string
  default     = "LOW"

  validation {
    condition     = contains(["LOW", "HIGH"], var.sqli_sensitivity_level)
    error_message = "sqli_sensitivity_level must be LOW or HIGH."
  }
}

variable "redacted_headers" {
  description = "Request headers replaced by REDACTED in the WAF logs (lowercase). authorization is always redacted."
  type        = list(string)
  default     = ["authorization", "cookie"]

  validation {
    condition     = alltrue([for h in var.redacted_headers : can(regex("^[a-z0-9-]{1,64}$", h))])
    error_message = "redacted_headers must be lowercase header names (letters, digits, dashes), e.g. authorization."
  }
}

variable "log_retention_days" {
  description = "Retention of the WAF log group in days (a CloudWatch Logs allowed value)."
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
