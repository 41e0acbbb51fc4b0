package e2e

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/notify"
	"github.com/switchyard/switchyard/test/emulator"
)

const (
	hookSecretE2E = "e2e-hook-secret-0123456789"
	linkSecretE2E = "e2e-link-secret-0123456789"
	linkOwner     = "e2e-links" // the link owner: a token of its own, so the audit actor says who acted
)

// hookReceiver is a webhook endpoint on loopback: it checks every delivery's signature and records the
// accepted ones; while down it answers 503 (and counts the attempts).
type hookReceiver struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	down     bool
	refused  int
	accepted []notify.Message
	badSig   []string
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := notify.VerifySignature([]byte(hookSecretE2E), req.Header.Get(notify.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
			r.badSig = append(r.badSig, err.Error())
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if r.down {
			r.refused++
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var m notify.Message
		if err := json.Unmarshal(body, &m); err != nil || m.ID == "" || req.Header.Get(notify.HeaderDelivery) != m.ID {
			r.badSig = append(r.badSig, fmt.Sprintf("body %s: %v", body, err))
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		r.accepted = append(r.accepted, m)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) setDown(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
}

// of returns the accepted messages about deployment id, and how many attempts were refused while down.
func (r *hookReceiver) of(id string) (out []notify.Message, refused int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.accepted {
		if m.Deployment.ID == id {
			out = append(out, m)
		}
	}
	return out, r.refused
}

// snsQueue is the emulator's SNS topic with an SQS queue subscribed to it.
type snsQueue struct {
	t     *testing.T
	sqs   *sqs.Client
	topic string
	queue string
	got   []snsNote
}

type snsNote struct {
	Type, TopicArn, Subject, Message string
	MessageAttributes                map[string]struct{ Type, Value string }
}

func newSNSQueue(t *testing.T) *snsQueue {
	t.Helper()
	ac := emulator.Config(emulator.Shared(t).URL)
	ctx := emulator.Context(t, 30*time.Second)
	sn, sq := sns.NewFromConfig(ac), sqs.NewFromConfig(ac)
	name := fmt.Sprintf("switchyard-notify-e2e-%d", time.Now().UnixNano())
	topic, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	return &snsQueue{t: t, sqs: sq, topic: aws.ToString(topic.TopicArn), queue: aws.ToString(q.QueueUrl)}
}

// drain moves everything in the queue into got.
func (s *snsQueue) drain(e *env) {
	for {
		resp, err := s.sqs.ReceiveMessage(e.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.queue), MaxNumberOfMessages: 10})
		if err != nil {
			s.t.Fatal(err)
		}
		if len(resp.Messages) == 0 {
			return
		}
		for _, m := range resp.Messages {
			var n snsNote
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &n); err != nil {
				s.t.Fatalf("not an SNS envelope: %s", aws.ToString(m.Body))
			}
			s.got = append(s.got, n)
			if _, err := s.sqs.DeleteMessage(e.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(s.queue), ReceiptHandle: m.ReceiptHandle}); err != nil {
				s.t.Fatal(err)
			}
		}
	}
}

// counts is how often each event id of deployment id arrived over SNS.
func (s *snsQueue) counts(id string) map[string]int {
	out := map[string]int{}
	for _, n := range s.got {
		if n.MessageAttributes["deployment_id"].Value == id {
			out[n.MessageAttributes["event_id"].Value]++
		}
	}
	return out
}

// notificationsYAML adds the link owner's token and the notifications block to a world's config.
func notificationsYAML(hookURL, topicARN string) func(string) string {
	return func(y string) string {
		listen := strings.TrimPrefix(strings.SplitN(y, "\n", 2)[0], "listen: ")
		y = strings.Replace(y, "\nservices:\n", fmt.Sprintf("\n    - {name: %s, value: %q}\nservices:\n", linkOwner, "e2e-links-token-0123456789"), 1)
		return y + fmt.Sprintf(`notifications:
  dashboard_url: http://%[1]s
  links: {base_url: "http://%[1]s/v1/links", owner: %[2]s, ttl: 10m, secret_env: E2E_LINK_SECRET}
  sinks:
    hooks: {type: webhook, url: %[3]q, secret_env: E2E_HOOK_SECRET, timeout: 2s}
    ops:   {type: sns, topic_arn: %[4]q}
  routes:
    - {actions: ["*"], sinks: [hooks, ops]}
  poll_interval: 100ms
  backoff: 100ms
  max_backoff: 400ms
  max_attempts: 10000
`, listen, linkOwner, hookURL, topicARN)
	}
}

