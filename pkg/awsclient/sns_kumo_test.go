package awsclient

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/deploy/storetest"
	"github.com/switchyard/switchyard/pkg/notify"
	"github.com/switchyard/switchyard/pkg/sqlite"
	"github.com/switchyard/switchyard/test/emulator"
)

// snsWorld is a topic in the emulator with an SQS queue subscribed to it: what the topic publishes is
// read back from the queue, in the envelope AWS wraps SNS notifications in (RawMessageDelivery off).
type snsWorld struct {
	t     *testing.T
	sns   *sns.Client
	sqs   *sqs.Client
	topic string
	queue string
}

func newSNSWorld(t *testing.T) *snsWorld {
	t.Helper()
	k := emulator.Shared(t)
	ac := emulator.Config(k.URL)
	ctx := emulator.Context(t, 30*time.Second)
	w := &snsWorld{t: t, sns: NewSNSClient(ac, "", nil, nil), sqs: sqs.NewFromConfig(ac)}
	name := fmt.Sprintf("switchyard-notify-%d", uniq.Add(1))
	topic, err := w.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	q, err := w.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := w.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	w.topic, w.queue = aws.ToString(topic.TopicArn), aws.ToString(q.QueueUrl)
	return w
}

// envelope is the SNS notification as SQS receives it.
type envelope struct {
	Type              string
	TopicArn          string
	Subject           string
	Message           string
	MessageAttributes map[string]struct{ Type, Value string }
}

// drain reads and deletes every message in the queue.
func (w *snsWorld) drain() []envelope {
	ctx := emulator.Context(w.t, 10*time.Second)
	var out []envelope
	for {
		resp, err := w.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(w.queue), MaxNumberOfMessages: 10})
		if err != nil {
			w.t.Fatal(err)
		}
		if len(resp.Messages) == 0 {
			return out
		}
		for _, m := range resp.Messages {
			var e envelope
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &e); err != nil {
				w.t.Fatalf("not an SNS envelope: %s", aws.ToString(m.Body))
			}
			out = append(out, e)
			if _, err := w.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(w.queue), ReceiptHandle: m.ReceiptHandle}); err != nil {
				w.t.Fatal(err)
			}
		}
	}
}

// Events published through the emulator's SNS reach a subscribed queue with the service, action and
// event id as message attributes; a dispatcher restarted on the same store publishes what was appended
// while it was down, and nothing twice.
func TestKumoSNSDeliveryAcrossRestart(t *testing.T) {
	w := newSNSWorld(t)
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	if err := store.CreateDeployment(ctx, storetest.Pending("d1", "web", 0)); err != nil {
		t.Fatal(err)
	}
	dispatcher := func() (stop func()) {
		d, err := notify.New(notify.Options{Events: store, Objects: store, Clock: clock.Real{},
			Sinks:        map[string]notify.Sink{"ops": notify.NewSNS(NewSNS(w.sns), w.topic)},
			Routes:       []notify.Route{{Services: []string{"web"}, Actions: []string{"*"}, Sinks: []string{"ops"}}},
			PollInterval: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		c, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { d.Run(c); close(done) }()
		return func() { cancel(); <-done }
	}
	appendAt := func(action string) string {
		e := &deploy.Event{ID: "d1-" + action, DeploymentID: "d1", Service: "web", Time: time.Now().Add(time.Second),
			Actor: "controller", Action: action, State: deploy.StateRollingBack, Reason: "alarm-5xx in ALARM"}
		if err := store.AppendEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		return e.ID
	}
	var got []envelope
	collect := func(n int) {
		deadline := time.Now().Add(10 * time.Second)
		for len(got) < n && time.Now().Before(deadline) {
			got = append(got, w.drain()...)
			time.Sleep(10 * time.Millisecond)
		}
	}
	stop := dispatcher()
	first := appendAt("rollback")
	collect(1)
	stop()
	second := appendAt("rolled_back") // while no dispatcher runs
	stop = dispatcher()
	collect(2)
	stop()
	got = append(got, w.drain()...)

	ids := map[string]int{}
	for _, e := range got {
		var m notify.Message
		if err := json.Unmarshal([]byte(e.Message), &m); err != nil {
			t.Fatalf("message %q: %v", e.Message, err)
		}
		ids[m.ID]++
		if e.Type != "Notification" || e.TopicArn != w.topic || e.Subject != "switchyard: web "+m.Event.Action+" (rolling_back)" {
			t.Errorf("envelope %+v", e)
		}
		if a := e.MessageAttributes; a["event_id"].Value != m.ID || a["service"].Value != "web" || a["action"].Value != m.Event.Action {
			t.Errorf("attributes %+v", a)
		}
		if m.Deployment.ID != "d1" || m.Event.Reason != "alarm-5xx in ALARM" {
			t.Errorf("message %+v", m)
		}
	}
	if len(ids) != 2 || ids[first] != 1 || ids[second] != 1 {
		t.Errorf("published %v, want %s and %s once each", ids, first, second)
	}
}
