package warden

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestVersionAndCodes(t *testing.T) {
	if Version() != "0.1.0" {
		t.Fatalf("version %q", Version())
	}
	if CodeBadSignature.String() != "bad_signature" || CodeRateLimited.String() != "rate_limited" ||
		CodeInvalidArgument.String() != "invalid_argument" || Code(99).String() != "unknown" {
		t.Fatal("code names")
	}
	if c, ok := ParseCode("expired"); !ok || c != CodeExpired {
		t.Fatal("ParseCode")
	}
	if KindAPIKey.String() != "api_key" {
		t.Fatal("kind names")
	}
}

func TestOpenErrors(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "missing.json"))
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "missing.json") {
		t.Fatalf("got %v", err)
	}
	_, err = OpenConfig([]byte(`{"jwt": {"leeway": 3}}`))
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "leeway") {
		t.Fatalf("got %v", err)
	}
}

func TestAcceptedJWT(t *testing.T) {
	v := newVerifier(t)
	tok := token("Øystein", "orders:read orders:write", map[string]any{"jti": "j-1", "realm": map[string]any{"roles": []int{1, 2}}})
	r := v.VerifyJWTAt(tok, nowTime)
	if !r.OK() || r.Kind != KindJWT || r.Subject != "Øystein" || r.Kid != "hs" || r.KeyID != "" ||
		!reflect.DeepEqual(r.Scopes, []string{"orders:read", "orders:write"}) || !r.HasExp || r.Exp != testNow+3600 || r.Err() != nil {
		t.Fatalf("%+v", r)
	}
	if !r.HasScope("orders:read") || !r.HasScopes("orders:read", "orders:write") || r.HasScope("x") {
		t.Fatal("scopes")
	}
	if s, ok := r.ClaimString("jti"); !ok || s != "j-1" {
		t.Fatal("ClaimString")
	}
	if raw, ok := r.ClaimPath("realm.roles"); !ok || string(raw) != "[1,2]" {
		t.Fatalf("ClaimPath %s", raw)
	}
	if _, ok := r.Claim("nope"); ok {
		t.Fatal("Claim nope")
	}
	if r.Claims()["sub"] != "Øystein" {
		t.Fatal("Claims")
	}
	var m map[string]any
	if json.Unmarshal(r.Payload(), &m) != nil || m["jti"] != "j-1" {
		t.Fatal("Payload")
	}
}

func TestOwnedResultsSurviveLaterCalls(t *testing.T) {
	v := newVerifier(t)
	a := v.VerifyJWTAt(token("first", "s1", nil), nowTime)
	b := v.VerifyAPIKeyAt(apiKey, nowTime)
	for i := 0; i < 100; i++ {
		v.VerifyJWTAt(token("other", "zz", nil), nowTime)
	}
	if a.Subject != "first" || a.Scopes[0] != "s1" || b.Subject != "billing" || b.KeyID != "key-1" {
		t.Fatalf("%+v %+v", a, b)
	}
	if s, _ := a.ClaimString("sub"); s != "first" {
		t.Fatal("claims of an owned result changed")
	}
	// An owned result reused with an *Into method does not touch the old strings.
	subject := a.Subject
	v.VerifyJWTInto(&a, []byte(token("second", "", nil)), testNow)
	if subject != "first" || a.Subject != "second" {
		t.Fatal("detach")
	}
}

func TestIntoReusesBuffers(t *testing.T) {
	v := newVerifier(t)
	var r Result
	v.VerifyJWTInto(&r, []byte(token("u1", "a b", nil)), testNow)
	if !r.OK() || r.Subject != "u1" || len(r.Scopes) != 2 {
		t.Fatalf("%+v", r)
	}
	v.VerifyAuthorizationInto(&r, []byte("  Bearer  "+token("u2", "", map[string]any{"x": 1})+" \t"), testNow)
	if !r.OK() || r.Subject != "u2" || len(r.Scopes) != 0 {
		t.Fatalf("%+v", r)
	}
	if raw, ok := r.Claim("x"); !ok || string(raw) != "1" {
		t.Fatal("claim through Authorization")
	}
	v.VerifyJWTInto(&r, []byte("x"), testNow)
	if r.OK() || r.Code != CodeMalformed || r.Subject != "" || r.Scopes == nil && false || r.HasExp || r.Claims() != nil {
		t.Fatalf("%+v", r)
	}
}

