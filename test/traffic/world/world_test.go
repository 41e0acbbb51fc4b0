package world

import (
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/switchyard/switchyard/test/apptask"
	"github.com/switchyard/switchyard/test/emulator"
	"github.com/switchyard/switchyard/test/traffic/loadgen"
)

func TestMain(m *testing.M) {
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	code := m.Run()
	emulator.StopShared()
	os.Exit(code)
}

// The whole chain with no daemon: requests flow through HAProxy to real tasks, the live colour's
// errors become ALB metrics in CloudWatch and the stack's alarm on them goes to ALARM, and back to OK
// once the errors stop.
func TestWorldCarriesTrafficAndRaisesAlarmsFromRealErrors(t *testing.T) {
	k := emulator.Shared(t)
	ctx := emulator.Context(t, 2*time.Minute)
	table := apptask.NewTable(nil)
	w, err := New(ctx, k.URL, Options{Name: "worldsmoke", Table: table, AlarmScale: 60, Prometheus: true, Log: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	res, err := loadgen.Run(ctx, loadgen.Options{URL: w.ProductionURL() + "/api/quotes", Rate: 100, Duration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total() < 190 || len(res.Failures(time.Time{}, time.Now())) != 0 || res.ByColour()["blue"] != res.Total() {
		t.Fatalf("healthy traffic: %s", res.Summary())
	}
	// The live release starts failing: real 500s from its tasks.
	table.Set("v1", apptask.Behaviour{ErrorRate: 1})
	bad, err := loadgen.Start(ctx, loadgen.Options{URL: w.ProductionURL() + "/api/quotes", Rate: 50, Duration: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Stop()
	cw := cloudwatch.NewFromConfig(w.AWS)
	waitState := func(want string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{w.Stack.BlueAlarm}})
			if err == nil && len(out.MetricAlarms) == 1 && string(out.MetricAlarms[0].StateValue) == want {
				t.Logf("%s is %s: %s", w.Stack.BlueAlarm, want, aws.ToString(out.MetricAlarms[0].StateReason))
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never reached %s (%v); transitions %+v", w.Stack.BlueAlarm, want, err, w.Evaluator.History())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitState("ALARM")
	// The same errors, per backend, in a real Prometheus scraping HAProxy's exporter.
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, err := w.Prom.Query(ctx, `sum(haproxy_backend_http_responses_total{code="5xx"})`)
		if err == nil && len(v) == 1 && v[0].Value > 0 {
			t.Logf("Prometheus: %v 5xx responses from the backends", v[0].Value)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus never saw the 5xx: %v %v", v, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	table.Set("v1", apptask.Behaviour{})
	waitState("OK")
}
