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
}

override_resource {
  target = aws_wafv2_web_acl.this
  values = {
    arn = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/waf-prod-td01/11111111-2222-3333-4444-555555555555"
  }
}

override_resource {
  target = aws_cloudwatch_log_group.waf
  values = {
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-prod-td01"
  }
}

override_resource {
  target = aws_kms_key.logs
  values = {
    arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }
}

variables {
  environment        = "prod"
  environment_suffix = "td01"
  owner              = "platform-team"
  alb_arn            = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/alb-prod-td01/0123456789abcdef"
}

run "web_acl_is_regional_with_default_allow" {
  command = apply

  assert {
    condition     = aws_wafv2_web_acl.this.scope == "REGIONAL"
    error_message = "The web ACL must be REGIONAL (ALB)."
  }

  assert {
    condition     = length(aws_wafv2_web_acl.this.default_action[0].allow) == 1 && length(aws_wafv2_web_acl.this.default_action[0].block) == 0
    error_message = "The default action must be allow."
  }

  assert {
    condition     = aws_wafv2_web_acl.this.name == "waf-prod-td01"
    error_message = "The web ACL name must be waf-<env>-<suffix>."
  }

  assert {
    condition     = aws_wafv2_web_acl_association.alb.resource_arn == var.alb_arn && aws_wafv2_web_acl_association.alb.web_acl_arn == aws_wafv2_web_acl.this.arn
    error_message = "The web ACL must be associated with the ALB."
  }
}

run "managed_rule_groups_keep_their_actions" {
  command = apply

  assert {
    condition = toset(flatten([
      for r in aws_wafv2_web_acl.this.rule : [for m in r.statement[0].managed_rule_group_statement : m.name if m.vendor_name == "AWS"]
    ])) == toset(["AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"])
    error_message = "The web ACL must use the AWS common, SQLi and known-bad-inputs managed rule groups."
  }

  assert {
    condition = alltrue([
      for r in aws_wafv2_web_acl.this.rule :
      length(r.override_action) == 1 && length(r.override_action[0].none) == 1
      if length(r.statement[0].managed_rule_group_statement) > 0
    ])
    error_message = "Managed rule groups must use override_action none (their own block actions)."
  }
}

run "explicit_sqli_and_xss_rules_block_with_decoding" {
  command = apply

  assert {
    condition     = length([for r in aws_wafv2_web_acl.this.rule : r if length(r.statement[0].sqli_match_statement) > 0]) == 3
    error_message = "There must be SQL injection match rules for body, query string and URI path."
  }

  assert {
    condition     = length([for r in aws_wafv2_web_acl.this.rule : r if length(r.statement[0].xss_match_statement) > 0]) == 3
    error_message = "There must be XSS match rules for body, query string and URI path."
  }

  assert {
    condition = alltrue(flatten([
      for r in aws_wafv2_web_acl.this.rule : [
        for s in concat(r.statement[0].sqli_match_statement, r.statement[0].xss_match_statement) :
        toset([for t in s.text_transformation : t.type]) == toset(["URL_DECODE", "HTML_ENTITY_DECODE"])
      ]
    ]))
    error_message = "SQLi/XSS statements must URL-decode and HTML-entity-decode before matching."
  }

  assert {
    condition = alltrue([
      for r in aws_wafv2_web_acl.this.rule :
      length(r.action) == 1 && length(r.action[0].block) == 1
      if length(r.statement[0].sqli_match_statement) + length(r.statement[0].xss_match_statement) > 0
    ])
    error_message = "SQLi/XSS rules must block."
  }

  assert {
    condition = toset(flatten([
      for r in aws_wafv2_web_acl.this.rule : [
        for s in concat(r.statement[0].sqli_match_statement, r.statement[0].xss_match_statement) :
        "${length(s.field_to_match[0].body) > 0 ? "body" : ""}${length(s.field_to_match[0].query_string) > 0 ? "query" : ""}${length(s.field_to_match[0].uri_path) > 0 ? "uri" : ""}"
      ]
    ])) == toset(["body", "query", "uri"])
    error_message = "SQLi/XSS statements must cover body, query string and URI path."
  }
}

