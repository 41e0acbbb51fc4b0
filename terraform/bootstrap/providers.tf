provider "aws" {
  region = var.region

  # Every resource gets these tags even if a resource block forgets them.
  default_tags {
    tags = {
      Environment = var.environment
      Project     = var.project
      Owner       = var.owner
    }
  }
}
