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

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC, a network address with prefix length /16 to /24. It is split with cidrsubnet(vpc_cidr, 4, n) into 3 public, 3 app and 3 data subnets (one per AZ)."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be a valid IPv4 CIDR block such as 10.40.0.0/16."
  }

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && try(tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 24, false)
    error_message = "vpc_cidr prefix length must be between /16 and /24 (AWS allows /16-/28 for a VPC and each of the 9 subnets is 4 bits longer, at most /28)."
  }

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && try(cidrhost(var.vpc_cidr, 0) == split("/", var.vpc_cidr)[0], false)
    error_message = "vpc_cidr must be a network address (host bits zero), e.g. 10.40.0.0/16 rather than 10.40.1.0/16."
  }
}

variable "az_count" {
  description = "Number of availability zones. Fixed at 3: one NAT gateway, one public, one app and one data subnet per AZ."
  type        = number
  default     = 3

  validation {
    condition     = var.az_count == 3
    error_message = "az_count must be exactly 3; the network layout (subnets, NAT gateways, route tables) is designed for three AZs."
  }
}

variable "app_port" {
  description = "TCP port the application containers listen on (ALB -> ECS tasks)."
  type        = number
  default     = 8000

  validation {
    condition     = var.app_port >= 1024 && var.app_port <= 65535 && floor(var.app_port) == var.app_port
    error_message = "app_port must be an integer between 1024 and 65535 (non-privileged port; containers run as non-root)."
  }

  validation {
    condition     = !contains([5432], var.app_port)
    error_message = "app_port must not be 5432, which is reserved for the database tier."
  }
}

variable "alb_ingress_cidr_blocks" {
  description = "IPv4 CIDR blocks allowed to reach the ALB on 443 (and 80, which only redirects to 443). Default is the internet."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.alb_ingress_cidr_blocks) > 0 && alltrue([for c in var.alb_ingress_cidr_blocks : can(cidrhost(c, 0))])
    error_message = "alb_ingress_cidr_blocks must be a non-empty list of valid IPv4 CIDR blocks."
  }
}

# The public NACL has no rule for the test listener: it already admits the ephemeral range
# 1024-65535 from anywhere (for return traffic), which covers any port this validation accepts, so
# the port must be >= 1024 to be reachable at all. The NACL is therefore not what restricts the
# test listener; the security group rule (test_listener_cidr_blocks) is.
variable "test_listener_port" {
  description = "Optional port of the ALB test listener (used to verify the idle colour before shifting traffic). When set together with test_listener_cidr_blocks, the ALB security group allows it from those CIDRs only. null = no test listener ingress."
  type        = number
  default     = null

  validation {
    condition     = var.test_listener_port == null || try(var.test_listener_port >= 1024 && var.test_listener_port <= 65535 && floor(var.test_listener_port) == var.test_listener_port, false)
    error_message = "test_listener_port must be null or an integer between 1024 and 65535."
  }
}

variable "test_listener_cidr_blocks" {
  description = "IPv4 CIDR blocks allowed to reach test_listener_port (operators/CI egress ranges). Keep this narrow; never 0.0.0.0/0 in production."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.test_listener_cidr_blocks : can(cidrhost(c, 0))])
    error_message = "test_listener_cidr_blocks must contain only valid IPv4 CIDR blocks."
  }
}

variable "flow_log_retention_days" {
  description = "Retention of the VPC flow log group in days (a value CloudWatch Logs accepts). Regulated environments usually need >= 365."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be one of the CloudWatch Logs values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "flow_log_traffic_type" {
  description = "Traffic captured by the VPC flow log: ACCEPT, REJECT or ALL."
  type        = string
  default     = "ALL"

  validation {
    condition     = contains(["ACCEPT", "REJECT", "ALL"], var.flow_log_traffic_type)
    error_message = "flow_log_traffic_type must be ACCEPT, REJECT or ALL."
  }
}

variable "flow_log_max_aggregation_interval" {
  description = "Maximum interval in seconds over which a flow is captured before a record is written: 60 or 600."
  type        = number
  default     = 60

  validation {
    condition     = contains([60, 600], var.flow_log_max_aggregation_interval)
    error_message = "flow_log_max_aggregation_interval must be 60 or 600."
  }
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before the flow-log KMS key is deleted after destroy (7-30 days)."
  type        = number
  default     = 7

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30 && floor(var.kms_deletion_window_in_days) == var.kms_deletion_window_in_days
    error_message = "kms_deletion_window_in_days must be an integer between 7 and 30."
  }
}

variable "enable_s3_gateway_endpoint" {
  description = "Create a (free) S3 gateway VPC endpoint on the app route tables so ECR image layers are pulled without NAT gateway data charges."
  type        = bool
  default     = true
}

# Trade-off (README "Egress"): interface endpoints cost per endpoint, per AZ and per GB (about
# 5 x 3 x USD 7.30 a month here before data), and with the restriction on the app can reach only
# the AWS services listed here plus S3; an app that calls any other API (market data, e-mail,
# another AWS service) needs that service's endpoint or the restriction off.
variable "interface_endpoint_services" {
  description = "AWS services (the part after com.amazonaws.<region>.) that get an interface VPC endpoint with private DNS in the app subnets. The default is what the ECS tasks need: ECR API and registry (image pull), Secrets Manager (task secrets), CloudWatch Logs (awslogs) and STS (SDK role credentials)."
  type        = list(string)
  default     = ["ecr.api", "ecr.dkr", "secretsmanager", "logs", "sts"]

  validation {
    condition     = alltrue([for s in var.interface_endpoint_services : can(regex("^[a-z0-9][a-z0-9.-]*[a-z0-9]$", s))])
    error_message = "interface_endpoint_services must be service names such as ecr.api or secretsmanager."
  }
}

variable "restrict_app_egress_to_vpc_endpoints" {
  description = "Limit the ECS tasks' HTTPS egress to the interface endpoints' security group and the S3 gateway endpoint's prefix list instead of 0.0.0.0/0 through the NAT gateways. true keeps tasks off the internet; set false if the app must call APIs that have no endpoint here."
  type        = bool
  default     = true
}
