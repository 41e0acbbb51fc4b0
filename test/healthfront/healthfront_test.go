package healthfront

import (
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/switchyard/switchyard/test/dataplane"
	"github.com/switchyard/switchyard/test/emulator"
)

func TestMain(m *testing.M) {
	code := m.Run()
	emulator.StopShared()
	os.Exit(code)
}

// serveTarget serves /healthz with status on its own loopback IP (kumo keys targets by Id alone).
func serveTarget(t *testing.T, ip string, status int) elbtypes.TargetDescription {
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) })}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return elbtypes.TargetDescription{Id: aws.String(ip), Port: aws.Int32(int32(l.Addr().(*net.TCPAddr).Port))}
}

type fixture struct {
	kumo, front *elb.Client
	f           *Front
	tg, other   string
	good, bad   elbtypes.TargetDescription
	plane       *dataplane.Plane
}

func setup(t *testing.T) *fixture {
	k := emulator.Shared(t)
	ctx := emulator.Context(t, time.Minute)
	fx := &fixture{kumo: elb.NewFromConfig(emulator.Config(k.URL))}
	n := time.Now().UnixNano() % 1000000
	mk := func(name string) string {
		out, err := fx.kumo.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(8000), VpcId: aws.String("vpc-test"), TargetType: elbtypes.TargetTypeEnumIp, HealthCheckPath: aws.String("/healthz"),
			HealthCheckIntervalSeconds: aws.Int32(5), HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2), HealthCheckTimeoutSeconds: aws.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.TargetGroups[0].TargetGroupArn)
	}
	fx.tg, fx.other = mk(fmt.Sprintf("tg-hf-%d", n)), mk(fmt.Sprintf("tg-hf-other-%d", n))
	lb, err := fx.kumo.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String(fmt.Sprintf("alb-hf-%d", n)), Subnets: []string{"subnet-a"}})
	if err != nil {
		t.Fatal(err)
	}
	lbARN := aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	if _, err := fx.kumo.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(fx.tg)}}}); err != nil {
		t.Fatal(err)
	}
	fx.good, fx.bad = serveTarget(t, "127.0.20.1", 200), serveTarget(t, "127.0.20.2", 500)
	for _, tg := range []string{fx.tg, fx.other} {
		if _, err := fx.kumo.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []elbtypes.TargetDescription{fx.good, fx.bad}}); err != nil {
			t.Fatal(err)
		}
	}
	fx.plane, err = dataplane.Start(ctx, dataplane.Options{ELBv2: fx.kumo, LoadBalancerARNs: []string{lbARN}, HealthScale: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fx.plane.Close)
	fx.f, err = Start(Options{Upstream: k.URL, Health: fx.plane.Health})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fx.f.Close)
	fx.front = elb.NewFromConfig(emulator.Config(fx.f.URL()))
	return fx
}

func states(out *elb.DescribeTargetHealthOutput) map[string]elbtypes.TargetHealth {
	m := map[string]elbtypes.TargetHealth{}
	for _, d := range out.TargetHealthDescriptions {
		m[aws.ToString(d.Target.Id)] = *d.TargetHealth
	}
	return m
}

