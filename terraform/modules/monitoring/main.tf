# Alarms for the blue/green stack and the encrypted SNS topic they notify.
#
# Three groups matter to switchyard (see outputs):
#   guard_alarm_names  - shared alarms watched during every shift (load balancer-wide 5xx);
#   blue_alarm_names   - the blue target group's 5xx, unhealthy hosts and p99 latency;
#   green_alarm_names  - the same for green.
# ALB and ECS metrics are published once a minute, so those alarms use 60 s periods: a 10 s period
# is only meaningful for high-resolution custom metrics, which this stack does not publish.
# Every alarm notifies the topic on ALARM and on OK.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  name_suffix = "${var.environment}-${var.environment_suffix}"

  tags = merge(var.tags, {
    Environment = var.environment
    Project     = var.project
    Owner       = var.owner
  })

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  topic_name = "sns-alarms-${local.name_suffix}"
  topic_arn  = "arn:${local.partition}:sns:${local.region}:${local.account_id}:${local.topic_name}"

  colours = {
    blue = {
      target_group = var.blue_target_group_arn_suffix
      service      = var.blue_service_name
    }
    green = {
      target_group = var.green_target_group_arn_suffix
      service      = var.green_service_name
    }
  }

  # treat_missing_data, per metric:
  # - ALB 5xx counts are only published for minutes that had such responses: missing = no errors
  #   (notBreaching).
  # - TargetResponseTime has no datapoint without requests, and the idle colour gets none:
  #   notBreaching.
  # - UnHealthyHostCount is missing while a target group has no registered targets (idle colour):
  #   notBreaching.
  # - ECS CPU/memory are missing while a service runs no tasks (idle colour): notBreaching.
  # - Aurora CPU, connections and memory are published every minute while an instance is up, so
  #   silence means the instance is down or being replaced: breaching.
  # - AuroraReplicaLag stops when the reader is promoted in a failover (a writer reports no lag);
  #   the CPU/memory alarms catch a lost instance, so lag uses notBreaching.
  #
  # Each definition states only what sets it apart from alarm_defaults; every alarm fires on all of
  # its evaluation periods (datapoints_to_alarm = evaluation_periods, set on the resource).
  alarm_defaults = {
    statistic           = null
    extended_statistic  = null
    period              = 60
    evaluation_periods  = 1
    comparison_operator = "GreaterThanThreshold"
    treat_missing_data  = "notBreaching"
  }

  # Per colour: what switchyard watches while that colour takes traffic, over the shift period.
  shift_alarms = merge([
    for colour, c in local.colours : {
      for what, a in {
        "5xx" = {
          description = "Target 5xx responses of the ${colour} target group above ${var.target_5xx_threshold} per ${var.shift_alarm_period}s. switchyard rolls a shift back on it."
          metric_name = "HTTPCode_Target_5XX_Count"
          statistic   = "Sum"
          threshold   = var.target_5xx_threshold
        }
        "unhealthy" = {
          description = "Unhealthy hosts in the ${colour} target group. switchyard rolls a shift back on it."
          metric_name = "UnHealthyHostCount"
          statistic   = "Maximum"
          threshold   = 0
        }
        "p99" = {
          description        = "p99 target response time of the ${colour} target group above ${var.latency_p99_threshold_seconds}s. switchyard rolls a shift back on it."
          metric_name        = "TargetResponseTime"
          extended_statistic = "p99"
          threshold          = var.latency_p99_threshold_seconds
        }
        } : "${colour}-${what}" => merge(a, {
          group              = colour
          namespace          = "AWS/ApplicationELB"
          dimensions         = { LoadBalancer = var.alb_arn_suffix, TargetGroup = c.target_group }
          period             = var.shift_alarm_period
          evaluation_periods = var.shift_alarm_evaluation_periods
      })
    }
  ]...)

  service_alarms = merge([
    for colour, c in local.colours : {
      for what, a in {
        cpu    = { metric_name = "CPUUtilization", label = "CPU", threshold = var.ecs_cpu_threshold }
        memory = { metric_name = "MemoryUtilization", label = "memory", threshold = var.ecs_memory_threshold }
        } : "${colour}-${what}" => {
        group              = "service"
        description        = "Average ${a.label} of the ${colour} ECS service above ${a.threshold}% for 5 minutes."
        namespace          = "AWS/ECS"
        metric_name        = a.metric_name
        statistic          = "Average"
        dimensions         = { ClusterName = var.ecs_cluster_name, ServiceName = c.service }
        evaluation_periods = 5
        threshold          = a.threshold
      }
    }
  ]...)

  # Load balancer-wide: watched during every shift, whatever the colour.
  guard_alarms = {
    for k, a in {
      "alb-5xx" = {
        description = "5xx generated by the load balancer itself (no healthy target, target connection errors) above ${var.elb_5xx_threshold}/min."
        metric_name = "HTTPCode_ELB_5XX_Count"
        threshold   = var.elb_5xx_threshold
      }
      "alb-target-5xx" = {
        description = "Target 5xx across the whole load balancer (both colours) above ${var.target_5xx_threshold}/min."
        metric_name = "HTTPCode_Target_5XX_Count"
        threshold   = var.target_5xx_threshold
      }
      } : k => merge(a, {
        group      = "guard"
        namespace  = "AWS/ApplicationELB"
        statistic  = "Sum"
        dimensions = { LoadBalancer = var.alb_arn_suffix }
    })
  }

  db_alarms = {
    for k, a in {
      "db-cpu" = {
        description = "Aurora cluster CPU above ${var.db_cpu_threshold}% for 5 minutes."
        metric_name = "CPUUtilization"
        dimensions  = { DBClusterIdentifier = var.db_cluster_identifier }
        threshold   = var.db_cpu_threshold
      }
      "db-connections" = {
        description = "Aurora cluster connections above ${var.db_connections_threshold} for 5 minutes."
        metric_name = "DatabaseConnections"
        dimensions  = { DBClusterIdentifier = var.db_cluster_identifier }
        threshold   = var.db_connections_threshold
      }
      "db-memory-writer" = {
        description         = "FreeableMemory of the Aurora writer below ${var.db_freeable_memory_threshold_bytes} bytes for 5 minutes."
        metric_name         = "FreeableMemory"
        statistic           = "Minimum"
        dimensions          = { DBInstanceIdentifier = var.db_writer_instance_id }
        comparison_operator = "LessThanThreshold"
        threshold           = var.db_freeable_memory_threshold_bytes
      }
      "db-memory-reader" = {
        description         = "FreeableMemory of the Aurora reader below ${var.db_freeable_memory_threshold_bytes} bytes for 5 minutes."
        metric_name         = "FreeableMemory"
        statistic           = "Minimum"
        dimensions          = { DBInstanceIdentifier = var.db_reader_instance_id }
        comparison_operator = "LessThanThreshold"
        threshold           = var.db_freeable_memory_threshold_bytes
      }
      "db-replica-lag" = {
        description        = "AuroraReplicaLag of the reader above ${var.db_replica_lag_threshold_ms} ms for 3 minutes."
        metric_name        = "AuroraReplicaLag"
        dimensions         = { DBInstanceIdentifier = var.db_reader_instance_id }
        evaluation_periods = 3
        threshold          = var.db_replica_lag_threshold_ms
        treat_missing_data = "notBreaching"
      }
      # The shared settings come first so an alarm's own win.
      } : k => merge({
        group              = "database"
        namespace          = "AWS/RDS"
        statistic          = "Maximum"
        evaluation_periods = 5
        treat_missing_data = "breaching"
    }, a)
  }

  metric_alarms = {
    for k, a in merge(local.guard_alarms, local.shift_alarms, local.service_alarms, local.db_alarms) :
    k => merge(local.alarm_defaults, a)
  }

  alarm_actions = [aws_sns_topic.alarms.arn]
}

