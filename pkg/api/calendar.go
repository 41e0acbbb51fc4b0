package api

import (
	"context"
	"net/http"

	"github.com/switchyard/switchyard/pkg/calendar"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/schedule"
)

// Calendars is the part of the controller behind the schedule routes: dry runs, freezes, closures and
// recurring schedules (docs/schedules.md). A Controller without it answers those routes 404.
type Calendars interface {
	DryRun(ctx context.Context, req deploy.CreateRequest) (*deploy.DryRun, error)
	Freezes() []deploy.FreezeRecord
	AddFreeze(ctx context.Context, actor string, f calendar.Freeze) (*deploy.FreezeRecord, error)
	DeleteFreeze(ctx context.Context, actor, id, reason string) error
	Closures() []deploy.ClosureRecord
	AddClosure(ctx context.Context, actor string, c calendar.Closure) (*deploy.ClosureRecord, error)
	DeleteClosure(ctx context.Context, actor, id, reason string) error
	Schedules() []deploy.ScheduleRecord
	AddSchedule(ctx context.Context, actor string, s schedule.Recurring) (*deploy.ScheduleRecord, error)
	PauseSchedule(ctx context.Context, actor, name, reason string, paused bool) (*deploy.ScheduleRecord, error)
	DeleteSchedule(ctx context.Context, actor, name, reason string) error
	// ObjectEvents is a freeze's, closure's or schedule's audit trail, oldest first.
	ObjectEvents(ctx context.Context, kind deploy.ObjectKind, id string) ([]deploy.Event, error)
}

func (s *Server) calendars() (Calendars, error) {
	c, ok := s.ctl.(Calendars)
	if !ok {
		return nil, deploy.Errorf("api", deploy.KindNotFound, "this daemon has no schedules")
	}
	return c, nil
}

func (s *Server) calendarRoutes() {
	s.route("GET /v1/freezes", false, s.cal(func(c Calendars, w http.ResponseWriter, r *http.Request, _ string) error {
		writeJSON(w, http.StatusOK, c.Freezes())
		return nil
	}))
	s.route("POST /v1/freezes", true, s.cal(func(c Calendars, w http.ResponseWriter, r *http.Request, actor string) error {
		var b FreezeBody
		if err := decodeBody(w, r, &b, false); err != nil {
			return err
		}
		f, err := c.AddFreeze(r.Context(), actor, b)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, f)
		return nil
	}))
	s.route("DELETE /v1/freezes/{id}", true, s.del(func(c Calendars) func(context.Context, string, string, string) error { return c.DeleteFreeze }))
	s.route("GET /v1/closures", false, s.cal(func(c Calendars, w http.ResponseWriter, r *http.Request, _ string) error {
		writeJSON(w, http.StatusOK, c.Closures())
		return nil
	}))
	s.route("POST /v1/closures", true, s.cal(func(c Calendars, w http.ResponseWriter, r *http.Request, actor string) error {
		var b ClosureBody
		if err := decodeBody(w, r, &b, false); err != nil {
			return err
		}
		cl, err := c.AddClosure(r.Context(), actor, b)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, cl)
		return nil
	}))
	s.route("DELETE /v1/closures/{id}", true, s.del(func(c Calendars) func(context.Context, string, string, string) error { return c.DeleteClosure }))
	s.route("GET /v1/schedules", false, s.cal(func(c Calendars, w http.ResponseWriter, r *http.Request, _ string) error {
		writeJSON(w, http.StatusOK, c.Schedules())
		return nil
	}))
	s.route("POST /v1/schedules", true, s.cal(func(c Calendars, w http.ResponseWriter, r *http.Request, actor string) error {
		var b ScheduleBody
		if err := decodeBody(w, r, &b, false); err != nil {
			return err
		}
		rec, err := c.AddSchedule(r.Context(), actor, schedule.Recurring(b))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, rec)
		return nil
	}))
	for verb, paused := range map[string]bool{"pause": true, "resume": false} {
		s.route("POST /v1/schedules/{id}/"+verb, true, s.cal(func(c Calendars, w http.ResponseWriter, r *http.Request, actor string) error {
			id, b, err := objectAction(w, r)
			if err != nil {
				return err
			}
			rec, err := c.PauseSchedule(r.Context(), actor, id, b.Reason, paused)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, rec)
			return nil
		}))
	}
	s.route("DELETE /v1/schedules/{id}", true, s.del(func(c Calendars) func(context.Context, string, string, string) error { return c.DeleteSchedule }))
	for _, kind := range []deploy.ObjectKind{deploy.ObjectFreeze, deploy.ObjectClosure, deploy.ObjectSchedule} {
		s.route("GET /v1/"+string(kind)+"s/{id}/events", false, s.cal(func(c Calendars, w http.ResponseWriter, r *http.Request, _ string) error {
			id, err := pathID(r)
			if err != nil {
				return err
			}
			evs, err := c.ObjectEvents(r.Context(), kind, id)
			if err != nil {
				return err
			}
			if evs == nil {
				evs = []deploy.Event{}
			}
			writeJSON(w, http.StatusOK, evs)
			return nil
		}))
	}
}

func (s *Server) cal(h func(c Calendars, w http.ResponseWriter, r *http.Request, actor string) error) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, actor string) error {
		c, err := s.calendars()
		if err != nil {
			return err
		}
		if _, err := query(r); err != nil {
			return err
		}
		return h(c, w, r, actor)
	}
}

func (s *Server) del(pick func(Calendars) func(ctx context.Context, actor, id, reason string) error) apiHandler {
	return s.cal(func(c Calendars, w http.ResponseWriter, r *http.Request, actor string) error {
		id, b, err := objectAction(w, r)
		if err != nil {
			return err
		}
		if err := pick(c)(r.Context(), actor, id, b.Reason); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func objectAction(w http.ResponseWriter, r *http.Request) (string, ActionBody, error) {
	var b ActionBody
	id, err := pathID(r)
	if err != nil {
		return "", b, err
	}
	if err := decodeBody(w, r, &b, true); err != nil {
		return "", b, err
	}
	return id, b, checkReason(b.Reason)
}

func (s *Server) dryRun(w http.ResponseWriter, r *http.Request, req deploy.CreateRequest) error {
	c, err := s.calendars()
	if err != nil {
		return err
	}
	dr, err := c.DryRun(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, dr)
	return nil
}
