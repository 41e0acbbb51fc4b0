// Package config reads and validates the daemon's YAML configuration (see configs/switchyard.example.yaml).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/notify"
	"github.com/switchyard/switchyard/pkg/schedule"
	"github.com/switchyard/switchyard/pkg/window"
)

// Config is the whole daemon configuration.
type Config struct {
	Listen       string          `yaml:"listen"`
	Log          Log             `yaml:"log"`
	Store        Store           `yaml:"store"`
	AWS          AWS             `yaml:"aws"`
	PollInterval deploy.Duration `yaml:"poll_interval"`
	// Recovery is what a restart does with deployments that had moved traffic: resume (default) or rollback.
	Recovery string `yaml:"recovery"`
	Auth     Auth   `yaml:"auth"`
	// DriftGuard runs a refresh-only plan of the Terraform stack before every deployment and refuses to
	// start one when resources changed outside the fields the controller owns.
	DriftGuard DriftGuard `yaml:"drift_guard"`
	// Guards are the default guard settings of every service (see Guards).
	Guards Guards `yaml:"guards"`
	// Calendar is the exchange calendar of the services' windows (docs/schedules.md).
	Calendar Calendar            `yaml:"calendar"`
	Defaults Defaults            `yaml:"defaults"`
	Services map[string]*Service `yaml:"services"`
	// Notifications routes audit events to SNS, webhooks and Slack (docs/notifications.md).
	Notifications *notify.Config `yaml:"notifications"`
}

// Log configures the one zap logger.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json (default) or console
}

// Store selects where deployments and audit events live.
type Store struct {
	Driver string `yaml:"driver"` // sqlite (default) or dynamodb
	Path   string `yaml:"path"`   // sqlite file
	Table  string `yaml:"table"`  // dynamodb table
	// Leases (dynamodb only, docs/ha.md; defaults and bounds in store.go): the lease time, the interval
	// between scans of the lease partition, and this daemon's name in leases.
	LeaseTime  deploy.Duration `yaml:"lease_time"`
	LeaseScan  deploy.Duration `yaml:"lease_scan"`
	DaemonName string          `yaml:"daemon_name"`
}

// AWS configures the SDK clients. Endpoint overrides are for emulators; with any override set, static
// credentials are required so that the default credential chain (and its metadata-service probe) never runs.
type AWS struct {
	Region            string            `yaml:"region"`
	EndpointURL       string            `yaml:"endpoint_url"`
	Endpoints         map[string]string `yaml:"endpoints"`          // per service: ecs, elbv2, cloudwatch, ecr, dynamodb, autoscaling, sns
	StaticCredentials bool              `yaml:"static_credentials"` // read AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY only
	MaxRetries        int               `yaml:"max_retries"`
	// RateLimits are the daemon's own budgets per AWS API family (keys: ecs, elbv2, cloudwatch, ecr,
	// dynamodb, autoscaling), shared by every deployment; unset families use the built-in defaults.
	RateLimits map[string]RateLimit `yaml:"rate_limits"`
}

// RateLimit is a token bucket: Rate calls per second on average, bursts of up to Burst calls.
type RateLimit struct {
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
}

// Auth lists the API's bearer tokens.
type Auth struct {
	Tokens []Token `yaml:"tokens"`
}

// Token is one named API credential. The secret comes from Value or, better, from the environment
// variable named by ValueEnv.
type Token struct {
	Name     string `yaml:"name"`
	Value    string `yaml:"value,omitempty"`
	ValueEnv string `yaml:"value_env,omitempty"`
	ReadOnly bool   `yaml:"read_only,omitempty"`
}

// DriftGuard configures the pre-deployment Terraform drift check (see `switchyard provision drift`).
type DriftGuard struct {
	Enabled       bool     `yaml:"enabled"`
	Dir           string   `yaml:"dir"`            // stack directory
	BackendConfig string   `yaml:"backend_config"` // S3 + DynamoDB backend config file; empty: local state
	VarFiles      []string `yaml:"var_files"`
	Binary        string   `yaml:"binary"` // tofu or terraform; empty: found on PATH
}

// Defaults apply to every service that does not set its own.
type Defaults struct {
	Strategy       *deploy.Strategy `yaml:"strategy"`
	ReadyTimeout   deploy.Duration  `yaml:"ready_timeout"`
	StepTimeout    deploy.Duration  `yaml:"step_timeout"`
	UnhealthyAfter deploy.Duration  `yaml:"unhealthy_after"`
	UnhealthyMax   *int             `yaml:"unhealthy_max"`
}

