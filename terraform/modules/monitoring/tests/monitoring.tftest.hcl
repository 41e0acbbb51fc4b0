# Tests with a mocked AWS provider: nothing reaches AWS. Runs that read mocked computed values
# apply to the mock (known after apply in OpenTofu and Terraform alike); expect_failures runs plan.

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

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    }
  }

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:us-east-1:123456789012:sns-alarms-prod-td01"
    }
  }
}

variables {
  environment                   = "prod"
  environment_suffix            = "td01"
  owner                         = "platform-team"
  alb_arn_suffix                = "app/alb-prod-td01/0123456789abcdef"
  blue_target_group_arn_suffix  = "targetgroup/tg-blue-prod-td01/1111111111111111"
  green_target_group_arn_suffix = "targetgroup/tg-green-prod-td01/2222222222222222"
  ecs_cluster_name              = "ecs-prod-td01"
  blue_service_name             = "svc-blue-prod-td01"
  green_service_name            = "svc-green-prod-td01"
  db_cluster_identifier         = "rds-prod-td01"
  db_writer_instance_id         = "rds-writer-prod-td01"
  db_reader_instance_id         = "rds-reader-prod-td01"
  alarm_email                   = "oncall@example.com"
}

run "sns_topic_is_kms_encrypted" {
  command = apply

  assert {
    condition     = aws_sns_topic.alarms.kms_master_key_id == aws_kms_key.sns.arn && aws_kms_key.sns.enable_key_rotation
    error_message = "The alarm topic must be encrypted with the rotating module KMS key."
  }

  assert {
    condition     = aws_sns_topic.alarms.name == "sns-alarms-prod-td01"
    error_message = "Topic name must be sns-alarms-<env>-<suffix>."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.sns_kms.statement :
      anytrue([for p in s.principals : p.type == "Service" && contains(p.identifiers, "cloudwatch.amazonaws.com")]) && contains(s.actions, "kms:GenerateDataKey*") && contains(s.actions, "kms:Decrypt")
    ])
    error_message = "The key policy must let CloudWatch use the key to publish alarms."
  }

}

run "no_subscription_only_when_explicitly_allowed" {
  command = apply

  variables {
    alarm_email                  = null
    allow_no_alarm_notifications = true
  }

  assert {
    condition     = length(aws_sns_topic_subscription.email) == 0
    error_message = "No e-mail subscription without alarm_email."
  }
}

run "email_subscription_when_requested" {
  command = apply

  assert {
    condition     = aws_sns_topic_subscription.email[0].protocol == "email" && aws_sns_topic_subscription.email[0].endpoint == "oncall@example.com"
    error_message = "alarm_email must create an e-mail subscription."
  }
}

run "every_alarm_notifies_the_topic" {
  command = apply

  assert {
    condition = alltrue([
      for a in concat(values(aws_cloudwatch_metric_alarm.this), values(aws_cloudwatch_metric_alarm.tasks)) :
      toset(a.alarm_actions) == toset([aws_sns_topic.alarms.arn]) && toset(a.ok_actions) == toset([aws_sns_topic.alarms.arn]) && a.treat_missing_data != null
    ])
    error_message = "Every alarm must notify the topic on ALARM and OK and set treat_missing_data."
  }

  assert {
    condition = alltrue([
      for a in concat(values(aws_cloudwatch_metric_alarm.this), values(aws_cloudwatch_metric_alarm.tasks)) :
      startswith(a.alarm_name, "alarm-") && endswith(a.alarm_name, "-prod-td01") && a.tags["Environment"] == "prod" && a.tags["Owner"] == "platform-team" && a.tags["Project"] == "switchyard"
    ])
    error_message = "Alarm names must be alarm-...-<env>-<suffix> and alarms must be tagged."
  }

  assert {
    condition     = length(output.alarm_names) == length(aws_cloudwatch_metric_alarm.this) + length(aws_cloudwatch_metric_alarm.tasks)
    error_message = "alarm_names must list every alarm."
  }
}

run "p99_latency_alarm_per_target_group" {
  command = apply

  assert {
    condition = alltrue([
      for c in ["blue", "green"] : (
        aws_cloudwatch_metric_alarm.this["${c}-p99"].extended_statistic == "p99" &&
        aws_cloudwatch_metric_alarm.this["${c}-p99"].statistic == null &&
        aws_cloudwatch_metric_alarm.this["${c}-p99"].threshold == 1 &&
        aws_cloudwatch_metric_alarm.this["${c}-p99"].comparison_operator == "GreaterThanThreshold" &&
        aws_cloudwatch_metric_alarm.this["${c}-p99"].metric_name == "TargetResponseTime"
      )
    ])
    error_message = "Each colour needs a TargetResponseTime p99 > 1 s alarm."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["green-p99"].dimensions["TargetGroup"] == var.green_target_group_arn_suffix && aws_cloudwatch_metric_alarm.this["green-p99"].dimensions["LoadBalancer"] == var.alb_arn_suffix
    error_message = "The green latency alarm must watch the green target group."
  }
}

