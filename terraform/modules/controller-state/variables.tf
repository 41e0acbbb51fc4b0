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

variable "deletion_protection" {
  description = "DynamoDB deletion protection on the table. Default true: the table holds every deployment's history and the leases of running releases. A destroy then needs an apply with false first."
  type        = bool
  default     = true
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before the table's KMS key is deleted after destroy (7-30 days)."
  type        = number
  default     = 7

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30 && floor(var.kms_deletion_window_in_days) == var.kms_deletion_window_in_days
    error_message = "kms_deletion_window_in_days must be an integer between 7 and 30."
  }
}