func TestSDKSeesTheDataPlanesHealth(t *testing.T) {
	fx := setup(t)
	ctx := emulator.Context(t, 30*time.Second)
	var got map[string]elbtypes.TargetHealth
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, err := fx.front.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(fx.tg)})
		if err != nil {
			t.Fatal(err)
		}
		got = states(out)
		if got["127.0.20.1"].State == "healthy" && got["127.0.20.2"].State == "unhealthy" {
			if d := out.TargetHealthDescriptions[0]; aws.ToInt32(d.Target.Port) != aws.ToInt32(fx.good.Port) || aws.ToString(d.HealthCheckPort) == "" {
				t.Fatalf("description %+v", d)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("states through the front: %+v", got)
		}
	}
	bad := got["127.0.20.2"]
	if bad.Reason != elbtypes.TargetHealthReasonEnumResponseCodeMismatch || aws.ToString(bad.Description) != "Health checks failed with these codes: [500]" {
		t.Fatalf("unhealthy target: %+v", bad)
	}
	// Asking for given targets: the unregistered one is unused/Target.NotRegistered.
	out, err := fx.front.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(fx.tg),
		Targets: []elbtypes.TargetDescription{fx.bad, {Id: aws.String("127.0.20.99"), Port: aws.Int32(80)}}})
	if err != nil {
		t.Fatal(err)
	}
	got = states(out)
	if len(got) != 2 || got["127.0.20.2"].State != "unhealthy" || got["127.0.20.99"].State != "unused" ||
		got["127.0.20.99"].Reason != elbtypes.TargetHealthReasonEnumNotRegistered {
		t.Fatalf("filtered: %+v", got)
	}
	// A group the data plane does not follow: kumo answers (every target healthy).
	out, err = fx.front.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(fx.other)})
	if err != nil {
		t.Fatal(err)
	}
	if got = states(out); got["127.0.20.2"].State != "healthy" {
		t.Fatalf("unfollowed group should come from kumo: %+v", got)
	}
	// Everything else is forwarded unchanged.
	tgs, err := fx.front.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{fx.tg}})
	if err != nil || len(tgs.TargetGroups) != 1 || aws.ToString(tgs.TargetGroups[0].TargetGroupArn) != fx.tg {
		t.Fatalf("forwarded DescribeTargetGroups: %+v %v", tgs, err)
	}
	if _, err := fx.front.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(fx.tg + "x")}); err == nil ||
		!strings.Contains(err.Error(), "TargetGroupNotFound") {
		t.Fatalf("unknown group through the front: %v", err)
	}
	if fx.f.Answered() < 2 {
		t.Fatalf("front answered %d calls itself", fx.f.Answered())
	}
}

// TestXMLMatchesKumosShape compares the raw answers of the front and of kumo for the same request.
func TestXMLMatchesKumosShape(t *testing.T) {
	fx := setup(t)
	form := url.Values{"Action": {"DescribeTargetHealth"}, "Version": {"2015-12-01"}, "TargetGroupArn": {fx.tg}}
	post := func(u string) string {
		resp, err := http.Post(u, "application/x-www-form-urlencoded; charset=utf-8", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", u, resp.StatusCode, b)
		}
		return string(b)
	}
	type doc struct {
		XMLName xml.Name
		Members []struct {
			ID    string `xml:"Target>Id"`
			Port  int    `xml:"Target>Port"`
			State string `xml:"TargetHealth>State"`
		} `xml:"DescribeTargetHealthResult>TargetHealthDescriptions>member"`
		RequestID string `xml:"ResponseMetadata>RequestId"`
	}
	var fromKumo, fromFront doc
	if err := xml.Unmarshal([]byte(post(emulator.Shared(t).URL)), &fromKumo); err != nil {
		t.Fatal(err)
	}
	raw := post(fx.f.URL())
	if err := xml.Unmarshal([]byte(raw), &fromFront); err != nil {
		t.Fatal(err)
	}
	if fromFront.XMLName != fromKumo.XMLName || fromFront.XMLName.Space != namespace || fromFront.RequestID == "" {
		t.Fatalf("root %v (kumo %v), request id %q", fromFront.XMLName, fromKumo.XMLName, fromFront.RequestID)
	}
	if len(fromFront.Members) != len(fromKumo.Members) || len(fromFront.Members) != 2 {
		t.Fatalf("members: front %+v kumo %+v", fromFront.Members, fromKumo.Members)
	}
	for i := range fromFront.Members {
		f, k := fromFront.Members[i], fromKumo.Members[i]
		if f.ID != k.ID || f.Port != k.Port || f.State == "" {
			t.Fatalf("member %d: front %+v kumo %+v\n%s", i, f, k, raw)
		}
	}
}
