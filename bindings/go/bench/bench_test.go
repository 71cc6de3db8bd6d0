// Package bench measures warden's Go binding against github.com/golang-jwt/jwt/v5
// on the same tokens (its own module, so the binding stays dependency-free).
//
//	cd bindings/go/bench && go test -bench . -benchmem
//	WARDEN_BENCH_RATIOS=1 go test -run TestRatios -v     # a table of ratios
//
// Tokens (HS256, RS256 2048-bit, ES256, EdDSA) carry a kid header and a
// ~250-byte payload (iss, sub, aud, exp, iat, nbf, jti, scope, name). They
// are minted here, or, with WARDEN_BENCH_TOKENS=<tokens.json>, read from the
// set benches/hosts/tokens.py writes for every host benchmark (benches/all.sh
// sets it). WARDEN_BENCH_JSON=<file> makes TestRatios also write its table
// there, for benches/report.py. Both
// libraries do the same work per call: verify the signature with the key
// pinned to the alg, check exp/nbf/iat, issuer and audience, and return the
// subject. warden's verified-token cache is off ("cache": {"tokens": 0}), so
// every call checks the signature; warden uses the zero-allocation
// VerifyJWTInto.
package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	warden "github.com/warden-auth/warden/bindings/go"
)

var (
	issuer   = "https://auth.example.com"
	audience = "orders-api"
	subject  = "user-1842@customers.example.com"
)

type claims struct {
	jwt.RegisteredClaims
	Scope string `json:"scope"`
	Name  string `json:"name"`
}

type alg struct {
	name   string
	token  []byte
	key    any // golang-jwt verification key
	method jwt.SigningMethod
}

var (
	algs     []alg
	verifier *warden.Verifier
)

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func pad(n *big.Int, size int) []byte { return n.FillBytes(make([]byte, size)) }

func init() {
	var jwks []map[string]any
	if path := os.Getenv("WARDEN_BENCH_TOKENS"); path != "" {
		jwks = loadTokens(path)
	} else {
		jwks = mintTokens()
	}
	cfg, _ := json.Marshal(map[string]any{
		"jwt":   map[string]any{"jwks": map[string]any{"keys": jwks}, "issuer": []string{issuer}, "audience": []string{audience}},
		"cache": map[string]any{"tokens": 0},
	})
	var err error
	verifier, err = warden.OpenConfig(cfg)
	if err != nil {
		panic(err)
	}
}

// loadTokens reads the shared tokens (benches/hosts/tokens.py): the token,
// its public JWK for warden, and the key file golang-jwt verifies with (the
// raw HMAC secret, or a PEM public key).
func loadTokens(path string) []map[string]any {
	var data struct {
		Issuer, Audience, Subject string
		Algs                      []struct {
			Alg, Token string
			JWK        map[string]any
			KeyFile    string `json:"key_file"`
		}
	}
	text, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(text, &data)
	}
	if err != nil {
		panic(fmt.Sprintf("%s: %v", path, err))
	}
	issuer, audience, subject = data.Issuer, data.Audience, data.Subject
	var jwks []map[string]any
	for _, a := range data.Algs {
		raw, err := os.ReadFile(filepath.Join(filepath.Dir(path), a.KeyFile))
		if err != nil {
			panic(err)
		}
		var key any = raw
		if a.Alg != "HS256" {
			block, _ := pem.Decode(raw)
			if block == nil {
				panic(a.KeyFile + ": no PEM block")
			}
			var pub crypto.PublicKey
			if pub, err = x509.ParsePKIXPublicKey(block.Bytes); err != nil {
				panic(err)
			}
			key = pub
		}
		algs = append(algs, alg{a.Alg, []byte(a.Token), key, jwt.GetSigningMethod(a.Alg)})
		jwks = append(jwks, a.JWK)
	}
	return jwks
}

