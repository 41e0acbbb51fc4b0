###############################################################################
# ECR repository for the application image: immutable tags, scan on push,
# KMS encryption with a customer managed key, lifecycle policy, and optional
# registry-level enhanced (Inspector) scanning.
###############################################################################

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  name_suffix = "${var.environment}-${var.environment_suffix}"

  tags = merge(var.tags, {
    Environment = var.environment
    Project     = var.project
    Owner       = var.owner
  })

  repository_name = "ecr-${var.repository_qualifier}-${local.name_suffix}"
  create_kms_key  = var.kms_key_arn == null
  kms_key_arn     = local.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key_arn
}

resource "aws_kms_key" "this" {
  count = local.create_kms_key ? 1 : 0

  description             = "Encrypts ECR repository ${local.repository_name}"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days

  # ECR creates grants on the key with the caller's credentials, so the account
  # root statement (delegating to IAM) is all the key policy needs.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
    ]
  })

  tags = merge(local.tags, { Name = "kms-ecr-${local.name_suffix}" })
}

resource "aws_kms_alias" "this" {
  count = local.create_kms_key ? 1 : 0

  name          = "alias/kms-ecr-${local.name_suffix}"
  target_key_id = aws_kms_key.this[0].key_id
}

resource "aws_ecr_repository" "this" {
  name = local.repository_name
  # Immutable tags: a released tag always means the same image digest, which is
  # what the blue/green controller and the audit trail rely on.
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = local.kms_key_arn
  }

  tags = merge(local.tags, { Name = local.repository_name })
}

resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name

  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Expire untagged images ${var.untagged_image_expiry_days} days after push"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = var.untagged_image_expiry_days
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the last ${var.keep_tagged_images} tagged images"
        selection = {
          tagStatus      = "tagged"
          tagPatternList = ["*"]
          countType      = "imageCountMoreThan"
          countNumber    = var.keep_tagged_images
        }
        action = { type = "expire" }
      },
    ]
  })
}

# ACCOUNT-WIDE: this resource owns the whole registry scanning configuration
# and replaces any rules set elsewhere. Disable it (enable_registry_enhanced_scanning
# = false) in accounts where another stack or a security team manages scanning.
# On destroy the provider resets the registry to BASIC scanning.
resource "aws_ecr_registry_scanning_configuration" "this" {
  count = var.enable_registry_enhanced_scanning ? 1 : 0

  scan_type = "ENHANCED"

  rule {
    scan_frequency = var.enhanced_scan_frequency

    repository_filter {
      filter      = aws_ecr_repository.this.name
      filter_type = "WILDCARD"
    }
  }
}
