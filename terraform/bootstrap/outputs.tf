output "state_bucket_name" {
  description = "Name of the S3 bucket holding Terraform state."
  value       = aws_s3_bucket.state.id
}

output "state_bucket_arn" {
  description = "ARN of the state bucket (for IAM policies of the deploying role)."
  value       = aws_s3_bucket.state.arn
}

output "lock_table_name" {
  description = "Name of the DynamoDB state lock table."
  value       = aws_dynamodb_table.lock.name
}

output "lock_table_arn" {
  description = "ARN of the DynamoDB state lock table."
  value       = aws_dynamodb_table.lock.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting state objects and the lock table."
  value       = aws_kms_key.state.arn
}

output "backend_hcl" {
  description = "Ready-to-use partial backend configuration for the main stack: save as terraform/backend.hcl and run `tofu init -backend-config=backend.hcl`. Locking follows state_locking."
  value = join("", [
    <<-EOT
    bucket         = "${aws_s3_bucket.state.id}"
    key            = "${local.state_key}"
    region         = "${var.region}"
    encrypt        = true
    kms_key_id     = "${aws_kms_key.state.arn}"
    EOT
    ,
    contains(["dynamodb", "both"], var.state_locking) ? "dynamodb_table = \"${aws_dynamodb_table.lock.name}\"\n" : "",
    contains(["lockfile", "both"], var.state_locking) ? "use_lockfile   = true\n" : "",
  ])
}
