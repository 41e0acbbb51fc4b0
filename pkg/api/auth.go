package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/switchyard/switchyard/pkg/config"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// Token is one API credential: requests bearing Secret act as Name. ReadOnly tokens may only read.
type Token struct {
	Name     string
	Secret   string
	ReadOnly bool
}

// TokensFromConfig resolves the configured tokens' secrets (value or environment variable).
func TokensFromConfig(ts []config.Token) ([]Token, error) {
	out := make([]Token, 0, len(ts))
	for _, t := range ts {
		secret, err := t.TokenSecret()
		if err != nil {
			return nil, err
		}
		out = append(out, Token{Name: t.Name, Secret: secret, ReadOnly: t.ReadOnly})
	}
	return out, nil
}

// minSecretLen rejects secrets short enough to guess online.
const minSecretLen = 16

type tokenEntry struct {
	name     string
	digest   [sha256.Size]byte
	readOnly bool
}

// tokenSet is immutable once built; SetTokens swaps the whole set atomically so a reload never exposes
// a half-updated set to concurrent requests.
type tokenSet struct{ entries []tokenEntry }

func newTokenSet(ts []Token) (*tokenSet, error) {
	set := &tokenSet{}
	names := map[string]bool{}
	digests := map[[sha256.Size]byte]string{}
	for _, t := range ts {
		if t.Name == "" {
			return nil, fmt.Errorf("auth: token with empty name")
		}
		if names[t.Name] {
			return nil, fmt.Errorf("auth: token name %q is duplicated", t.Name)
		}
		names[t.Name] = true
		if len(t.Secret) < minSecretLen {
			return nil, fmt.Errorf("auth: token %q: secret must be at least %d characters", t.Name, minSecretLen)
		}
		d := sha256.Sum256([]byte(t.Secret))
		// Two names sharing a secret would make the audit actor ambiguous.
		if other, ok := digests[d]; ok {
			return nil, fmt.Errorf("auth: tokens %q and %q have the same secret", other, t.Name)
		}
		digests[d] = t.Name
		set.entries = append(set.entries, tokenEntry{name: t.Name, digest: d, readOnly: t.ReadOnly})
	}
	return set, nil
}

// lookup compares the presented secret against every token in constant time. Comparing SHA-256 digests
// makes every comparison the same length, so neither a token's length nor its prefix leaks through
// timing, and the loop does not stop at the first match.
func (s *tokenSet) lookup(secret string) (tokenEntry, bool) {
	d := sha256.Sum256([]byte(secret))
	var found tokenEntry
	ok := 0
	for _, e := range s.entries {
		if subtle.ConstantTimeCompare(d[:], e.digest[:]) == 1 {
			found = e
			ok = 1
		}
	}
	return found, ok == 1
}

type authenticator struct{ set atomic.Pointer[tokenSet] }

// bearer extracts the token from "Authorization: Bearer <token>" (scheme case-insensitive, RFC 6750).
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// authenticate returns the token for the request or an unauthorized/forbidden error. write says whether
// the route mutates state.
func (a *authenticator) authenticate(r *http.Request, write bool) (tokenEntry, error) {
	const op = "api.auth"
	secret, ok := bearer(r)
	if !ok {
		return tokenEntry{}, deploy.Errorf(op, deploy.KindUnauthorized, "missing bearer token (Authorization: Bearer <token>)")
	}
	e, ok := a.set.Load().lookup(secret)
	if !ok {
		return tokenEntry{}, deploy.Errorf(op, deploy.KindUnauthorized, "unknown token")
	}
	if write && e.readOnly {
		return e, deploy.Errorf(op, deploy.KindForbidden, "token %q is read-only", e.name)
	}
	return e, nil
}
