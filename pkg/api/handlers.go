package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
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

// decodeBody reads one JSON object into v: at most MaxBodyBytes, no unknown fields, nothing after it.
// An empty body is accepted when optional is true (actions whose only field is an optional reason).
func decodeBody(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	const op = "api.decode"
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			if optional {
				return nil
			}
			return deploy.Errorf(op, deploy.KindInvalid, "request body is empty: a JSON object is required")
		case errors.As(err, &tooBig):
			return deploy.Errorf(op, deploy.KindInvalid, "request body larger than %d bytes", MaxBodyBytes)
		case errors.As(err, &syn):
			return deploy.Errorf(op, deploy.KindInvalid, "malformed JSON at byte %d: %v", syn.Offset, syn)
		case errors.As(err, &typ):
			return deploy.Errorf(op, deploy.KindInvalid, "field %q: expected %s, got JSON %s", typ.Field, typ.Type, typ.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return deploy.Errorf(op, deploy.KindInvalid, "unknown field %s in request body", strings.TrimPrefix(err.Error(), "json: unknown field "))
		case errors.Is(err, io.ErrUnexpectedEOF):
			return deploy.Errorf(op, deploy.KindInvalid, "malformed JSON: body ends early")
		default:
			return deploy.Errorf(op, deploy.KindInvalid, "invalid request body: %v", err)
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return deploy.Errorf(op, deploy.KindInvalid, "unexpected data after the JSON object in the request body")
	}
	return nil
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, actor string) error {
	svc, err := pathService(r)
	if err != nil {
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
	d, err := s.ctl.Create(r.Context(), deploy.CreateRequest{
		Service: svc, ImageTag: b.ImageTag, Strategy: b.Strategy, Actor: actor, Reason: b.Reason,
	})
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
	f := deploy.ListFilter{Service: svc}
	q := r.URL.Query()
	if v := q.Get("active"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return deploy.Errorf("api.list", deploy.KindInvalid, "active=%q: must be true or false", v)
		}
		f.ActiveOnly = b
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxListLimit {
			return deploy.Errorf("api.list", deploy.KindInvalid, "limit=%q: must be an integer from 1 to %d", v, MaxListLimit)
		}
		f.Limit = n
	}
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

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request, _ string) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, err := s.ctl.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request, _ string) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var after int64
	if v := r.URL.Query().Get("after"); v != "" {
		after, err = strconv.ParseInt(v, 10, 64)
		if err != nil || after < 0 {
			return deploy.Errorf("api.events", deploy.KindInvalid, "after=%q: must be a non-negative integer", v)
		}
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
		var b ActionBody
		if err := decodeBody(w, r, &b, true); err != nil {
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
