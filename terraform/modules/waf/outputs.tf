output "web_acl_arn" {
  description = "ARN of the regional WAFv2 web ACL."
  value       = aws_wafv2_web_acl.this.arn
}

output "web_acl_id" {
  description = "ID of the regional WAFv2 web ACL."
  value       = aws_wafv2_web_acl.this.id
}

output "web_acl_name" {
  description = "Name of the web ACL (the WebACL dimension of AWS/WAFV2 metrics)."
  value       = aws_wafv2_web_acl.this.name
}

output "log_group_name" {
  description = "Name of the KMS-encrypted CloudWatch log group receiving the WAF logs (aws-waf-logs-<environment>-<suffix>)."
  value       = aws_cloudwatch_log_group.waf.name
}

output "log_kms_key_arn" {
  description = "ARN of the KMS key encrypting the WAF log group."
  value       = aws_kms_key.logs.arn
}

output "associated_resource_arn" {
  description = "ARN of the resource (the ALB) the web ACL is associated with."
  value       = aws_wafv2_web_acl_association.alb.resource_arn
}
