package notify

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"sync"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// Deps are what FromConfig builds the notifications from.
type Deps struct {
	Events  EventSource
	Objects deploy.ObjectStore
	Actions Actions // the controller: what links do
	// SNS returns the publisher of sns sinks; called only when one is configured.
	SNS   func() Publisher
	Clock clock.Clock
	Log   *zap.Logger
}

// Runtime is the daemon's notifications: the dispatcher, and the link handler when links are on.
type Runtime struct {
	Dispatcher *Dispatcher
	Links      *Links // nil: links off
	linkPath   string
	handler    http.Handler
	wg         sync.WaitGroup
}

// FromConfig builds sinks (loading their secrets), links and the dispatcher from a checked Config.
func FromConfig(c Config, d Deps) (*Runtime, error) {
	const op = "notify.FromConfig"
	if err := c.Check(); err != nil {
		return nil, err
	}
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	sinks := map[string]Sink{}
	names := make([]string, 0, len(c.Sinks))
	for n := range c.Sinks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s, err := buildSink(c.Sinks[n], d)
		if err != nil {
			return nil, deploy.Wrap(op, deploy.KindInvalid, err, "notifications.sinks."+n)
		}
		sinks[n] = s
	}
	rt := &Runtime{}
	if l := c.Links; l != nil {
		secret, err := LoadSecret(l.SecretEnv, l.SecretFile)
		if err != nil {
			return nil, deploy.Wrap(op, deploy.KindInvalid, err, "notifications.links")
		}
		links, err := NewLinks(secret, l.BaseURL, l.Owner, l.TTL.D(), d.Clock, d.Objects)
		if err != nil {
			return nil, err
		}
		u, _ := url.Parse(l.BaseURL) // checked
		rt.Links, rt.linkPath, rt.handler = links, u.Path, LinkHandler(links, d.Actions, d.Log.Named("links"))
	}
	disp, err := New(Options{Events: d.Events, Objects: d.Objects, Sinks: sinks, Routes: c.Routes, Links: rt.Links,
		DashboardURL: c.DashboardURL, Clock: d.Clock, Log: d.Log, PollInterval: c.PollInterval.D(),
		MaxAttempts: c.MaxAttempts, Backoff: c.Backoff.D(), MaxBackoff: c.MaxBackoff.D(), Lookback: c.Lookback.D()})
	if err != nil {
		return nil, err
	}
	rt.Dispatcher = disp
	return rt, nil
}

func buildSink(s SinkConfig, d Deps) (Sink, error) {
	timeout := s.Timeout.D()
	if timeout <= 0 {
		timeout = DefaultSinkTimeout
	}
	client := &http.Client{Timeout: timeout}
	switch s.Type {
	case SinkSNS:
		if d.SNS == nil {
			return nil, deploy.Errorf("notify.buildSink", deploy.KindInvalid, "no SNS client")
		}
		return NewSNS(d.SNS(), s.TopicARN), nil
	case SinkWebhook:
		secret, err := LoadSecret(s.SecretEnv, s.SecretFile)
		if err != nil {
			return nil, err
		}
		return NewWebhook(s.URL, secret, client, d.Clock), nil
	default: // slack (checked)
		u := NewSecret([]byte(s.URL))
		if s.URL == "" {
			var err error
			if u, err = LoadSecret(s.URLEnv, s.URLFile); err != nil {
				return nil, err
			}
		}
		return NewSlack(u, client), nil
	}
}

// Start runs the dispatcher until ctx ends; Wait waits for it.
func (r *Runtime) Start(ctx context.Context) {
	r.wg.Add(1)
	go func() { defer r.wg.Done(); r.Dispatcher.Run(ctx) }()
}

// Wait waits for the dispatcher started by Start to stop.
func (r *Runtime) Wait() { r.wg.Wait() }

// LinkRoute returns the path links are served at (links.base_url's path) and their handler; an empty
// path when links are off. The daemon mounts it outside token authentication: the link is the
// credential.
func (r *Runtime) LinkRoute() (string, http.Handler) { return r.linkPath, r.handler }
