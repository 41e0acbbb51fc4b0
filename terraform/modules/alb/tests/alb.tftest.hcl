# Tests with a mocked AWS provider: nothing reaches AWS. One file, so the provider mocks, the target
# group overrides and the variables are stated once (OpenTofu 1.10 has no shared mock files).
# The ignore_changes runs first (a mocked apply, then plans against its in-memory state), then runs
# that apply to the mock (mocked computed values are known after apply in OpenTofu and Terraform;
# Terraform leaves them unknown in plan runs), then the expect_failures runs, which plan: an
# unexpected error skips every later run of a file, so a broken validation must not hide the rest.

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

  mock_data "aws_elb_service_account" {
    defaults = {
      arn = "arn:aws:iam::127311923021:root"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

override_resource {
  target = aws_lb_target_group.blue
  values = {
    arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-blue-prod-td01/1111111111111111"
    arn_suffix = "targetgroup/tg-blue-prod-td01/1111111111111111"
  }
}

override_resource {
  target = aws_lb_target_group.green
  values = {
    arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-green-prod-td01/2222222222222222"
    arn_suffix = "targetgroup/tg-green-prod-td01/2222222222222222"
  }
}

variables {
  environment                 = "prod"
  environment_suffix          = "td01"
  owner                       = "platform-team"
  tags                        = { CostCenter = "trading" }
  vpc_id                      = "vpc-0123456789abcdef0"
  public_subnet_ids           = ["subnet-0000000000000000a", "subnet-0000000000000000b", "subnet-0000000000000000c"]
  alb_security_group_id       = "sg-0123456789abcdef0"
  certificate_arn             = "arn:aws:acm:us-east-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
  test_listener_allowed_cidrs = ["203.0.113.0/24", "198.51.100.10/32"]
}

################################################################################
# ignore_changes
#
# ignore_changes on the attributes switchyard owns, proved with a mocked apply followed by plans:
# the first run applies (to the mocked provider, so only the test's in-memory state changes) with
# blue 100 / green 0 and the test listener on green; later runs plan with other configuration.
# Because switchyard owns the weights and the test listener's target, the plan must keep the applied
# values; everything else on the same listeners and rules must still be planned from configuration
# (ignore_changes is exactly the target groups, not the whole action).
################################################################################

run "create_with_blue_live" {
  command = apply

  assert {
    condition     = aws_lb_listener.test.default_action[0].target_group_arn == aws_lb_target_group.green.arn
    error_message = "The test listener starts on green."
  }
}

run "new_weights_and_test_target_in_configuration_are_ignored" {
  command = plan

  variables {
    initial_blue_weight          = 0
    initial_green_weight         = 100
    test_listener_initial_colour = "blue"
  }

  assert {
    condition     = toset([for tg in aws_lb_listener.https.default_action[0].forward[0].target_group : tg.weight if tg.arn == aws_lb_target_group.blue.arn]) == toset([100])
    error_message = "The listener's weights must not be planned back from configuration (ignore_changes on default_action[0].forward[0].target_group)."
  }

  assert {
    condition = alltrue([
      for r in aws_lb_listener_rule.weighted :
      toset([for tg in r.action[0].forward[0].target_group : tg.weight if tg.arn == aws_lb_target_group.green.arn]) == toset([0])
    ])
    error_message = "The path rules' weights must not be planned back from configuration (ignore_changes on action[0].forward[0].target_group)."
  }

  assert {
    condition     = aws_lb_listener.test.default_action[0].target_group_arn == aws_lb_target_group.green.arn
    error_message = "The test listener's target belongs to switchyard after creation: it must not be planned back from configuration (ignore_changes on default_action[0].target_group_arn)."
  }
}

run "other_listener_and_rule_changes_are_still_planned" {
  command = plan

  variables {
    initial_blue_weight  = 0
    initial_green_weight = 100
    stickiness_enabled   = true
    stickiness_duration  = 600
    ssl_policy           = "ELBSecurityPolicy-TLS13-1-3-2021-06"
  }

  assert {
    condition     = aws_lb_listener.https.default_action[0].forward[0].stickiness[0].enabled == true && aws_lb_listener.https.default_action[0].forward[0].stickiness[0].duration == 600
    error_message = "A stickiness change on the production listener must be planned: ignore_changes may cover only the target groups, not the whole default_action."
  }

  assert {
    condition = alltrue([
      for r in aws_lb_listener_rule.weighted :
      r.action[0].forward[0].stickiness[0].enabled == true && r.action[0].forward[0].stickiness[0].duration == 600
    ])
    error_message = "A stickiness change on the path rules must be planned: ignore_changes may cover only the target groups, not the whole action."
  }

  assert {
    condition     = toset([for tg in aws_lb_listener.https.default_action[0].forward[0].target_group : tg.weight if tg.arn == aws_lb_target_group.blue.arn]) == toset([100])
    error_message = "The weights must stay ignored while other parts of the action change."
  }

  assert {
    condition     = aws_lb_listener.test.ssl_policy == "ELBSecurityPolicy-TLS13-1-3-2021-06" && aws_lb_listener.https.ssl_policy == "ELBSecurityPolicy-TLS13-1-3-2021-06"
    error_message = "A TLS policy change on the listeners must be planned (only the forward targets are ignored)."
  }

  assert {
    condition     = aws_lb_listener.test.default_action[0].target_group_arn == aws_lb_target_group.green.arn
    error_message = "The test listener's target must stay where it was."
  }
}

################################################################################
# Plans
################################################################################

run "https_listener_forwards_weighted_blue_100_green_0" {
  command = apply

  assert {
    condition     = aws_lb_listener.https.port == 443 && aws_lb_listener.https.protocol == "HTTPS"
    error_message = "The production listener must be HTTPS on 443."
  }

  assert {
    condition     = aws_lb_listener.https.ssl_policy == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    error_message = "The production listener must use the TLS 1.3/1.2 policy."
  }

  assert {
    condition     = aws_lb_listener.https.certificate_arn == var.certificate_arn
    error_message = "The production listener must serve the given certificate."
  }

  assert {
    condition     = aws_lb_listener.https.default_action[0].type == "forward"
    error_message = "The default action must be forward."
  }

  assert {
    condition     = length(aws_lb_listener.https.default_action[0].forward[0].target_group) == 2
    error_message = "The default action must forward to exactly two target groups (blue and green)."
  }

  assert {
    condition     = toset([for tg in aws_lb_listener.https.default_action[0].forward[0].target_group : tg.weight if tg.arn == aws_lb_target_group.blue.arn]) == toset([100])
    error_message = "Blue must start with weight 100."
  }

  assert {
    condition     = toset([for tg in aws_lb_listener.https.default_action[0].forward[0].target_group : tg.weight if tg.arn == aws_lb_target_group.green.arn]) == toset([0])
    error_message = "Green must start with weight 0."
  }

  assert {
    condition     = aws_lb_listener.https.default_action[0].forward[0].stickiness[0].enabled == false
    error_message = "Stickiness must be off by default so weight shifts take effect immediately."
  }
}

run "path_rules_forward_weighted_like_the_listener" {
  command = apply

  assert {
    condition     = toset(keys(aws_lb_listener_rule.weighted)) == toset(["api", "static"])
    error_message = "The default routing rules must be api and static."
  }

  assert {
    condition     = alltrue([for c in aws_lb_listener_rule.weighted["api"].condition : toset(c.path_pattern[0].values) == toset(["/api/*"])])
    error_message = "The api rule must match /api/*."
  }

  assert {
    condition = alltrue([
      for r in aws_lb_listener_rule.weighted : (
        r.action[0].type == "forward" &&
        toset([for tg in r.action[0].forward[0].target_group : tg.weight if tg.arn == aws_lb_target_group.blue.arn]) == toset([100]) &&
        toset([for tg in r.action[0].forward[0].target_group : tg.weight if tg.arn == aws_lb_target_group.green.arn]) == toset([0])
      )
    ])
    error_message = "Every path rule must forward blue 100 / green 0."
  }

  assert {
    condition     = aws_lb_listener_rule.weighted["api"].priority == 100 && aws_lb_listener_rule.weighted["static"].priority == 200
    error_message = "Rule priorities must follow routing_rules."
  }
}

run "test_listener_forwards_to_green_only" {
  command = apply

  assert {
    condition     = aws_lb_listener.test.port == 8443 && aws_lb_listener.test.protocol == "HTTPS"
    error_message = "The test listener must be HTTPS on 8443."
  }

  assert {
    condition     = aws_lb_listener.test.ssl_policy == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    error_message = "The test listener must use the same TLS policy."
  }

  assert {
    condition     = aws_lb_listener.test.default_action[0].type == "forward" && aws_lb_listener.test.default_action[0].target_group_arn == aws_lb_target_group.green.arn
    error_message = "The test listener must forward to the green target group."
  }

  assert {
    condition     = length(aws_lb_listener.test.default_action[0].forward) == 0
    error_message = "The test listener must not use a weighted forward (green only)."
  }

  assert {
    condition     = toset([for r in aws_vpc_security_group_ingress_rule.test_listener : r.cidr_ipv4]) == toset(["203.0.113.0/24", "198.51.100.10/32"])
    error_message = "The ALB security group must admit exactly the allowed CIDRs to the test port."
  }

  assert {
    condition = alltrue([
      for r in aws_vpc_security_group_ingress_rule.test_listener :
      r.ip_protocol == "tcp" && r.from_port == 8443 && r.to_port == 8443 && r.security_group_id == "sg-0123456789abcdef0"
    ])
    error_message = "Test listener ingress rules must be tcp 8443 on the ALB security group."
  }
}

run "http_listener_redirects_to_https" {
  command = apply

  assert {
    condition     = aws_lb_listener.http.port == 80 && aws_lb_listener.http.protocol == "HTTP"
    error_message = "The HTTP listener must be on port 80."
  }

  assert {
    condition     = aws_lb_listener.http.default_action[0].type == "redirect"
    error_message = "The HTTP listener must only redirect."
  }

  assert {
    condition = (
      aws_lb_listener.http.default_action[0].redirect[0].protocol == "HTTPS" &&
      aws_lb_listener.http.default_action[0].redirect[0].port == "443" &&
      aws_lb_listener.http.default_action[0].redirect[0].status_code == "HTTP_301"
    )
    error_message = "HTTP must redirect to HTTPS 443 with a 301."
  }
}

run "load_balancer_and_target_groups" {
  command = apply

  assert {
    condition     = aws_lb.this.drop_invalid_header_fields == true
    error_message = "The ALB must drop invalid header fields."
  }

  assert {
    condition     = aws_lb.this.internal == false && aws_lb.this.load_balancer_type == "application"
    error_message = "The ALB must be an internet-facing application load balancer."
  }

  assert {
    condition     = aws_lb.this.access_logs[0].enabled == true && aws_lb.this.access_logs[0].bucket == aws_s3_bucket.access_logs.bucket
    error_message = "Access logs must go to the module's bucket."
  }

  assert {
    condition     = toset(aws_lb.this.security_groups) == toset(["sg-0123456789abcdef0"])
    error_message = "The ALB must use the security group from the network module."
  }

  assert {
    condition = alltrue([
      for tg in [aws_lb_target_group.blue, aws_lb_target_group.green] :
      tg.target_type == "ip" && tg.protocol == "HTTP" && tg.port == 8000 && tg.deregistration_delay == "30"
    ])
    error_message = "Target groups must be ip targets, HTTP on the app port, with a 30 s deregistration delay."
  }

  assert {
    condition = alltrue([
      for tg in [aws_lb_target_group.blue, aws_lb_target_group.green] : (
        tg.health_check[0].path == "/healthz" &&
        tg.health_check[0].matcher == "200" &&
        tg.health_check[0].interval == 10 &&
        tg.health_check[0].timeout == 5 &&
        tg.health_check[0].healthy_threshold == 2 &&
        tg.health_check[0].unhealthy_threshold == 2
      )
    ])
    error_message = "Target group health checks must be /healthz, 200, every 10 s, timeout 5, thresholds 2/2."
  }

  assert {
    condition     = output.deregistration_delay_seconds == 30
    error_message = "deregistration_delay_seconds must report the target group delay."
  }

  assert {
    condition     = output.blue_target_group_arn == aws_lb_target_group.blue.arn && output.green_target_group_arn == aws_lb_target_group.green.arn
    error_message = "Target group outputs must match the colours."
  }
}

run "access_logs_bucket_is_hardened" {
  command = apply

  assert {
    condition     = one([for r in aws_s3_bucket_server_side_encryption_configuration.access_logs.rule : r.apply_server_side_encryption_by_default[0].sse_algorithm]) == "AES256"
    error_message = "ALB access logs only support SSE-S3 (AES256)."
  }

  assert {
    condition     = aws_s3_bucket_versioning.access_logs.versioning_configuration[0].status == "Enabled"
    error_message = "The access-log bucket must be versioned."
  }

  assert {
    condition = (
      aws_s3_bucket_public_access_block.access_logs.block_public_acls &&
      aws_s3_bucket_public_access_block.access_logs.block_public_policy &&
      aws_s3_bucket_public_access_block.access_logs.ignore_public_acls &&
      aws_s3_bucket_public_access_block.access_logs.restrict_public_buckets
    )
    error_message = "The access-log bucket must block all public access."
  }

  assert {
    condition     = aws_s3_bucket.access_logs.force_destroy == true
    error_message = "force_destroy must default to true (destroyable stack)."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.access_logs.statement :
      s.effect == "Deny" && anytrue([for c in s.condition : c.variable == "aws:SecureTransport" && contains(c.values, "false")])
    ])
    error_message = "The bucket policy must deny non-TLS access."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.access_logs.statement :
      s.effect == "Allow" && anytrue([for p in s.principals : contains(p.identifiers, "arn:aws:iam::127311923021:root")])
    ])
    error_message = "The bucket policy must let the us-east-1 ELB account deliver logs."
  }
}

