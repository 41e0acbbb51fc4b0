###############################################################################
# Aurora PostgreSQL: one writer and one reader in different AZs, encrypted
# with a customer managed KMS key, TLS enforced, IAM authentication on, master
# password generated and rotated by RDS in Secrets Manager (never in state).
###############################################################################

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  name_suffix = "${var.environment}-${var.environment_suffix}"

  tags = merge(var.tags, {
    Environment = var.environment
    Project     = var.project
    Owner       = var.owner
  })

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  port               = 5432
  engine             = "aurora-postgresql"
  engine_major       = split(".", var.engine_version)[0]
  parameter_family   = "aurora-postgresql${local.engine_major}"
  cluster_identifier = "rds-aurora-${local.name_suffix}"

  # AWS fixes this name: RDS exports PostgreSQL logs to exactly this group.
  # Creating it first lets us set retention and KMS encryption.
  log_group_name = "/aws/rds/cluster/${local.cluster_identifier}/postgresql"
  log_group_arn  = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"

  writer_az = var.availability_zones[0]
  reader_az = var.availability_zones[1]

  master_secret_kms_key = coalesce(var.master_user_secret_kms_key_id, aws_kms_key.this.arn)
  monitoring_role_arn   = var.monitoring_interval > 0 ? aws_iam_role.monitoring[0].arn : null
}

###############################################################################
# Encryption key (storage, Performance Insights, log group, master secret)
###############################################################################

resource "aws_kms_key" "this" {
  description             = "Encrypts Aurora cluster ${local.cluster_identifier} (storage, snapshots, Performance Insights, logs)"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # RDS and Secrets Manager use the key through grants created with the
        # caller's credentials, so delegating to IAM is sufficient for them.
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsPostgresqlLogGroup"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action = [
          "kms:Encrypt*",
          "kms:Decrypt*",
          "kms:ReEncrypt*",
          "kms:GenerateDataKey*",
          "kms:Describe*",
        ]
        Resource = "*"
        Condition = {
          ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = local.log_group_arn }
        }
      },
    ]
  })

  tags = merge(local.tags, { Name = "kms-rds-${local.name_suffix}" })
}

resource "aws_kms_alias" "this" {
  name          = "alias/kms-rds-${local.name_suffix}"
  target_key_id = aws_kms_key.this.key_id
}

###############################################################################
# Networking and parameters
###############################################################################

resource "aws_db_subnet_group" "this" {
  name        = "dbsubnet-data-${local.name_suffix}"
  description = "Private data subnets (no internet route) for ${local.cluster_identifier}"
  subnet_ids  = var.data_subnet_ids

  tags = merge(local.tags, { Name = "dbsubnet-data-${local.name_suffix}" })
}

