variable "region" {
  description = "AWS region of the state bucket and lock table (use the region of the stacks they serve)."
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

variable "force_destroy" {
  description = "Allow destroying the state bucket while it still holds state objects and versions. Default true keeps test/demo accounts clean; set false in production so state cannot be deleted with the bucket."
  type        = bool
  default     = true
}

variable "lock_table_deletion_protection" {
  description = "Enable DynamoDB deletion protection on the lock table. Default false keeps test/demo stacks destroyable; set true in production."
  type        = bool
  default     = false
}

variable "noncurrent_version_retention_days" {
  description = "Days a superseded (noncurrent) state object version is kept before it expires; the recovery horizon for a bad state write."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_retention_days >= 7 && var.noncurrent_version_retention_days <= 3650 && floor(var.noncurrent_version_retention_days) == var.noncurrent_version_retention_days
    error_message = "noncurrent_version_retention_days must be an integer between 7 and 3650."
  }
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before the state KMS key is deleted after destroy (7-30 days)."
  type        = number
  default     = 7

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30 && floor(var.kms_deletion_window_in_days) == var.kms_deletion_window_in_days
    error_message = "kms_deletion_window_in_days must be an integer between 7 and 30."
  }
}

variable "state_key" {
  description = "Object key of the main stack's state file, rendered into backend_hcl. null = <project>/<environment>-<environment_suffix>/terraform.tfstate."
  type        = string
  default     = null

  validation {
    condition     = var.state_key == null || can(regex("^[A-Za-z0-9!_.*'()/-]+\\.tfstate$", var.state_key))
    error_message = "state_key must be null or an S3 key ending in .tfstate (letters, digits and !_.*'()/- only)."
  }
}

variable "access_log_bucket" {
  description = "Name of an existing S3 bucket (same region, SSE-S3, accepting S3 server access logs) that receives access logs of the state bucket under tfstate/<bucket>/. null = no access logging (CloudTrail data events are the alternative). Regulated accounts normally point this at the central log-archive bucket."
  type        = string
  default     = null

  validation {
    condition     = var.access_log_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket))
    error_message = "access_log_bucket must be null or a valid S3 bucket name."
  }
}

# Terraform >= 1.11 deprecates the S3 backend's dynamodb_table in favour of S3-native locking
# (use_lockfile, Terraform/OpenTofu >= 1.10); older versions know only the table.
variable "state_locking" {
  description = "How backend_hcl locks state: \"dynamodb\" (dynamodb_table; every Terraform >= 1.5 and OpenTofu), \"lockfile\" (use_lockfile = true, a .tflock object next to the state; Terraform/OpenTofu >= 1.10, no deprecation warning) or \"both\" (while moving from the table to the lock file). The lock table is created either way."
  type        = string
  default     = "dynamodb"

  validation {
    condition     = contains(["dynamodb", "lockfile", "both"], var.state_locking)
    error_message = "state_locking must be dynamodb, lockfile or both."
  }
}