// Service is one deployable service. The infrastructure fields are written by `switchyard provision
// output` from the Terraform stack's controller output; Strategy and the timeouts are the operator's.
type Service struct {
	Cluster             string           `yaml:"cluster"`
	BlueService         string           `yaml:"blue_service"`
	GreenService        string           `yaml:"green_service"`
	Container           string           `yaml:"container"`
	ImageRepository     string           `yaml:"image_repository"`
	ListenerARN         string           `yaml:"listener_arn"`
	RuleARNs            []string         `yaml:"rule_arns"`
	TestListenerARN     string           `yaml:"test_listener_arn"`
	BlueTargetGroupARN  string           `yaml:"blue_target_group_arn"`
	GreenTargetGroupARN string           `yaml:"green_target_group_arn"`
	Alarms              []string         `yaml:"alarms"`
	BlueAlarms          []string         `yaml:"blue_alarms"`
	GreenAlarms         []string         `yaml:"green_alarms"`
	DeregDelay          *deploy.Duration `yaml:"deregistration_delay"`
	Strategy            *deploy.Strategy `yaml:"strategy"`
	ReadyTimeout        deploy.Duration  `yaml:"ready_timeout"`
	StepTimeout         deploy.Duration  `yaml:"step_timeout"`
	UnhealthyAfter      deploy.Duration  `yaml:"unhealthy_after"`
	UnhealthyMax        *int             `yaml:"unhealthy_max"`
	// Analysis judges this service's releases from evidence (README, "Analysis").
	Analysis *deploy.AnalysisSpec `yaml:"analysis"`
	// Window is when this service's steps may start (none: always); WindowPolicy is what a
	// deployment caught outside it does: hold (default) or rollback (docs/schedules.md).
	Window       *window.Spec `yaml:"window"`
	WindowPolicy string       `yaml:"window_policy"`
	// Guards override the top-level guards block for this service.
	Guards `yaml:",inline"`
}

// Built-in defaults, applied by Load before validation.
const (
	DefaultListen       = "127.0.0.1:8080"
	DefaultPollInterval = time.Second
	DefaultReadyTimeout = 10 * time.Minute
	DefaultStepTimeout  = 30 * time.Second
	DefaultUnhealthy    = 10 * time.Second
	DefaultDeregDelay   = 30 * time.Second
	DefaultStorePath    = "switchyard.db"
	DefaultRegion       = "us-east-1"
	// MaxDeregDelay is the largest deregistration delay an ALB target group accepts (3600 s).
	MaxDeregDelay = time.Hour
)

// Load reads, defaults and validates the configuration file at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes YAML (unknown keys are errors, so typos surface at start-up), applies defaults and validates.
func Parse(b []byte) (*Config, error) {
	// Durations first, on the node tree: their errors then name the key and the line.
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, err
	}
	var errs []string
	checkDurations(&root, reflect.TypeFor[Config](), "", &errs)
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid configuration:\n  - %s", strings.Join(errs, "\n  - "))
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) applyDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Log.Format == "" {
		c.Log.Format = "json"
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Store.Driver == "" {
		c.Store.Driver = "sqlite"
	}
	if c.Store.Driver == "sqlite" && c.Store.Path == "" {
		c.Store.Path = DefaultStorePath
	}
	if c.AWS.Region == "" {
		c.AWS.Region = DefaultRegion
	}
	if c.Recovery == "" {
		c.Recovery = "resume"
	}
	if c.PollInterval == 0 {
		c.PollInterval = deploy.Duration(DefaultPollInterval)
	}
	if c.Defaults.Strategy == nil {
		c.Defaults.Strategy = &deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(30 * time.Second)}
	}
	if c.Defaults.ReadyTimeout == 0 {
		c.Defaults.ReadyTimeout = deploy.Duration(DefaultReadyTimeout)
	}
	if c.Defaults.StepTimeout == 0 {
		c.Defaults.StepTimeout = deploy.Duration(DefaultStepTimeout)
	}
	if c.Defaults.UnhealthyAfter == 0 {
		c.Defaults.UnhealthyAfter = deploy.Duration(DefaultUnhealthy)
	}
	c.applyGuardDefaults()
	c.Store.applyLeaseDefaults()
}

var tokenNameRE = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)

