package storetest

import (
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/schedule"
	"github.com/switchyard/switchyard/pkg/window"
)

// Full returns a deployment with every field set to a non-zero value, its times in a non-UTC zone
// with nanoseconds.
func Full(id, service string) *deploy.Deployment {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	at := func(sec int) *time.Time {
		t := time.Date(2025, 3, 14, 15, 9, 26, 535897932, zone).Add(time.Duration(sec) * time.Second)
		return &t
	}
	maxRate := 0.05
	utcAt := at(-3)
	*utcAt = utcAt.UTC() // a step's own time keeps its zone in the record: the fixture uses UTC
	return &deploy.Deployment{
		ID:      id,
		Service: service,
		Spec: deploy.Service{
			Name: service, Cluster: "prod", Container: "app",
			ImageRepository: "123456789012.dkr.ecr.us-east-1.amazonaws.com/web",
			ECSServices:     map[deploy.Slot]string{deploy.SlotBlue: "web-blue", deploy.SlotGreen: "web-green"},
			TargetGroups:    map[deploy.Slot]string{deploy.SlotBlue: "arn:tg/blue", deploy.SlotGreen: "arn:tg/green"},
			Routes:          []deploy.Route{{ListenerARN: "arn:listener/1"}, {ListenerARN: "arn:listener/1", RuleARN: "arn:rule/9"}},
			TestRoute:       &deploy.Route{ListenerARN: "arn:listener/test"},
			Alarms:          []string{"web-5xx", "web-latency"},
			SlotAlarms:      map[deploy.Slot][]string{deploy.SlotGreen: {"web-green-5xx"}},
			Strategy:        deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(time.Minute)},
			DeregDelay:      deploy.Duration(30 * time.Second),
			ReadyTimeout:    deploy.Duration(10 * time.Minute),
			StepTimeout:     deploy.Duration(time.Minute),
			UnhealthyAfter:  deploy.Duration(20 * time.Second),
			UnhealthyMax:    1,
			GuardStaleAfter: deploy.Duration(45 * time.Second), GuardStalePolicy: deploy.StalePause, InsufficientData: deploy.InsufficientOK,
			Window:       &window.Spec{Zone: "America/New_York", Open: []window.Rule{{Days: window.DaysTrading, From: "07:00", To: "09:00"}}, Closures: window.ClosuresAllow},
			WindowPolicy: schedule.OutsideRollback,
			Analysis: &deploy.AnalysisSpec{Interval: deploy.Duration(time.Minute), Metrics: []deploy.AnalysisMetric{{Name: "error-rate",
				Provider: deploy.ProviderPrometheus, Judge: deploy.JudgeThreshold,
				Prometheus: &deploy.PrometheusQueries{URL: "http://prom.invalid", Requests: "r", Errors: "e"},
				Threshold:  &deploy.ThresholdSpec{Value: "error_rate", Max: &maxRate, MinSamples: 3}}}},
		},
		ImageTag: "v1.2.3",
		Image:    "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1.2.3",
		Strategy: deploy.Strategy{
			Type: deploy.StrategySteps, CanaryPercent: 0.5, LinearSteps: 3, Bake: deploy.Duration(1500 * time.Millisecond), PauseBeforeTraffic: true,
			Steps: []deploy.Step{{Percent: 0.5, Bake: deploy.Duration(time.Minute)}, {Percent: 100}},
		},
		Steps: []deploy.Step{{Percent: 0.5, Bake: deploy.Duration(time.Minute + 1), Timing: schedule.Timing{At: utcAt}},
			{Percent: 33.333, Timing: schedule.Timing{Cron: "45 9 * * 1-5", TZ: "America/New_York"}}, {Percent: 100}},
		State:             deploy.StatePaused,
		PausedFrom:        deploy.StateShifting,
		Step:              1,
		From:              deploy.SlotBlue,
		To:                deploy.SlotGreen,
		PreviousTaskDef:   "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
		TaskDef:           "arn:aws:ecs:us-east-1:123456789012:task-definition/web:8",
		PreviousToTaskDef: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:6",
		DesiredCount:      3,
		Weights:           deploy.Weights{Blue: 994, Green: 5},
		Intended:          &deploy.Weights{Blue: 666, Green: 333},
		Cause:             deploy.CauseAlarm,
		Reason:            "5xx alarm \"web-5xx\" fired",
		Promote:           true,
		ForcedAlarms:      []string{"web-latency"},
		CreatedBy:         "ci-token",
		Analysis: &deploy.AnalysisRun{StartedAt: utcAt.Add(time.Second), UpdatedAt: utcAt.Add(2 * time.Second), Verdict: deploy.VerdictPass,
			Why: "error rate below 5%", Metrics: []deploy.MetricStatus{{Name: "error-rate", Verdict: deploy.VerdictPass}}},
		Guard:         []deploy.AlarmState{{Name: "web-5xx", State: "OK", UpdatedAt: *at(-1)}},
		Live:          []deploy.RouteWeights{{Route: deploy.Route{ListenerARN: "l"}, Weights: deploy.Weights{Blue: 1, Green: 998}}},
		CreatedAt:     *at(0),
		UpdatedAt:     *at(1),
		StartAt:       at(-5),
		StepReadyAt:   at(1),
		StepStartedAt: at(2),
		ShiftedAt:     at(3),
		RetireAt:      at(3),
		FinishedAt:    at(4),
		Version:       42, // ignored by CreateDeployment
	}
}

// Pending returns a minimal active deployment created at sec seconds past a fixed instant.
func Pending(id, service string, sec int) *deploy.Deployment {
	t := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(sec) * time.Second)
	return &deploy.Deployment{ID: id, Service: service, ImageTag: "v1", State: deploy.StatePending, Step: -1,
		From: deploy.SlotBlue, To: deploy.SlotGreen, CreatedAt: t, UpdatedAt: t}
}

// Stored returns a copy of d as a store returns it: every time in UTC, Guard and Live (never stored) dropped.
// It is written out here rather than taken from deploy.EncodeStored so that the suite checks the
// stores against an independent statement of the contract.
func Stored(d *deploy.Deployment) *deploy.Deployment {
	c := *d
	c.Guard, c.Live = nil, nil
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	c.StepStartedAt, c.ShiftedAt, c.RetireAt, c.FinishedAt = utc(c.StepStartedAt), utc(c.ShiftedAt), utc(c.RetireAt), utc(c.FinishedAt)
	c.StartAt, c.StepReadyAt = utc(c.StartAt), utc(c.StepReadyAt)
	return &c
}

// AssertKind fails t unless err is a deploy error of kind want.
func AssertKind(t testing.TB, err error, want deploy.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error of kind %s, got nil", want)
	}
	if got := deploy.KindOf(err); got != want {
		t.Fatalf("want kind %s, got %s (%v)", want, got, err)
	}
}

// assertLocked fails t unless err is the conflict of a service whose lock active holds.
func assertLocked(t *testing.T, err error, active string) {
	t.Helper()
	AssertKind(t, err, deploy.KindConflict)
	if got := deploy.ActiveIDOf(err); got != active {
		t.Fatalf("ActiveID = %q, want %s (err %v)", got, active, err)
	}
}
