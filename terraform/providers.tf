locals {
  # Stack-wide tags on every taggable resource; the modules also tag explicitly (plus Name), so
  # they stay correct when used without these default tags. A local so the root tests can check it.
  provider_default_tags = {
    Environment = var.environment
    Project     = var.project
    Owner       = var.owner
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.provider_default_tags
  }
}