// Validate reports every problem at once, each naming the offending key.
func (c *Config) Validate() error {
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		add("listen: %q is not host:port", c.Listen)
	}
	switch c.Log.Format {
	case "json", "console":
	default:
		add("log.format: %q must be json or console", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level: %q must be debug, info, warn or error", c.Log.Level)
	}
	switch c.Store.Driver {
	case "sqlite":
		if c.Store.Path == "" {
			add("store.path: required for the sqlite store")
		}
	case "dynamodb":
		if c.Store.Table == "" {
			add("store.table: required for the dynamodb store")
		}
	default:
		add("store.driver: %q must be sqlite or dynamodb", c.Store.Driver)
	}
	c.Store.validateLeases(add)
	c.checkNotifications(add)
	if c.PollInterval.D() < 50*time.Millisecond || c.PollInterval.D() > time.Minute {
		add("poll_interval: %s must be between 50ms and 1m", c.PollInterval)
	}
	if c.Recovery != "resume" && c.Recovery != "rollback" {
		add("recovery: %q must be resume or rollback", c.Recovery)
	}
	if c.DriftGuard.Enabled && c.DriftGuard.Dir == "" {
		add("drift_guard.dir: required when drift_guard.enabled is true")
	}
	if !regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`).MatchString(c.AWS.Region) {
		add("aws.region: %q is not a Region name such as us-east-1", c.AWS.Region)
	}
	for k, v := range c.AWS.Endpoints {
		if !isFamily(k) {
			add("aws.endpoints.%s: unknown service (ecs, elbv2, cloudwatch, ecr, dynamodb, autoscaling, sns)", k)
		}
		if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
			add("aws.endpoints.%s: %q must be an http(s) URL", k, v)
		}
	}
	if (c.AWS.EndpointURL != "" || len(c.AWS.Endpoints) > 0) && !c.AWS.StaticCredentials {
		add("aws.static_credentials: must be true when endpoints are overridden (the default credential chain would query the instance metadata service)")
	}
	seen := map[string]bool{}
	for i, t := range c.Auth.Tokens {
		if !tokenNameRE.MatchString(t.Name) {
			add("auth.tokens[%d].name: %q must be 1-64 characters of [A-Za-z0-9_.@-]", i, t.Name)
		}
		if seen[t.Name] {
			add("auth.tokens[%d].name: %q is duplicated", i, t.Name)
		}
		seen[t.Name] = true
		if (t.Value == "") == (t.ValueEnv == "") {
			add("auth.tokens[%d] (%s): set exactly one of value or value_env", i, t.Name)
		}
	}
	c.checkRateLimits(add)
	c.checkCalendar(add)
	c.checkGuards("guards", c.Guards, add)
	if c.Defaults.Strategy != nil {
		if _, err := c.Defaults.Strategy.Plan(); err != nil {
			add("defaults.strategy.%s", deploy.MessageOf(err))
		}
	}
	if c.Defaults.UnhealthyMax != nil && *c.Defaults.UnhealthyMax < 0 {
		add("defaults.unhealthy_max: must be >= 0")
	}
	if len(c.Services) == 0 {
		add("services: at least one service is required")
	}
	names := make([]string, 0, len(c.Services))
	for n := range c.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := c.Services[n]
		p := "services." + n
		if !deploy.ServiceNameRE.MatchString(n) {
			add("%s: service name must match %s", p, deploy.ServiceNameRE)
		}
		if s == nil {
			add("%s: empty", p)
			continue
		}
		req := map[string]string{"cluster": s.Cluster, "blue_service": s.BlueService, "green_service": s.GreenService,
			"container": s.Container, "image_repository": s.ImageRepository, "blue_target_group_arn": s.BlueTargetGroupARN,
			"green_target_group_arn": s.GreenTargetGroupARN}
		for _, k := range []string{"cluster", "blue_service", "green_service", "container", "image_repository", "blue_target_group_arn", "green_target_group_arn"} {
			if strings.TrimSpace(req[k]) == "" {
				add("%s.%s: required", p, k)
			}
		}
		if s.BlueService != "" && s.BlueService == s.GreenService {
			add("%s: blue_service and green_service must differ", p)
		}
		if s.BlueTargetGroupARN != "" && s.BlueTargetGroupARN == s.GreenTargetGroupARN {
			add("%s: blue_target_group_arn and green_target_group_arn must differ", p)
		}
		c.checkResources(p, s, add)
		if s.ListenerARN == "" && len(s.RuleARNs) == 0 {
			add("%s: set listener_arn and/or rule_arns (where the weights live)", p)
		}
		if strings.Contains(s.ImageRepository, ":") && !strings.Contains(s.ImageRepository, "/") {
			add("%s.image_repository: %q must not include a tag", p, s.ImageRepository)
		}
		if s.Strategy != nil {
			if _, err := s.Strategy.Plan(); err != nil {
				add("%s.strategy.%s", p, deploy.MessageOf(err))
			}
		}
		c.checkAnalysis(p, s, add)
		checkWindow(p, s, add)
		c.checkGuards(p, s.Guards.resolve(c.Guards), add)
		if s.UnhealthyMax != nil && *s.UnhealthyMax < 0 {
			add("%s.unhealthy_max: must be >= 0", p)
		}
		if s.DeregDelay != nil && s.DeregDelay.D() > MaxDeregDelay {
			add("%s.deregistration_delay: %s is above the ALB maximum of %s", p, s.DeregDelay, MaxDeregDelay)
		}
	}
	c.checkShared(names, add)
	if len(errs) > 0 {
		return fmt.Errorf("invalid configuration:\n  - %s", strings.Join(errs, "\n  - "))
	}
	return nil
}

// TokenSecret resolves a token's secret from its value or environment variable.
func (t Token) TokenSecret() (string, error) {
	if t.ValueEnv != "" {
		v := os.Getenv(t.ValueEnv)
		if v == "" {
			return "", fmt.Errorf("auth token %s: environment variable %s is empty", t.Name, t.ValueEnv)
		}
		return v, nil
	}
	return t.Value, nil
}

// DomainServices turns the configured services into the controller's view, with defaults applied.
func (c *Config) DomainServices() map[string]deploy.Service {
	out := make(map[string]deploy.Service, len(c.Services))
	for name, s := range c.Services {
		d := deploy.Service{
			Name:            name,
			Cluster:         s.Cluster,
			Container:       s.Container,
			ImageRepository: s.ImageRepository,
			ECSServices:     map[deploy.Slot]string{deploy.SlotBlue: s.BlueService, deploy.SlotGreen: s.GreenService},
			TargetGroups:    map[deploy.Slot]string{deploy.SlotBlue: s.BlueTargetGroupARN, deploy.SlotGreen: s.GreenTargetGroupARN},
			Alarms:          append([]string(nil), s.Alarms...),
			SlotAlarms:      map[deploy.Slot][]string{deploy.SlotBlue: append([]string(nil), s.BlueAlarms...), deploy.SlotGreen: append([]string(nil), s.GreenAlarms...)},
			Strategy:        *c.Defaults.Strategy,
			DeregDelay:      deploy.Duration(DefaultDeregDelay),
			ReadyTimeout:    pick(s.ReadyTimeout, c.Defaults.ReadyTimeout),
			StepTimeout:     pick(s.StepTimeout, c.Defaults.StepTimeout),
			UnhealthyAfter:  pick(s.UnhealthyAfter, c.Defaults.UnhealthyAfter),
		}
		g := s.Guards.resolve(c.Guards)
		d.GuardStaleAfter = g.StaleAfter
		d.GuardStalePolicy = deploy.StalePolicy(g.StalePolicy)
		d.InsufficientData = deploy.InsufficientData(g.InsufficientData)
		if s.ListenerARN != "" {
			d.Routes = append(d.Routes, deploy.Route{ListenerARN: s.ListenerARN})
		}
		for _, r := range s.RuleARNs {
			d.Routes = append(d.Routes, deploy.Route{ListenerARN: s.ListenerARN, RuleARN: r})
		}
		if s.TestListenerARN != "" {
			d.TestRoute = &deploy.Route{ListenerARN: s.TestListenerARN}
		}
		if s.Strategy != nil {
			d.Strategy = *s.Strategy
		}
		if s.DeregDelay != nil {
			d.DeregDelay = *s.DeregDelay
		}
		if s.Analysis != nil {
			a := s.Analysis.WithDefaults()
			d.Analysis = &a
		}
		if s.Window != nil {
			w := *s.Window
			d.Window = &w
		}
		d.WindowPolicy = schedule.OutsidePolicy(s.WindowPolicy)
		switch {
		case s.UnhealthyMax != nil:
			d.UnhealthyMax = *s.UnhealthyMax
		case c.Defaults.UnhealthyMax != nil:
			d.UnhealthyMax = *c.Defaults.UnhealthyMax
		}
		out[name] = d
	}
	return out
}

func pick(v, def deploy.Duration) deploy.Duration {
	if v != 0 {
		return v
	}
	return def
}

// ListenerOfRule returns the ARN of the listener a listener-rule ARN belongs to
// (arn:...:listener-rule/app/NAME/LB/LISTENER/RULE -> arn:...:listener/app/NAME/LB/LISTENER), or "".
func ListenerOfRule(ruleARN string) string {
	i := strings.Index(ruleARN, ":listener-rule/")
	j := strings.LastIndex(ruleARN, "/")
	if i < 0 || j <= i {
		return ""
	}
	return ruleARN[:i] + ":listener/" + ruleARN[i+len(":listener-rule/"):j]
}
