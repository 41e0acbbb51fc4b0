# ignore_changes on the weighted actions, proved with a mocked apply followed by a plan: the first
# run applies (to the mocked provider, so only the test's in-memory state changes) with blue 100 /
# green 0; the second plans with different initial weights. Because switchyard owns the weights,
# the plan must keep the applied weights instead of putting the new configuration back.

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
}

run "new_weights_in_configuration_are_ignored" {
  command = plan

  variables {
    initial_blue_weight  = 0
    initial_green_weight = 100
  }

  assert {
    condition     = toset([for tg in aws_lb_listener.https.default_action[0].forward[0].target_group : tg.weight if tg.arn == aws_lb_target_group.blue.arn]) == toset([100])
    error_message = "The listener's weights must not be planned back from configuration (ignore_changes = [default_action])."
  }

  assert {
    condition = alltrue([
      for r in aws_lb_listener_rule.weighted :
      toset([for tg in r.action[0].forward[0].target_group : tg.weight if tg.arn == aws_lb_target_group.green.arn]) == toset([0])
    ])
    error_message = "The path rules' weights must not be planned back from configuration (ignore_changes = [action])."
  }

  assert {
    condition     = aws_lb_listener.test.default_action[0].target_group_arn == aws_lb_target_group.green.arn
    error_message = "The test listener still forwards to green."
  }
}
