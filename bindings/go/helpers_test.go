package warden

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"testing"
	"time"
)

const testNow = 1_700_000_000

var (
	nowTime  = time.Unix(testNow, 0)
	hsSecret = []byte("warden-go-binding-test-secret-32")
	apiKey   = makeAPIKey("tk_test", "AAAAAAAAAAbbbbbbbbbbCCCCCCCCCCd2")
)

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func hs256(payload map[string]any, kid string, secret []byte) string {
	h, _ := json.Marshal(map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid})
	p, _ := json.Marshal(payload)
	signing := b64u(h) + "." + b64u(p)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(signing))
	return signing + "." + b64u(m.Sum(nil))
}

func token(sub, scope string, extra map[string]any) string {
	p := map[string]any{"sub": sub, "exp": testNow + 3600, "iat": testNow - 10}
	if scope != "" {
		p["scope"] = scope
	}
	for k, v := range extra {
		if v == nil {
			delete(p, k)
		} else {
			p[k] = v
		}
	}
	return hs256(p, "hs", hsSecret)
}

func makeAPIKey(prefix, random string) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	body := prefix + "_" + random
	n := crc32.ChecksumIEEE([]byte(body))
	var d [6]byte
	for i := 5; i >= 0; i-- {
		d[i] = alphabet[n%62]
		n /= 62
	}
	return body + string(d[:])
}

func phc(password string, iterations int) string {
	salt := []byte("0123456789abcdef")
	dk, err := pbkdf2.Key(sha256.New, password, salt, iterations, 32)
	if err != nil {
		panic(err)
	}
	enc := base64.RawStdEncoding.EncodeToString
	return fmt.Sprintf("$pbkdf2-sha256$i=%d$%s$%s", iterations, enc(salt), enc(dk))
}

func baseConfig() map[string]any {
	sum := sha256.Sum256([]byte(apiKey))
	return map[string]any{
		"jwt": map[string]any{
			"jwks": map[string]any{"keys": []any{
				map[string]any{"kty": "oct", "kid": "hs", "alg": "HS256", "k": b64u(hsSecret)},
			}},
		},
		"api_keys": map[string]any{
			"prefixes": []string{"tk_test"},
			"keys": []any{map[string]any{
				"id": "key-1", "sha256": hex.EncodeToString(sum[:]), "owner": "billing",
				"scopes": []string{"orders:read", "orders:write"},
				"rate":   map[string]any{"per_s": 1, "burst": 2},
			}},
		},
		"basic": map[string]any{"users": []any{map[string]any{"user": "alice", "hash": phc("wonderland", 1000)}}},
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func newVerifier(t testing.TB) *Verifier {
	t.Helper()
	v, err := OpenConfig(mustJSON(baseConfig()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func unix(secs float64) time.Time {
	s := int64(secs)
	return time.Unix(s, int64((secs-float64(s))*1e9))
}
