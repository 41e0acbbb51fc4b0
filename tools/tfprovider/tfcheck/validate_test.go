package tfcheck

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const versionsTF = `terraform {
  required_version = ">= 1.5.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }
}
`

var (
	setupOnce sync.Once
	setupErr  error
	setupOut  []byte
)

// requireTofu returns the environment with the plugin freshly installed, or
// skips (fails in CI) when tofu has not been built on this machine.
func requireTofu(t *testing.T) *Env {
	t.Helper()
	env, err := FindEnv(".")
	if err != nil {
		t.Fatal(err)
	}
	if !env.HasTofu() {
		msg := "tofu not built at " + env.Tofu + ": run scripts/tools.sh tofu (or scripts/tf-setup.sh)"
		if InCI() {
			t.Fatal(msg + " — CI=true requires it")
		}
		t.Skip(msg)
	}
	setupOnce.Do(func() { setupOut, setupErr = env.Setup() })
	if setupErr != nil {
		t.Fatalf("%v\n%s", setupErr, setupOut)
	}
	return env
}

// workspace initialises a throwaway root module once; each case replaces
// main.tf and re-validates (the provider selection does not change).
func workspace(t *testing.T, env *Env) string {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "versions.tf"), versionsTF)
	write(t, filepath.Join(dir, "main.tf"), "")
	out, err := env.RunTofu(dir, "init", "-backend=false", "-input=false", "-no-color", "-plugin-dir="+env.PluginDir)
	if err != nil {
		t.Fatalf("tofu init: %v\n%s", err, out)
	}
	return dir
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

type validateResult struct {
	Valid       bool `json:"valid"`
	Diagnostics []struct {
		Severity string `json:"severity"`
		Summary  string `json:"summary"`
		Detail   string `json:"detail"`
	} `json:"diagnostics"`
}

func validate(t *testing.T, env *Env, dir, mainTF string) validateResult {
	t.Helper()
	write(t, filepath.Join(dir, "main.tf"), mainTF)
	out, _ := env.RunTofu(dir, "validate", "-json", "-no-color")
	var res validateResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("tofu validate -json output not JSON: %v\n%s", err, out)
	}
	return res
}

func (r validateResult) errors() string {
	var b strings.Builder
	for _, d := range r.Diagnostics {
		if d.Severity == "error" {
			b.WriteString(d.Summary + ": " + d.Detail + "\n")
		}
	}
	return b.String()
}

const webACL = `
resource "aws_wafv2_web_acl" "this" {
  name        = "waf-prod-td01"
  description = "test"
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  rule {
    name     = "aws-common"
    priority = 1
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesCommonRuleSet"
        vendor_name = "AWS"
        rule_action_override {
          name = "SizeRestrictions_BODY"
          action_to_use {
            count {}
          }
        }
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "aws-common"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "rate-limit"
    priority = 2
    action {
      block {}
    }
    statement {
      rate_based_statement {
        limit                 = 2000
        aggregate_key_type    = "IP"
        evaluation_window_sec = 300
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "rate-limit"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "sqli-body"
    priority = 3
    action {
      block {}
    }
    statement {
      sqli_match_statement {
        field_to_match {
          body {
            oversize_handling = "MATCH"
          }
        }
        text_transformation {
          priority = 0
          type     = "URL_DECODE"
        }
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "sqli-body"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "waf-prod-td01"
    sampled_requests_enabled   = true
  }

  tags = { Name = "waf-prod-td01" }
}
`

