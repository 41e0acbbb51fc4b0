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

variable "repository_qualifier" {
  description = "Qualifier in the repository name ecr-<qualifier>-<environment>-<environment_suffix>, usually the service name."
  type        = string
  default     = "web"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,29}[a-z0-9]$", var.repository_qualifier))
    error_message = "repository_qualifier must be 2-31 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "kms_key_arn" {
  description = "ARN of an existing customer managed KMS key to encrypt the repository. null = create a dedicated key (alias/kms-ecr-<env>-<suffix>). Changing this after creation replaces the repository."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before the created KMS key is deleted after destroy (7-30 days). Ignored when kms_key_arn is set."
  type        = number
  default     = 7

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30 && floor(var.kms_deletion_window_in_days) == var.kms_deletion_window_in_days
    error_message = "kms_deletion_window_in_days must be an integer between 7 and 30."
  }
}

variable "keep_tagged_images" {
  description = "Lifecycle policy: number of most recent tagged images to keep; older tagged images expire. Keep enough for rollbacks."
  type        = number
  default     = 30

  validation {
    condition     = var.keep_tagged_images >= 1 && var.keep_tagged_images <= 1000 && floor(var.keep_tagged_images) == var.keep_tagged_images
    error_message = "keep_tagged_images must be an integer between 1 and 1000."
  }
}

variable "untagged_image_expiry_days" {
  description = "Lifecycle policy: untagged images (e.g. superseded manifest layers) expire this many days after push."
  type        = number
  default     = 7

  validation {
    condition     = var.untagged_image_expiry_days >= 1 && var.untagged_image_expiry_days <= 365 && floor(var.untagged_image_expiry_days) == var.untagged_image_expiry_days
    error_message = "untagged_image_expiry_days must be an integer between 1 and 365."
  }
}

variable "force_delete" {
  description = "Delete the repository even if it contains images. Default true keeps test/demo stacks destroyable; set false in production so a destroy cannot drop released images."
  type        = bool
  default     = true
}

variable "enable_registry_enhanced_scanning" {
  description = "Manage the registry scanning configuration (ENHANCED / Amazon Inspector) with a rule for this repository. The setting is ACCOUNT-WIDE and replaces all existing registry scanning rules, so it is off by default (as at the root); turn it on only where this stack owns the account's registry scanning."
  type        = bool
  default     = false
}

variable "enhanced_scan_frequency" {
  description = "Enhanced scanning frequency for this repository: CONTINUOUS_SCAN (re-scan on new CVEs, includes scan on push) or SCAN_ON_PUSH."
  type        = string
  default     = "CONTINUOUS_SCAN"

  validation {
    condition     = contains(["CONTINUOUS_SCAN", "SCAN_ON_PUSH"], var.enhanced_scan_frequency)
    error_message = "enhanced_scan_frequency must be CONTINUOUS_SCAN or SCAN_ON_PUSH."
  }
}
