package dynamo

import (
	"testing"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/deploy/storetest"
)

func TestObjectConformance(t *testing.T) {
	storetest.RunObjects(t, func(t *testing.T) deploy.ObjectStore { s, _ := newStore(t); return s })
}
