package warden

/*
#include "warden.h"
*/
import "C"

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
	"unsafe"
)

// Result is the verdict of one verification.
//
// From VerifyXxx it owns its strings. Filled by VerifyXxxInto it reuses its
// buffers: its strings (and Claim's input) change when it is reused, so
// copy what must outlive that (strings.Clone).
type Result struct {
	// CodeOK when accepted, a SPEC §3 code when rejected, CodeInvalidArgument
	// or CodeInternal when the call failed (see Err).
	Code Code
	// The credential kind (for a rejected Authorization value, the kind its
	// scheme announced); KindNone when the call failed.
	Kind Kind
	// Accepted only: the JWT sub, the API key's owner, the Basic user ("" when absent).
	Subject string
	// Accepted JWTs: the kid of the key that verified the token.
	Kid string
	// Accepted API keys: the key's configured id.
	KeyID string
	// Accepted only: JWT scope split on spaces (or scp), the API key's scopes.
	Scopes []string
	// Accepted JWTs with exp: its value in seconds since the epoch (HasExp tells).
	Exp    float64
	HasExp bool
	// CodeRateLimited only: how long until a retry can succeed (whole seconds, >= 1s).
	RetryAfter time.Duration

	payload []byte // accepted JWT: the base64url payload segment (in buf, or the caller's string)
	buf     []byte // copies of the strings above (reused by the *Into methods)
	spans   []span
}

type span struct{ off, n int }

// OK reports whether the credential was accepted.
func (r *Result) OK() bool { return r.Code == CodeOK }

// Err is nil for any verdict (accepted or rejected) and an error when the
// call itself failed (a closed verifier, a non-finite time, a warden bug).
func (r *Result) Err() error {
	if r.Code < 100 {
		return nil
	}
	if r.Code == CodeInvalidArgument {
		return errInvalid
	}
	return callError(r.Code, "")
}

var errInvalid = callError(CodeInvalidArgument, "closed verifier or non-finite time")

// HasScope reports whether the accepted credential carries scope.
func (r *Result) HasScope(scope string) bool {
	for _, s := range r.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// HasScopes reports whether it carries every one of scopes.
func (r *Result) HasScopes(scopes ...string) bool {
	for _, s := range scopes {
		if !r.HasScope(s) {
			return false
		}
	}
	return true
}

func cbytes(p *C.char, n C.size_t) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n))
}

// fill copies the verdict out of the C result (before the C result is reused).
func (r *Result) fill(c *C.warden_result, src []byte, authorization bool) {
	r.Code = Code(c.code)
	r.Kind = Kind(c.kind)
	r.Subject, r.Kid, r.KeyID = "", "", ""
	r.Scopes = r.Scopes[:0]
	r.Exp, r.HasExp = float64(c.exp), bool(c.has_exp)
	r.RetryAfter = time.Duration(c.retry_after_s) * time.Second
	r.payload = nil
	if r.Code != CodeOK {
		r.Exp, r.HasExp = 0, false
		return
	}
	count := int(c.scope_count)
	buf := r.buf[:0]
	if cap(buf) == 0 { // a fresh Result: one allocation of about the right size
		buf = make([]byte, 0, int(c.subject_len+c.kid_len+c.key_id_len)+32*count+len(src))
	}
	spans := r.spans[:0]
	if cap(spans) < 4+count {
		spans = make([]span, 0, 4+count)
	}
	if cap(r.Scopes) < count {
		r.Scopes = make([]string, 0, count)
	}
	add := func(p *C.char, n C.size_t) {
		spans = append(spans, span{len(buf), int(n)})
		if n > 0 {
			buf = append(buf, cbytes(p, n)...)
		}
	}
	add(c.subject, c.subject_len)
	add(c.kid, c.kid_len)
	add(c.key_id, c.key_id_len)
	for i := 0; i < count; i++ {
		var p *C.char
		var n C.size_t
		if C.warden_result_scope(c, C.size_t(i), &p, &n) == C.WARDEN_CODE_OK {
			add(p, n)
		}
	}
	if r.Kind == KindJWT && src != nil {
		if seg := payloadSegment(src, authorization); seg != nil {
			spans = append(spans, span{len(buf), len(seg)})
			buf = append(buf, seg...)
		}
	}
	// Strings are made once buf has stopped growing.
	str := func(s span) string {
		if s.n == 0 {
			return ""
		}
		return unsafe.String(&buf[s.off], s.n)
	}
	r.Subject, r.Kid, r.KeyID = str(spans[0]), str(spans[1]), str(spans[2])
	for _, s := range spans[3 : 3+count] {
		r.Scopes = append(r.Scopes, str(s))
	}
	if len(spans) > 3+count {
		s := spans[3+count]
		r.payload = buf[s.off : s.off+s.n : s.off+s.n]
	}
	r.buf, r.spans = buf, spans
}

// detach gives up the buffers, so that the strings are the Result's own
// (a later *Into on the same Result starts new buffers).
func (r *Result) detach() {
	r.buf, r.spans = nil, nil
	if len(r.Scopes) == 0 {
		r.Scopes = nil
	}
}

// payloadSegment finds the payload segment of the token warden accepted.
func payloadSegment(src []byte, authorization bool) []byte {
	if authorization {
		src = bytes.Trim(src, " \t")
		i := bytes.IndexAny(src, " \t")
		if i < 0 {
			return nil
		}
		src = bytes.TrimLeft(src[i:], " \t")
	}
	i := bytes.IndexByte(src, '.')
	if i < 0 {
		return nil
	}
	rest := src[i+1:]
	j := bytes.IndexByte(rest, '.')
	if j < 0 {
		return nil
	}
	return rest[:j]
}

// Payload is the JSON payload of an accepted JWT, as signed (nil otherwise).
func (r *Result) Payload() []byte {
	if r.payload == nil {
		return nil
	}
	out, err := base64.RawURLEncoding.DecodeString(string(r.payload))
	if err != nil {
		return nil
	}
	return out
}

func (r *Result) claims() map[string]json.RawMessage {
	p := r.Payload()
	if p == nil {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(p, &m) != nil {
		return nil
	}
	return m
}

// Claim is a top-level claim of an accepted JWT as JSON text.
func (r *Result) Claim(name string) (json.RawMessage, bool) {
	v, ok := r.claims()[name]
	return v, ok
}

// ClaimPath is a nested claim named by a dotted path ("realm_access.roles").
func (r *Result) ClaimPath(path string) (json.RawMessage, bool) {
	m := r.claims()
	steps := strings.Split(path, ".")
	for i, step := range steps {
		v, ok := m[step]
		if !ok {
			return nil, false
		}
		if i == len(steps)-1 {
			return v, true
		}
		m = nil
		if json.Unmarshal(v, &m) != nil {
			return nil, false
		}
	}
	return nil, false
}

// ClaimString is the value of a string claim; false when absent or not a string.
func (r *Result) ClaimString(name string) (string, bool) {
	raw, ok := r.Claim(name)
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// Claims decodes every claim of an accepted JWT (nil otherwise).
func (r *Result) Claims() map[string]any {
	p := r.Payload()
	if p == nil {
		return nil
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(p))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return nil
	}
	return m
}
