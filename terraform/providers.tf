provider "aws" {
  region = var.region

  # Stack-wide tags on every taggable resource; the modules also tag explicitly (plus Name), so
  # they stay correct when used without these default tags.
  default_tags {
    tags = {
      Environment = var.environment
      Project     = var.project
      Owner       = var.owner
    }
  }
}
