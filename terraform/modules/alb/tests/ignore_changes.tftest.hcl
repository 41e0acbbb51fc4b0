# ignore_changes on the attributes switchyard owns, proved with a mocked apply followed by plans:
# the first run applies (to the mocked provider, so only the test's in-memory state changes) with
# blue 100 / green 0 and the test listener on green; later runs plan with other configuration.
# Because switchyard owns the weights and the test listener's target, the plan must keep the applied
# values; everything else on the same listeners and rules must still be planned from configuration
# (ignore_changes is exactly the target groups, not the whole action).

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
    arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-blue-prod-td01/1111111111111111"
  }
}

override_resource {
  target = aws_lb_target_group.green
  values = {
    arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-green-prod-td01/2222222222222222"
  }
}

variables {
  environment           = "prod"
  environment_suffix    = "td01"
  owner                 = "platform-team"
  vpc_id                = "vpc-0123456789abcdef0"
  public_subnet_ids     = ["subnet-0000000000000000a", "subnet-0000000000000000b", "subnet-0000000000000000c"]
  alb_security_group_id = "sg-0123456789abcdef0"
  certificate_arn       = "arn:aws:acm:us-east-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
}

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
