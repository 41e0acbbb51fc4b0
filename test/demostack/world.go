package demostack

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/switchyard/switchyard/test/ecsfake"
	"github.com/switchyard/switchyard/test/emulator"
)

// World is one service's whole environment: the stack in kumo and its two ECS services in the ECS
// stand-in, blue live with LiveCount tasks, green idle.
type World struct {
	KumoURL string
	AWS     aws.Config
	Stack   *Stack
	ECS     *ecsfake.Fake
}

// LiveCount is the number of tasks the live slot runs in a new World.
const LiveCount = 2

// NewWorld creates the stack called name in the emulator at kumoURL (pushing v1 and the given tags),
// starts an ECS stand-in that registers task IPs in kumo's target groups, and seeds both services on v1.
func NewWorld(ctx context.Context, kumoURL, name string, startDelay time.Duration, tags ...string) (*World, error) {
	cfg := emulator.Config(kumoURL)
	st, err := Create(ctx, cfg, name, append([]string{"v1"}, tags...)...)
	if err != nil {
		return nil, err
	}
	fake, err := ecsfake.Start(ecsfake.Options{ELBv2: elb.NewFromConfig(cfg), StartDelay: startDelay})
	if err != nil {
		return nil, err
	}
	td := fake.SeedTaskDefinition("td-"+name, st.Container, st.RepositoryURI+":v1")
	if _, err := fake.Seed(st.Cluster, st.BlueService, td, LiveCount, st.BlueTG, int(st.ContainerPort)); err != nil {
		fake.Close()
		return nil, err
	}
	if _, err := fake.Seed(st.Cluster, st.GreenService, td, 0, st.GreenTG, int(st.ContainerPort)); err != nil {
		fake.Close()
		return nil, err
	}
	// Both colours are auto scaled as the Terraform stack registers them: the live one active, the idle
	// one suspended at a floor of 0.
	fake.SeedScalableTarget(st.Cluster, st.BlueService, LiveCount, 4*LiveCount, false)
	fake.SeedScalableTarget(st.Cluster, st.GreenService, 0, 4*LiveCount, true)
	return &World{KumoURL: kumoURL, AWS: cfg, Stack: st, ECS: fake}, nil
}

// Close stops the ECS stand-in.
func (w *World) Close() { w.ECS.Close() }

// Token is a daemon API token of the generated configs.
type Token struct {
	Name, Value string
	ReadOnly    bool
}

// ConfigYAML renders a daemon configuration for this world: emulator endpoints with static credentials,
// the SQLite store at dbPath, the given tokens and poll interval, and the service with strategyYAML
// (indented service-level keys, may be empty).
func (w *World) ConfigYAML(listen, dbPath string, poll time.Duration, tokens []Token, strategyYAML string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %s\nlog: {level: info, format: json}\nstore: {driver: sqlite, path: %q}\n", listen, dbPath)
	fmt.Fprintf(&b, "aws:\n  region: us-east-1\n  endpoint_url: %s\n  endpoints: {ecs: %s, autoscaling: %s}\n  static_credentials: true\n", w.KumoURL, w.ECS.URL(), w.ECS.URL())
	fmt.Fprintf(&b, "poll_interval: %s\ndefaults:\n  ready_timeout: 30s\n  step_timeout: 10s\n  unhealthy_after: 5s\n", poll)
	b.WriteString("auth:\n  tokens:\n")
	for _, t := range tokens {
		fmt.Fprintf(&b, "    - {name: %s, value: %q, read_only: %v}\n", t.Name, t.Value, t.ReadOnly)
	}
	b.WriteString("services:\n")
	b.WriteString(w.Stack.ServiceYAML(strategyYAML))
	return b.String()
}
