package notify

import (
	"context"
	"html/template"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Actions is what a link can do: the controller's operator actions (*controller.Controller).
type Actions interface {
	Resume(ctx context.Context, req deploy.ActionRequest) (*deploy.Deployment, error)
	Promote(ctx context.Context, req deploy.ActionRequest) (*deploy.Deployment, error)
	Abort(ctx context.Context, req deploy.ActionRequest) (*deploy.Deployment, error)
}

// LinkHandler serves action links. GET shows a confirmation page and changes nothing (chat clients
// and mail scanners fetch links to preview them); POST, from that page's button, verifies the link,
// records its single use and acts through the controller as the link's owner. The token is the
// credential, so the handler needs no session; it must be mounted where links.base_url points.
func LinkHandler(l *Links, act Actions, log *zap.Logger) http.Handler {
	if log == nil {
		log = zap.NewNop()
	}
	return &linkHandler{links: l, act: act, log: log}
}

type linkHandler struct {
	links *Links
	act   Actions
	log   *zap.Logger
}

var linkPage = template.Must(template.New("link").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>switchyard: {{.Title}}</title>
<style>body{font:16px system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em}
button{font-size:1em;padding:.5em 1.2em}.abort{background:#b00020;color:#fff}</style></head>
<body><h1>{{.Title}}</h1><p>{{.Text}}</p>
{{if .Form}}<form method="post"><input type="hidden" name="t" value="{{.Token}}">
<button type="submit" class="{{.Action}}">{{.Action}} deployment {{.Deployment}}</button></form>
<p><small>Acts as {{.Actor}}; expires {{.Expires}}; works once.</small></p>{{end}}
</body></html>`))

type pageData struct {
	Title, Text, Token, Action, Deployment, Actor, Expires string
	Form                                                   bool
}

func (h *linkHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The token is in the URL: keep it out of Referer headers and caches; the page loads nothing.
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.confirm(w, r)
	case http.MethodPost:
		h.use(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		h.page(w, http.StatusMethodNotAllowed, pageData{Title: "Method not allowed", Text: "Use the link's page."})
	}
}

func (h *linkHandler) confirm(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("t")
	c, err := h.links.Verify(tok)
	if err != nil {
		h.refuse(w, err)
		return
	}
	h.page(w, http.StatusOK, pageData{Title: "Confirm " + c.Action,
		Text:  "Confirm to " + c.Action + " deployment " + c.Deployment + ". Nothing happens until you press the button.",
		Token: tok, Action: c.Action, Deployment: c.Deployment, Actor: c.Actor,
		Expires: c.ExpiresAt().Format(time.RFC3339), Form: true})
}

func (h *linkHandler) use(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	tok := r.PostFormValue("t")
	if tok == "" {
		tok = r.URL.Query().Get("t")
	}
	c, err := h.links.Verify(tok)
	if err == nil {
		err = h.links.Claim(r.Context(), c)
	}
	if err != nil {
		h.refuse(w, err)
		return
	}
	req := deploy.ActionRequest{ID: c.Deployment, Actor: c.Actor, Reason: "via notification link " + c.Nonce[:8]}
	var d *deploy.Deployment
	switch c.Action {
	case LinkResume:
		d, err = h.act.Resume(r.Context(), req)
	case LinkPromote:
		d, err = h.act.Promote(r.Context(), req)
	case LinkAbort:
		d, err = h.act.Abort(r.Context(), req)
	}
	h.log.Info("notification link used", zap.String("action", c.Action), zap.String("deployment_id", c.Deployment),
		zap.String("actor", c.Actor), zap.String("nonce", c.Nonce[:8]), zap.Error(err))
	if err != nil {
		h.refuse(w, err)
		return
	}
	h.page(w, http.StatusOK, pageData{Title: "Done: " + c.Action,
		Text: "Deployment " + d.ID + " of " + d.Service + " is now " + string(d.State) + "."})
}

func (h *linkHandler) refuse(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch deploy.KindOf(err) {
	case deploy.KindUnauthorized:
		status = http.StatusUnauthorized
	case deploy.KindForbidden:
		status = http.StatusGone // expired
	case deploy.KindConflict:
		status = http.StatusConflict
	case deploy.KindNotFound:
		status = http.StatusNotFound
	case deploy.KindPrecondition, deploy.KindInvalid:
		status = http.StatusPreconditionFailed
	case deploy.KindUnavailable, deploy.KindTimeout, deploy.KindThrottled:
		status = http.StatusServiceUnavailable
	}
	h.page(w, status, pageData{Title: "Refused", Text: deploy.MessageOf(err)})
}

func (h *linkHandler) page(w http.ResponseWriter, status int, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = linkPage.Execute(w, d)
}
