output "sns_topic_arn" {
  description = "ARN of the KMS-encrypted SNS topic every alarm notifies."
  value       = aws_sns_topic.alarms.arn
}

output "sns_kms_key_arn" {
  description = "ARN of the KMS key encrypting the alarm topic."
  value       = aws_kms_key.sns.arn
}

output "alarm_names" {
  description = "Names of all alarms created by this module, sorted."
  value = sort(concat(
    [for a in aws_cloudwatch_metric_alarm.this : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.tasks : a.alarm_name],
  ))
}

output "guard_alarm_names" {
  description = "Shared alarms switchyard watches during every shift, whatever the colour (load balancer-wide 5xx)."
  value       = [for k in sort(keys(local.guard_alarms)) : aws_cloudwatch_metric_alarm.this[k].alarm_name]
}

output "blue_alarm_names" {
  description = "The blue colour's alarm set switchyard watches while blue takes traffic: target 5xx, unhealthy hosts, p99 latency."
  value       = [for k in ["blue-5xx", "blue-unhealthy", "blue-p99"] : aws_cloudwatch_metric_alarm.this[k].alarm_name]
}

output "green_alarm_names" {
  description = "The green colour's alarm set switchyard watches while green takes traffic: target 5xx, unhealthy hosts, p99 latency."
  value       = [for k in ["green-5xx", "green-unhealthy", "green-p99"] : aws_cloudwatch_metric_alarm.this[k].alarm_name]
}

output "notifications" {
  description = "How the alarms notify, for wiring checks: the e-mail subscribed to the topic (null = none) and whether a topic without subscription was explicitly allowed."
  value = {
    email                = one(aws_sns_topic_subscription.email[*].endpoint)
    unsubscribed_allowed = var.allow_no_alarm_notifications
  }
}
