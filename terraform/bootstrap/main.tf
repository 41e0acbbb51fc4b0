###############################################################################
# Bootstrap: the remote-state bucket and lock table for the main stack.
# Applied once per account/environment with a LOCAL backend; its own state is
# small and holds no secrets (keep it in a safe place or import on rebuild).
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

  # S3 bucket names are global: the account ID (placed before the usual
  # -<env>-<suffix> ending) makes the name unique. At most 11+12+1+10+1+12 = 47
  # characters, inside the 63-character limit; all lowercase.
  bucket_name = "s3-tfstate-${local.account_id}-${local.name_suffix}"
  table_name  = "ddb-tflock-${local.name_suffix}"
  state_key   = coalesce(var.state_key, "${var.project}/${local.name_suffix}/terraform.tfstate")
}

resource "aws_kms_key" "state" {
  description             = "Encrypts Terraform state (${local.bucket_name}) and the lock table"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days

  # S3 and DynamoDB use the key with the caller's credentials (grants), so
  # delegating to IAM is sufficient: whoever runs Terraform needs
  # kms:Encrypt/Decrypt/GenerateDataKey on this key.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
    ]
  })

  tags = merge(local.tags, { Name = "kms-tfstate-${local.name_suffix}" })
}

resource "aws_kms_alias" "state" {
  name          = "alias/kms-tfstate-${local.name_suffix}"
  target_key_id = aws_kms_key.state.key_id
}

# Access logging is opt-in (var.access_log_bucket): the target must be a
# separate, pre-existing log-archive bucket, which this bootstrap cannot assume.
#tfsec:ignore:aws-s3-enable-bucket-logging
resource "aws_s3_bucket" "state" {
  bucket = local.bucket_name
  # true keeps test/demo accounts destroyable; production sets false.
  force_destroy = var.force_destroy

  tags = merge(local.tags, { Name = local.bucket_name })
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket = aws_s3_bucket.state.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.state.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "expire-noncurrent-state-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.state]
}

resource "aws_s3_bucket_logging" "state" {
  count = var.access_log_bucket == null ? 0 : 1

  bucket        = aws_s3_bucket.state.id
  target_bucket = var.access_log_bucket
  target_prefix = "tfstate/${local.bucket_name}/"
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]
        Condition = {
          Bool = { "aws:SecureTransport" = "false" }
        }
      },
      {
        Sid       = "DenyOutdatedTls"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]
        Condition = {
          NumericLessThan = { "s3:TlsVersion" = "1.2" }
        }
      },
    ]
  })

  # The public access block must exist first or S3 may evaluate the policy
  # against a bucket without it.
  depends_on = [aws_s3_bucket_public_access_block.state]
}

# Lock table for the S3 backend (dynamodb_table). OpenTofu >= 1.10 and
# Terraform >= 1.10 can lock with use_lockfile instead; the table keeps
# Terraform 1.5-1.9 supported.
resource "aws_dynamodb_table" "lock" {
  name         = local.table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "LockID"

  attribute {
    name = "LockID"
    type = "S"
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.state.arn
  }

  point_in_time_recovery {
    enabled = true
  }

  deletion_protection_enabled = var.lock_table_deletion_protection

  tags = merge(local.tags, { Name = local.table_name })
}