################################################################################
# SNS topic (KMS-encrypted)
################################################################################

data "aws_iam_policy_document" "sns_kms" {
  statement {
    sid       = "AccountAdministration"
    effect    = "Allow"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch publishes alarm notifications to the encrypted topic with this key.
  statement {
    sid       = "CloudWatchAlarmsUseKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "sns" {
  description             = "Encrypts the alarm topic ${local.topic_name}."
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days
  policy                  = data.aws_iam_policy_document.sns_kms.json

  tags = merge(local.tags, { Name = "kms-sns-alarms-${local.name_suffix}" })
}

resource "aws_kms_alias" "sns" {
  name          = "alias/kms-sns-alarms-${local.name_suffix}"
  target_key_id = aws_kms_key.sns.key_id
}

resource "aws_sns_topic" "alarms" {
  name              = local.topic_name
  display_name      = "switchyard alarms ${local.name_suffix}"
  kms_master_key_id = aws_kms_key.sns.arn

  tags = merge(local.tags, { Name = local.topic_name })

  lifecycle {
    precondition {
      condition     = var.alarm_email != null || var.allow_no_alarm_notifications
      error_message = "The alarm topic would notify nobody: set alarm_email, or set allow_no_alarm_notifications = true to accept alarms without notifications explicitly."
    }
  }
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid    = "AccountOwnerAccess"
    effect = "Allow"
    actions = [
      "sns:GetTopicAttributes",
      "sns:SetTopicAttributes",
      "sns:AddPermission",
      "sns:RemovePermission",
      "sns:DeleteTopic",
      "sns:Subscribe",
      "sns:ListSubscriptionsByTopic",
      "sns:Publish",
    ]
    resources = [local.topic_arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublish"
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [local.topic_arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:*"]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = [local.topic_arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

################################################################################
# Alarms
################################################################################

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.metric_alarms

  alarm_name          = "alarm-${each.key}-${local.name_suffix}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  statistic           = each.value.statistic
  extended_statistic  = each.value.extended_statistic
  dimensions          = each.value.dimensions
  period              = each.value.period
  evaluation_periods  = each.value.evaluation_periods
  datapoints_to_alarm = each.value.evaluation_periods
  comparison_operator = each.value.comparison_operator
  threshold           = each.value.threshold
  treat_missing_data  = each.value.treat_missing_data

  actions_enabled = true
  alarm_actions   = local.alarm_actions
  ok_actions      = local.alarm_actions

  tags = merge(local.tags, { Name = "alarm-${each.key}-${local.name_suffix}", AlarmGroup = each.value.group })
}

# Running tasks below what the service wants. Autoscaling keeps desired_count at or above the
# floor (min capacity) of the live colour, so this is the "below min" alarm; unlike a fixed
# "RunningTaskCount < min" threshold it stays OK for the idle colour at 0 desired tasks.
# Container Insights metrics; 5 minutes so normal scale-out and task replacement do not page.
resource "aws_cloudwatch_metric_alarm" "tasks" {
  for_each = local.colours

  alarm_name          = "alarm-${each.key}-tasks-${local.name_suffix}"
  alarm_description   = "The ${each.key} ECS service has run fewer tasks than desired for 5 minutes (tasks crash-looping, failing health checks or unable to start)."
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  # Container Insights stops publishing for a deleted or broken cluster integration; the ALB
  # guard alarms cover an outage, so silence is not treated as a task shortfall.
  treat_missing_data = "notBreaching"

  metric_query {
    id          = "shortfall"
    expression  = "desired - running"
    label       = "Tasks below desired"
    return_data = true
  }

  metric_query {
    id          = "desired"
    return_data = false

    metric {
      namespace   = "ECS/ContainerInsights"
      metric_name = "DesiredTaskCount"
      period      = 60
      stat        = "Average"
      dimensions  = { ClusterName = var.ecs_cluster_name, ServiceName = each.value.service }
    }
  }

  metric_query {
    id          = "running"
    return_data = false

    metric {
      namespace   = "ECS/ContainerInsights"
      metric_name = "RunningTaskCount"
      period      = 60
      stat        = "Average"
      dimensions  = { ClusterName = var.ecs_cluster_name, ServiceName = each.value.service }
    }
  }

  actions_enabled = true
  alarm_actions   = local.alarm_actions
  ok_actions      = local.alarm_actions

  tags = merge(local.tags, { Name = "alarm-${each.key}-tasks-${local.name_suffix}", AlarmGroup = "service" })
}
