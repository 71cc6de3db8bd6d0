package warden

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MiddlewareConfig configures Middleware.
type MiddlewareConfig struct {
	// Realm is the realm of the challenges ("warden" when empty).
	Realm string
	// RequiredScopes must all be carried by the credential (403 otherwise).
	RequiredScopes []string
	// AcceptBasic accepts "Authorization: Basic" (and advertises it in 401
	// challenges); when false a Basic header counts as no credential.
	AcceptBasic bool
	// Exempt, when it returns true, lets a request through unverified
	// (health checks, CORS preflight).
	Exempt func(*http.Request) bool
	// Now is the verification time (nil: the system clock).
	Now func() time.Time
}

type ctxKey struct{}

// FromContext is the accepted Result Middleware put in the request's context.
func FromContext(ctx context.Context) (*Result, bool) {
	r, ok := ctx.Value(ctxKey{}).(*Result)
	return r, ok
}

// Middleware protects next: only requests with an accepted credential reach
// it, with the Result in their context (FromContext). Others are answered as
// warden's nginx module does:
//
//   - no credential: 401, WWW-Authenticate: Bearer realm="..." without an
//     error attribute (RFC 6750 §3.1), plus a Basic challenge when Basic is
//     accepted;
//   - a rejected credential: 401, Bearer realm="...", error="invalid_token",
//     error_description="<code>" (a rejected Basic credential gets the Basic
//     challenge and the plain Bearer one);
//   - rate_limited: 429 with Retry-After: <seconds>;
//   - accepted without a required scope: 403, Bearer realm="...",
//     error="insufficient_scope", scope="<required scopes>";
//   - several Authorization headers: 400, error="invalid_request";
//   - a failed call (closed verifier, warden bug): 500.
func Middleware(v *Verifier, cfg MiddlewareConfig, next http.Handler) http.Handler {
	realm := cfg.Realm
	if realm == "" {
		realm = "warden"
	}
	q := quote(realm)
	m := &middleware{
		v:      v,
		cfg:    cfg,
		next:   next,
		bearer: "Bearer realm=" + q,
		basic:  "Basic realm=" + q + `, charset="UTF-8"`,
	}
	m.forbidden = m.bearer + `, error="insufficient_scope", error_description="insufficient_scope", scope=` +
		quote(strings.Join(cfg.RequiredScopes, " "))
	return m
}

type middleware struct {
	v                        *Verifier
	cfg                      MiddlewareConfig
	next                     http.Handler
	bearer, basic, forbidden string
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func isBasic(value string) bool {
	value = strings.TrimLeft(value, " \t")
	return len(value) >= 6 && strings.EqualFold(value[:6], "basic ")
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if m.cfg.Exempt != nil && m.cfg.Exempt(req) {
		m.next.ServeHTTP(w, req)
		return
	}
	values := req.Header.Values("Authorization")
	h := w.Header()
	switch {
	case len(values) == 0 || (!m.cfg.AcceptBasic && len(values) == 1 && isBasic(values[0])):
		h.Add("WWW-Authenticate", m.bearer)
		if m.cfg.AcceptBasic {
			h.Add("WWW-Authenticate", m.basic)
		}
		answer(w, http.StatusUnauthorized)
		return
	case len(values) > 1:
		h.Add("WWW-Authenticate", m.bearer+`, error="invalid_request", error_description="several Authorization headers"`)
		answer(w, http.StatusBadRequest)
		return
	}
	var now time.Time
	if m.cfg.Now != nil {
		now = m.cfg.Now()
	}
	r := m.v.VerifyAuthorizationAt(values[0], now)
	switch {
	case r.OK():
		if len(m.cfg.RequiredScopes) > 0 && !r.HasScopes(m.cfg.RequiredScopes...) {
			h.Add("WWW-Authenticate", m.forbidden)
			answer(w, http.StatusForbidden)
			return
		}
		m.next.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), ctxKey{}, &r)))
	case r.Code == CodeRateLimited:
		secs := int64(r.RetryAfter / time.Second)
		if secs < 1 {
			secs = 1
		}
		h.Set("Retry-After", strconv.FormatInt(secs, 10))
		answer(w, http.StatusTooManyRequests)
	case r.Err() != nil:
		answer(w, http.StatusInternalServerError)
	case r.Kind == KindBasic:
		h.Add("WWW-Authenticate", m.bearer)
		h.Add("WWW-Authenticate", m.basic)
		answer(w, http.StatusUnauthorized)
	default:
		h.Add("WWW-Authenticate", m.bearer+`, error="invalid_token", error_description=`+quote(r.Code.String()))
		if m.cfg.AcceptBasic {
			h.Add("WWW-Authenticate", m.basic)
		}
		answer(w, http.StatusUnauthorized)
	}
}

func answer(w http.ResponseWriter, status int) {
	body := strconv.Itoa(status) + " " + http.StatusText(status) + "\n"
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
