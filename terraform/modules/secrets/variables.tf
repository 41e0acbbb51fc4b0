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

variable "app_secrets" {
  description = <<-EOT
    Application secrets to create, keyed by a snake_case name (e.g. django_secret_key). Each becomes the Secrets
    Manager secret secret-<name with hyphens>-<environment>-<environment_suffix>, encrypted with this module's key.
    Values are NOT set by Terraform (see README: set them out-of-band or attach a rotation Lambda), so they never
    land in state. rotation_lambda_arn (optional) turns on rotation every rotation_days days (default 30).
  EOT
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

  validation {
    condition     = length(var.app_secrets) > 0 && alltrue([for k in keys(var.app_secrets) : can(regex("^[a-z][a-z0-9_]{1,47}$", k))])
    error_message = "app_secrets must have at least one entry and every key must match ^[a-z][a-z0-9_]{1,47}$ (snake_case, e.g. django_secret_key)."
  }

  validation {
    condition     = alltrue([for s in values(var.app_secrets) : s.rotation_lambda_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:.+$", s.rotation_lambda_arn))])
    error_message = "rotation_lambda_arn must be null or a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)."
  }

  validation {
    condition     = alltrue([for s in values(var.app_secrets) : s.rotation_days >= 1 && s.rotation_days <= 1000 && floor(s.rotation_days) == s.rotation_days])
    error_message = "rotation_days must be an integer between 1 and 1000."
  }
}

variable "recovery_window_in_days" {
  description = "Days Secrets Manager keeps a deleted secret recoverable: 0 (delete immediately) or 7-30. Default 0 keeps test/demo stacks destroyable and re-creatable under the same name; use 30 in production so a mistaken destroy can be undone."
  type        = number
  default     = 0

  validation {
    condition     = var.recovery_window_in_days == 0 || (var.recovery_window_in_days >= 7 && var.recovery_window_in_days <= 30 && floor(var.recovery_window_in_days) == var.recovery_window_in_days)
    error_message = "recovery_window_in_days must be 0 or an integer between 7 and 30."
  }
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before the secrets KMS key is deleted after destroy (7-30 days)."
  type        = number
  default     = 7

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30 && floor(var.kms_deletion_window_in_days) == var.kms_deletion_window_in_days
    error_message = "kms_deletion_window_in_days must be an integer between 7 and 30."
  }
}

variable "extra_secret_arns" {
  description = "ARNs of secrets created elsewhere (e.g. the database module's RDS-managed master user secret) that the ECS task execution role must also read; appended to the secret_arns output."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.extra_secret_arns : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", a))])
    error_message = "extra_secret_arns must contain only Secrets Manager secret ARNs (arn:aws:secretsmanager:<region>:<account>:secret:<name>)."
  }
}
