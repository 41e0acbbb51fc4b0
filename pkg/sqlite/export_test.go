package sqlite

import (
	"context"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/deploy/storetest"
)

var _ storetest.RawWriter = (*Store)(nil)

// WriteRaw files r as a row with no check at all (storetest.RawWriter), taking the service's lock when
// its state is active, as a row written by a bug or another binary would.
func (s *Store) WriteRaw(ctx context.Context, r storetest.RawRecord) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO deployments (id, service, state, active, created_at, updated_at, version, data)
VALUES (?, ?, ?, ?, ?, ?, 1, ?)`,
		r.ID, r.Service, string(r.State), r.State.Active(), deploy.FormatSortableTime(r.CreatedAt),
		deploy.FormatSortableTime(r.CreatedAt), string(r.Data))
	return err
}
