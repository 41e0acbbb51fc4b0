terraform {
  # Terraform >= 1.5 and OpenTofu >= 1.6 (CI uses OpenTofu 1.10).
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }
}
