# Input validation: every input that can be wrong is rejected (expect_failures). Its own file so
# the other files stay small for the mutation check (scripts/tf-mutate.sh runs only the files a
# mutation concerns); the mocks and variables are repeated (OpenTofu 1.10 has no shared mock files).

mock_provider "aws" {
  # Deliberately unsorted and with a fourth AZ: the module must sort and take 3.
  mock_data "aws_availability_zones" {
    defaults = {
      names = ["us-east-1c", "us-east-1a", "us-east-1d", "us-east-1b"]
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_region" {
    defaults = {
      region = "us-east-1"
    }
  }
}

variables {
  environment        = "prod"
  environment_suffix = "td01"
  owner              = "platform-team"
  vpc_cidr           = "10.40.0.0/16"
  tags = {
    CostCenter = "trading"
  }
}

# Known IDs for the resources whose identity the assertions compare.
override_resource {
  target = aws_security_group.alb
  values = { id = "sg-0alb0000000000000" }
}

override_resource {
  target = aws_security_group.app
  values = { id = "sg-0app0000000000000" }
}

override_resource {
  target = aws_security_group.db
  values = { id = "sg-0db00000000000000" }
}

override_resource {
  target = aws_security_group.endpoints
  values = { id = "sg-0vpce000000000000" }
}

override_resource {
  target = aws_vpc_endpoint.s3
  values = { prefix_list_id = "pl-63a5400a" }
}

override_resource {
  target = aws_kms_key.flow_logs
  values = {
    arn    = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    key_id = "11111111-2222-3333-4444-555555555555"
  }
}

override_resource {
  target = aws_cloudwatch_log_group.flow_logs
  values = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:log-vpc-flow-prod-td01" }
}

run "rejects_restricted_egress_without_endpoints" {
  command = plan

  variables {
    interface_endpoint_services = ["ecr.api", "ecr.dkr"]
  }

  expect_failures = [aws_vpc_security_group_egress_rule.app_to_s3]
}

run "rejects_bad_suffix" {
  command = plan
  variables {
    environment_suffix = "TD-01"
  }
  expect_failures = [var.environment_suffix]
}

run "rejects_bad_environment" {
  command = plan
  variables {
    environment = "Production-1"
  }
  expect_failures = [var.environment]
}

run "rejects_empty_owner" {
  command = plan
  variables {
    owner = "  "
  }
  expect_failures = [var.owner]
}

run "rejects_invalid_cidr" {
  command = plan
  variables {
    vpc_cidr = "10.40.0.0/33"
  }
  expect_failures = [var.vpc_cidr]
}

run "rejects_non_cidr_text" {
  command = plan
  variables {
    vpc_cidr = "not-a-cidr"
  }
  expect_failures = [var.vpc_cidr]
}

run "rejects_too_large_vpc" {
  command = plan
  variables {
    vpc_cidr = "10.0.0.0/8"
  }
  expect_failures = [var.vpc_cidr]
}

run "rejects_too_small_vpc" {
  command = plan
  variables {
    vpc_cidr = "10.40.0.0/26"
  }
  expect_failures = [var.vpc_cidr]
}

run "rejects_host_bits_set" {
  command = plan
  variables {
    vpc_cidr = "10.40.1.0/16"
  }
  expect_failures = [var.vpc_cidr]
}

run "rejects_two_azs" {
  command = plan
  variables {
    az_count = 2
  }
  expect_failures = [var.az_count]
}

run "rejects_privileged_app_port" {
  command = plan
  variables {
    app_port = 80
  }
  expect_failures = [var.app_port]
}

run "rejects_bad_retention" {
  command = plan
  variables {
    flow_log_retention_days = 4
  }
  expect_failures = [var.flow_log_retention_days]
}

run "rejects_bad_alb_cidr" {
  command = plan
  variables {
    alb_ingress_cidr_blocks = ["0.0.0.0/0", "300.1.1.1/32"]
  }
  expect_failures = [var.alb_ingress_cidr_blocks]
}

run "rejects_test_listener_port_443" {
  command = plan

  variables {
    test_listener_port        = 443
    test_listener_cidr_blocks = ["203.0.113.0/24"]
  }

  expect_failures = [var.test_listener_port]
}

run "rejects_test_listener_port_below_ephemeral_range" {
  command = plan

  variables {
    test_listener_port        = 1023
    test_listener_cidr_blocks = ["203.0.113.0/24"]
  }

  expect_failures = [var.test_listener_port]
}

run "rejects_test_listener_port_above_65535" {
  command = plan

  variables {
    test_listener_port        = 65536
    test_listener_cidr_blocks = ["203.0.113.0/24"]
  }

  expect_failures = [var.test_listener_port]
}
