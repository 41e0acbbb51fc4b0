###############################################################################
# Application secrets in Secrets Manager, encrypted with a dedicated customer
# managed KMS key.
#
# Secret VALUES are deliberately not managed here. Write-only arguments
# (secret_string_wo) and ephemeral resources need Terraform >= 1.11 /
# OpenTofu >= 1.11, while this stack supports Terraform >= 1.5 / OpenTofu 1.10,
# and a plain secret_string would put the value in state. Values are therefore
# set out-of-band (see README) or by a rotation Lambda.
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

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  secret_names = { for k, s in var.app_secrets : k => "secret-${replace(k, "_", "-")}-${local.name_suffix}" }
  rotated      = { for k, s in var.app_secrets : k => s if s.rotation_lambda_arn != null }
}

resource "aws_kms_key" "this" {
  description             = "Encrypts Secrets Manager secrets of ${var.project} ${local.name_suffix}"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Delegates to IAM only: Secrets Manager uses the key with the caller's
        # own credentials, so a reader (e.g. the ECS task execution role) needs
        # an IAM policy granting kms:Decrypt on this key; writers need
        # kms:GenerateDataKey. No wildcard principals.
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
    ]
  })

  tags = merge(local.tags, { Name = "kms-secrets-${local.name_suffix}" })
}

resource "aws_kms_alias" "this" {
  name          = "alias/kms-secrets-${local.name_suffix}"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_secretsmanager_secret" "app" {
  for_each = var.app_secrets

  name        = local.secret_names[each.key]
  description = each.value.description
  kms_key_id  = aws_kms_key.this.arn
  # 0 = delete immediately on destroy (re-creatable under the same name).
  # Production trade-off: use 7-30 so a mistaken destroy can be recovered.
  recovery_window_in_days = var.recovery_window_in_days

  tags = merge(local.tags, { Name = local.secret_names[each.key] })
}

resource "aws_secretsmanager_secret_rotation" "app" {
  for_each = local.rotated

  secret_id           = aws_secretsmanager_secret.app[each.key].id
  rotation_lambda_arn = each.value.rotation_lambda_arn

  rotation_rules {
    automatically_after_days = each.value.rotation_days
  }
}