run "rate_based_rule_blocks_per_ip" {
  command = apply

  variables {
    rate_limit = 1500
  }

  assert {
    condition = one(flatten([
      for r in aws_wafv2_web_acl.this.rule : [for s in r.statement[0].rate_based_statement : s.limit]
    ])) == 1500
    error_message = "There must be exactly one rate-based rule with the configured limit."
  }

  assert {
    condition = alltrue([
      for r in aws_wafv2_web_acl.this.rule :
      length(r.action[0].block) == 1 && r.statement[0].rate_based_statement[0].aggregate_key_type == "IP"
      if length(r.statement[0].rate_based_statement) > 0
    ])
    error_message = "The rate-based rule must block per client IP."
  }
}

run "every_rule_publishes_metrics_and_samples" {
  command = apply

  assert {
    condition     = length(aws_wafv2_web_acl.this.rule) == 10
    error_message = "Expected 10 rules: rate limit, 3 managed groups, 3 SQLi and 3 XSS."
  }

  assert {
    condition = alltrue([
      for r in aws_wafv2_web_acl.this.rule :
      r.visibility_config[0].cloudwatch_metrics_enabled && r.visibility_config[0].sampled_requests_enabled && endswith(r.visibility_config[0].metric_name, "-prod-td01")
    ])
    error_message = "Every rule must enable CloudWatch metrics and sampled requests."
  }

  assert {
    condition     = length(distinct([for r in aws_wafv2_web_acl.this.rule : r.priority])) == length(aws_wafv2_web_acl.this.rule)
    error_message = "Rule priorities must be unique."
  }

  assert {
    condition     = aws_wafv2_web_acl.this.visibility_config[0].cloudwatch_metrics_enabled && aws_wafv2_web_acl.this.visibility_config[0].sampled_requests_enabled
    error_message = "The web ACL itself must publish metrics and samples."
  }
}

run "logging_to_encrypted_aws_waf_logs_group" {
  command = apply

  assert {
    condition     = aws_cloudwatch_log_group.waf.name == "aws-waf-logs-prod-td01"
    error_message = "WAF log group must be aws-waf-logs-<env>-<suffix> (AWS requires the prefix)."
  }

  assert {
    condition     = aws_cloudwatch_log_group.waf.kms_key_id == aws_kms_key.logs.arn && aws_kms_key.logs.enable_key_rotation
    error_message = "The WAF log group must be encrypted with the rotating module KMS key."
  }

  assert {
    condition     = toset(aws_wafv2_web_acl_logging_configuration.this.log_destination_configs) == toset([aws_cloudwatch_log_group.waf.arn])
    error_message = "WAF logging must deliver to the log group."
  }

  assert {
    condition     = contains([for f in aws_wafv2_web_acl_logging_configuration.this.redacted_fields : f.single_header[0].name], "authorization")
    error_message = "The authorization header must be redacted from the WAF logs."
  }
}

run "tags" {
  command = apply

  assert {
    condition = alltrue([
      for t in [aws_wafv2_web_acl.this.tags, aws_cloudwatch_log_group.waf.tags, aws_kms_key.logs.tags] :
      t["Environment"] == "prod" && t["Project"] == "switchyard" && t["Owner"] == "platform-team" && endswith(t["Name"], "-prod-td01")
    ])
    error_message = "Resources must carry Environment/Project/Owner and a Name ending with the suffix."
  }
}

run "rejects_rate_limit_below_10" {
  command = plan

  variables {
    rate_limit = 5
  }

  expect_failures = [var.rate_limit]
}

run "rejects_bad_window" {
  command = plan

  variables {
    rate_limit_window_seconds = 90
  }

  expect_failures = [var.rate_limit_window_seconds]
}

run "rejects_non_alb_arn" {
  command = plan

  variables {
    alb_arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/nlb/0123456789abcdef"
  }

  expect_failures = [var.alb_arn]
}

run "rejects_bad_suffix" {
  command = plan

  variables {
    environment_suffix = "x"
  }

  expect_failures = [var.environment_suffix]
}

run "rejects_rate_limit_above_aws_maximum" {
  command = plan

  variables {
    rate_limit = 2000000001
  }

  expect_failures = [var.rate_limit]
}

run "rejects_fractional_rate_limit" {
  command = plan

  variables {
    rate_limit = 100.5
  }

  expect_failures = [var.rate_limit]
}

run "rejects_medium_sqli_sensitivity" {
  command = plan

  variables {
    sqli_sensitivity_level = "MEDIUM"
  }

  expect_failures = [var.sqli_sensitivity_level]
}
