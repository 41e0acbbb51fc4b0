output "cluster_identifier" {
  description = "Identifier of the Aurora cluster."
  value       = aws_rds_cluster.this.cluster_identifier
}

output "cluster_arn" {
  description = "ARN of the Aurora cluster."
  value       = aws_rds_cluster.this.arn
}

output "cluster_resource_id" {
  description = "Cluster resource ID (used in rds-db:connect IAM policies for IAM database authentication)."
  value       = aws_rds_cluster.this.cluster_resource_id
}

output "cluster_endpoint" {
  description = "Writer endpoint of the cluster (follows the writer across failovers)."
  value       = aws_rds_cluster.this.endpoint
}

output "reader_endpoint" {
  description = "Load-balanced reader endpoint of the cluster."
  value       = aws_rds_cluster.this.reader_endpoint
}

output "port" {
  description = "PostgreSQL port (5432)."
  value       = aws_rds_cluster.this.port
}

output "database_name" {
  description = "Name of the initial database."
  value       = aws_rds_cluster.this.database_name
}

output "master_user_secret_arn" {
  description = "ARN of the RDS-managed Secrets Manager secret holding the master credentials (JSON username/password). Pass it to the secrets module's extra_secret_arns."
  value       = aws_rds_cluster.this.master_user_secret[0].secret_arn
}

output "master_user_secret_kms_key_arn" {
  description = "KMS key encrypting the master user secret; readers of the secret need kms:Decrypt on it."
  value       = local.master_secret_kms_key
}

output "kms_key_arn" {
  description = "ARN of the customer managed KMS key encrypting storage, snapshots, Performance Insights and the log group."
  value       = aws_kms_key.this.arn
}

output "writer_instance_id" {
  description = "Identifier of the instance created as the writer (promotion tier 0)."
  value       = aws_rds_cluster_instance.writer.identifier
}

output "reader_instance_id" {
  description = "Identifier of the instance created as the reader and failover target (promotion tier 1, different AZ)."
  value       = aws_rds_cluster_instance.reader.identifier
}

output "log_group_name" {
  description = "CloudWatch log group receiving the exported PostgreSQL logs."
  value       = aws_cloudwatch_log_group.postgresql.name
}

output "subnet_ids" {
  description = "Subnets of the cluster's DB subnet group (the private data subnets), read back from the subnet group."
  value       = sort(tolist(aws_db_subnet_group.this.subnet_ids))
}

output "security_group_ids" {
  description = "Security groups attached to the cluster (the db security group)."
  value       = sort(tolist(aws_rds_cluster.this.vpc_security_group_ids))
}
