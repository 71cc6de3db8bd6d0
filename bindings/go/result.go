package warden

/*
#include "call.h"
*/
import "C"

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
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
	// Accepted only: JWT scope split on spaces (else scp: a string split so,
	// or an array's string items), the API key's scopes.
	Scopes []string
	// Accepted JWTs with exp: its value in seconds since the epoch (HasExp tells).
	Exp    float64
	HasExp bool
	// CodeRateLimited only: how long until a retry can succeed (whole seconds, >= 1s).
	RetryAfter time.Duration

	// Accepted JWT: the token (auth false) or Authorization value (auth
	// true) warden accepted, for Payload: a copy in buf, or the caller's
	// string (immutable) for the convenient forms. Its payload segment is
	// found when asked for, not on every verification.
	token []byte
	auth  bool
	buf   []byte // copies of the strings above (reused by the *Into methods)
}

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

// put copies the n bytes at p into buf at off and returns them as a string
// and the offset after them.
func put(buf []byte, off int, p *C.char, n C.size_t) (string, int) {
	if p == nil || n == 0 {
		return "", off
	}
	k := copy(buf[off:], unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n)))
	return unsafe.String(&buf[off], k), off + k
}

// fill copies the verdict out of the C result (before the C result is
// reused). src is the JWT or Authorization value verified (nil for other
// kinds), kept for Payload: copied, or aliased when keep (an immutable string).
func (r *Result) fill(c *cResult, src []byte, authorization, keep bool) {
	res := &c.p.r
	r.Code = Code(res.code)
	r.Kind = Kind(res.kind)
	r.Subject, r.Kid, r.KeyID = "", "", ""
	r.Scopes = r.Scopes[:0]
	r.Exp, r.HasExp = 0, false
	r.RetryAfter = retryAfter(uint64(res.retry_after_s))
	r.token, r.auth = nil, authorization
	if r.Code != CodeOK {
		return
	}
	scopes, ok := c.scopes()
	if !ok { // cannot happen short of a bug in warden: fail closed
		r.Code, r.Kind, r.RetryAfter = CodeInternal, KindNone, 0
		return
	}
	r.Exp, r.HasExp = float64(res.exp), bool(res.has_exp)
	if r.Kind != KindJWT {
		src = nil
	}
	if keep {
		r.token, src = src, nil
	}
	// One buffer for every string, sized first (a fresh Result allocates it
	// once; a reused one keeps it while it is large enough).
	size := int(res.subject_len+res.kid_len+res.key_id_len) + len(src)
	for i := range scopes {
		size += int(scopes[i].len)
	}
	buf := r.buf
	if cap(buf) < size {
		buf = make([]byte, size)
	}
	buf = buf[:cap(buf)]
	if cap(r.Scopes) < len(scopes) {
		r.Scopes = make([]string, len(scopes))
	}
	r.Scopes = r.Scopes[:len(scopes)]
	off := 0
	r.Subject, off = put(buf, off, res.subject, res.subject_len)
	r.Kid, off = put(buf, off, res.kid, res.kid_len)
	r.KeyID, off = put(buf, off, res.key_id, res.key_id_len)
	for i := range scopes {
		r.Scopes[i], off = put(buf, off, scopes[i].ptr, scopes[i].len)
	}
	if src != nil {
		n := copy(buf[off:], src)
		r.token = buf[off : off+n : off+n]
	}
	r.buf = buf
}

// detach gives up the buffers, so that the strings are the Result's own
// (a later *Into on the same Result starts new buffers).
func (r *Result) detach() {
	r.buf = nil
	if len(r.Scopes) == 0 {
		r.Scopes = nil
	}
}

// payloadSegment finds the payload segment of the token warden accepted
// (src is an Authorization value when authorization is true).
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
	seg := payloadSegment(r.token, r.auth)
	if seg == nil {
		return nil
	}
	out := make([]byte, base64.RawURLEncoding.DecodedLen(len(seg)))
	n, err := base64.RawURLEncoding.Decode(out, seg)
	if err != nil {
		return nil
	}
	return out[:n]
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

// retryAfter is secs seconds, saturating at the longest Duration rather than
// wrapping to a negative one.
func retryAfter(secs uint64) time.Duration {
	if secs > uint64(math.MaxInt64/int64(time.Second)) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(secs) * time.Second
}
