# Tests with a mocked AWS provider: no credentials, no network. Runs that read mocked computed
# values apply to the mock (known after apply in OpenTofu and Terraform alike); expect_failures
# runs plan.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_region" {
    defaults = {
      region = "us-east-1"
    }
  }
}

variables {
  environment          = "prod"
  environment_suffix   = "td01"
  owner                = "platform-team"
  data_subnet_ids      = ["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"]
  availability_zones   = ["us-east-1a", "us-east-1b", "us-east-1c"]
  db_security_group_id = "sg-0db00000000000000"
}

override_resource {
  target = aws_kms_key.this
  values = {
    arn    = "arn:aws:kms:us-east-1:123456789012:key/dddddddd-0000-0000-0000-000000000000"
    key_id = "dddddddd-0000-0000-0000-000000000000"
  }
}

override_resource {
  target = aws_rds_cluster.this
  values = {
    id = "rds-aurora-prod-td01"
    master_user_secret = [{
      secret_arn    = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-1111-AbCdEf"
      kms_key_id    = "arn:aws:kms:us-east-1:123456789012:key/dddddddd-0000-0000-0000-000000000000"
      secret_status = "active"
    }]
  }
}

override_resource {
  target = aws_iam_role.monitoring
  values = { arn = "arn:aws:iam::123456789012:role/role-rds-monitoring-prod-td01" }
}

run "cluster_security_settings" {
  command = apply

  assert {
    condition     = aws_rds_cluster.this.engine == "aurora-postgresql" && aws_rds_cluster.this.engine_version == "16"
    error_message = "Engine must be aurora-postgresql 16.x by default."
  }

  assert {
    condition     = aws_rds_cluster.this.storage_encrypted && aws_rds_cluster.this.kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/dddddddd-0000-0000-0000-000000000000"
    error_message = "Storage must be encrypted with the module's customer managed key."
  }

  assert {
    condition     = aws_kms_key.this.enable_key_rotation && aws_kms_alias.this.name == "alias/kms-rds-prod-td01"
    error_message = "Database KMS key must rotate and be aliased alias/kms-rds-<env>-<suffix>."
  }

  assert {
    condition     = aws_rds_cluster.this.iam_database_authentication_enabled
    error_message = "IAM database authentication must be enabled."
  }

  assert {
    condition     = aws_rds_cluster.this.manage_master_user_password && aws_rds_cluster.this.master_password == null && aws_rds_cluster.this.master_user_secret_kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/dddddddd-0000-0000-0000-000000000000"
    error_message = "The master password must be managed by RDS in Secrets Manager (never in state), encrypted with the module key by default."
  }

  assert {
    condition     = aws_rds_cluster.this.backup_retention_period >= 7 && aws_rds_cluster.this.backup_retention_period == 14
    error_message = "Backup retention must default to 14 days (>= 7)."
  }

  assert {
    condition     = aws_rds_cluster.this.preferred_backup_window == "03:00-04:00" && aws_rds_cluster.this.preferred_maintenance_window == "sun:05:00-sun:06:00"
    error_message = "Preferred backup/maintenance windows must be set."
  }

  assert {
    condition     = tolist(aws_rds_cluster.this.enabled_cloudwatch_logs_exports) == tolist(["postgresql"])
    error_message = "PostgreSQL logs must be exported to CloudWatch."
  }

  assert {
    condition     = aws_cloudwatch_log_group.postgresql.name == "/aws/rds/cluster/rds-aurora-prod-td01/postgresql" && aws_cloudwatch_log_group.postgresql.kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/dddddddd-0000-0000-0000-000000000000"
    error_message = "The exported log group must be pre-created with KMS encryption."
  }

  assert {
    condition     = tolist(aws_rds_cluster.this.vpc_security_group_ids) == tolist(["sg-0db00000000000000"])
    error_message = "The cluster must use only the DB security group."
  }

  assert {
    condition     = tolist(aws_db_subnet_group.this.subnet_ids) == tolist(["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"]) || toset(aws_db_subnet_group.this.subnet_ids) == toset(["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"])
    error_message = "The DB subnet group must contain exactly the data subnets."
  }

  assert {
    condition     = aws_rds_cluster.this.port == 5432 && aws_rds_cluster.this.copy_tags_to_snapshot
    error_message = "Port 5432 and copy_tags_to_snapshot expected."
  }

  assert {
    condition     = aws_rds_cluster.this.skip_final_snapshot == true && aws_rds_cluster.this.deletion_protection == false && aws_rds_cluster.this.final_snapshot_identifier == null
    error_message = "Destroyable defaults: skip_final_snapshot = true, deletion_protection = false."
  }
}

