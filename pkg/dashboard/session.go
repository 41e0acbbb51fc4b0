package dashboard

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// CookieName is the session cookie. CSRFHeader carries the session's CSRF token on mutations.
const (
	CookieName = "switchyard_session"
	CSRFHeader = "X-CSRF-Token"
)

// session is server-side state; the browser holds only its random id. The token secret stays here so
// that every request is checked against the daemon's current tokens (a reload that removes or
// demotes a token applies to its open sessions at once).
type session struct {
	key     [sha256.Size]byte // sha256 of the cookie value: the table never holds a usable id
	secret  string
	csrf    string
	created time.Time
	expires time.Time
}

type sessions struct {
	mu    sync.Mutex
	clk   clock.Clock
	ttl   time.Duration
	byKey map[[sha256.Size]byte]*session
}

func newSessions(clk clock.Clock, ttl time.Duration) *sessions {
	return &sessions{clk: clk, ttl: ttl, byKey: map[[sha256.Size]byte]*session{}}
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session for secret and returns the cookie value.
func (s *sessions) create(secret string) (string, *session) {
	id := randomToken()
	now := s.clk.Now()
	sess := &session{key: sha256.Sum256([]byte(id)), secret: secret, csrf: randomToken(), created: now, expires: now.Add(s.ttl)}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	if len(s.byKey) >= MaxSessions {
		var oldest *session
		for _, o := range s.byKey {
			if oldest == nil || o.created.Before(oldest.created) {
				oldest = o
			}
		}
		delete(s.byKey, oldest.key)
	}
	s.byKey[sess.key] = sess
	return id, sess
}

func (s *sessions) sweepLocked(now time.Time) {
	for k, o := range s.byKey {
		if !now.Before(o.expires) {
			delete(s.byKey, k)
		}
	}
}

// get returns the live session named by the cookie value.
func (s *sessions) get(id string) (*session, bool) {
	key := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.byKey[key]
	if ok && !s.clk.Now().Before(sess.expires) {
		delete(s.byKey, key)
		return nil, false
	}
	return sess, ok
}

func (s *sessions) end(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byKey, sess.key)
}

// who is an authenticated request: the session and the token it was opened with, as it is now.
type who struct {
	sess     *session
	actor    string
	readOnly bool
}

// identify finds the request's session and checks its token is still accepted.
func (d *Dashboard) identify(r *http.Request) (who, error) {
	const op = "dashboard.auth"
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return who{}, deploy.Errorf(op, deploy.KindUnauthorized, "not signed in")
	}
	sess, ok := d.sessions.get(c.Value)
	if !ok {
		return who{}, deploy.Errorf(op, deploy.KindUnauthorized, "session expired or unknown: sign in again")
	}
	name, ro, ok := d.o.Auth.Identify(sess.secret)
	if !ok {
		d.sessions.end(sess)
		return who{}, deploy.Errorf(op, deploy.KindUnauthorized, "the session's token is no longer accepted: sign in again")
	}
	return who{sess: sess, actor: name, readOnly: ro}, nil
}

type handler func(w http.ResponseWriter, r *http.Request, u who) error

// reading serves h to any signed-in user.
func (d *Dashboard) reading(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := d.identify(r)
		if err == nil {
			err = h(w, r, u)
		}
		if err != nil {
			writeError(w, err)
		}
	}
}

// mutating serves h to a signed-in user whose request comes from this origin and carries the
// session's CSRF token. Whether the user may act at all is the action's check (logout is for all).
func (d *Dashboard) mutating(h handler) http.HandlerFunc {
	return d.reading(func(w http.ResponseWriter, r *http.Request, u who) error {
		if err := checkOrigin(r); err != nil {
			return err
		}
		got := r.Header.Get(CSRFHeader)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(u.sess.csrf)) != 1 {
			return deploy.Errorf("dashboard.csrf", deploy.KindForbidden, "missing or wrong %s", CSRFHeader)
		}
		return h(w, r, u)
	})
}

// checkOrigin refuses a state-changing request whose Origin is not this host. Browsers send Origin
// on every POST; a request without one did not come from this page.
func checkOrigin(r *http.Request) error {
	const op = "dashboard.origin"
	o := r.Header.Get("Origin")
	if o == "" {
		return deploy.Errorf(op, deploy.KindForbidden, "missing Origin header")
	}
	u, err := url.Parse(o)
	if err != nil || u.Host != r.Host || (u.Scheme != "http" && u.Scheme != "https") || (r.TLS != nil && u.Scheme != "https") {
		return deploy.Errorf(op, deploy.KindForbidden, "cross-origin request refused (Origin %q, host %q)", o, r.Host)
	}
	return nil
}

func (d *Dashboard) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: CookieName, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: d.o.SecureCookies || r.TLS != nil, SameSite: http.SameSiteStrictMode}
}

// login takes the token from a form, opens a session and sends the browser back to the page. A
// wrong token gets the page back with ?signin=failed, and no session.
func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	if err := checkOrigin(r); err != nil {
		writeError(w, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	secret := r.PostFormValue("token")
	if _, _, ok := d.o.Auth.Identify(secret); secret == "" || !ok {
		http.Redirect(w, r, "/?signin=failed", http.StatusSeeOther)
		return
	}
	id, sess := d.sessions.create(secret)
	http.SetCookie(w, d.cookie(r, id, int(sess.expires.Sub(sess.created)/time.Second)))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request, u who) error {
	d.sessions.end(u.sess)
	http.SetCookie(w, d.cookie(r, "", -1))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// SessionInfo is GET /ui/api/session.
type SessionInfo struct {
	Actor     string    `json:"actor"`
	ReadOnly  bool      `json:"read_only"`
	CSRFToken string    `json:"csrf_token"`
	ExpiresAt time.Time `json:"expires_at"`
	Now       time.Time `json:"now"`
}

func (d *Dashboard) session(w http.ResponseWriter, r *http.Request, u who) error {
	writeJSON(w, http.StatusOK, SessionInfo{Actor: u.actor, ReadOnly: u.readOnly, CSRFToken: u.sess.csrf,
		ExpiresAt: u.sess.expires.UTC(), Now: d.o.Clock.Now().UTC()})
	return nil
}

// sessionEnded reports whether u's session no longer holds (expired, signed out, token removed).
func (d *Dashboard) sessionEnded(r *http.Request) bool {
	_, err := d.identify(r)
	return err != nil
}
