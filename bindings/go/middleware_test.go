package warden

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func hello(w http.ResponseWriter, req *http.Request) {
	r, ok := FromContext(req.Context())
	if !ok {
		http.Error(w, "no result", 500)
		return
	}
	fmt.Fprintf(w, "hello %s %s", r.Kind, r.Subject)
}

func serve(h http.Handler, auth ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", "/orders", nil)
	for _, a := range auth {
		req.Header.Add("Authorization", a)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func clock() time.Time { return nowTime }

func TestMiddleware(t *testing.T) {
	v := newVerifier(t)
	h := Middleware(v, MiddlewareConfig{Realm: "orders", Now: clock}, http.HandlerFunc(hello))

	w := serve(h, "Bearer "+token("u-7", "", nil))
	if w.Code != 200 || w.Body.String() != "hello jwt u-7" {
		t.Fatalf("%d %q", w.Code, w.Body)
	}
	w = serve(h)
	if w.Code != 401 || strings.Join(w.Header().Values("WWW-Authenticate"), "|") != `Bearer realm="orders"` {
		t.Fatalf("missing: %d %v", w.Code, w.Header())
	}
	if w.Header().Get("Content-Length") != strconv.Itoa(w.Body.Len()) {
		t.Fatal("content-length")
	}
	// Basic is not accepted here: refused unverified, and answered like no
	// credential (RFC 6750 §3.1: an unsupported method gets no error code);
	// so is a scheme other than Bearer and Basic.
	for _, value := range []string{"Basic " + base64.StdEncoding.EncodeToString([]byte("alice:wonderland")), "Digest username=x", "DPoP abc"} {
		w = serve(h, value)
		if w.Code != 401 || strings.Join(w.Header().Values("WWW-Authenticate"), "|") != `Bearer realm="orders"` {
			t.Fatalf("%s: %d %v", value, w.Code, w.Header())
		}
	}
	// Another shape (no scheme) is a malformed Bearer credential.
	w = serve(h, "garbage")
	if w.Code != 401 || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error_description="malformed"`) {
		t.Fatalf("garbage: %d %v", w.Code, w.Header())
	}
	w = serve(h, "Bearer "+token("u", "", map[string]any{"exp": testNow - 1}))
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != `Bearer realm="orders", error="invalid_token", error_description="expired"` {
		t.Fatalf("expired: %d %v", w.Code, w.Header())
	}
	w = serve(h, "Bearer a", "Bearer b")
	if w.Code != 400 || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_request"`) {
		t.Fatalf("two headers: %d", w.Code)
	}
	for i := 0; i < 2; i++ {
		if w = serve(h, "Bearer "+apiKey); w.Code != 200 || w.Body.String() != "hello api_key billing" {
			t.Fatalf("api key: %d", w.Code)
		}
	}
	w = serve(h, "Bearer "+apiKey)
	if w.Code != 429 || w.Header().Get("Retry-After") == "" || w.Header().Get("Retry-After") == "0" ||
		len(w.Header().Values("WWW-Authenticate")) != 0 {
		t.Fatalf("rate limited: %d %v", w.Code, w.Header())
	}
}

func TestMiddlewareScopesBasicExempt(t *testing.T) {
	v := newVerifier(t)
	h := Middleware(v, MiddlewareConfig{
		Realm: `a "quoted" realm`, RequiredScopes: []string{"orders:write"}, Kinds: []Kind{KindJWT, KindAPIKey, KindBasic}, Now: clock,
		Exempt: func(r *http.Request) bool { return r.URL.Path == "/healthz" },
	}, http.HandlerFunc(hello))
	w := serve(h, "Bearer "+token("u", "orders:read", nil))
	want := `Bearer realm="a \"quoted\" realm", error="insufficient_scope", scope="orders:write"`
	if w.Code != 403 || w.Header().Get("WWW-Authenticate") != want {
		t.Fatalf("403: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	if w = serve(h, "Bearer "+token("u", "orders:read orders:write", nil)); w.Code != 200 {
		t.Fatal(w.Code)
	}
	w = serve(h)
	if got := w.Header().Values("WWW-Authenticate"); w.Code != 401 || len(got) != 2 ||
		got[1] != `Basic realm="a \"quoted\" realm", charset="UTF-8"` {
		t.Fatalf("challenges: %v", got)
	}
	w = serve(h, "Basic "+base64.StdEncoding.EncodeToString([]byte("alice:nope")))
	if got := w.Header().Values("WWW-Authenticate"); w.Code != 401 || len(got) != 1 || got[0] != `Basic realm="a \"quoted\" realm", charset="UTF-8"` {
		t.Fatalf("bad basic: %d %v", w.Code, got)
	}
	w = serve(h, "Bearer x")
	if got := w.Header().Values("WWW-Authenticate"); w.Code != 401 || len(got) != 1 ||
		got[0] != `Bearer realm="a \"quoted\" realm", error="invalid_token", error_description="malformed"` {
		t.Fatalf("bad bearer: %d %v", w.Code, got)
	}
	w = serve(h, "Basic "+base64.StdEncoding.EncodeToString([]byte("alice:wonderland")))
	if w.Code != 403 || len(w.Header().Values("WWW-Authenticate")) != 0 { // Basic users carry no scopes
		t.Fatalf("basic without scopes: %d", w.Code)
	}
	req := httptest.NewRequest("GET", "/healthz", nil)
	rec := httptest.NewRecorder()
	Middleware(v, MiddlewareConfig{Exempt: func(*http.Request) bool { return true }},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })).ServeHTTP(rec, req)
	if rec.Code != 204 {
		t.Fatal(rec.Code)
	}
	v.Close()
	if w = serve(h, "Bearer x"); w.Code != 500 {
		t.Fatalf("closed verifier: %d", w.Code)
	}
}