run "alb_and_target_group_alarms" {
  command = apply

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["alb-5xx"].metric_name == "HTTPCode_ELB_5XX_Count" && aws_cloudwatch_metric_alarm.this["alb-5xx"].statistic == "Sum"
    error_message = "An ALB-generated 5xx alarm must exist."
  }

  assert {
    condition = alltrue([
      for c in ["blue", "green"] : (
        aws_cloudwatch_metric_alarm.this["${c}-5xx"].metric_name == "HTTPCode_Target_5XX_Count" &&
        aws_cloudwatch_metric_alarm.this["${c}-unhealthy"].metric_name == "UnHealthyHostCount" &&
        aws_cloudwatch_metric_alarm.this["${c}-5xx"].period == 60
      )
    ])
    error_message = "Each target group needs target 5xx and unhealthy host alarms with 60 s periods."
  }
}

run "ecs_and_aurora_alarms" {
  command = apply

  assert {
    condition = alltrue([
      for c in ["blue", "green"] : (
        aws_cloudwatch_metric_alarm.this["${c}-cpu"].metric_name == "CPUUtilization" &&
        aws_cloudwatch_metric_alarm.this["${c}-memory"].metric_name == "MemoryUtilization" &&
        aws_cloudwatch_metric_alarm.this["${c}-cpu"].dimensions["ServiceName"] == (c == "blue" ? var.blue_service_name : var.green_service_name)
      )
    ])
    error_message = "Each service needs CPU and memory alarms."
  }

  assert {
    condition = alltrue([
      for c in ["blue", "green"] :
      anytrue([for q in aws_cloudwatch_metric_alarm.tasks[c].metric_query : try(q.metric[0].metric_name == "RunningTaskCount", false)])
    ])
    error_message = "Each service needs a running-task alarm."
  }

  assert {
    condition     = toset([for k in ["db-cpu", "db-connections", "db-memory-writer", "db-replica-lag"] : aws_cloudwatch_metric_alarm.this[k].metric_name]) == toset(["CPUUtilization", "DatabaseConnections", "FreeableMemory", "AuroraReplicaLag"])
    error_message = "Aurora CPU, connections, freeable memory and replica lag alarms must exist."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["db-memory-writer"].comparison_operator == "LessThanThreshold"
    error_message = "FreeableMemory must alarm when it drops below the threshold."
  }
}

run "alarm_sets_for_switchyard" {
  command = apply

  assert {
    condition     = output.blue_alarm_names == ["alarm-blue-5xx-prod-td01", "alarm-blue-unhealthy-prod-td01", "alarm-blue-p99-prod-td01"]
    error_message = "blue_alarm_names must be blue's 5xx, unhealthy and p99 alarms."
  }

  assert {
    condition     = output.green_alarm_names == ["alarm-green-5xx-prod-td01", "alarm-green-unhealthy-prod-td01", "alarm-green-p99-prod-td01"]
    error_message = "green_alarm_names must be green's 5xx, unhealthy and p99 alarms."
  }

  assert {
    condition     = contains(output.guard_alarm_names, "alarm-alb-5xx-prod-td01") && length(setintersection(toset(output.guard_alarm_names), toset(concat(output.blue_alarm_names, output.green_alarm_names)))) == 0
    error_message = "guard_alarm_names must hold the shared ALB alarms and no colour alarm."
  }

  assert {
    condition     = alltrue([for n in concat(output.guard_alarm_names, output.blue_alarm_names, output.green_alarm_names) : contains(output.alarm_names, n)])
    error_message = "Every watched alarm must be one of alarm_names."
  }
}

