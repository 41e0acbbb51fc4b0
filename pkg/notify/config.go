package notify

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Config is the daemon configuration's notifications block:
//
//	notifications:
//	  dashboard_url: https://switchyard.internal      # optional: messages link to the deployment
//	  links: {base_url: https://switchyard.internal/v1/links, owner: oncall, ttl: 1h, secret_env: SWITCHYARD_LINK_SECRET}
//	  sinks:
//	    ops:   {type: sns, topic_arn: arn:aws:sns:us-east-1:123456789012:switchyard}
//	    hooks: {type: webhook, url: https://hooks.internal/switchyard, secret_env: HOOK_SECRET}
//	    chat:  {type: slack, url_env: SLACK_WEBHOOK_URL}
//	  routes:
//	    - {services: [web], actions: [pause, step.hold, rollback, rolled_back, failed], sinks: [chat, ops]}
//	    - {actions: ["*"], sinks: [hooks]}           # no services: every service
type Config struct {
	Sinks  map[string]SinkConfig `yaml:"sinks" json:"sinks"`
	Routes []Route               `yaml:"routes" json:"routes"`
	Links  *LinksConfig          `yaml:"links,omitempty" json:"links,omitempty"`
	// DashboardURL, when set, gives every message a link to its deployment.
	DashboardURL string `yaml:"dashboard_url,omitempty" json:"dashboard_url,omitempty"`
	// PollInterval paces the reads of new events (default 2s).
	PollInterval deploy.Duration `yaml:"poll_interval,omitempty" json:"poll_interval,omitempty"`
	// MaxAttempts per message and sink before it is recorded as failed (default 8).
	MaxAttempts int `yaml:"max_attempts,omitempty" json:"max_attempts,omitempty"`
	// Backoff is the first pause after a failed attempt; it doubles up to MaxBackoff (defaults 1s, 5m).
	Backoff    deploy.Duration `yaml:"backoff,omitempty" json:"backoff,omitempty"`
	MaxBackoff deploy.Duration `yaml:"max_backoff,omitempty" json:"max_backoff,omitempty"`
	// Lookback bounds which finished deployments are still read for events (default 24h).
	Lookback deploy.Duration `yaml:"lookback,omitempty" json:"lookback,omitempty"`
}

// Sink types.
const (
	SinkSNS     = "sns"
	SinkWebhook = "webhook"
	SinkSlack   = "slack"
)