// mintTokens makes a key per alg and signs a token with each.
func mintTokens() []map[string]any {
	now := time.Now()
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   subject,
			Audience:  jwt.ClaimStrings{audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(24 * time.Hour)),
			IssuedAt:  jwt.NewNumericDate(now.Add(-time.Minute)),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ID:        "5c1c1a8e-8f3b-4b5e-9a4f-1d2e3f4a5b6c",
		},
		Scope: "orders:read orders:write invoices:read",
		Name:  "Ada Lovelace-Byron of the Analytical Engine",
	}
	var jwks []map[string]any
	add := func(name, kid string, method jwt.SigningMethod, signKey, verifyKey any, jwk map[string]any) {
		t := jwt.NewWithClaims(method, c)
		t.Header["kid"] = kid
		s, err := t.SignedString(signKey)
		if err != nil {
			panic(err)
		}
		jwk["kid"], jwk["alg"] = kid, name
		jwks = append(jwks, jwk)
		algs = append(algs, alg{name, []byte(s), verifyKey, method})
	}

	secret := sha256.Sum256([]byte("warden bench secret"))
	add("HS256", "bench-hs256", jwt.SigningMethodHS256, secret[:], secret[:],
		map[string]any{"kty": "oct", "k": b64u(secret[:])})

	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	add("RS256", "bench-rs256", jwt.SigningMethodRS256, rk, &rk.PublicKey,
		map[string]any{"kty": "RSA", "n": b64u(rk.N.Bytes()), "e": b64u(big.NewInt(int64(rk.E)).Bytes())})

	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	add("ES256", "bench-es256", jwt.SigningMethodES256, ek, &ek.PublicKey,
		map[string]any{"kty": "EC", "crv": "P-256", "x": b64u(pad(ek.X, 32)), "y": b64u(pad(ek.Y, 32))})

	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	add("EdDSA", "bench-eddsa", jwt.SigningMethodEdDSA, priv, pub,
		map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64u(pub)})
	return jwks
}

func golangJWT(a alg) (string, error) {
	var c claims
	_, err := jwt.ParseWithClaims(string(a.token), &c, func(*jwt.Token) (any, error) { return a.key, nil },
		jwt.WithValidMethods([]string{a.name}), jwt.WithIssuer(issuer), jwt.WithAudience(audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	return c.Subject, err
}

// TestSameVerdicts: both libraries accept every token with the same subject
// and reject it once tampered.
func TestSameVerdicts(t *testing.T) {
	for _, a := range algs {
		var r warden.Result
		verifier.VerifyJWTInto(&r, a.token, 0)
		if !r.OK() || r.Subject != subject {
			t.Fatalf("%s: warden: %s", a.name, r.Code)
		}
		if s, err := golangJWT(a); err != nil || s != subject {
			t.Fatalf("%s: golang-jwt: %v", a.name, err)
		}
		bad := append([]byte(nil), a.token...)
		bad[len(bad)-5] ^= 'A' ^ 'B'
		verifier.VerifyJWTInto(&r, bad, 0)
		if r.OK() {
			t.Fatalf("%s: warden accepted a tampered token", a.name)
		}
		if _, err := golangJWT(alg{a.name, bad, a.key, a.method}); err == nil {
			t.Fatalf("%s: golang-jwt accepted a tampered token", a.name)
		}
	}
}

func benchWarden(b *testing.B, a alg) {
	var r warden.Result
	b.ReportAllocs()
	b.SetBytes(int64(len(a.token)))
	for i := 0; i < b.N; i++ {
		verifier.VerifyJWTInto(&r, a.token, 0)
		if r.Subject != subject {
			b.Fatal(r.Code)
		}
	}
}

func benchWardenOwned(b *testing.B, a alg) {
	tok := string(a.token)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if r := verifier.VerifyJWT(tok); r.Subject != subject {
			b.Fatal(r.Code)
		}
	}
}

func benchGolangJWT(b *testing.B, a alg) {
	b.ReportAllocs()
	b.SetBytes(int64(len(a.token)))
	for i := 0; i < b.N; i++ {
		if s, err := golangJWT(a); err != nil || s != subject {
			b.Fatal(err)
		}
	}
}

func BenchmarkWarden(b *testing.B) {
	for _, a := range algs {
		b.Run(a.name, func(b *testing.B) { benchWarden(b, a) })
	}
}

// BenchmarkWardenOwned: the convenient API (a Result that owns its strings).
func BenchmarkWardenOwned(b *testing.B) {
	for _, a := range algs {
		b.Run(a.name, func(b *testing.B) { benchWardenOwned(b, a) })
	}
}

func BenchmarkGolangJWT(b *testing.B) {
	for _, a := range algs {
		b.Run(a.name, func(b *testing.B) { benchGolangJWT(b, a) })
	}
}

// BenchmarkWardenParallel: one verifier shared by GOMAXPROCS goroutines.
func BenchmarkWardenParallel(b *testing.B) {
	for _, a := range algs {
		b.Run(a.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var r warden.Result
				for pb.Next() {
					verifier.VerifyJWTInto(&r, a.token, 0)
					if !r.OK() {
						b.Error(r.Code)
						return
					}
				}
			})
		})
	}
}

