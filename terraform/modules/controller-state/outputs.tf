output "table_name" {
  description = "Name of the table; the daemons' store.table."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the table."
  value       = aws_dynamodb_table.this.arn
}

output "kms_key_arn" {
  description = "ARN of the customer managed KMS key encrypting the table."
  value       = aws_kms_key.this.arn
}

output "kms_key_alias" {
  description = "Alias of the table's KMS key (alias/kms-switchyard-state-<environment>-<environment_suffix>)."
  value       = aws_kms_alias.this.name
}

output "daemon_policy_json" {
  description = "Least-privilege IAM policy document (JSON) for the role the switchyard daemons run as: the item and query actions pkg/dynamo uses on this table and its indexes (no CreateTable, no Scan, no table management), and the key's use through DynamoDB only."
  value = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "SwitchyardStateTable"
        Effect   = "Allow"
        Action   = local.daemon_table_actions
        Resource = [aws_dynamodb_table.this.arn, "${aws_dynamodb_table.this.arn}/index/*"]
      },
      {
        Sid       = "SwitchyardStateTableKey"
        Effect    = "Allow"
        Action    = local.daemon_key_actions
        Resource  = [aws_kms_key.this.arn]
        Condition = { StringEquals = { "kms:ViaService" = "dynamodb.${local.region}.amazonaws.com" } }
      },
    ]
  })
}

output "deletion_protection" {
  description = "Whether the table has deletion protection (read back from the table, for the root tests)."
  value       = aws_dynamodb_table.this.deletion_protection_enabled
}