# Every alarm, field by field: namespace, metric, dimensions (ALB/target group arn_suffix forms,
# ECS cluster/service, Aurora cluster/instances), statistic, period, evaluation, operator,
# threshold, missing data. A changed or added alarm must change this table.
run "alarm_definitions" {
  command = apply

  assert {
    condition = toset(keys(aws_cloudwatch_metric_alarm.this)) == toset([
      "alb-5xx", "alb-target-5xx", "blue-5xx", "blue-unhealthy", "blue-p99", "green-5xx", "green-unhealthy", "green-p99",
      "blue-cpu", "blue-memory", "green-cpu", "green-memory",
      "db-cpu", "db-connections", "db-memory-writer", "db-memory-reader", "db-replica-lag",
    ])
    error_message = "The set of metric alarms changed."
  }

  assert {
    condition = alltrue([
      for k, e in {
        "alb-5xx"          = { ns = "AWS/ApplicationELB", metric = "HTTPCode_ELB_5XX_Count", dims = { LoadBalancer = "app/alb-prod-td01/0123456789abcdef" }, stat = "Sum", ext = null, period = 60, eval = 1, op = "GreaterThanThreshold", threshold = 5, missing = "notBreaching" }
        "alb-target-5xx"   = { ns = "AWS/ApplicationELB", metric = "HTTPCode_Target_5XX_Count", dims = { LoadBalancer = "app/alb-prod-td01/0123456789abcdef" }, stat = "Sum", ext = null, period = 60, eval = 1, op = "GreaterThanThreshold", threshold = 5, missing = "notBreaching" }
        "blue-5xx"         = { ns = "AWS/ApplicationELB", metric = "HTTPCode_Target_5XX_Count", dims = { LoadBalancer = "app/alb-prod-td01/0123456789abcdef", TargetGroup = "targetgroup/tg-blue-prod-td01/1111111111111111" }, stat = "Sum", ext = null, period = 60, eval = 1, op = "GreaterThanThreshold", threshold = 5, missing = "notBreaching" }
        "blue-unhealthy"   = { ns = "AWS/ApplicationELB", metric = "UnHealthyHostCount", dims = { LoadBalancer = "app/alb-prod-td01/0123456789abcdef", TargetGroup = "targetgroup/tg-blue-prod-td01/1111111111111111" }, stat = "Maximum", ext = null, period = 60, eval = 1, op = "GreaterThanThreshold", threshold = 0, missing = "notBreaching" }
        "blue-p99"         = { ns = "AWS/ApplicationELB", metric = "TargetResponseTime", dims = { LoadBalancer = "app/alb-prod-td01/0123456789abcdef", TargetGroup = "targetgroup/tg-blue-prod-td01/1111111111111111" }, stat = null, ext = "p99", period = 60, eval = 1, op = "GreaterThanThreshold", threshold = 1, missing = "notBreaching" }
        "green-5xx"        = { ns = "AWS/ApplicationELB", metric = "HTTPCode_Target_5XX_Count", dims = { LoadBalancer = "app/alb-prod-td01/0123456789abcdef", TargetGroup = "targetgroup/tg-green-prod-td01/2222222222222222" }, stat = "Sum", ext = null, period = 60, eval = 1, op = "GreaterThanThreshold", threshold = 5, missing = "notBreaching" }
        "green-unhealthy"  = { ns = "AWS/ApplicationELB", metric = "UnHealthyHostCount", dims = { LoadBalancer = "app/alb-prod-td01/0123456789abcdef", TargetGroup = "targetgroup/tg-green-prod-td01/2222222222222222" }, stat = "Maximum", ext = null, period = 60, eval = 1, op = "GreaterThanThreshold", threshold = 0, missing = "notBreaching" }
        "green-p99"        = { ns = "AWS/ApplicationELB", metric = "TargetResponseTime", dims = { LoadBalancer = "app/alb-prod-td01/0123456789abcdef", TargetGroup = "targetgroup/tg-green-prod-td01/2222222222222222" }, stat = null, ext = "p99", period = 60, eval = 1, op = "GreaterThanThreshold", threshold = 1, missing = "notBreaching" }
        "blue-cpu"         = { ns = "AWS/ECS", metric = "CPUUtilization", dims = { ClusterName = "ecs-prod-td01", ServiceName = "svc-blue-prod-td01" }, stat = "Average", ext = null, period = 60, eval = 5, op = "GreaterThanThreshold", threshold = 85, missing = "notBreaching" }
        "blue-memory"      = { ns = "AWS/ECS", metric = "MemoryUtilization", dims = { ClusterName = "ecs-prod-td01", ServiceName = "svc-blue-prod-td01" }, stat = "Average", ext = null, period = 60, eval = 5, op = "GreaterThanThreshold", threshold = 85, missing = "notBreaching" }
        "green-cpu"        = { ns = "AWS/ECS", metric = "CPUUtilization", dims = { ClusterName = "ecs-prod-td01", ServiceName = "svc-green-prod-td01" }, stat = "Average", ext = null, period = 60, eval = 5, op = "GreaterThanThreshold", threshold = 85, missing = "notBreaching" }
        "green-memory"     = { ns = "AWS/ECS", metric = "MemoryUtilization", dims = { ClusterName = "ecs-prod-td01", ServiceName = "svc-green-prod-td01" }, stat = "Average", ext = null, period = 60, eval = 5, op = "GreaterThanThreshold", threshold = 85, missing = "notBreaching" }
        "db-cpu"           = { ns = "AWS/RDS", metric = "CPUUtilization", dims = { DBClusterIdentifier = "rds-prod-td01" }, stat = "Maximum", ext = null, period = 60, eval = 5, op = "GreaterThanThreshold", threshold = 80, missing = "breaching" }
        "db-connections"   = { ns = "AWS/RDS", metric = "DatabaseConnections", dims = { DBClusterIdentifier = "rds-prod-td01" }, stat = "Maximum", ext = null, period = 60, eval = 5, op = "GreaterThanThreshold", threshold = 400, missing = "breaching" }
        "db-memory-writer" = { ns = "AWS/RDS", metric = "FreeableMemory", dims = { DBInstanceIdentifier = "rds-writer-prod-td01" }, stat = "Minimum", ext = null, period = 60, eval = 5, op = "LessThanThreshold", threshold = 268435456, missing = "breaching" }
        "db-memory-reader" = { ns = "AWS/RDS", metric = "FreeableMemory", dims = { DBInstanceIdentifier = "rds-reader-prod-td01" }, stat = "Minimum", ext = null, period = 60, eval = 5, op = "LessThanThreshold", threshold = 268435456, missing = "breaching" }
        "db-replica-lag"   = { ns = "AWS/RDS", metric = "AuroraReplicaLag", dims = { DBInstanceIdentifier = "rds-reader-prod-td01" }, stat = "Maximum", ext = null, period = 60, eval = 3, op = "GreaterThanThreshold", threshold = 2000, missing = "notBreaching" }
      } :
      jsonencode({
        ns        = aws_cloudwatch_metric_alarm.this[k].namespace
        metric    = aws_cloudwatch_metric_alarm.this[k].metric_name
        dims      = aws_cloudwatch_metric_alarm.this[k].dimensions
        stat      = aws_cloudwatch_metric_alarm.this[k].statistic
        ext       = aws_cloudwatch_metric_alarm.this[k].extended_statistic
        period    = aws_cloudwatch_metric_alarm.this[k].period
        eval      = aws_cloudwatch_metric_alarm.this[k].evaluation_periods
        op        = aws_cloudwatch_metric_alarm.this[k].comparison_operator
        threshold = aws_cloudwatch_metric_alarm.this[k].threshold
        missing   = aws_cloudwatch_metric_alarm.this[k].treat_missing_data
      }) == jsonencode(e) && aws_cloudwatch_metric_alarm.this[k].datapoints_to_alarm == e.eval
    ])
    error_message = "An alarm's namespace, metric, dimensions, statistic, period, evaluation, operator, threshold or missing-data handling changed."
  }

  # Tasks below desired, from Container Insights: desired - running >= 1 for 5 minutes.
  assert {
    condition = alltrue([
      for c, svc in { blue = "svc-blue-prod-td01", green = "svc-green-prod-td01" } : (
        aws_cloudwatch_metric_alarm.tasks[c].comparison_operator == "GreaterThanOrEqualToThreshold" &&
        aws_cloudwatch_metric_alarm.tasks[c].threshold == 1 &&
        aws_cloudwatch_metric_alarm.tasks[c].evaluation_periods == 5 &&
        aws_cloudwatch_metric_alarm.tasks[c].datapoints_to_alarm == 5 &&
        jsonencode({ for q in aws_cloudwatch_metric_alarm.tasks[c].metric_query : q.id => {
          expression = q.expression
          returns    = q.return_data
          metric = [for m in q.metric : {
            ns = m.namespace, name = m.metric_name, dims = m.dimensions, period = m.period, stat = m.stat
          }]
          } }) == jsonencode({
          shortfall = { expression = "desired - running", returns = true, metric = [] }
          desired   = { expression = null, returns = false, metric = [{ ns = "ECS/ContainerInsights", name = "DesiredTaskCount", dims = { ClusterName = "ecs-prod-td01", ServiceName = svc }, period = 60, stat = "Average" }] }
          running   = { expression = null, returns = false, metric = [{ ns = "ECS/ContainerInsights", name = "RunningTaskCount", dims = { ClusterName = "ecs-prod-td01", ServiceName = svc }, period = 60, stat = "Average" }] }
        })
      )
    ])
    error_message = "The task shortfall alarm must compute desired - running from Container Insights for its own service."
  }
}