// More scopes than the verifying cgo call gathers itself (16) take a second
// call; the order and the strings are the same either way.
func TestManyScopes(t *testing.T) {
	v := newVerifier(t)
	for _, n := range []int{15, 16, 17, 40} {
		want := make([]string, n)
		for i := range want {
			want[i] = fmt.Sprintf("scope-%d:%s", i, strings.Repeat("x", i))
		}
		tok := token("many", strings.Join(want, " "), nil)
		var r Result
		v.VerifyJWTInto(&r, []byte(tok), testNow)
		if !r.OK() || !reflect.DeepEqual(r.Scopes, want) || r.Subject != "many" {
			t.Fatalf("%d scopes, Into: %s %q", n, r.Code, r.Scopes)
		}
		if o := v.VerifyJWTAt(tok, nowTime); !o.OK() || !reflect.DeepEqual(o.Scopes, want) {
			t.Fatalf("%d scopes, owned: %s %q", n, o.Code, o.Scopes)
		}
		// The same Result again with fewer: no stale entries.
		v.VerifyJWTInto(&r, []byte(token("few", "a", nil)), testNow)
		if !reflect.DeepEqual(r.Scopes, []string{"a"}) || r.Subject != "few" {
			t.Fatalf("after %d scopes: %q", n, r.Scopes)
		}
	}
}

// The *Into methods copy what Claim and Payload read: the caller may reuse
// the token's buffer at once.
func TestIntoCopiesTheToken(t *testing.T) {
	v := newVerifier(t)
	for _, auth := range []bool{false, true} {
		buf := []byte(token("first", "", map[string]any{"n": 1}))
		var r Result
		if auth {
			buf = append([]byte("Bearer "), buf...)
			v.VerifyAuthorizationInto(&r, buf, testNow)
		} else {
			v.VerifyJWTInto(&r, buf, testNow)
		}
		if !r.OK() {
			t.Fatal(r.Code)
		}
		other := token("other", "", map[string]any{"n": 2})
		copy(buf[len(buf)-len(other):], other)
		for i := range buf[:len(buf)-len(other)] {
			buf[i] = ' '
		}
		if s, _ := r.ClaimString("sub"); s != "first" || r.Subject != "first" {
			t.Fatalf("authorization %v: the claims followed the caller's buffer: %q", auth, s)
		}
		if raw, _ := r.Claim("n"); string(raw) != "1" {
			t.Fatalf("authorization %v: n = %s", auth, raw)
		}
	}
}

func TestRejections(t *testing.T) {
	v := newVerifier(t)
	tok := token("u", "", nil)
	bad := tok[:len(tok)-2] + "AA"
	if tok[len(tok)-2:] == "AA" {
		bad = tok[:len(tok)-2] + "BB"
	}
	cases := []struct {
		r    Result
		want Code
	}{
		{v.VerifyJWTAt(bad, nowTime), CodeBadSignature},
		{v.VerifyJWTAt(tok, nowTime.Add(2*time.Hour)), CodeExpired},
		{v.VerifyJWTAt(token("u", "", map[string]any{"exp": nil}), nowTime), CodeMissingClaim},
		{v.VerifyJWTAt(hs256(map[string]any{"exp": testNow + 5}, "other", hsSecret), nowTime), CodeUnknownKey},
		{v.VerifyAPIKeyAt(apiKey[:len(apiKey)-1]+"0", nowTime), CodeBadAPIKey},
		{v.VerifyBasicAt("alice", "nope", nowTime), CodeBadCredentials},
		{v.VerifyAuthorizationAt("Digest x", nowTime), CodeMalformed},
	}
	for i, c := range cases {
		if c.r.Code != c.want || c.r.OK() || c.r.Subject != "" || c.r.Err() != nil {
			t.Errorf("case %d: got %s, want %s", i, c.r.Code, c.want)
		}
	}
}