run "names_end_with_suffix_and_resources_are_tagged" {
  command = apply

  assert {
    condition     = aws_lb.this.name == "alb-prod-td01"
    error_message = "ALB name must be alb-<env>-<suffix>."
  }

  assert {
    condition     = aws_lb_target_group.blue.name == "tg-blue-prod-td01" && aws_lb_target_group.green.name == "tg-green-prod-td01"
    error_message = "Target group names must be tg-<colour>-<env>-<suffix>."
  }

  assert {
    condition     = aws_s3_bucket.access_logs.bucket == "s3-alb-logs-123456789012-prod-td01"
    error_message = "Bucket name must be s3-alb-logs-<account>-<env>-<suffix>."
  }

  assert {
    condition = alltrue([
      for t in [aws_lb.this.tags, aws_lb_target_group.blue.tags, aws_lb_listener.https.tags, aws_s3_bucket.access_logs.tags] :
      t["Environment"] == "prod" && t["Project"] == "switchyard" && t["Owner"] == "platform-team" && t["CostCenter"] == "trading" && endswith(t["Name"], "-prod-td01")
    ])
    error_message = "Resources must carry Environment/Project/Owner, the extra tags and a Name ending with the suffix."
  }
}

run "longest_names_fit_target_group_limit" {
  command = apply

  variables {
    environment        = "production"
    environment_suffix = "abcdefghijkl"
  }

  assert {
    condition     = length(aws_lb_target_group.green.name) <= 32
    error_message = "Target group names must stay within 32 characters."
  }
}