// TestTofuValidateIsStrict proves the offline provider turns `tofu validate`
// into a real schema check: each bad configuration fails for the expected
// reason and each good one passes.
func TestTofuValidateIsStrict(t *testing.T) {
	env := requireTofu(t)
	dir := workspace(t, env)

	failing := []struct {
		name, config, want string
	}{
		{"misspelled argument", `resource "aws_s3_bucket" "b" { buckett = "s3-x" }`, `An argument named "buckett" is not expected here`},
		{"missing required argument", `resource "aws_iam_role" "r" { name = "role-x" }`, `The argument "assume_role_policy" is required`},
		{"wrong type", `resource "aws_s3_bucket" "b" {
  bucket = "s3-x"
  tags   = ["not", "a", "map"]
}`, "Incorrect attribute value type"},
		{"block written as attribute", `resource "aws_lb_listener" "l" {
  load_balancer_arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/x/1"
  default_action = {
    type = "forward"
  }
}`, `Did you mean to define a block of type "default_action"?`},
		{"unknown resource type", `resource "aws_s3_buckett" "b" {}`, "Invalid resource type"},
		{"computed-only attribute set", `resource "aws_s3_bucket" "b" {
  bucket = "s3-x"
  arn    = "arn:aws:s3:::s3-x"
}`, `Can't configure a value for "arn"`},
		{"too many single blocks in overlay type", strings.Replace(webACL, "default_action {\n    allow {}\n  }", "default_action {\n    allow {}\n  }\n  default_action {\n    block {}\n  }", 1), "Too many default_action blocks"},
		{"misspelled nested overlay block", strings.Replace(webACL, "sqli_match_statement", "sqli_match_statment", 1), `Blocks of type "sqli_match_statment" are not expected here`},
		// tofu validates a provider block only when a resource uses it.
		{"invalid provider argument", `provider "aws" {
  regoin = "us-east-1"
}

resource "aws_s3_bucket" "b" {}`, `An argument named "regoin" is not expected here`},
	}
	for _, tc := range failing {
		t.Run("fails/"+tc.name, func(t *testing.T) {
			res := validate(t, env, dir, tc.config)
			if res.Valid {
				t.Fatalf("tofu validate passed, want failure containing %q", tc.want)
			}
			if errs := res.errors(); !strings.Contains(errs, tc.want) {
				t.Fatalf("errors do not mention %q:\n%s", tc.want, errs)
			}
		})
	}

	passing := []struct{ name, config string }{
		{"s3 bucket with tags and provider default_tags", `provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = {
      Environment = "prod"
      Project     = "switchyard"
    }
  }
  ignore_tags {
    key_prefixes = ["aws:"]
  }
  skip_credentials_validation = true
  skip_requesting_account_id  = true
}

resource "aws_s3_bucket" "b" {
  bucket        = "s3-logs-prod-td01"
  force_destroy = true
  tags          = { Name = "s3-logs-prod-td01" }
}

output "arn" { value = aws_s3_bucket.b.arn }
`},
		{"wafv2 web acl from the overlay", webACL},
		{"data sources", `data "aws_caller_identity" "me" {}
data "aws_iam_policy_document" "p" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::b/*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.me.account_id}:root"]
    }
  }
}
`},
	}
	for _, tc := range passing {
		t.Run("passes/"+tc.name, func(t *testing.T) {
			res := validate(t, env, dir, tc.config)
			if !res.Valid {
				t.Fatalf("tofu validate failed:\n%s", res.errors())
			}
		})
	}
}

// TestTofuPlanUsesProviderLogic runs a real plan against the offline plugin:
// computed values become unknown (identities get placeholders), tags_all merges default_tags, and data
// sources read placeholders.
func TestTofuPlanUsesProviderLogic(t *testing.T) {
	env := requireTofu(t)
	dir := workspace(t, env)
	write(t, filepath.Join(dir, "main.tf"), `provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { Project = "switchyard", Owner = "platform" }
  }
}

data "aws_caller_identity" "me" {}

resource "aws_s3_bucket" "b" {
  bucket = "s3-${data.aws_caller_identity.me.account_id}-prod-td01"
  tags   = { Owner = "team" }
}
`)
	if out, err := env.RunTofu(dir, "plan", "-input=false", "-no-color", "-out=tf.plan"); err != nil {
		t.Fatalf("tofu plan: %v\n%s", err, out)
	}
	out, err := env.RunTofu(dir, "show", "-json", "tf.plan")
	if err != nil {
		t.Fatalf("tofu show: %v\n%s", err, out)
	}
	var plan struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Change  struct {
				After        map[string]any `json:"after"`
				AfterUnknown map[string]any `json:"after_unknown"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal(out, &plan); err != nil {
		t.Fatalf("plan JSON: %v", err)
	}
	for _, rc := range plan.ResourceChanges {
		if rc.Address != "aws_s3_bucket.b" {
			continue
		}
		if got := rc.Change.After["bucket"]; got != "s3-123456789012-prod-td01" {
			t.Errorf("bucket = %v, want the caller identity placeholder account", got)
		}
		tags, _ := rc.Change.After["tags_all"].(map[string]any)
		if tags["Project"] != "switchyard" || tags["Owner"] != "team" || len(tags) != 2 {
			t.Errorf("tags_all = %v, want default tags merged with resource tags", rc.Change.After["tags_all"])
		}
		// Identities of a fully known configuration are known placeholders (policies built from
		// them render); other computed values stay unknown.
		if got := rc.Change.After["arn"]; got != "arn:aws:s3:::s3-123456789012-prod-td01" {
			t.Errorf("arn = %v, want the bucket ARN placeholder", got)
		}
		if rc.Change.AfterUnknown["bucket_domain_name"] != true {
			t.Errorf("bucket_domain_name after_unknown = %v, want true", rc.Change.AfterUnknown["bucket_domain_name"])
		}
		return
	}
	t.Fatalf("aws_s3_bucket.b not in plan:\n%s", out)
}
