package notify

import (
	"context"
	"strings"
)

// Publisher is the SNS port: publish one message to a topic (awsclient.SNS implements it).
// Attributes become SNS message attributes, so subscriptions can filter on service, action and state.
type Publisher interface {
	Publish(ctx context.Context, topicARN, subject, message string, attributes map[string]string) (messageID string, err error)
}

// SNS publishes each message, as the webhook's JSON, to a topic: the stack's topic (Terraform output
// sns_topic_arn), to which e-mail, SQS, Lambda or chat integrations subscribe.
type SNS struct {
	pub   Publisher
	topic string
}

// NewSNS returns a sink publishing to topicARN.
func NewSNS(pub Publisher, topicARN string) *SNS { return &SNS{pub: pub, topic: topicARN} }

// Send publishes m. Standard topics do not deduplicate: the event_id attribute is the subscriber's
// idempotency key.
func (s *SNS) Send(ctx context.Context, m Message) error {
	body, err := jsonEncode(m)
	if err != nil {
		return err
	}
	attrs := map[string]string{"event_id": m.ID, "service": m.Event.Service, "action": m.Event.Action,
		"deployment_id": m.Event.DeploymentID}
	if m.Event.State != "" {
		attrs["state"] = string(m.Event.State)
	}
	_, err = s.pub.Publish(ctx, s.topic, subject(m), string(body), attrs)
	return err
}

// subject: SNS allows 100 printable ASCII characters, no line breaks, starting with a letter, number or
// punctuation.
func subject(m Message) string {
	s := "switchyard: " + m.Event.Service + " " + m.Event.Action
	if m.Event.State != "" {
		s += " (" + string(m.Event.State) + ")"
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return ' '
		}
		return r
	}, s)
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}
