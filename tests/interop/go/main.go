// golang-jwt/jwt/v5 as an interop peer of warden.
//
//	go run . mint OUT.json      one token per algorithm (and an expired HS256
//	                            token) in the vectors format of SPEC §4
//	go run . verify PROBES.json "name<TAB>accept|reject" per probe, the
//	                            algorithm pinned (informational)
package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

const now = 1700000000

var algs = []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func fixed(n *big.Int, size int) []byte { return n.FillBytes(make([]byte, size)) }

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func mint(out string) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	must(err)
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	must(err)
	secrets := map[string][]byte{"HS256": make([]byte, 32), "HS384": make([]byte, 48), "HS512": make([]byte, 64)}
	for _, s := range secrets {
		_, err := rand.Read(s)
		must(err)
	}
	var jwks []map[string]any
	var cases []map[string]any
	for _, alg := range algs {
		kid := "golang-jwt-" + strings.ToLower(alg)
		var jwk map[string]any
		var key any
		switch {
		case strings.HasPrefix(alg, "HS"):
			key = secrets[alg]
			jwk = map[string]any{"kty": "oct", "k": b64(secrets[alg])}
		case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
			key = rsaKey
			jwk = map[string]any{"kty": "RSA", "n": b64(rsaKey.N.Bytes()), "e": b64(big.NewInt(int64(rsaKey.E)).Bytes())}
		case alg == "ES256":
			key = p256
			jwk = map[string]any{"kty": "EC", "crv": "P-256", "x": b64(fixed(p256.X, 32)), "y": b64(fixed(p256.Y, 32))}
		case alg == "ES384":
			key = p384
			jwk = map[string]any{"kty": "EC", "crv": "P-384", "x": b64(fixed(p384.X, 48)), "y": b64(fixed(p384.Y, 48))}
		default:
			key = edPriv
			jwk = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(edPub)}
		}
		jwk["alg"], jwk["kid"] = alg, kid
		jwks = append(jwks, jwk)
		sub := "golang-jwt-" + alg
		claims := jwt.MapClaims{"iss": "https://interop.example", "sub": sub, "iat": now - 60, "exp": now + 3600}
		t := jwt.NewWithClaims(jwt.GetSigningMethod(alg), claims)
		t.Header["kid"] = kid
		s, err := t.SignedString(key)
		must(err)
		cases = append(cases, map[string]any{"name": "golang-jwt " + alg, "now": now, "jwt": s, "expect": "ok",
			"expect_fields": map[string]any{"subject": sub, "kid": kid}})
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "golang-jwt-HS256", "exp": now - 1})
	t.Header["kid"] = "golang-jwt-hs256"
	s, err := t.SignedString(secrets["HS256"])
	must(err)
	cases = append(cases, map[string]any{"name": "golang-jwt HS256 expired 1 s ago", "now": now, "jwt": s, "expect": "expired"})
	der, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	must(err)
	peer := map[string]any{
		"rsa_public_pem": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		"hs256_secret":   b64(secrets["HS256"]),
	}
	doc := map[string]any{"config": map[string]any{"jwt": map[string]any{"jwks": map[string]any{"keys": jwks}}},
		"cases": cases, "peer": peer}
	b, err := json.MarshalIndent(doc, "", " ")
	must(err)
	must(os.WriteFile(out, b, 0o644))
}

type probe struct {
	Name  string         `json:"name"`
	Token string         `json:"token"`
	Alg   string         `json:"alg"`
	Key   map[string]any `json:"key"`
}

func verify(path string) {
	b, err := os.ReadFile(path)
	must(err)
	var probes []probe
	must(json.Unmarshal(b, &probes))
	for _, p := range probes {
		k, _ := p.Key["k"].(string)
		secret, _ := base64.RawURLEncoding.DecodeString(k)
		_, err := jwt.Parse(p.Token, func(*jwt.Token) (any, error) { return secret, nil },
			jwt.WithValidMethods([]string{p.Alg}), jwt.WithExpirationRequired())
		verdict := "accept"
		if err != nil {
			verdict = "reject"
		}
		fmt.Printf("%s\t%s\n", p.Name, verdict)
	}
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: mint OUT.json | verify PROBES.json")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "mint":
		mint(os.Args[2])
	case "verify":
		verify(os.Args[2])
	default:
		os.Exit(2)
	}
}