run "force_ssl_parameter_group" {
  command = apply

  assert {
    condition     = aws_rds_cluster_parameter_group.this.family == "aurora-postgresql16"
    error_message = "Parameter group family must follow the engine major version."
  }

  assert {
    condition     = anytrue([for p in aws_rds_cluster_parameter_group.this.parameter : p.name == "rds.force_ssl" && p.value == "1"])
    error_message = "rds.force_ssl must be 1."
  }

  assert {
    condition     = aws_rds_cluster.this.db_cluster_parameter_group_name == aws_rds_cluster_parameter_group.this.name
    error_message = "The cluster must use the module's parameter group."
  }
}

run "writer_and_reader_in_different_azs" {
  command = apply

  assert {
    condition     = aws_rds_cluster_instance.writer.availability_zone != aws_rds_cluster_instance.reader.availability_zone
    error_message = "Writer and reader must be in different AZs."
  }

  assert {
    condition     = aws_rds_cluster_instance.writer.availability_zone == "us-east-1a" && aws_rds_cluster_instance.reader.availability_zone == "us-east-1b"
    error_message = "Writer goes to the first AZ, reader to the second."
  }

  assert {
    condition     = aws_rds_cluster_instance.writer.promotion_tier == 0 && aws_rds_cluster_instance.reader.promotion_tier == 1
    error_message = "The reader must be the tier-1 failover target."
  }

  assert {
    condition = alltrue([for i in [aws_rds_cluster_instance.writer, aws_rds_cluster_instance.reader] :
      i.cluster_identifier == "rds-aurora-prod-td01" &&
      i.publicly_accessible == false &&
      i.auto_minor_version_upgrade &&
      i.performance_insights_enabled &&
      i.performance_insights_kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/dddddddd-0000-0000-0000-000000000000" &&
      i.monitoring_interval == 60 &&
      i.monitoring_role_arn == "arn:aws:iam::123456789012:role/role-rds-monitoring-prod-td01" &&
      i.copy_tags_to_snapshot
    ])
    error_message = "Both instances must be private, auto-minor-upgraded, with encrypted Performance Insights and Enhanced Monitoring."
  }

  assert {
    condition     = output.writer_instance_id == "rds-writer-prod-td01" && output.reader_instance_id == "rds-reader-prod-td01"
    error_message = "Instance identifiers must be rds-writer/reader-<env>-<suffix>."
  }
}

run "master_secret_rotation_and_outputs" {
  command = apply

  assert {
    condition = (
      length(aws_secretsmanager_secret_rotation.master) == 1 &&
      aws_secretsmanager_secret_rotation.master[0].secret_id == "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-1111-AbCdEf" &&
      aws_secretsmanager_secret_rotation.master[0].rotation_lambda_arn == null &&
      aws_secretsmanager_secret_rotation.master[0].rotate_immediately == false &&
      aws_secretsmanager_secret_rotation.master[0].rotation_rules[0].schedule_expression == "rate(7 days)"
    )
    error_message = "The RDS-managed master secret must get an explicit managed-rotation schedule without a Lambda."
  }

  assert {
    condition     = output.master_user_secret_arn == "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-1111-AbCdEf" && output.port == 5432 && output.database_name == "switchyard"
    error_message = "Outputs must expose the master secret ARN, port and database name."
  }
}