func TestMiddlewareSingleBearerKind(t *testing.T) {
	v := newVerifier(t)
	jwtOnly := Middleware(v, MiddlewareConfig{Kinds: []Kind{KindJWT}, Now: clock}, http.HandlerFunc(hello))
	if w := serve(jwtOnly, "Bearer "+token("u", "", nil)); w.Code != 200 {
		t.Fatal(w.Code)
	}
	if w := serve(jwtOnly, "Bearer "+apiKey); w.Code != 401 || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error_description="malformed"`) {
		t.Fatalf("api key as a JWT: %d %v", w.Code, w.Header())
	}
	keysOnly := Middleware(v, MiddlewareConfig{Kinds: []Kind{KindAPIKey}, Now: clock}, http.HandlerFunc(hello))
	if w := serve(keysOnly, "Bearer "+apiKey); w.Code != 200 {
		t.Fatal(w.Code)
	}
	if w := serve(keysOnly, "Bearer "+token("u", "", nil)); w.Code != 401 || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error_description="bad_api_key"`) {
		t.Fatalf("JWT as an API key: %d %v", w.Code, w.Header())
	}
	basicOnly := Middleware(v, MiddlewareConfig{Kinds: []Kind{KindBasic}, Now: clock}, http.HandlerFunc(hello))
	w := serve(basicOnly, "Bearer "+token("u", "", nil))
	if got := w.Header().Values("WWW-Authenticate"); w.Code != 401 || len(got) != 1 || got[0] != `Basic realm="api", charset="UTF-8"` {
		t.Fatalf("bearer to a basic-only location: %d %v", w.Code, got)
	}
}

// A configuration the middleware cannot answer with panics when it is made
// (Python's middlewares raise ValueError): with no kind, every request got
// a 401 without any challenge (RFC 7235 §3.1); found by an audit.
func TestMiddlewareRefusesConfigsItCannotAnswerWith(t *testing.T) {
	v := newVerifier(t)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for name, cfg := range map[string]MiddlewareConfig{
		"no kind":           {Kinds: []Kind{}},
		"no accepted kind":  {Kinds: []Kind{KindNone}},
		"CR LF in realm":    {Realm: "api\r\nSet-Cookie: x=1"},
		"scope with space":  {RequiredScopes: []string{"two words"}},
		"scope with quote":  {RequiredScopes: []string{`a"b`}},
		"empty scope token": {RequiredScopes: []string{""}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Middleware did not panic", name)
				}
			}()
			Middleware(v, cfg, next)
		}()
	}
	// Well-formed ones are taken (a UTF-8 realm included).
	Middleware(v, MiddlewareConfig{Realm: "Zürich", RequiredScopes: []string{"orders:read"}, Kinds: []Kind{KindBasic}}, next)
}