func TestClockAndUsageErrors(t *testing.T) {
	v := newVerifier(t)
	tok := hs256(map[string]any{"sub": "u", "exp": time.Now().Add(time.Minute).Unix()}, "hs", hsSecret)
	if r := v.VerifyJWT(tok); !r.OK() {
		t.Fatalf("clock: %s", r.Code)
	}
	var r Result
	v.VerifyJWTInto(&r, []byte(tok), math.NaN())
	if r.Code != CodeInvalidArgument || r.Err() == nil {
		t.Fatalf("NaN: %s", r.Code)
	}
	v.Close()
	v.Close()
	if r := v.VerifyJWT(tok); r.Code != CodeInvalidArgument || r.Err() == nil {
		t.Fatalf("closed: %s", r.Code)
	}
	if err := v.Reload(); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed reload: %v", err)
	}
}

func TestAPIKeyRateLimitAndBasic(t *testing.T) {
	v := newVerifier(t)
	r := v.VerifyAPIKeyAt(apiKey, nowTime)
	if !r.OK() || r.Kind != KindAPIKey || r.KeyID != "key-1" || r.Subject != "billing" ||
		!reflect.DeepEqual(r.Scopes, []string{"orders:read", "orders:write"}) || r.HasExp {
		t.Fatalf("%+v", r)
	}
	if r := v.VerifyAuthorizationAt("Bearer "+apiKey, nowTime); !r.OK() {
		t.Fatal(r.Code)
	}
	r = v.VerifyAPIKeyAt(apiKey, nowTime)
	if r.Code != CodeRateLimited || r.RetryAfter < time.Second {
		t.Fatalf("%+v", r)
	}
	r = v.VerifyBasicAt("alice", "wonderland", nowTime)
	if !r.OK() || r.Kind != KindBasic || r.Subject != "alice" {
		t.Fatalf("%+v", r)
	}
	r = v.VerifyAuthorizationAt("Basic "+base64.StdEncoding.EncodeToString([]byte("alice:wonderland")), nowTime)
	if !r.OK() || r.Kind != KindBasic || r.Claims() != nil {
		t.Fatalf("%+v", r)
	}
}

func TestRevocationReloadStats(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, mustJSON(baseConfig()), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	tok := token("user-1", "", map[string]any{"jti": "jti-9"})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(v.RevokeJTI("jti-9", time.Time{}))
	if r := v.VerifyJWTAt(tok, nowTime); r.Code != CodeRevoked {
		t.Fatal(r.Code)
	}
	if ok, err := v.UnrevokeJTI("jti-9"); !ok || err != nil {
		t.Fatal("unrevoke")
	}
	if ok, err := v.UnrevokeJTI("jti-9"); ok || err != nil {
		t.Fatal("unrevoke twice")
	}
	must(v.RevokeSubjectBefore("user-1", nowTime))
	if r := v.VerifyJWTAt(tok, nowTime); r.Code != CodeRevoked {
		t.Fatal(r.Code)
	}
	if ok, _ := v.UnrevokeSubject("user-1"); !ok {
		t.Fatal("unrevoke subject")
	}
	must(v.RevokeAPIKeyID("key-1"))
	if r := v.VerifyAPIKeyAt(apiKey, nowTime); r.Code != CodeRevoked {
		t.Fatal(r.Code)
	}
	if ok, _ := v.UnrevokeAPIKeyID("key-1"); !ok {
		t.Fatal("unrevoke key")
	}

	other := []byte("other-secret-other-secret-32byte")
	must(v.SetJWKS(mustJSON(map[string]any{"keys": []any{map[string]any{"kty": "oct", "kid": "hs", "alg": "HS256", "k": b64u(other)}}})))
	if r := v.VerifyJWTAt(tok, nowTime); r.Code != CodeBadSignature {
		t.Fatal(r.Code)
	}
	must(v.Reload())
	if r := v.VerifyJWTAt(tok, nowTime); !r.OK() {
		t.Fatal(r.Code)
	}
	must(os.WriteFile(path, []byte(`{"jwt": {"leeway": 1}}`), 0o600))
	var ce *ConfigError
	if err := v.Reload(); !errors.As(err, &ce) || !strings.Contains(v.LastError(), "leeway") {
		t.Fatalf("refused reload: %v", err)
	}
	if r := v.VerifyJWTAt(tok, nowTime); !r.OK() {
		t.Fatal("old config must keep serving")
	}
	must(v.ReloadConfig(mustJSON(baseConfig())))
	if n, err := v.VerdictCount(KindJWT, CodeOK); err != nil || n != 2 {
		t.Fatalf("verdict count %d %v", n, err)
	}
	if n, err := v.Counter(CounterKeySetSwap); err != nil || n != 1 {
		t.Fatalf("key set swaps %d %v", n, err)
	}
	if text, err := v.Prometheus(); err != nil || !strings.Contains(text, `kind="jwt"`) {
		t.Fatalf("prometheus: %v", err)
	}
}