// TestRatios prints golang-jwt time / warden time per alg (set
// WARDEN_BENCH_RATIOS=1; it takes about half a minute, less with
// WARDEN_BENCH_ROUNDS below 5). Each library runs on a locked OS thread and
// is timed in that thread's CPU time
// (CLOCK_THREAD_CPUTIME_ID), so time spent descheduled on a shared machine
// does not count; rounds are interleaved (warden, owned, golang-jwt, repeat)
// and the best of each is kept. Garbage collection runs on other threads and
// is not counted, which favours golang-jwt (73-90 allocations per call
// against warden's 0). It asserts nothing: no test depends on timings.
func TestRatios(t *testing.T) {
	if os.Getenv("WARDEN_BENCH_RATIOS") == "" {
		t.Skip("set WARDEN_BENCH_RATIOS=1")
	}
	rounds := 5
	if n, err := strconv.Atoi(os.Getenv("WARDEN_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	type row struct {
		Alg          string  `json:"alg"`
		Bytes        int     `json:"bytes"`
		WardenNs     float64 `json:"warden_ns"`
		OwnedNs      float64 `json:"warden_owned_ns"`
		GolangJWTNs  float64 `json:"golang_jwt_ns"`
		Allocs       float64 `json:"warden_allocs"`
		GolangAllocs float64 `json:"golang_jwt_allocs"`
	}
	var rows []row
	fmt.Printf("%-6s %12s %12s %12s %9s %9s %7s %10s\n", "alg", "warden ns", "owned ns", "golang-jwt ns", "ratio", "owned", "allocs", "jwt allocs")
	for _, a := range algs {
		a := a
		var r warden.Result
		tok := string(a.token)
		wardenInto := func() { verifier.VerifyJWTInto(&r, a.token, 0) }
		fns := []func(){wardenInto, func() { verifier.VerifyJWT(tok) }, func() { _, _ = golangJWT(a) }}
		best := []float64{0, 0, 0}
		for round := 0; round < rounds; round++ {
			for i, f := range fns {
				if ns := cpuNsPerOp(f); round == 0 || ns < best[i] {
					best[i] = ns
				}
			}
		}
		allocs := testing.AllocsPerRun(100, wardenInto)
		jwtAllocs := testing.AllocsPerRun(100, fns[2])
		fmt.Printf("%-6s %12.0f %12.0f %12.0f %8.1fx %8.1fx %7.0f %10.0f\n", a.name, best[0], best[1], best[2],
			best[2]/best[0], best[2]/best[1], allocs, jwtAllocs)
		rows = append(rows, row{a.name, len(a.token), best[0], best[1], best[2], allocs, jwtAllocs})
	}
	if path := os.Getenv("WARDEN_BENCH_JSON"); path != "" {
		out, _ := json.MarshalIndent(map[string]any{"go": runtime.Version(), "rounds": rounds, "algs": rows}, "", " ")
		if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// cpuNsPerOp is f's cost in CPU nanoseconds of the calling (locked) thread:
// batches of about 30 ms, best batch of 5.
func cpuNsPerOp(f func()) float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for i := 0; i < 100; i++ {
		f()
	}
	n := 1
	for {
		t0 := threadCPU()
		for i := 0; i < n; i++ {
			f()
		}
		if threadCPU()-t0 > 30*time.Millisecond {
			break
		}
		n *= 2
	}
	best := time.Duration(1 << 62)
	for b := 0; b < 5; b++ {
		t0 := threadCPU()
		for i := 0; i < n; i++ {
			f()
		}
		if d := threadCPU() - t0; d < best {
			best = d
		}
	}
	return float64(best.Nanoseconds()) / float64(n)
}