################################################################################
# Input validation (last: an unexpected error skips every later run of the file)
################################################################################

run "rejects_weight_above_999" {
  command = plan

  variables {
    initial_green_weight = 1000
  }

  expect_failures = [var.initial_green_weight]
}

run "rejects_negative_weight" {
  command = plan

  variables {
    initial_blue_weight = -1
  }

  expect_failures = [var.initial_blue_weight]
}

run "rejects_all_zero_weights" {
  command = plan

  variables {
    initial_blue_weight  = 0
    initial_green_weight = 0
  }

  expect_failures = [aws_lb_listener.https]
}

run "rejects_bad_certificate_arn" {
  command = plan

  variables {
    certificate_arn = "arn:aws:iam::123456789012:server-certificate/foo"
  }

  expect_failures = [var.certificate_arn]
}

run "rejects_bad_suffix" {
  command = plan

  variables {
    environment_suffix = "TD_01"
  }

  expect_failures = [var.environment_suffix]
}

run "rejects_public_test_listener" {
  command = plan

  variables {
    test_listener_allowed_cidrs = ["0.0.0.0/0"]
  }

  expect_failures = [var.test_listener_allowed_cidrs]
}

run "rejects_test_port_on_production_port" {
  command = plan

  variables {
    test_listener_port = 443
  }

  expect_failures = [var.test_listener_port]
}

run "rejects_tls_1_0_ssl_policy" {
  command = plan

  variables {
    ssl_policy = "ELBSecurityPolicy-2016-08"
  }

  expect_failures = [var.ssl_policy]
}

run "rejects_duplicate_rule_priorities" {
  command = plan

  variables {
    routing_rules = {
      api    = { priority = 100, path_patterns = ["/api/*"] }
      static = { priority = 100, path_patterns = ["/static/*"] }
    }
  }

  expect_failures = [var.routing_rules]
}

run "rejects_deregistration_delay_above_3600" {
  command = plan

  variables {
    deregistration_delay = 3601
  }

  expect_failures = [var.deregistration_delay]
}

run "rejects_fractional_deregistration_delay" {
  command = plan

  variables {
    deregistration_delay = 2.5
  }

  expect_failures = [var.deregistration_delay]
}

run "rejects_unknown_test_listener_colour" {
  command = plan

  variables {
    test_listener_initial_colour = "red"
  }

  expect_failures = [var.test_listener_initial_colour]
}
