package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Slack posts Slack-compatible messages (text + Block Kit blocks) to an incoming-webhook URL;
// Mattermost and Rocket.Chat accept the same body.
type Slack struct {
	url    Secret // the incoming-webhook URL is a credential
	client *http.Client
}

// NewSlack returns a sink posting to url. client nil: a client with DefaultSinkTimeout.
func NewSlack(url Secret, client *http.Client) *Slack {
	if client == nil {
		client = &http.Client{Timeout: DefaultSinkTimeout}
	}
	return &Slack{url: url, client: client}
}

// Send posts m as a Slack message.
func (s *Slack) Send(ctx context.Context, m Message) error {
	const op = "slack.Send"
	body, err := json.Marshal(SlackMessage(m))
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, string(s.url.Bytes()), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: the configured URL does not parse", op) // never the URL itself
	}
	req.Header.Set("Content-Type", "application/json")
	return post(op, s.client, req)
}

// SlackMessage renders m: a fallback text line, a section with the deployment, its state and reason,
// context with the actor and time, and buttons for the dashboard and the action links.
func SlackMessage(m Message) map[string]any {
	e, d := m.Event, m.Deployment
	title := fmt.Sprintf("%s *%s*: %s", emoji(e.Action), esc(e.Service), esc(e.Action))
	fields := []map[string]any{
		mrkdwn("*Deployment*\n`" + esc(d.ID) + "`"),
		mrkdwn("*State*\n" + esc(string(e.State))),
	}
	if d.ImageTag != "" {
		fields = append(fields, mrkdwn("*Image tag*\n`"+esc(d.ImageTag)+"`"))
	}
	if d.Weights != "" {
		fields = append(fields, mrkdwn("*Weights*\n"+esc(d.Weights)))
	}
	blocks := []map[string]any{
		{"type": "section", "text": mrkdwn(title), "fields": fields},
	}
	if e.Reason != "" {
		blocks = append(blocks, map[string]any{"type": "section", "text": mrkdwn("*Reason*: " + esc(e.Reason))})
	}
	blocks = append(blocks, map[string]any{"type": "context", "elements": []map[string]any{
		mrkdwn(fmt.Sprintf("by %s at %s", esc(e.Actor), e.Time.UTC().Format("2006-01-02 15:04:05 MST"))),
	}})
	var buttons []map[string]any
	if m.URL != "" {
		buttons = append(buttons, button("Open in dashboard", m.URL, "", "open"))
	}
	for _, a := range linkOrder(m.Links) {
		style := "primary"
		if a == LinkAbort {
			style = "danger"
		}
		buttons = append(buttons, button(strings.ToUpper(a[:1])+a[1:], m.Links[a], style, a))
	}
	if len(buttons) > 0 {
		blocks = append(blocks, map[string]any{"type": "actions", "elements": buttons})
	}
	return map[string]any{"text": m.Text, "blocks": blocks}
}

func linkOrder(links map[string]string) []string {
	order := map[string]int{LinkResume: 0, LinkPromote: 1, LinkAbort: 2}
	out := make([]string, 0, len(links))
	for a := range links {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return order[out[i]] < order[out[j]] })
	return out
}

func mrkdwn(s string) map[string]any { return map[string]any{"type": "mrkdwn", "text": s} }

func button(text, url, style, id string) map[string]any {
	b := map[string]any{"type": "button", "text": map[string]any{"type": "plain_text", "text": text}, "url": url, "action_id": id}
	if style != "" {
		b["style"] = style
	}
	return b
}

// esc escapes Slack's control characters (&, <, >), so a reason cannot forge a link or a mention.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func emoji(action string) string {
	switch action {
	case "rollback", "rolled_back", "failed", "abort":
		return ":rotating_light:"
	case "succeeded":
		return ":white_check_mark:"
	case "pause", "step.hold":
		return ":double_vertical_bar:"
	}
	return ":arrows_counterclockwise:"
}