// SinkConfig is one named sink. Secrets (a webhook's signing key, a Slack incoming-webhook URL, which
// is itself a credential) come from an environment variable or a file, never from the config file.
type SinkConfig struct {
	Type       string `yaml:"type" json:"type"`
	TopicARN   string `yaml:"topic_arn,omitempty" json:"topic_arn,omitempty"`     // sns
	URL        string `yaml:"url,omitempty" json:"url,omitempty"`                 // webhook, slack
	URLEnv     string `yaml:"url_env,omitempty" json:"url_env,omitempty"`         // slack: URL from env
	URLFile    string `yaml:"url_file,omitempty" json:"url_file,omitempty"`       // slack: URL from a file
	SecretEnv  string `yaml:"secret_env,omitempty" json:"secret_env,omitempty"`   // webhook signing key
	SecretFile string `yaml:"secret_file,omitempty" json:"secret_file,omitempty"` // webhook signing key
	// Timeout of one attempt (default 10s).
	Timeout deploy.Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Route sends the events of Services (empty or "*": every service) whose action is in Actions ("*":
// every action) to Sinks.
type Route struct {
	Services []string `yaml:"services,omitempty" json:"services,omitempty"`
	Actions  []string `yaml:"actions" json:"actions"`
	Sinks    []string `yaml:"sinks" json:"sinks"`
}

// LinksConfig enables action links in messages about paused and held deployments.
type LinksConfig struct {
	// BaseURL is where LinkHandler is mounted; a link is BaseURL?t=<token>.
	BaseURL string `yaml:"base_url" json:"base_url"`
	// Owner is the token name links act as: the audit actor of an action taken through a link.
	Owner      string          `yaml:"owner" json:"owner"`
	TTL        deploy.Duration `yaml:"ttl,omitempty" json:"ttl,omitempty"` // default 1h
	SecretEnv  string          `yaml:"secret_env,omitempty" json:"secret_env,omitempty"`
	SecretFile string          `yaml:"secret_file,omitempty" json:"secret_file,omitempty"`
}

// Defaults.
const (
	DefaultPollInterval = 2 * time.Second
	DefaultMaxAttempts  = 8
	DefaultBackoff      = time.Second
	DefaultMaxBackoff   = 5 * time.Minute
	DefaultLookback     = 24 * time.Hour
	DefaultLinkTTL      = time.Hour
	DefaultSinkTimeout  = 10 * time.Second
)

// sinkNameRE: a sink's name is part of its cursors' ids ("<sink>/<deployment>").
var sinkNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Check validates the block; every problem is named by its key ("sinks.chat.url_env: ...").
func (c *Config) Check() error {
	if errs := c.Problems(); len(errs) > 0 {
		return deploy.Errorf("notify.Config", deploy.KindInvalid, "%s", strings.Join(errs, "; "))
	}
	return nil
}

// Problems lists every problem of the block, each naming its key relative to the block.
func (c *Config) Problems() []string {
	var errs []string
	add := func(f string, a ...any) { errs = append(errs, fmt.Sprintf(f, a...)) }
	names := make([]string, 0, len(c.Sinks))
	for n := range c.Sinks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !sinkNameRE.MatchString(n) {
			add("sinks.%s: a sink name is 1-64 characters of [A-Za-z0-9_.-]", n)
		}
		checkSink("sinks."+n, c.Sinks[n], add)
	}
	for i, r := range c.Routes {
		p := fmt.Sprintf("routes[%d]", i)
		if len(r.Actions) == 0 {
			add("%s.actions: name at least one action (or \"*\")", p)
		}
		if len(r.Sinks) == 0 {
			add("%s.sinks: name at least one sink", p)
		}
		for _, s := range r.Sinks {
			if _, ok := c.Sinks[s]; !ok {
				add("%s.sinks: unknown sink %q", p, s)
			}
		}
	}
	if l := c.Links; l != nil {
		if u, err := url.Parse(l.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("links.base_url: an http(s) URL is required")
		}
		if l.Owner == "" {
			add("links.owner: the token name links act as is required")
		}
		if (l.SecretEnv == "") == (l.SecretFile == "") {
			add("links: set exactly one of secret_env and secret_file")
		}
		if l.TTL < 0 {
			add("links.ttl: must not be negative")
		}
	}
	if c.MaxAttempts < 0 || c.PollInterval < 0 || c.Backoff < 0 || c.MaxBackoff < 0 || c.Lookback < 0 {
		add("poll_interval, max_attempts, backoff, max_backoff and lookback must not be negative")
	}
	return errs
}

func checkSink(p string, s SinkConfig, add func(string, ...any)) {
	switch s.Type {
	case SinkSNS:
		if !strings.HasPrefix(s.TopicARN, "arn:") || !strings.Contains(s.TopicARN, ":sns:") {
			add("%s.topic_arn: an SNS topic ARN is required", p)
		}
	case SinkWebhook:
		if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("%s.url: an http(s) URL is required", p)
		}
		if (s.SecretEnv == "") == (s.SecretFile == "") {
			add("%s: set exactly one of secret_env and secret_file (the signing key)", p)
		}
	case SinkSlack:
		if n := btoi(s.URL != "") + btoi(s.URLEnv != "") + btoi(s.URLFile != ""); n != 1 {
			add("%s: set exactly one of url, url_env and url_file (url_env or url_file: the URL is a credential)", p)
		}
	default:
		add("%s.type: %q is not one of sns, webhook, slack", p, s.Type)
	}
	if s.Timeout < 0 {
		add("%s.timeout: must not be negative", p)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Match returns the sinks the routes send e to, each once, in order of first mention.
func Match(routes []Route, e deploy.Event) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range routes {
		if !matches(r.Services, e.Service) || !matches(r.Actions, e.Action) {
			continue
		}
		for _, s := range r.Sinks {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// matches: an empty service list means every service; an action list must name the action or "*".
func matches(list []string, v string) bool {
	if len(list) == 0 && v != "" {
		return true
	}
	for _, x := range list {
		if x == "*" || x == v {
			return true
		}
	}
	return false
}

// Secret is a key or credential URL read from the environment or a file. Its String and JSON forms
// never show the value, so it cannot leak through a log line or a config dump.
type Secret struct{ value []byte }

func (Secret) String() string               { return "[redacted]" }
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// Bytes returns the value.
func (s Secret) Bytes() []byte { return s.value }

// Empty reports whether no value was loaded.
func (s Secret) Empty() bool { return len(s.value) == 0 }

// LoadSecret reads env (when set) or file; the value is trimmed of surrounding white space. An empty
// value is an error naming the variable or file, never the value.
func LoadSecret(env, file string) (Secret, error) {
	const op = "notify.LoadSecret"
	var v string
	switch {
	case env != "":
		v = os.Getenv(env)
		if strings.TrimSpace(v) == "" {
			return Secret{}, deploy.Errorf(op, deploy.KindInvalid, "environment variable %s is empty", env)
		}
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return Secret{}, deploy.Wrap(op, deploy.KindInvalid, err, "read secret file")
		}
		v = string(b)
		if strings.TrimSpace(v) == "" {
			return Secret{}, deploy.Errorf(op, deploy.KindInvalid, "secret file %s is empty", file)
		}
	default:
		return Secret{}, deploy.Errorf(op, deploy.KindInvalid, "no secret_env or secret_file")
	}
	return Secret{value: []byte(strings.TrimSpace(v))}, nil
}

// NewSecret wraps a value (tests, or a caller with its own secret store).
func NewSecret(v []byte) Secret { return Secret{value: append([]byte(nil), v...)} }
