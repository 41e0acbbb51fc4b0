# NACL flows (tests/flows decides each leg rule by rule, like AWS). Its own file: the network
# tests' file-level overrides would not resolve inside the helper module. Mocked provider.

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

# Flows through the stateless NACLs, decided rule by rule (tests/flows): ALB to the tasks and back,
# tasks to Aurora and back, tasks to the interface endpoints, to S3 and via NAT to the internet and
# back, clients to the ALB; and what must stay closed. Deleting or narrowing any needed rule fails.
# A mocked apply (nothing reaches AWS): run outputs are kept from apply runs only.
run "flows_input" {
  command = apply
}

run "nacl_flows" {
  command = apply

  module {
    source = "./tests/flows"
  }

  variables {
    rules        = run.flows_input.network_acl_rules
    subnet_cidrs = run.flows_input.subnet_cidrs
    app_port     = 8000
  }

  assert {
    condition     = output.needed_flow_count == 36
    error_message = "The flow table changed size."
  }

  assert {
    condition     = length(output.blocked_legs) == 0
    error_message = "Needed flows blocked by the NACLs: ${jsonencode(output.blocked_legs)}"
  }

  assert {
    condition     = length(output.open_forbidden_flows) == 0
    error_message = "Flows the NACLs must stop are open: ${join(", ", output.open_forbidden_flows)}"
  }
}

