package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// maxIDLen bounds deployment ids taken from paths; real ids are far shorter.
const maxIDLen = 128

// MaxListLimit bounds ?limit= on history queries.
const MaxListLimit = 1000

func pathService(r *http.Request) (string, error) {
	s := r.PathValue("service")
	if !deploy.ServiceNameRE.MatchString(s) {
		return "", deploy.Errorf("api", deploy.KindInvalid, "invalid service name %q: must match %s", s, deploy.ServiceNameRE)
	}
	return s, nil
}

func pathID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if id == "" || len(id) > maxIDLen || strings.ContainsAny(id, "/ \t\r\n") {
		return "", deploy.Errorf("api", deploy.KindInvalid, "invalid deployment id %q", id)
	}
	return id, nil
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, actor string) error {
	svc, err := pathService(r)
	if err != nil {
		return err
	}
	if _, err := query(r); err != nil {
		return err
	}
	var b CreateDeploymentBody
	if err := decodeBody(w, r, &b, false); err != nil {
		return err
	}
	if b.ImageTag == "" {
		return deploy.Errorf("api.create", deploy.KindInvalid, "image_tag is required")
	}
	if err := deploy.ValidateTag(b.ImageTag); err != nil {
		return err
	}
	if b.Strategy != nil {
		// Plan's messages name the field inside the strategy; the controller plans again.
		if _, err := b.Strategy.Plan(); err != nil {
			return deploy.Errorf("api.create", deploy.KindInvalid, "strategy.%s", deploy.MessageOf(err))
		}
	}
	if err := checkReason(b.Reason); err != nil {
		return err
	}
	if b.Force && strings.TrimSpace(b.Reason) == "" {
		return deploy.Errorf("api.create", deploy.KindInvalid, "force: needs a non-empty reason (it is audited)")
	}
	req := deploy.CreateRequest{
		Service: svc, ImageTag: b.ImageTag, Strategy: b.Strategy, Actor: actor, Reason: b.Reason, Force: b.Force, StartAt: b.StartAt,
	}
	if b.DryRun {
		return s.dryRun(w, r, req)
	}
	d, err := s.ctl.Create(r.Context(), req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/deployments/"+url.PathEscape(d.ID))
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request, _ string) error {
	svc, err := pathService(r)
	if err != nil {
		return err
	}
	q, err := query(r, "active", "limit")
	if err != nil {
		return err
	}
	f := deploy.ListFilter{Service: svc}
	if f.ActiveOnly, err = queryBool(q, "active"); err != nil {
		return err
	}
	limit, err := queryInt(q, "limit", 1, MaxListLimit, 0)
	if err != nil {
		return err
	}
	f.Limit = int(limit)
	ds, err := s.ctl.List(r.Context(), f)
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []*deploy.Deployment{} // [] rather than null keeps clients simple
	}
	writeJSON(w, http.StatusOK, ds)
	return nil
}

func (s *Server) handleServices(w http.ResponseWriter, r *http.Request, _ string) error {
	if _, err := query(r); err != nil {
		return err
	}
	ss, err := s.ctl.Services(r.Context())
	if err != nil {
		return err
	}
	if ss == nil {
		ss = []deploy.ServiceStatus{}
	}
	writeJSON(w, http.StatusOK, ss)
	return nil
}

// deployment reads the deployment a GET path names (no query parameters are accepted).
func (s *Server) deployment(r *http.Request) (*deploy.Deployment, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	if _, err := query(r); err != nil {
		return nil, err
	}
	return s.ctl.Get(r.Context(), id)
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request, _ string) error {
	d, err := s.deployment(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) handleAnalysis(w http.ResponseWriter, r *http.Request, _ string) error {
	d, err := s.deployment(r)
	if err != nil {
		return err
	}
	if d.Analysis == nil {
		return deploy.Errorf("api.analysis", deploy.KindNotFound, "deployment %s has no analysis (its service has no analysis block, or it never reached the shift)", d.ID)
	}
	writeJSON(w, http.StatusOK, d.Analysis)
	return nil
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request, _ string) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	q, err := query(r, "after")
	if err != nil {
		return err
	}
	after, err := queryInt(q, "after", 0, math.MaxInt64, 0)
	if err != nil {
		return err
	}
	evs, err := s.ctl.Events(r.Context(), id, after)
	if err != nil {
		return err
	}
	if evs == nil {
		evs = []deploy.Event{}
	}
	writeJSON(w, http.StatusOK, evs)
	return nil
}

// action adapts one of the controller's operator actions (abort, pause, resume, promote).
func (s *Server) action(do func(context.Context, deploy.ActionRequest) (*deploy.Deployment, error)) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, actor string) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		if _, err := query(r); err != nil {
			return err
		}
		var b ActionBody
		if err := decodeBody(w, r, &b, true); err != nil {
			return err
		}
		if err := checkReason(b.Reason); err != nil {
			return err
		}
		d, err := do(r.Context(), deploy.ActionRequest{ID: id, Actor: actor, Reason: b.Reason})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, d)
		return nil
	}
}

func (s *Server) handleReload(w http.ResponseWriter, r *http.Request, actor string) error {
	if _, err := query(r); err != nil {
		return err
	}
	var b ActionBody
	if err := decodeBody(w, r, &b, true); err != nil {
		return err
	}
	if s.reload == nil {
		return deploy.Errorf("api.reload", deploy.KindUnavailable, "this server cannot reload its configuration")
	}
	if err := s.reload(r.Context(), actor); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, StatusResponse{Status: "reloaded"})
	return nil
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.ready != nil {
		if err := s.ready(r.Context()); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, ErrorResponse{Error: ErrorDetail{
				Code: string(deploy.KindUnavailable), Message: fmt.Sprintf("not ready: %s", deploy.MessageOf(err))}})
			return
		}
	}
	writeJSON(w, http.StatusOK, StatusResponse{Status: "ready"})
}