resource "aws_rds_cluster_parameter_group" "this" {
  # The family is part of the name so a major upgrade can create the new group
  # before the old one is destroyed.
  name        = "dbparams-${local.parameter_family}-${local.name_suffix}"
  family      = local.parameter_family
  description = "Cluster parameters for ${local.cluster_identifier}: TLS only, connection auditing"

  # Refuse any non-TLS connection.
  parameter {
    name         = "rds.force_ssl"
    value        = "1"
    apply_method = "pending-reboot"
  }

  parameter {
    name         = "ssl_min_protocol_version"
    value        = "TLSv1.2"
    apply_method = "pending-reboot"
  }

  # Audit trail of who connected when (exported to CloudWatch Logs).
  parameter {
    name         = "log_connections"
    value        = "1"
    apply_method = "pending-reboot"
  }

  parameter {
    name         = "log_disconnections"
    value        = "1"
    apply_method = "pending-reboot"
  }

  tags = merge(local.tags, { Name = "dbparams-${local.parameter_family}-${local.name_suffix}" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "postgresql" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn

  tags = merge(local.tags, { Name = "log-rds-postgresql-${local.name_suffix}" })
}

###############################################################################
# Enhanced Monitoring role
###############################################################################

resource "aws_iam_role" "monitoring" {
  count = var.monitoring_interval > 0 ? 1 : 0

  name        = "role-rds-monitoring-${local.name_suffix}"
  description = "Lets RDS Enhanced Monitoring publish OS metrics for ${local.cluster_identifier}"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "monitoring.rds.amazonaws.com" }
        Action    = "sts:AssumeRole"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      },
    ]
  })

  tags = merge(local.tags, { Name = "role-rds-monitoring-${local.name_suffix}" })
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  count = var.monitoring_interval > 0 ? 1 : 0

  role       = aws_iam_role.monitoring[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

###############################################################################
# Cluster and instances
###############################################################################

resource "aws_rds_cluster" "this" {
  cluster_identifier = local.cluster_identifier
  engine             = local.engine
  engine_mode        = "provisioned"
  engine_version     = var.engine_version
  database_name      = var.database_name
  port               = local.port

  master_username = var.master_username
  # RDS generates the password into a Secrets Manager secret it owns and
  # rotates; Terraform never sees or stores it.
  manage_master_user_password   = true
  master_user_secret_kms_key_id = local.master_secret_kms_key

  iam_database_authentication_enabled = true

  db_subnet_group_name            = aws_db_subnet_group.this.name
  vpc_security_group_ids          = [var.db_security_group_id]
  db_cluster_parameter_group_name = aws_rds_cluster_parameter_group.this.name

  storage_encrypted = true
  kms_key_id        = aws_kms_key.this.arn

  backup_retention_period      = var.backup_retention_period
  preferred_backup_window      = var.preferred_backup_window
  preferred_maintenance_window = var.preferred_maintenance_window
  copy_tags_to_snapshot        = true

  enabled_cloudwatch_logs_exports = ["postgresql"]

  # Destroyable defaults (see variables): production sets
  # skip_final_snapshot = false and deletion_protection = true.
  skip_final_snapshot       = var.skip_final_snapshot
  final_snapshot_identifier = var.skip_final_snapshot ? null : "rds-final-${local.name_suffix}"
  deletion_protection       = var.deletion_protection
  apply_immediately         = var.apply_immediately

  tags = merge(local.tags, { Name = local.cluster_identifier })

  depends_on = [aws_cloudwatch_log_group.postgresql]

  lifecycle {
    precondition {
      condition     = !var.auto_minor_version_upgrade || length(split(".", var.engine_version)) == 1
      error_message = "engine_version \"${var.engine_version}\" pins a minor version while auto_minor_version_upgrade is true: after the first automatic upgrade every plan would try a downgrade. Use the major version (e.g. \"${split(".", var.engine_version)[0]}\") or set auto_minor_version_upgrade = false."
    }
  }
}

# The first instance created becomes the writer; the reader waits for it so
# the roles are deterministic. After a failover the roles swap (the names
# reflect the initial placement; RDS endpoints always follow the roles).
resource "aws_rds_cluster_instance" "writer" {
  identifier         = "rds-writer-${local.name_suffix}"
  cluster_identifier = aws_rds_cluster.this.id
  engine             = aws_rds_cluster.this.engine
  instance_class     = var.instance_class
  availability_zone  = local.writer_az
  promotion_tier     = 0

  db_subnet_group_name = aws_db_subnet_group.this.name
  publicly_accessible  = false
  ca_cert_identifier   = var.ca_cert_identifier

  auto_minor_version_upgrade   = var.auto_minor_version_upgrade
  preferred_maintenance_window = var.preferred_maintenance_window
  apply_immediately            = var.apply_immediately
  copy_tags_to_snapshot        = true

  monitoring_interval = var.monitoring_interval
  monitoring_role_arn = local.monitoring_role_arn

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.this.arn
  performance_insights_retention_period = var.performance_insights_retention_period

  tags = merge(local.tags, { Name = "rds-writer-${local.name_suffix}", InitialRole = "writer" })

  depends_on = [aws_iam_role_policy_attachment.monitoring]
}

resource "aws_rds_cluster_instance" "reader" {
  identifier         = "rds-reader-${local.name_suffix}"
  cluster_identifier = aws_rds_cluster.this.id
  engine             = aws_rds_cluster.this.engine
  instance_class     = var.instance_class
  # A different AZ from the writer: it is the failover target (tier 1).
  availability_zone = local.reader_az
  promotion_tier    = 1

  db_subnet_group_name = aws_db_subnet_group.this.name
  publicly_accessible  = false
  ca_cert_identifier   = var.ca_cert_identifier

  auto_minor_version_upgrade   = var.auto_minor_version_upgrade
  preferred_maintenance_window = var.preferred_maintenance_window
  apply_immediately            = var.apply_immediately
  copy_tags_to_snapshot        = true

  monitoring_interval = var.monitoring_interval
  monitoring_role_arn = local.monitoring_role_arn

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.this.arn
  performance_insights_retention_period = var.performance_insights_retention_period

  tags = merge(local.tags, { Name = "rds-reader-${local.name_suffix}", InitialRole = "reader" })

  depends_on = [aws_rds_cluster_instance.writer]
}

###############################################################################
# Rotation schedule of the RDS-managed master secret. Managed rotation needs no
# Lambda (rotation_lambda_arn is optional for AWS-managed secrets since provider
# 5.2x); only the schedule is set. rotate_immediately = false so applying this
# never rotates the password mid-deployment.
###############################################################################

resource "aws_secretsmanager_secret_rotation" "master" {
  count = var.master_user_secret_rotation_schedule == null ? 0 : 1

  secret_id          = aws_rds_cluster.this.master_user_secret[0].secret_arn
  rotate_immediately = false

  rotation_rules {
    schedule_expression = var.master_user_secret_rotation_schedule
  }
}
