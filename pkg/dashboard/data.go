package dashboard

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchyard/switchyard/pkg/api"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// Overview is GET /ui/api/overview: everything the page shows at first, in one answer.
type Overview struct {
	Now      time.Time              `json:"now"`
	Services []deploy.ServiceStatus `json:"services"`
	// Active are read one by one through the controller, so they carry the live guard states, route
	// weights and analysis, as `switchyard status` shows them.
	Active  []*deploy.Deployment `json:"active"`
	History []*deploy.Deployment `json:"history"`
}

// Detail is GET /ui/api/deployments/{id}.
type Detail struct {
	Now        time.Time          `json:"now"`
	Deployment *deploy.Deployment `json:"deployment"`
	Events     []deploy.Event     `json:"events"`
	// Weights is the traffic split over time, from the create and every verified weight change.
	Weights []WeightPoint `json:"weights"`
}

// WeightPoint is the split at one time.
type WeightPoint struct {
	At    time.Time `json:"at"`
	Blue  int       `json:"blue"`
	Green int       `json:"green"`
}

func (d *Dashboard) overview(w http.ResponseWriter, r *http.Request, _ who) error {
	ctx := r.Context()
	ov := Overview{Now: d.o.Clock.Now().UTC(), Active: []*deploy.Deployment{}}
	var err error
	if ov.Services, err = d.o.Controller.Services(ctx); err != nil {
		return err
	}
	active, err := d.o.Controller.List(ctx, deploy.ListFilter{ActiveOnly: true, Limit: deploy.MaxListLimit})
	if err != nil {
		return err
	}
	for _, a := range active {
		full, err := d.o.Controller.Get(ctx, a.ID)
		if err != nil {
			full = a // the stored record is still worth showing
		}
		ov.Active = append(ov.Active, full)
	}
	if ov.History, err = d.o.Controller.List(ctx, deploy.ListFilter{Limit: HistoryLimit}); err != nil {
		return err
	}
	if ov.Services == nil {
		ov.Services = []deploy.ServiceStatus{}
	}
	if ov.History == nil {
		ov.History = []*deploy.Deployment{}
	}
	writeJSON(w, http.StatusOK, ov)
	return nil
}

func pathID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if id == "" || len(id) > 128 || strings.ContainsAny(id, "/ \t\r\n") {
		return "", deploy.Errorf("dashboard", deploy.KindInvalid, "invalid deployment id %q", id)
	}
	return id, nil
}

func (d *Dashboard) deployment(w http.ResponseWriter, r *http.Request, _ who) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	dep, err := d.o.Controller.Get(r.Context(), id)
	if err != nil {
		return err
	}
	evs, err := d.o.Controller.Events(r.Context(), id, 0)
	if err != nil {
		return err
	}
	if evs == nil {
		evs = []deploy.Event{}
	}
	writeJSON(w, http.StatusOK, Detail{Now: d.o.Clock.Now().UTC(), Deployment: dep, Events: evs, Weights: WeightHistory(dep, evs)})
	return nil
}

// weightsRE reads the weights of a weights.verified event (shifter.Describe's format).
var weightsRE = regexp.MustCompile(`^blue (\d+) \([^)]*\) / green (\d+) `)

// WeightHistory is the split over time: the live slot at 100% when the deployment was created, then
// every verified change recorded in its audit trail, then the record's weights if they differ.
func WeightHistory(d *deploy.Deployment, evs []deploy.Event) []WeightPoint {
	out := []WeightPoint{}
	if d.From.Valid() {
		w := deploy.AllOn(d.From)
		out = append(out, WeightPoint{At: d.CreatedAt, Blue: w.Blue, Green: w.Green})
	}
	for _, e := range evs {
		if e.Action != "weights.verified" {
			continue
		}
		m := weightsRE.FindStringSubmatch(e.Detail["weights"])
		if m == nil {
			continue
		}
		b, _ := strconv.Atoi(m[1])
		g, _ := strconv.Atoi(m[2])
		out = append(out, WeightPoint{At: e.Time, Blue: b, Green: g})
	}
	// The record's own verified weights end the line when the trail has not caught up (or was
	// trimmed): the chart never contradicts the weights shown above it.
	if w := d.Weights; w.Blue+w.Green > 0 && len(out) > 0 {
		last := out[len(out)-1]
		if last.Blue != w.Blue || last.Green != w.Green {
			at := d.UpdatedAt
			if at.Before(last.At) {
				at = last.At
			}
			out = append(out, WeightPoint{At: at, Blue: w.Blue, Green: w.Green})
		}
	}
	return out
}

// ActionBody is the body of an action from the page.
type ActionBody struct {
	Reason string `json:"reason"`
}

func (d *Dashboard) action(w http.ResponseWriter, r *http.Request, u who) error {
	const op = "dashboard.action"
	if u.readOnly {
		return deploy.Errorf(op, deploy.KindForbidden, "token %q is read-only", u.actor)
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctl := d.o.Controller
	do, ok := map[string]func(ctx context.Context, req deploy.ActionRequest) (*deploy.Deployment, error){
		"pause": ctl.Pause, "resume": ctl.Resume, "promote": ctl.Promote, "abort": ctl.Abort,
	}[r.PathValue("action")]
	if !ok {
		return deploy.Errorf(op, deploy.KindNotFound, "no such action %q (pause, resume, promote, abort)", r.PathValue("action"))
	}
	b, err := decodeAction(w, r)
	if err != nil {
		return err
	}
	if r.PathValue("action") == "abort" && strings.TrimSpace(b.Reason) == "" {
		return deploy.Errorf(op, deploy.KindInvalid, "reason: an abort needs one (it is audited)")
	}
	dep, err := do(r.Context(), deploy.ActionRequest{ID: id, Actor: u.actor, Reason: b.Reason})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, dep)
	return nil
}

// decodeAction reads {"reason"}: JSON only, no unknown fields, a bounded UTF-8 reason.
func decodeAction(w http.ResponseWriter, r *http.Request) (ActionBody, error) {
	const op = "dashboard.decode"
	var b ActionBody
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return b, deploy.Errorf(op, api.KindUnsupportedMedia, "Content-Type %q: the body must be application/json", ct)
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 8192))
	if err != nil {
		return b, deploy.Errorf(op, api.KindTooLarge, "request body too large")
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return b, deploy.Errorf(op, deploy.KindInvalid, "body: %v", err)
	}
	if len(b.Reason) > api.MaxReasonLen || !utf8.ValidString(b.Reason) {
		return b, deploy.Errorf(op, deploy.KindInvalid, "reason: at most %d bytes of UTF-8", api.MaxReasonLen)
	}
	return b, nil
}

// writeError answers in the API's error shape with the API's status for the kind (api.StatusOf).
func writeError(w http.ResponseWriter, err error) {
	kind := deploy.KindOf(err)
	msg := deploy.MessageOf(err)
	if kind == deploy.KindInternal {
		msg = "internal error (details in the daemon log)"
	}
	writeJSON(w, api.StatusOf(kind), api.ErrorResponse{Error: api.ErrorDetail{Code: string(kind), Message: msg, ActiveDeployment: deploy.ActiveIDOf(err)}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
