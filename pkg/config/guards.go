package config

import (
	"math"
	"sort"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Guards are the guard settings (see docs/recovery.md, "Guards"); the top-level `guards:` block holds
// the defaults and each service may set its own. Empty values take the built-in defaults.
type Guards struct {
	// StaleAfter is how long the guards may go without a good reading before StalePolicy applies.
	StaleAfter deploy.Duration `yaml:"guard_stale_after"`
	// StalePolicy is rollback (default) or pause.
	StalePolicy string `yaml:"guard_stale_policy"`
	// InsufficientData is what an alarm in INSUFFICIENT_DATA means: stale (default), ok or alarm.
	InsufficientData string `yaml:"insufficient_data"`
}

// RateLimitFamilies are the AWS API families that aws.rate_limits (and aws.endpoints) accept.
var RateLimitFamilies = []string{"ecs", "elbv2", "cloudwatch", "ecr", "dynamodb", "autoscaling", "sns"}

func isFamily(k string) bool {
	for _, f := range RateLimitFamilies {
		if f == k {
			return true
		}
	}
	return false
}

// resolve returns g with every empty field taken from def.
func (g Guards) resolve(def Guards) Guards {
	if g.StaleAfter == 0 {
		g.StaleAfter = def.StaleAfter
	}
	if g.StalePolicy == "" {
		g.StalePolicy = def.StalePolicy
	}
	if g.InsufficientData == "" {
		g.InsufficientData = def.InsufficientData
	}
	return g
}

func (c *Config) applyGuardDefaults() {
	c.Guards = c.Guards.resolve(Guards{
		StaleAfter:       deploy.Duration(deploy.DefaultGuardStaleAfter),
		StalePolicy:      string(deploy.StaleRollback),
		InsufficientData: string(deploy.InsufficientStale),
	})
}

// checkGuards validates guard settings as set at p (after defaulting, so every field is set).
func (c *Config) checkGuards(p string, g Guards, add func(string, ...any)) {
	if g.StaleAfter <= 0 || g.StaleAfter.D() < 2*c.PollInterval.D() {
		add("%s.guard_stale_after: %s must be at least twice poll_interval (%s)", p, g.StaleAfter, c.PollInterval)
	}
	switch deploy.StalePolicy(g.StalePolicy) {
	case deploy.StaleRollback, deploy.StalePause:
	default:
		add("%s.guard_stale_policy: %q must be rollback or pause", p, g.StalePolicy)
	}
	switch deploy.InsufficientData(g.InsufficientData) {
	case deploy.InsufficientStale, deploy.InsufficientOK, deploy.InsufficientAlarm:
	default:
		add("%s.insufficient_data: %q must be stale, ok or alarm", p, g.InsufficientData)
	}
}

func (c *Config) checkRateLimits(add func(string, ...any)) {
	keys := make([]string, 0, len(c.AWS.RateLimits))
	for k := range c.AWS.RateLimits {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		l := c.AWS.RateLimits[k]
		if !isFamily(k) {
			add("aws.rate_limits.%s: unknown API family (ecs, elbv2, cloudwatch, ecr, dynamodb, autoscaling)", k)
		}
		if !(l.Rate > 0) || math.IsInf(l.Rate, 0) {
			add("aws.rate_limits.%s.rate: %v must be a number of calls per second above 0", k, l.Rate)
		}
		if l.Burst < 1 {
			add("aws.rate_limits.%s.burst: %d must be at least 1", k, l.Burst)
		}
	}
}
