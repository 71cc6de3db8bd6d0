package warden

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// vectorsDir is $WARDEN_VECTORS, else <checkout>/../shared/vectors.
func vectorsDir(t *testing.T) string {
	if d := os.Getenv("WARDEN_VECTORS"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "..", "..", "..", "shared", "vectors")
}

type vectorFile struct {
	Config     json.RawMessage   `json:"config"`
	Cases      []vectorCase      `json:"cases"`
	Files      map[string]string `json:"files"`
	ExpectLoad string            `json:"expect_load"`
}

type vectorCase struct {
	Name          string          `json:"name"`
	Now           float64         `json:"now"`
	JWT           *string         `json:"jwt"`
	APIKey        *string         `json:"api_key"`
	Basic         *string         `json:"basic"`
	Authorization *string         `json:"authorization"`
	Expect        string          `json:"expect"`
	Repeat        int             `json:"repeat"`
	ExpectFields  map[string]any  `json:"expect_fields"`
	Raw           json.RawMessage `json:"-"`
}

func verifyCase(v *Verifier, c *vectorCase, r *Result) {
	switch {
	case c.JWT != nil:
		v.VerifyJWTInto(r, []byte(*c.JWT), c.Now)
	case c.APIKey != nil:
		v.VerifyAPIKeyInto(r, []byte(*c.APIKey), c.Now)
	case c.Basic != nil:
		user, pass, ok := strings.Cut(*c.Basic, ":")
		if !ok {
			// `warden verify --basic` takes USER:PASS; without a colon there is no
			// pair for VerifyBasic. The same bytes as a Basic Authorization value
			// are the same credential (SPEC §5: no colon after decoding -> malformed).
			v.VerifyAuthorizationInto(r, []byte("Basic "+base64.StdEncoding.EncodeToString([]byte(*c.Basic))), c.Now)
			return
		}
		v.VerifyBasicInto(r, []byte(user), []byte(pass), c.Now)
	default:
		v.VerifyAuthorizationInto(r, []byte(*c.Authorization), c.Now)
	}
}

func fields(r *Result) map[string]any {
	m := map[string]any{"ok": r.OK(), "kind": r.Kind.String()}
	if r.Subject != "" {
		m["subject"] = r.Subject
	}
	if r.Kid != "" {
		m["kid"] = r.Kid
	}
	if r.KeyID != "" {
		m["key_id"] = r.KeyID
	}
	if r.HasExp {
		m["exp"] = r.Exp
	}
	if r.Kind == KindAPIKey || len(r.Scopes) > 0 {
		s := make([]any, len(r.Scopes))
		for i, x := range r.Scopes {
			s[i] = x
		}
		m["scopes"] = s
	}
	return m
}

// TestVectors runs every case of every shared vector file (SPEC §4), each with
// a fresh verifier (as a fresh `warden verify` process), through the
// zero-allocation API and again through the convenient one.
func TestVectors(t *testing.T) {
	dir := vectorsDir(t)
	paths, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	sort.Strings(paths)
	if len(paths) == 0 {
		t.Fatalf("no vector files in %s (set WARDEN_VECTORS)", dir)
	}
	total := 0
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var f vectorFile
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		tmp := t.TempDir()
		for fname, content := range f.Files {
			if strings.ContainsAny(fname, "/\\") {
				t.Fatalf("%s: bad file name %q", name, fname)
			}
			if err := os.WriteFile(filepath.Join(tmp, fname), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cfg := filepath.Join(tmp, "config.json")
		if err := os.WriteFile(cfg, f.Config, 0o600); err != nil {
			t.Fatal(err)
		}
		if f.ExpectLoad == "error" {
			total++
			t.Run(name+"/expect_load", func(t *testing.T) {
				v, err := Open(cfg)
				if err == nil {
					v.Close()
					t.Fatal("SECURITY: config loaded, expected a load error")
				}
				var ce *ConfigError
				if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "config.json") {
					t.Fatalf("want a *ConfigError naming the file, got %v", err)
				}
			})
			continue
		}
		for i := range f.Cases {
			c := &f.Cases[i]
			total++
			t.Run(name+"/"+c.Name, func(t *testing.T) {
				v, err := Open(cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer v.Close()
				var r Result
				n := c.Repeat
				if n < 1 {
					n = 1
				}
				for k := 0; k < n; k++ {
					verifyCase(v, c, &r)
				}
				check(t, c, &r)
				if n == 1 && c.Basic == nil {
					// The convenient API gives the same verdict (on a fresh verifier).
					v2, err := Open(cfg)
					if err != nil {
						t.Fatal(err)
					}
					defer v2.Close()
					var r2 Result
					switch {
					case c.JWT != nil:
						r2 = v2.VerifyJWTAt(*c.JWT, unix(c.Now))
					case c.APIKey != nil:
						r2 = v2.VerifyAPIKeyAt(*c.APIKey, unix(c.Now))
					default:
						r2 = v2.VerifyAuthorizationAt(*c.Authorization, unix(c.Now))
					}
					check(t, c, &r2)
				}
			})
		}
	}
	t.Logf("%d vector checks over %d files", total, len(paths))
}

func check(t *testing.T, c *vectorCase, r *Result) {
	t.Helper()
	if r.Err() != nil {
		t.Fatalf("call failed: %v", r.Err())
	}
	if c.Expect == "ok" {
		if !r.OK() {
			t.Fatalf("expected ok, got %s", r.Code)
		}
		got := fields(r)
		for k, want := range c.ExpectFields {
			if g, ok := got[k]; !ok || !jsonEqual(g, want) {
				t.Fatalf("field %s: expected %v, got %v", k, want, got)
			}
		}
		return
	}
	if r.OK() {
		t.Fatalf("SECURITY: accepted, expected %s", c.Expect)
	}
	if r.Code.String() != c.Expect {
		t.Fatalf("expected %s, got %s", c.Expect, r.Code)
	}
	if c.Expect == "rate_limited" && r.RetryAfter < 1e9 {
		t.Fatalf("rate_limited without RetryAfter")
	}
}

func jsonEqual(a, b any) bool {
	var x, y any
	_ = json.Unmarshal(mustJSON(a), &x)
	_ = json.Unmarshal(mustJSON(b), &y)
	return reflect.DeepEqual(x, y)
}
