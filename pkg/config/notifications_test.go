package config

import (
	"strings"
	"testing"
	"time"
)

const notifying = `
auth:
  tokens:
    - {name: oncall, value: oncall-token-value-1234}
    - {name: viewer, value: viewer-token-value-1234, read_only: true}
notifications:
  dashboard_url: https://switchyard.internal
  backoff: 2s
  max_attempts: 6
  links: {base_url: "https://switchyard.internal/v1/links", owner: oncall, ttl: 30m, secret_env: SWITCHYARD_LINK_SECRET}
  sinks:
    ops: {type: sns, topic_arn: "arn:aws:sns:us-east-1:123456789012:switchyard"}
    hooks: {type: webhook, url: "https://hooks.internal/switchyard", secret_env: HOOK_SECRET}
    chat: {type: slack, url_env: SLACK_WEBHOOK_URL}
  routes:
    - {services: [web], actions: [pause, step.hold, rollback, rolled_back, failed], sinks: [chat, ops]}
    - {actions: ["*"], sinks: [hooks]}
` + minimalService

func TestNotificationsLoad(t *testing.T) {
	c, err := Parse([]byte(notifying))
	if err != nil {
		t.Fatal(err)
	}
	n := c.Notifications
	if n == nil || len(n.Sinks) != 3 || n.Sinks["chat"].URLEnv != "SLACK_WEBHOOK_URL" || len(n.Routes) != 2 ||
		n.Links.TTL.D() != 30*time.Minute || n.Backoff.D() != 2*time.Second || n.MaxAttempts != 6 {
		t.Fatalf("notifications %+v", n)
	}
}

func TestNotificationsErrorsNameTheKey(t *testing.T) {
	for edit, want := range map[string]string{
		"owner: oncall":        `notifications.links.owner: "nobody" is not a configured token`,
		"services: [web]":      `notifications.routes[0].services: unknown service "nope"`,
		"type: slack":          `notifications.sinks.chat.type: "pager"`,
		"sinks: [hooks]":       `notifications.routes[1].sinks: unknown sink "gone"`,
		"secret_env: HOOK_SEC": `notifications.sinks.hooks: set exactly one of secret_env and secret_file`,
		"dashboard_url":        `field dashbord_url not found`,
	} {
		repl := map[string]string{"owner: oncall": "owner: nobody", "services: [web]": "services: [nope]",
			"type: slack": "type: pager", "sinks: [hooks]": "sinks: [gone]", "secret_env: HOOK_SEC": "secret_file: /x, secret_env: HOOK_SEC",
			"dashboard_url": "dashbord_url"}[edit]
		_, err := Parse([]byte(strings.Replace(notifying, edit, repl, 1)))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s -> %s: error %v, want it to contain %q", edit, repl, err, want)
		}
	}
	_, err := Parse([]byte(strings.Replace(notifying, "owner: oncall", "owner: viewer", 1)))
	if err == nil || !strings.Contains(err.Error(), `notifications.links.owner: token "viewer" is read-only`) {
		t.Errorf("read-only owner: %v", err)
	}
}
