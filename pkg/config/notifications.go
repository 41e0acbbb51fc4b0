package config

// checkNotifications validates the notifications block (docs/notifications.md): the block's own rules
// (notify.Config.Problems), plus what needs the rest of the configuration: the services routes name,
// and the link owner, a configured token that may mutate (links act as it).
func (c *Config) checkNotifications(add func(string, ...any)) {
	n := c.Notifications
	if n == nil {
		return
	}
	for _, p := range n.Problems() {
		add("notifications.%s", p)
	}
	for i, r := range n.Routes {
		for _, s := range r.Services {
			if _, ok := c.Services[s]; !ok && s != "*" {
				add("notifications.routes[%d].services: unknown service %q", i, s)
			}
		}
	}
	if l := n.Links; l != nil && l.Owner != "" {
		found := false
		for _, t := range c.Auth.Tokens {
			if t.Name == l.Owner {
				found = true
				if t.ReadOnly {
					add("notifications.links.owner: token %q is read-only; links act as their owner", l.Owner)
				}
			}
		}
		if !found {
			add("notifications.links.owner: %q is not a configured token (auth.tokens)", l.Owner)
		}
	}
}
