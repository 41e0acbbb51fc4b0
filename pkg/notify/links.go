package notify

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// Link actions.
const (
	LinkResume  = "resume"
	LinkPromote = "promote"
	LinkAbort   = "abort"
)

// Claims are what a link says: who may do what to which deployment, until when. Nonce makes every link
// unique and is what its single use is recorded under.
type Claims struct {
	Action     string `json:"a"`
	Deployment string `json:"d"`
	Actor      string `json:"o"` // the link owner's token name: the audit actor
	Expires    int64  `json:"e"` // unix seconds
	Nonce      string `json:"n"`
}

// ExpiresAt returns the expiry as a time.
func (c Claims) ExpiresAt() time.Time { return time.Unix(c.Expires, 0).UTC() }

// Links signs and verifies action links. A token is base64url(JSON claims) "." base64url(HMAC-SHA256
// over those exact bytes), so nothing is parsed before the signature is checked, and there is no
// canonical form to get wrong.
type Links struct {
	secret  Secret
	baseURL string
	owner   string
	ttl     time.Duration
	clock   clock.Clock
	uses    deploy.ObjectStore
}

// NewLinks returns a signer for links at baseURL acting as owner, valid for ttl (default 1h). uses
// records each link's single use (a create-only object per nonce).
func NewLinks(secret Secret, baseURL, owner string, ttl time.Duration, clk clock.Clock, uses deploy.ObjectStore) (*Links, error) {
	const op = "notify.NewLinks"
	if len(secret.Bytes()) < 16 {
		return nil, deploy.Errorf(op, deploy.KindInvalid, "the link secret must be at least 16 bytes")
	}
	if owner == "" || baseURL == "" || uses == nil {
		return nil, deploy.Errorf(op, deploy.KindInvalid, "base URL, owner and a store for used links are required")
	}
	if ttl <= 0 {
		ttl = DefaultLinkTTL
	}
	if clk == nil {
		clk = clock.Real{}
	}
	return &Links{secret: secret, baseURL: baseURL, owner: owner, ttl: ttl, clock: clk, uses: uses}, nil
}

// Owner is the token name links act as.
func (l *Links) Owner() string { return l.owner }

// Sign returns a token for action on deployment, expiring ttl from now.
func (l *Links) Sign(action, deploymentID string) (string, Claims, error) {
	var n [16]byte
	if _, err := rand.Read(n[:]); err != nil {
		return "", Claims{}, deploy.Wrap("notify.Sign", deploy.KindInternal, err, "nonce")
	}
	c := Claims{Action: action, Deployment: deploymentID, Actor: l.owner,
		Expires: l.clock.Now().Add(l.ttl).Unix(), Nonce: hex.EncodeToString(n[:])}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", Claims{}, deploy.Wrap("notify.Sign", deploy.KindInternal, err, "encode claims")
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(l.mac(payload)), c, nil
}

// URL returns the link for action on deployment.
func (l *Links) URL(action, deploymentID string) (string, error) {
	tok, _, err := l.Sign(action, deploymentID)
	if err != nil {
		return "", err
	}
	sep := "?"
	if strings.Contains(l.baseURL, "?") {
		sep = "&"
	}
	return l.baseURL + sep + "t=" + url.QueryEscape(tok), nil
}

// ForDeployment returns the links a message about a paused or held deployment carries: resume (paused
// only), promote and abort.
func (l *Links) ForDeployment(e deploy.Event) (map[string]string, error) {
	var actions []string
	switch {
	case e.State == deploy.StatePaused:
		actions = []string{LinkResume, LinkPromote, LinkAbort}
	case e.Action == "step.hold" && e.State.Active():
		actions = []string{LinkPromote, LinkAbort}
	default:
		return nil, nil
	}
	out := make(map[string]string, len(actions))
	for _, a := range actions {
		u, err := l.URL(a, e.DeploymentID)
		if err != nil {
			return nil, err
		}
		out[a] = u
	}
	return out, nil
}

func (l *Links) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, l.secret.Bytes())
	m.Write([]byte("switchyard-link-v1\n")) // domain separation from the webhook signatures
	m.Write(payload)
	return m.Sum(nil)
}

// Verify checks a token's signature (in constant time) and expiry and returns its claims. It does not
// use the link: Claim does.
func (l *Links) Verify(token string) (Claims, error) {
	const op = "notify.VerifyLink"
	p, s, ok := strings.Cut(token, ".")
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p)
	sig, err2 := enc.DecodeString(s)
	if !ok || err1 != nil || err2 != nil || !hmac.Equal(sig, l.mac(payload)) {
		return Claims{}, deploy.Errorf(op, deploy.KindUnauthorized, "the link is not valid")
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Claims{}, deploy.Errorf(op, deploy.KindUnauthorized, "the link is not valid")
	}
	switch c.Action {
	case LinkResume, LinkPromote, LinkAbort:
	default:
		return Claims{}, deploy.Errorf(op, deploy.KindUnauthorized, "the link names no known action")
	}
	if len(c.Nonce) != 32 || c.Deployment == "" || c.Actor == "" { // Sign makes 128-bit hex nonces
		return Claims{}, deploy.Errorf(op, deploy.KindUnauthorized, "the link is not valid")
	}
	if !l.clock.Now().Before(c.ExpiresAt()) {
		return Claims{}, deploy.Errorf(op, deploy.KindForbidden, "the link expired at %s", c.ExpiresAt().Format(time.RFC3339))
	}
	return c, nil
}

// linkUse is the stored record of a link's use.
type linkUse struct {
	Action     string    `json:"action"`
	Deployment string    `json:"deployment_id"`
	Actor      string    `json:"actor"`
	UsedAt     time.Time `json:"used_at"`
	Expires    time.Time `json:"expires"`
}

// Claim records the link's use: a create-only object under its nonce, so a second use, by this daemon
// or another sharing the store, is KindConflict. It is claimed before the action runs: a link whose
// action then fails stays used (ask for a new one), never usable twice.
func (l *Links) Claim(ctx context.Context, c Claims) error {
	body, err := json.Marshal(linkUse{Action: c.Action, Deployment: c.Deployment, Actor: c.Actor,
		UsedAt: l.clock.Now().UTC(), Expires: c.ExpiresAt()})
	if err != nil {
		return deploy.Wrap("notify.Claim", deploy.KindInternal, err, "encode link use")
	}
	err = l.uses.PutObject(ctx, &deploy.Object{Kind: KindLinkUse, ID: c.Nonce, Body: body})
	if deploy.KindOf(err) == deploy.KindConflict {
		return deploy.Errorf("notify.Claim", deploy.KindConflict, "this link was already used")
	}
	return err
}

// PruneUses deletes the use records of links that have expired (they can no longer verify, so their
// record is not needed to refuse them). It returns how many it deleted.
func (l *Links) PruneUses(ctx context.Context) (int, error) {
	objs, err := l.uses.ListObjects(ctx, KindLinkUse)
	if err != nil {
		return 0, err
	}
	n := 0
	now := l.clock.Now()
	for _, o := range objs {
		var u linkUse
		if json.Unmarshal(o.Body, &u) == nil && now.After(u.Expires) {
			if err := l.uses.DeleteObject(ctx, KindLinkUse, o.ID); err == nil {
				n++
			}
		}
	}
	return n, nil
}
