package analysis

import (
	"testing"

	"github.com/switchyard/switchyard/pkg/deploy"
)

func TestTargetForUsesALBDimensionForms(t *testing.T) {
	svc := deploy.Service{
		TargetGroups: map[deploy.Slot]string{deploy.SlotGreen: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/73e2d6bc24d8a067"},
		ECSServices:  map[deploy.Slot]string{deploy.SlotGreen: "web-green"},
		Routes:       []deploy.Route{{ListenerARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2"}},
	}
	got := TargetFor(svc, deploy.SlotGreen)
	want := Target{Slot: deploy.SlotGreen, TargetGroupARN: svc.TargetGroups[deploy.SlotGreen],
		TargetGroup: "targetgroup/web-green/73e2d6bc24d8a067", TargetGroupName: "web-green",
		LoadBalancer: "app/web/50dc6c495c0c9188", Service: "web-green"}
	if got != want {
		t.Fatalf("TargetFor = %+v\nwant %+v", got, want)
	}
}
