package analysis

import (
	"strings"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// TargetFor names slot of svc the way metrics do: CloudWatch's ALB dimensions are the ARN suffixes
// "targetgroup/name/id" and "app/name/id" (the load balancer's, from the listener's ARN).
func TargetFor(svc deploy.Service, slot deploy.Slot) Target {
	t := Target{Slot: slot, TargetGroupARN: svc.TargetGroups[slot], Service: svc.ECSServices[slot]}
	if i := strings.Index(t.TargetGroupARN, ":targetgroup/"); i >= 0 {
		t.TargetGroup = t.TargetGroupARN[i+1:]
		if parts := strings.Split(t.TargetGroup, "/"); len(parts) >= 2 {
			t.TargetGroupName = parts[1]
		}
	}
	for _, r := range svc.Routes {
		if i := strings.Index(r.ListenerARN, ":listener/"); i >= 0 {
			// listener/app/name/lb-id/listener-id -> app/name/lb-id
			parts := strings.Split(r.ListenerARN[i+len(":listener/"):], "/")
			if len(parts) >= 3 {
				t.LoadBalancer = strings.Join(parts[:3], "/")
			}
			break
		}
	}
	return t
}