// Notifications through a real `switchyard serve` on the emulator: a release paused by its plan is
// announced to a signed webhook and to the emulator's SNS topic (read back from a subscribed SQS queue)
// with signed links; the abort link, posted from its confirmation page's form as a chat client's
// browser would, rolls the release back as the link owner, and is refused the second time and when
// tampered with. Then, with the webhook down, a release runs to the end, the daemon is stopped
// (SIGTERM) and started again: every event is delivered after the restart, repeats only at-least-once.
func TestNotificationsThroughServe(t *testing.T) {
	t.Setenv("E2E_HOOK_SECRET", hookSecretE2E)
	t.Setenv("E2E_LINK_SECRET", linkSecretE2E)
	hook := newHookReceiver(t)
	q := newSNSQueue(t)
	e := newEnv(t, "notify", 100*time.Millisecond, "", notificationsYAML(hook.srv.URL, q.topic))

	// 1. A pause step: the pause message carries signed links.
	plan := &deploy.Strategy{Type: deploy.StrategySteps, Steps: []deploy.Step{{Percent: 10}, {Kind: deploy.StepPause}, {Percent: 100}}}
	dep := e.deploy("v2", plan)
	var paused notify.Message
	eventually(t, "the pause message at the webhook", 30*time.Second, func() bool {
		ms, _ := hook.of(dep.ID)
		for _, m := range ms {
			if m.Event.Action == "pause" {
				paused = m
				return true
			}
		}
		return false
	})
	if paused.Event.State != deploy.StatePaused || paused.URL != e.d.URL+"/#/deployments/"+dep.ID {
		t.Fatalf("pause message %+v", paused)
	}
	abort := paused.Links[notify.LinkAbort]
	if abort == "" || paused.Links[notify.LinkResume] == "" || paused.Links[notify.LinkPromote] == "" {
		t.Fatalf("pause message links %v", paused.Links)
	}
	if !strings.HasPrefix(abort, e.d.URL+"/v1/links?t=") {
		t.Fatalf("abort link %s not at links.base_url", abort)
	}
	eventually(t, "the pause message over SNS", 10*time.Second, func() bool {
		q.drain(e)
		for _, n := range q.got {
			if n.MessageAttributes["deployment_id"].Value == dep.ID && n.MessageAttributes["action"].Value == "pause" {
				var m notify.Message
				return json.Unmarshal([]byte(n.Message), &m) == nil && m.Links[notify.LinkAbort] != "" &&
					n.TopicArn == q.topic && n.Type == "Notification"
			}
		}
		return false
	}, func() string { return fmt.Sprintf("SNS notes: %+v", q.got) })

	// 2. The chat client opens the link (a GET: nothing happens) and posts the page's form.
	status, page := httpGet(t, abort)
	if status != http.StatusOK {
		t.Fatalf("GET abort link: %d %s", status, page)
	}
	if d, _ := e.c.Deployment(e.ctx, dep.ID); d.State != deploy.StatePaused {
		t.Fatalf("the GET changed the deployment: %s", d.State)
	}
	submit := formOf(t, abort, page)
	if code, body := submit(); code != http.StatusOK {
		t.Fatalf("POST abort form: %d %s", code, body)
	}
	e.waitState(dep.ID, deploy.StateRolledBack, 30*time.Second)
	e.assertWeights(deploy.Weights{Blue: 999})
	var audited bool
	evs, err := e.c.Events(e.ctx, dep.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Action == "rollback" {
			audited = ev.Actor == linkOwner && ev.Detail["cause"] == "abort" && strings.Contains(ev.Reason, "via notification link")
		}
	}
	if !audited {
		t.Fatalf("no abort by %s via the link in the audit trail: %v", linkOwner, e.actions(dep.ID))
	}

	// 3. The same link again, and tampered links, are refused; the deployment stays rolled back.
	if code, body := submit(); code != http.StatusConflict {
		t.Errorf("second use of the abort link: %d, want 409: %s", code, body)
	}
	for name, bad := range tampered(t, paused.Links[notify.LinkResume]) {
		if code, _ := httpGet(t, bad); code != http.StatusUnauthorized {
			t.Errorf("GET %s link: %d, want 401", name, code)
		}
		if code, _ := postLink(t, bad); code != http.StatusUnauthorized {
			t.Errorf("POST %s link: %d, want 401", name, code)
		}
	}
	if d, _ := e.c.Deployment(e.ctx, dep.ID); d.State != deploy.StateRolledBack {
		t.Fatalf("after refused links: %s", d.State)
	}
	eventually(t, "the rolled_back message, without links", 30*time.Second, func() bool {
		ms, _ := hook.of(dep.ID)
		for _, m := range ms {
			if m.Event.Action == "rolled_back" {
				return len(m.Links) == 0
			}
		}
		return false
	})

	// 4. The webhook goes down; a release runs to the end while its events pile up; SIGTERM, start again.
	hook.setDown(true)
	dep2 := e.deploy("v3", steps(10, time.Duration(0), 100, time.Duration(0)))
	e.waitState(dep2.ID, deploy.StateSucceeded, 60*time.Second)
	eventually(t, "attempts refused while the webhook is down", 10*time.Second, func() bool {
		_, refused := hook.of(dep2.ID)
		return refused > 0
	})
	if ms, _ := hook.of(dep2.ID); len(ms) != 0 {
		t.Fatalf("%d messages accepted while down", len(ms))
	}
	evs2, err := e.c.Events(e.ctx, dep2.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.d.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.d.Exited():
	case <-time.After(40 * time.Second):
		t.Fatal("the daemon did not stop on SIGTERM")
	}
	hook.setDown(false)
	e.d = e.start()
	want := map[string]bool{}
	for _, ev := range evs2 {
		want[ev.ID] = true
	}
	counts := func(ms []notify.Message) map[string]int {
		c := map[string]int{}
		for _, m := range ms {
			c[m.ID]++
		}
		return c
	}
	eventually(t, "every event of the second release at the webhook after the restart", 30*time.Second, func() bool {
		ms, _ := hook.of(dep2.ID)
		c := counts(ms)
		for id := range want {
			if c[id] == 0 {
				return false
			}
		}
		return true
	})
	ms, refused := hook.of(dep2.ID)
	got := counts(ms)
	assertAtLeastOnce(t, "webhook", want, got)
	t.Logf("webhook: %d events, %d deliveries after the restart, %d attempts refused while down", len(want), len(ms), refused)

	// SNS was up throughout: each event once, at most one repeat over the restart.
	eventually(t, "every event of the second release over SNS", 10*time.Second, func() bool {
		q.drain(e)
		c := q.counts(dep2.ID)
		for id := range want {
			if c[id] == 0 {
				return false
			}
		}
		return true
	})
	assertAtLeastOnce(t, "sns", want, q.counts(dep2.ID))
	hook.mu.Lock()
	defer hook.mu.Unlock()
	if len(hook.badSig) != 0 {
		t.Errorf("deliveries with bad signatures or bodies: %v", hook.badSig)
	}
}

