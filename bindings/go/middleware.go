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
	// Realm is the realm of the challenges ("api" when empty, as nginx's).
	Realm string
	// RequiredScopes must all be carried by the credential (403 otherwise).
	RequiredScopes []string
	// Kinds are the credential kinds accepted (nil: KindJWT and KindAPIKey).
	// A Bearer value is told apart as SPEC §5 says, or verified as the only
	// Bearer kind accepted; a credential of another kind is refused
	// unverified (401 without an error code) - nginx's `warden` directive.
	Kinds []Kind
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
// it, with the Result in their context (FromContext). The others are
// answered as warden's nginx module does (bindings/nginx/README.md):
//
//   - no credential: 401, WWW-Authenticate: Bearer realm="..." (and/or
//     Basic realm="...", charset="UTF-8", by accepted kinds), no error
//     attribute (RFC 6750 §3.1);
//   - a refused JWT or API key (malformed included): 401, Bearer
//     realm="...", error="invalid_token", error_description="<code>";
//   - a refused Basic credential: 401, Basic realm="...", charset="UTF-8";
//   - a kind not accepted, or a scheme other than Bearer and Basic: 401,
//     every accepted kind's challenge, no error attribute (RFC 6750 §3.1);
//   - rate_limited: 429, Retry-After: <seconds>;
//   - accepted without a required scope: 403, Bearer realm="...",
//     error="insufficient_scope", scope="<required>" (no challenge for Basic);
//   - several Authorization headers: 400, error="invalid_request";
//   - a failed call (closed verifier, warden bug): 500.
//
// It panics on a configuration it cannot answer with: no accepted kind, a
// realm with a control character, a required scope that is not an RFC 6749
// scope token.
func Middleware(v *Verifier, cfg MiddlewareConfig, next http.Handler) http.Handler {
	realm := cfg.Realm
	if realm == "" {
		realm = "api"
	}
	q := quote(realm)
	m := &middleware{
		v:      v,
		cfg:    cfg,
		next:   next,
		bearer: "Bearer realm=" + q,
		basic:  "Basic realm=" + q + `, charset="UTF-8"`,
	}
	kinds := cfg.Kinds
	if kinds == nil {
		kinds = []Kind{KindJWT, KindAPIKey}
	}
	for _, k := range kinds {
		if k == KindJWT || k == KindAPIKey || k == KindBasic {
			m.kinds |= 1 << k
		}
	}
	// Mistakes in the configuration panic here, once, as Python's
	// middlewares raise when made: with no kind every request got a 401
	// without a challenge (RFC 7235 §3.1 wants one).
	if m.kinds == 0 {
		panic("warden: MiddlewareConfig.Kinds holds none of KindJWT, KindAPIKey, KindBasic")
	}
	if !realmOK(realm) {
		panic("warden: MiddlewareConfig.Realm has a control character")
	}
	for _, sc := range cfg.RequiredScopes {
		if !scopeTokenOK(sc) {
			panic("warden: required scope " + strconv.Quote(sc) + " is not a scope token (RFC 6749 §3.3)")
		}
	}
	m.forbidden = m.bearer + `, error="insufficient_scope", scope=` + quote(strings.Join(cfg.RequiredScopes, " "))
	return m
}

type middleware struct {
	v                        *Verifier
	cfg                      MiddlewareConfig
	next                     http.Handler
	kinds                    uint // bit 1 << Kind
	bearer, basic, forbidden string
}

func (m *middleware) accepts(k Kind) bool { return m.kinds&(1<<k) != 0 }

// realmOK: no control characters (a header value may carry the rest).
func realmOK(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// scopeTokenOK: 1*NQCHAR (RFC 6749 §3.3).
func scopeTokenOK(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c == '"' || c == '\\' || c > 0x7e {
			return false
		}
	}
	return s != ""
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// scheme splits an Authorization value into its lower-case scheme and
// credential (SPEC §5: trimmed of spaces/tabs, then scheme 1*SP credential).
func scheme(value string) (string, string) {
	value = strings.Trim(value, " \t")
	i := strings.IndexByte(value, ' ')
	if i < 0 {
		return "", ""
	}
	return strings.ToLower(value[:i]), strings.TrimLeft(value[i:], " ")
}

// challenge adds one WWW-Authenticate per scheme of kinds (bit set), the
// Bearer one with error="invalid_token" and description when it is not "".
func (m *middleware) challenge(h http.Header, kinds uint, description string) {
	if kinds&(1<<KindJWT|1<<KindAPIKey) != 0 {
		v := m.bearer
		if description != "" {
			v += `, error="invalid_token", error_description=` + quote(description)
		}
		h.Add("WWW-Authenticate", v)
	}
	if kinds&(1<<KindBasic) != 0 {
		h.Add("WWW-Authenticate", m.basic)
	}
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if m.cfg.Exempt != nil && m.cfg.Exempt(req) {
		m.next.ServeHTTP(w, req)
		return
	}
	values := req.Header.Values("Authorization")
	h := w.Header()
	switch len(values) {
	case 0:
		m.challenge(h, m.kinds, "")
		answer(w, http.StatusUnauthorized)
		return
	case 1:
	default:
		h.Add("WWW-Authenticate", m.bearer+`, error="invalid_request", error_description="several Authorization headers"`)
		answer(w, http.StatusBadRequest)
		return
	}
	var now time.Time
	if m.cfg.Now != nil {
		now = m.cfg.Now()
	}
	value := values[0]
	var r Result
	switch s, credential := scheme(value); {
	case s == "basic" && !m.accepts(KindBasic),
		s == "bearer" && !m.accepts(KindJWT) && !m.accepts(KindAPIKey):
		m.notAllowed(w)
		return
	case s != "" && s != "basic" && s != "bearer":
		// Another scheme (Digest, DPoP, ...): malformed (SPEC §5, and
		// counted so), answered like no credential (RFC 6750 §3.1).
		m.v.VerifyAuthorizationAt(value, now)
		m.notAllowed(w)
		return
	case s == "bearer" && !m.accepts(KindAPIKey):
		r = m.v.VerifyJWTAt(credential, now)
	case s == "bearer" && !m.accepts(KindJWT):
		r = m.v.VerifyAPIKeyAt(credential, now)
	default: // Basic, Bearer of either kind, or another shape (malformed)
		r = m.v.VerifyAuthorizationAt(value, now)
	}
	switch {
	case r.Err() != nil:
		answer(w, http.StatusInternalServerError)
	case r.OK() && !m.accepts(r.Kind):
		m.notAllowed(w)
	case r.OK():
		if len(m.cfg.RequiredScopes) > 0 && !r.HasScopes(m.cfg.RequiredScopes...) {
			if r.Kind != KindBasic {
				h.Add("WWW-Authenticate", m.forbidden)
			}
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
	default:
		kinds := m.kinds
		if m.accepts(r.Kind) {
			kinds = 1 << r.Kind
		}
		m.challenge(h, kinds, r.Code.String())
		answer(w, http.StatusUnauthorized)
	}
}

// notAllowed answers a credential of a kind or scheme this middleware does
// not take as if there were none: every challenge, no error code (RFC 6750
// §3.1, "attempted using an unsupported authentication method").
func (m *middleware) notAllowed(w http.ResponseWriter) {
	m.challenge(w.Header(), m.kinds, "")
	answer(w, http.StatusUnauthorized)
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