run "naming_and_tags" {
  command = apply

  assert {
    condition = alltrue([for n in [
      aws_rds_cluster.this.cluster_identifier,
      aws_rds_cluster_instance.writer.identifier,
      aws_rds_cluster_instance.reader.identifier,
      aws_db_subnet_group.this.name,
      aws_rds_cluster_parameter_group.this.name,
      aws_iam_role.monitoring[0].name,
      aws_kms_alias.this.name,
      aws_kms_key.this.tags["Name"],
    ] : endswith(n, "-prod-td01")])
    error_message = "Names must end with -<env>-<suffix>."
  }

  assert {
    condition     = startswith(aws_rds_cluster.this.cluster_identifier, "rds-") && startswith(aws_iam_role.monitoring[0].name, "role-") && startswith(aws_kms_key.this.tags["Name"], "kms-")
    error_message = "Names must start with their type word."
  }

  assert {
    condition = alltrue([for t in [aws_rds_cluster.this.tags, aws_rds_cluster_instance.writer.tags, aws_rds_cluster_instance.reader.tags, aws_kms_key.this.tags, aws_db_subnet_group.this.tags, aws_cloudwatch_log_group.postgresql.tags] :
    t["Environment"] == "prod" && t["Project"] == "switchyard" && t["Owner"] == "platform-team"])
    error_message = "Environment/Project/Owner tags must be present."
  }
}

run "key_policy_and_monitoring_trust" {
  command = apply

  assert {
    condition = (
      length(jsondecode(aws_kms_key.this.policy).Statement) == 2 &&
      jsondecode(aws_kms_key.this.policy).Statement[0].Principal == { AWS = "arn:aws:iam::123456789012:root" } &&
      jsondecode(aws_kms_key.this.policy).Statement[0].Action == "kms:*" &&
      jsondecode(aws_kms_key.this.policy).Statement[1].Principal == { Service = "logs.us-east-1.amazonaws.com" } &&
      toset(jsondecode(aws_kms_key.this.policy).Statement[1].Action) == toset(["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]) &&
      jsondecode(aws_kms_key.this.policy).Statement[1].Condition == { ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/rds/cluster/rds-aurora-prod-td01/postgresql" } }
    )
    error_message = "The Aurora key policy must hold account administration and CloudWatch Logs use for the PostgreSQL log group only."
  }

  assert {
    condition = (
      length(jsondecode(aws_iam_role.monitoring[0].assume_role_policy).Statement) == 1 &&
      jsondecode(aws_iam_role.monitoring[0].assume_role_policy).Statement[0].Principal == { Service = "monitoring.rds.amazonaws.com" } &&
      jsondecode(aws_iam_role.monitoring[0].assume_role_policy).Statement[0].Action == "sts:AssumeRole" &&
      jsondecode(aws_iam_role.monitoring[0].assume_role_policy).Statement[0].Condition == { StringEquals = { "aws:SourceAccount" = "123456789012" } }
    )
    error_message = "Only RDS Enhanced Monitoring of this account may assume the monitoring role."
  }
}

run "production_settings" {
  command = apply

  variables {
    skip_final_snapshot                  = false
    deletion_protection                  = true
    monitoring_interval                  = 0
    master_user_secret_rotation_schedule = null
    master_user_secret_kms_key_id        = "arn:aws:kms:us-east-1:123456789012:key/5ec5ec5e-0000-0000-0000-000000000000"
    engine_version                       = "15.8"
    auto_minor_version_upgrade           = false
  }

  assert {
    condition     = aws_rds_cluster.this.engine_version == "15.8" && !aws_rds_cluster_instance.writer.auto_minor_version_upgrade && !aws_rds_cluster_instance.reader.auto_minor_version_upgrade
    error_message = "A pinned minor version must come with automatic minor upgrades off."
  }

  assert {
    condition     = aws_rds_cluster.this.final_snapshot_identifier == "rds-final-prod-td01" && aws_rds_cluster.this.deletion_protection
    error_message = "Production settings must take a final snapshot and protect the cluster."
  }

  assert {
    condition     = length(aws_iam_role.monitoring) == 0 && aws_rds_cluster_instance.writer.monitoring_interval == 0 && aws_rds_cluster_instance.reader.monitoring_interval == 0
    error_message = "No monitoring role when Enhanced Monitoring is off."
  }

  assert {
    condition     = length(aws_secretsmanager_secret_rotation.master) == 0
    error_message = "A null schedule leaves the RDS default rotation unmanaged."
  }

  assert {
    condition     = aws_rds_cluster.this.master_user_secret_kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/5ec5ec5e-0000-0000-0000-000000000000"
    error_message = "A passed-in master secret key must be used."
  }

  assert {
    condition     = aws_rds_cluster_parameter_group.this.family == "aurora-postgresql15"
    error_message = "Family must follow engine_version."
  }
}