// TestConcurrent shares one verifier between goroutines that verify (both
// APIs), reload and revoke at once; every verdict must stay right.
func TestConcurrent(t *testing.T) {
	v := newVerifier(t)
	cfg := mustJSON(baseConfig())
	tokens := make([]string, 8)
	for i := range tokens {
		tokens[i] = token("user-"+string(rune('a'+i)), "s"+string(rune('a'+i)), nil)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var r Result
			for n := 0; n < 300; n++ {
				j := (g + n) % len(tokens)
				want := "user-" + string(rune('a'+j))
				v.VerifyJWTInto(&r, []byte(tokens[j]), testNow)
				if !r.OK() || r.Subject != want || len(r.Scopes) != 1 || r.Scopes[0] != "s"+string(rune('a'+j)) {
					errs <- "into: " + r.Code.String() + " " + r.Subject
					return
				}
				owned := v.VerifyJWTAt(tokens[j], nowTime)
				if !owned.OK() || owned.Subject != want {
					errs <- "owned: " + owned.Code.String()
					return
				}
				v.VerifyJWTInto(&r, []byte(tokens[j][:len(tokens[j])-4]+"AAAA"), testNow)
				if r.Code != CodeBadSignature && r.Code != CodeOK {
					errs <- "bad: " + r.Code.String()
					return
				}
			}
		}(g)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 30; i++ {
			if err := v.ReloadConfig(cfg); err != nil {
				errs <- err.Error()
			}
			_ = v.RevokeJTI("nothing", time.Time{})
		}
	}()
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestRateLimitSharedAcrossGoroutines(t *testing.T) {
	v := newVerifier(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[Code]int{}
	start := make(chan struct{})
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := v.VerifyAPIKeyAt(apiKey, nowTime)
			mu.Lock()
			counts[r.Code]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	if counts[CodeOK] != 2 || counts[CodeRateLimited] != 14 {
		t.Fatalf("%v", counts)
	}
}

func TestCloseWhileVerifying(t *testing.T) {
	v, err := OpenConfig(mustJSON(baseConfig()))
	if err != nil {
		t.Fatal(err)
	}
	tok := []byte(token("u", "a b", nil))
	var closed atomic.Bool // set once a Close has returned
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r Result
			for i := 0; i < 2000; i++ {
				after := closed.Load()
				v.VerifyJWTInto(&r, tok, testNow)
				if r.Code == CodeOK && (after || len(r.Scopes) != 2 || r.Subject != "u") {
					t.Errorf("closed before: %v, %+v", after, r)
					return
				}
				if r.Code != CodeOK && r.Code != CodeInvalidArgument {
					t.Error(r.Code)
					return
				}
			}
		}()
	}
	time.Sleep(time.Millisecond)
	var closers sync.WaitGroup
	for c := 0; c < 2; c++ {
		closers.Add(1)
		go func() {
			defer closers.Done()
			v.Close()
			closed.Store(true)
		}()
	}
	closers.Wait()
	wg.Wait()
	var r Result
	if v.VerifyJWTInto(&r, tok, testNow); r.Code != CodeInvalidArgument {
		t.Fatal(r.Code)
	}
}

func TestZeroAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race (sync.Pool drops items)")
	}
	v := newVerifier(t)
	tok := []byte(token("user-1842", "orders:read orders:write", nil))
	auth := []byte("Bearer " + string(tok))
	key := []byte(apiKey)
	bad := []byte("x.y.z")
	many := []byte(token("user-1842", strings.TrimSpace(strings.Repeat("scope ", 30)), nil))
	var r Result
	for name, f := range map[string]func(){
		"jwt":           func() { v.VerifyJWTInto(&r, tok, testNow) },
		"authorization": func() { v.VerifyAuthorizationInto(&r, auth, testNow) },
		"api_key":       func() { v.VerifyAPIKeyInto(&r, key, testNow+1e6) }, // rate limited after the burst: still no allocation
		"rejected":      func() { v.VerifyJWTInto(&r, bad, testNow) },
		"many scopes":   func() { v.VerifyJWTInto(&r, many, testNow) }, // past the 16 of the first call
	} {
		f()
		if n := testing.AllocsPerRun(200, f); n != 0 {
			t.Errorf("%s: %v allocations per verification", name, n)
		}
	}
}

func TestInflightCounts(t *testing.T) {
	v, err := OpenConfig(mustJSON(baseConfig()))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	n := &v.inflight[3].n
	if !v.enter(n) || !v.busy() {
		t.Fatal("a verification in progress is not counted")
	}
	n.Add(-1)
	if v.busy() {
		t.Fatal("a count left behind")
	}
	// Once Close has begun, a verification neither proceeds nor leaves a
	// count that would keep Close waiting.
	v.closing.Store(true)
	if v.enter(n) || v.busy() {
		t.Fatal("entered a closing verifier")
	}
	v.closing.Store(false)
	// Two pooled results in a row (one goroutine) count in different shards
	// when the pool makes new ones: round robin.
	a, b := cResults.New().(*cResult), cResults.New().(*cResult)
	if a.shard == b.shard || a.shard >= inflightShards || b.shard >= inflightShards {
		t.Fatalf("shards %d, %d", a.shard, b.shard)
	}
}

func TestRetryAfterSaturates(t *testing.T) {
	if got := retryAfter(3); got != 3*time.Second {
		t.Fatalf("retryAfter(3) = %v", got)
	}
	for _, secs := range []uint64{1e10, 1 << 63, math.MaxUint64} {
		if got := retryAfter(secs); got != time.Duration(math.MaxInt64) {
			t.Fatalf("retryAfter(%d) = %v, want the longest Duration", secs, got)
		}
	}
}

// With several issuer profiles a pushed key set names its profile.
func TestSetJWKSForOneOfSeveralProfiles(t *testing.T) {
	v, err := OpenConfig(mustJSON(map[string]any{"jwt": []any{
		map[string]any{"issuer": "https://a", "jwks": map[string]any{"keys": []any{}}},
		map[string]any{"issuer": "https://b", "jwks": map[string]any{"keys": []any{}}},
	}}))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	other := []byte("other-secret-other-secret-32byte")
	keys := mustJSON(map[string]any{"keys": []any{map[string]any{"kty": "oct", "kid": "hs", "alg": "HS256", "k": b64u(other)}}})
	tok := hs256(map[string]any{"sub": "u", "iss": "https://b", "exp": 1_700_000_005}, "hs", other)
	if err := v.SetJWKS(keys); err == nil || !strings.Contains(v.LastError(), "name the issuer") {
		t.Fatalf("SetJWKS with several profiles: %v", err)
	}
	if err := v.SetJWKSFor("https://b", keys); err != nil {
		t.Fatal(err)
	}
	if r := v.VerifyJWTAt(tok, unix(1_700_000_000)); !r.OK() {
		t.Fatal(r.Code)
	}
	if err := v.SetJWKSFor("https://nobody", keys); err == nil || !strings.Contains(v.LastError(), "nobody") {
		t.Fatalf("unknown issuer: %v", err)
	}
}