// assertAtLeastOnce: every wanted event arrived, nothing else, and at most one arrived twice (the one a
// restart may find in flight).
func assertAtLeastOnce(t *testing.T, sink string, want map[string]bool, got map[string]int) {
	t.Helper()
	repeats := 0
	for id, n := range got {
		if !want[id] {
			t.Errorf("%s: unexpected message %s", sink, id)
		}
		if n > 1 {
			repeats += n - 1
		}
	}
	if repeats > 1 {
		t.Errorf("%s: %d repeated deliveries, want at most 1 (at-least-once over one restart): %v", sink, repeats, got)
	}
}

var (
	formRE  = regexp.MustCompile(`<form method="post"(?: action="([^"]*)")?>`)
	inputRE = regexp.MustCompile(`<input type="hidden" name="t" value="([^"]+)">`)
)

// formOf reads the confirmation page's form and returns what pressing its button sends.
func formOf(t *testing.T, pageURL, page string) func() (int, string) {
	t.Helper()
	f, in := formRE.FindStringSubmatch(page), inputRE.FindStringSubmatch(page)
	if f == nil || in == nil {
		t.Fatalf("no form with a token on the confirmation page:\n%s", page)
	}
	base, _ := url.Parse(pageURL)
	action, err := base.Parse(html.UnescapeString(f[1])) // no action: the page's own URL
	if err != nil {
		t.Fatal(err)
	}
	tok := html.UnescapeString(in[1])
	return func() (int, string) {
		resp, err := http.PostForm(action.String(), url.Values{"t": {tok}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
}

// tampered returns variants of a valid link: its claims edited, its signature flipped, cut short.
func tampered(t *testing.T, link string) map[string]string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	tok := u.Query().Get("t")
	claims, sig, _ := strings.Cut(tok, ".")
	flip := func(s string) string {
		b := []byte(s)
		if b[len(b)/2] == 'A' {
			b[len(b)/2] = 'B'
		} else {
			b[len(b)/2] = 'A'
		}
		return string(b)
	}
	with := func(tok string) string {
		v := u.Query()
		v.Set("t", tok)
		c := *u
		c.RawQuery = v.Encode()
		return c.String()
	}
	return map[string]string{"claims-edited": with(flip(claims) + "." + sig), "signature-flipped": with(claims + "." + flip(sig)),
		"truncated": with(claims + "." + sig[:len(sig)-4])}
}

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func postLink(t *testing.T, link string) (int, string) {
	t.Helper()
	u, _ := url.Parse(link)
	resp, err := http.PostForm(link, url.Values{"t": {u.Query().Get("t")}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls cond until it holds, failing the test after timeout (with what the optional
// describe functions say).
func eventually(t *testing.T, what string, timeout time.Duration, cond func() bool, describe ...func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, d := range describe {
				b.WriteString("\n" + d())
			}
			t.Fatalf("timed out waiting for %s%s", what, b.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
}
