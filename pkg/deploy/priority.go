package deploy

import "context"

type urgentKey struct{}

// Urgent marks ctx as serving a rollback or its verification: the daemon's AWS rate limiter lets such
// calls go ahead of routine observation and forward steps.
func Urgent(ctx context.Context) context.Context { return context.WithValue(ctx, urgentKey{}, true) }

// IsUrgent reports whether ctx was marked by Urgent.
func IsUrgent(ctx context.Context) bool { v, _ := ctx.Value(urgentKey{}).(bool); return v }
