output "repository_name" {
  description = "Name of the ECR repository."
  value       = aws_ecr_repository.this.name
}

output "repository_url" {
  description = "URL of the repository (<account>.dkr.ecr.<region>.amazonaws.com/<name>), used as the image repository by ECS and switchyard."
  value       = aws_ecr_repository.this.repository_url
}

output "repository_arn" {
  description = "ARN of the ECR repository (for IAM pull/push policies)."
  value       = aws_ecr_repository.this.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the repository (created here or passed in)."
  value       = local.kms_key_arn
}

output "registry_scanning_managed" {
  description = "Whether this stack manages the account-wide registry scanning configuration (enable_registry_enhanced_scanning)."
  value       = length(aws_ecr_registry_scanning_configuration.this) > 0
}
