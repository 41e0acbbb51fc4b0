# Regional WAFv2 web ACL in front of the ALB.
#
# Evaluation order (lowest priority first): per-IP rate limit, AWS managed rule groups (common,
# known bad inputs, SQL injection), then explicit SQLi and XSS statements on the body, query string
# and URI path. Default action is allow: the ACL blocks what a rule matches, nothing else.
# Capacity: ~700 (common) + 200 (bad inputs) + 200 (SQLi set) + 2 (rate) + 3 x 40 (SQLi) + 3 x 60 (XSS)
# = ~1400 WCU, inside the 1500 WCU included in the base web ACL price.

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

  # AWS WAF only delivers to CloudWatch log groups whose name starts with "aws-waf-logs-", so this
  # one cannot start with the usual "log-" type word; it keeps the -<environment>-<suffix> ending.
  log_group_name = "aws-waf-logs-${local.name_suffix}"
  log_group_arn  = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"

  managed_rule_groups = {
    AWSManagedRulesCommonRuleSet         = { priority = 20, metric = "common" }
    AWSManagedRulesKnownBadInputsRuleSet = { priority = 30, metric = "bad-inputs" }
    AWSManagedRulesSQLiRuleSet           = { priority = 40, metric = "sqli-managed" }
  }

  # Explicit match rules in addition to the managed sets: one rule per (attack, request component)
  # so each has its own metric and sampled requests.
  inspection_rules = {
    sqli-body  = { priority = 50, kind = "sqli", field = "body" }
    sqli-query = { priority = 51, kind = "sqli", field = "query_string" }
    sqli-uri   = { priority = 52, kind = "sqli", field = "uri_path" }
    xss-body   = { priority = 60, kind = "xss", field = "body" }
    xss-query  = { priority = 61, kind = "xss", field = "query_string" }
    xss-uri    = { priority = 62, kind = "xss", field = "uri_path" }
  }

  # Decode before matching so URL- or entity-encoded payloads cannot slip past the statements.
  text_transformations = [
    { priority = 0, type = "URL_DECODE" },
    { priority = 1, type = "HTML_ENTITY_DECODE" },
  ]

  redacted_headers = distinct(concat(["authorization"], var.redacted_headers))
}

resource "aws_wafv2_web_acl" "this" {
  name        = "waf-${local.name_suffix}"
  description = "Web ACL protecting the switchyard ALB (${local.name_suffix})."
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  rule {
    name     = "rate-limit-per-ip"
    priority = 10

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit                 = var.rate_limit
        evaluation_window_sec = var.rate_limit_window_seconds
        aggregate_key_type    = "IP"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "waf-rate-limit-${local.name_suffix}"
      sampled_requests_enabled   = true
    }
  }

  dynamic "rule" {
    for_each = local.managed_rule_groups

    content {
      name     = rule.key
      priority = rule.value.priority

      # none = keep the managed group's own block actions (count would only observe).
      override_action {
        none {}
      }

      statement {
        managed_rule_group_statement {
          name        = rule.key
          vendor_name = "AWS"

          dynamic "rule_action_override" {
            for_each = rule.key == "AWSManagedRulesCommonRuleSet" ? toset(var.common_rule_set_count_overrides) : toset([])

            content {
              name = rule_action_override.value

              action_to_use {
                count {}
              }
            }
          }
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "waf-${rule.value.metric}-${local.name_suffix}"
        sampled_requests_enabled   = true
      }
    }
  }

  dynamic "rule" {
    for_each = local.inspection_rules

    content {
      name     = rule.key
      priority = rule.value.priority

      action {
        block {}
      }

      statement {
        dynamic "sqli_match_statement" {
          for_each = rule.value.kind == "sqli" ? [rule.value.field] : []

          content {
            sensitivity_level = var.sqli_sensitivity_level

            field_to_match {
              dynamic "body" {
                for_each = sqli_match_statement.value == "body" ? [1] : []
                content {
                  oversize_handling = var.body_oversize_handling
                }
              }

              dynamic "query_string" {
                for_each = sqli_match_statement.value == "query_string" ? [1] : []
                content {}
              }

              dynamic "uri_path" {
                for_each = sqli_match_statement.value == "uri_path" ? [1] : []
                content {}
              }
            }

            dynamic "text_transformation" {
              for_each = local.text_transformations
              content {
                priority = text_transformation.value.priority
                type     = text_transformation.value.type
              }
            }
          }
        }

        dynamic "xss_match_statement" {
          for_each = rule.value.kind == "xss" ? [rule.value.field] : []

          content {
            field_to_match {
              dynamic "body" {
                for_each = xss_match_statement.value == "body" ? [1] : []
                content {
                  oversize_handling = var.body_oversize_handling
                }
              }

              dynamic "query_string" {
                for_each = xss_match_statement.value == "query_string" ? [1] : []
                content {}
              }

              dynamic "uri_path" {
                for_each = xss_match_statement.value == "uri_path" ? [1] : []
                content {}
              }
            }

            dynamic "text_transformation" {
              for_each = local.text_transformations
              content {
                priority = text_transformation.value.priority
                type     = text_transformation.value.type
              }
            }
          }
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "waf-${rule.key}-${local.name_suffix}"
        sampled_requests_enabled   = true
      }
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "waf-${local.name_suffix}"
    sampled_requests_enabled   = true
  }

  tags = merge(local.tags, { Name = "waf-${local.name_suffix}" })
}

resource "aws_wafv2_web_acl_association" "alb" {
  resource_arn = var.alb_arn
  web_acl_arn  = aws_wafv2_web_acl.this.arn
}

################################################################################
# Logging: KMS-encrypted CloudWatch log group
################################################################################

data "aws_iam_policy_document" "logs_kms" {
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

  statement {
    sid    = "CloudWatchLogsUseForWafLogGroup"
    effect = "Allow"
    actions = [
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = [local.log_group_arn]
    }
  }
}

resource "aws_kms_key" "logs" {
  description             = "Encrypts the WAF log group aws-waf-logs-${local.name_suffix}."
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days
  policy                  = data.aws_iam_policy_document.logs_kms.json

  tags = merge(local.tags, { Name = "kms-waf-logs-${local.name_suffix}" })
}

resource "aws_kms_alias" "logs" {
  name          = "alias/kms-waf-logs-${local.name_suffix}"
  target_key_id = aws_kms_key.logs.key_id
}

resource "aws_cloudwatch_log_group" "waf" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn

  tags = merge(local.tags, { Name = local.log_group_name })
}

# Lets the WAF log delivery service write to this log group only (WAF would otherwise try to add a
# broad account-level policy itself).
data "aws_iam_policy_document" "log_delivery" {
  statement {
    sid       = "WafLogDelivery"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:*"]

    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:*"]
    }
  }
}

resource "aws_cloudwatch_log_resource_policy" "waf" {
  policy_name     = "policy-waf-logs-${local.name_suffix}"
  policy_document = data.aws_iam_policy_document.log_delivery.json
}

resource "aws_wafv2_web_acl_logging_configuration" "this" {
  resource_arn            = aws_wafv2_web_acl.this.arn
  log_destination_configs = [aws_cloudwatch_log_group.waf.arn]

  # Credentials and session cookies never reach the logs.
  dynamic "redacted_fields" {
    for_each = local.redacted_headers

    content {
      single_header {
        name = redacted_fields.value
      }
    }
  }

  depends_on = [aws_cloudwatch_log_resource_policy.waf]
}
