output "kms_key_arn" {
  description = "ARN of the customer managed KMS key encrypting the app secrets (grant kms:Decrypt on it to the task execution role)."
  value       = aws_kms_key.this.arn
}

output "kms_key_id" {
  description = "Key ID of the secrets KMS key."
  value       = aws_kms_key.this.key_id
}

output "kms_key_alias" {
  description = "Alias of the secrets KMS key (alias/kms-secrets-<environment>-<environment_suffix>)."
  value       = aws_kms_alias.this.name
}

output "app_secret_arns" {
  description = "Map of app secret key (e.g. django_secret_key) => secret ARN."
  value       = { for k, s in aws_secretsmanager_secret.app : k => s.arn }
}

output "app_secret_names" {
  description = "Map of app secret key => secret name (for out-of-band put-secret-value)."
  value       = { for k, s in aws_secretsmanager_secret.app : k => s.name }
}

output "secret_arns" {
  description = "Every secret ARN the ECS task execution role may read: the app secrets plus extra_secret_arns (e.g. the database master user secret)."
  value       = concat([for k in sort(keys(aws_secretsmanager_secret.app)) : aws_secretsmanager_secret.app[k].arn], var.extra_secret_arns)
}
