output "alb_arn" {
  description = "ARN of the application load balancer."
  value       = aws_lb.this.arn
}

output "alb_arn_suffix" {
  description = "ARN suffix of the ALB (app/<name>/<id>), the LoadBalancer dimension of AWS/ApplicationELB metrics."
  value       = aws_lb.this.arn_suffix
}

output "alb_dns_name" {
  description = "Public DNS name of the ALB (point the service's DNS alias record at it)."
  value       = aws_lb.this.dns_name
}

output "alb_zone_id" {
  description = "Route 53 hosted zone ID of the ALB, for alias records."
  value       = aws_lb.this.zone_id
}

output "https_listener_arn" {
  description = "ARN of the production HTTPS (443) listener whose default action switchyard re-weights."
  value       = aws_lb_listener.https.arn
}

output "http_listener_arn" {
  description = "ARN of the HTTP (80) listener that redirects to HTTPS."
  value       = aws_lb_listener.http.arn
}

output "test_listener_arn" {
  description = "ARN of the HTTPS test listener that forwards to the green target group only."
  value       = aws_lb_listener.test.arn
}

output "production_rule_arns" {
  description = "ARNs of the weighted path rules on the HTTPS listener, ordered by rule priority; switchyard re-weights them with the default action."
  value       = [for k in local.rule_keys_by_priority : aws_lb_listener_rule.weighted[k].arn]
}

output "blue_target_group_arn" {
  description = "ARN of the blue target group. Available only once the listeners reference it: ECS rejects a service whose target group is not attached to a load balancer."
  value       = aws_lb_target_group.blue.arn
  depends_on  = [aws_lb_listener.https, aws_lb_listener_rule.weighted, aws_lb_listener.test]
}

output "green_target_group_arn" {
  description = "ARN of the green target group. Available only once the listeners reference it: ECS rejects a service whose target group is not attached to a load balancer."
  value       = aws_lb_target_group.green.arn
  depends_on  = [aws_lb_listener.https, aws_lb_listener_rule.weighted, aws_lb_listener.test]
}

output "blue_target_group_arn_suffix" {
  description = "ARN suffix of the blue target group (TargetGroup metric dimension)."
  value       = aws_lb_target_group.blue.arn_suffix
}

output "green_target_group_arn_suffix" {
  description = "ARN suffix of the green target group (TargetGroup metric dimension)."
  value       = aws_lb_target_group.green.arn_suffix
}

output "deregistration_delay_seconds" {
  description = "Target group deregistration delay in seconds; switchyard waits this long before scaling the old colour down."
  value       = var.deregistration_delay
}

output "access_logs_bucket" {
  description = "Name of the S3 bucket receiving the ALB access logs."
  value       = aws_s3_bucket.access_logs.bucket
}

output "subnet_ids" {
  description = "Subnets the ALB is placed in (the public subnets), read back from the load balancer."
  value       = sort(tolist(aws_lb.this.subnets))
}

output "health_check_paths" {
  description = "Health check path of each target group (blue, green), read back from the target groups: the path the app must answer with 200 for any Host header."
  value       = { blue = aws_lb_target_group.blue.health_check[0].path, green = aws_lb_target_group.green.health_check[0].path }
}
