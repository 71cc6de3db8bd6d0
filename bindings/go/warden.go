package warden

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/../../target/release -l:libwarden.a -lgcc_s -lutil -lrt -lpthread -lm -ldl
#cgo noescape wg_verify
#cgo noescape warden_result_scopes
#cgo nocallback wg_verify
#cgo nocallback warden_result_scopes
#include <stdlib.h>
#include "call.h"
*/
import "C"

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// ConfigError is a refused config, reload or JWK Set: Msg says where and why
// ("<file>: <JSON path>: <reason>"). A refused reload leaves the old config
// serving.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return "warden: config refused: " + e.Msg }

// ErrClosed is returned by methods of a closed Verifier (verifications
// return a Result with CodeInvalidArgument instead).
var ErrClosed = errors.New("warden: verifier is closed")

// Version is the version of the linked libwarden ("0.1.0").
func Version() string { return C.GoString(C.warden_version()) }

// Verifier is a loaded config. It is safe for concurrent use: share one
// between every goroutine. Reloads, key swaps and revocations never block
// verifications on the warden side.
type Verifier struct {
	mu sync.RWMutex // Close takes it exclusively; every other method but the verifications shares it
	h  *C.warden_verifier
	// Set once Close has begun. A verification reads h only after counting
	// itself in (inflight) and then not seeing closing; Close sets closing,
	// then frees h only once every count is back to 0. Sequentially
	// consistent atomics make the two orders meet: either the verification
	// sees closing and backs out, or Close sees its count.
	closing atomic.Bool
	_       [64]byte // closing is read by every call: not on a counter's line
	// Verifications in progress, spread over cache lines: a verification
	// counts itself in the shard of the pooled C result it uses, and
	// sync.Pool hands out results per P, so goroutines on different cores
	// mostly touch different lines (one shared counter bounced between
	// cores twice per call).
	inflight [inflightShards]inflightShard
}

const inflightShards = 8

type inflightShard struct {
	n atomic.Int64
	_ [56]byte // a cache line each
}

// Open loads the config file at path (SPEC §1). Relative jwks_file and
// htpasswd_file names are relative to the file. A config with remote keys
// fetches them here first; key-set events are logged (see Logger).
func Open(path string) (*Verifier, error) {
	var out *C.warden_verifier
	var errBuf [2048]C.char
	p := unsafe.StringData(path)
	rc := C.warden_verifier_new_from_file_with_logger((*C.char)(unsafe.Pointer(p)), C.size_t(len(path)), C.wg_log_fn(), nil, &out, &errBuf[0], C.size_t(len(errBuf)))
	runtime.KeepAlive(path)
	return made(rc, out, &errBuf[0])
}

// OpenConfig loads a config given as JSON text. Relative file names in it
// resolve against the current directory.
func OpenConfig(json []byte) (*Verifier, error) {
	var out *C.warden_verifier
	var errBuf [2048]C.char
	rc := C.warden_verifier_new_from_json_with_logger(u8(json), C.size_t(len(json)), C.wg_log_fn(), nil, &out, &errBuf[0], C.size_t(len(errBuf)))
	runtime.KeepAlive(json)
	return made(rc, out, &errBuf[0])
}

func made(rc C.uint32_t, out *C.warden_verifier, errBuf *C.char) (*Verifier, error) {
	if rc == C.WARDEN_CODE_OK && out != nil {
		v := &Verifier{h: out}
		runtime.SetFinalizer(v, (*Verifier).Close)
		return v, nil
	}
	msg := C.GoString(errBuf)
	if Code(rc) == CodeConfig {
		return nil, &ConfigError{Msg: msg}
	}
	return nil, callError(Code(rc), msg)
}

// Close frees the verifier. It waits for verifications in progress; later
// calls get ErrClosed / CodeInvalidArgument. Results stay valid. Closing
// twice is fine.
func (v *Verifier) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.h != nil {
		v.closing.Store(true)
		for spins := 0; v.busy(); spins++ {
			if spins < 100 {
				runtime.Gosched()
			} else {
				time.Sleep(100 * time.Microsecond) // a password hash takes milliseconds
			}
		}
		C.warden_verifier_free(v.h)
		v.h = nil
		runtime.SetFinalizer(v, nil)
	}
	return nil
}

func u8(b []byte) *C.uint8_t { return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(b))) }

// Seconds converts a time for the *Into methods: seconds since the epoch,
// with fractions; the zero time gives 0, which means the system clock.
func Seconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

// ---- C results: one per call, from a pool (allocated and initialised once)

// cResult is a pooled wg_call (call.h): the C result and the scopes the
// verifying cgo call gathered.
type cResult struct {
	p     *C.wg_call
	more  []C.warden_str // scopes past WG_SCOPES (a second call; kept for reuse)
	shard uint32         // the in-flight shard verifications with it count in
}

// nextShard spreads new pooled results over the in-flight shards.
var nextShard atomic.Uint32

func freeCResult(c *cResult) {
	C.warden_result_free(&c.p.r)
	C.free(unsafe.Pointer(c.p))
}

var cResults = sync.Pool{New: func() any {
	c := &cResult{p: (*C.wg_call)(C.calloc(1, C.size_t(unsafe.Sizeof(C.wg_call{})))), shard: nextShard.Add(1) % inflightShards}
	if c.p == nil {
		panic("warden: out of memory")
	}
	C.warden_result_init(&c.p.r)
	// A pool may drop idle items at a GC: release the C memory with them.
	runtime.SetFinalizer(c, freeCResult)
	return c
}}

// Operations of wg_verify.
const (
	opJWT           = C.WG_JWT
	opAPIKey        = C.WG_API_KEY
	opBasic         = C.WG_BASIC
	opAuthorization = C.WG_AUTHORIZATION
)

// enter counts a verification in on shard n, unless Close has begun
// (false: h must not be read; nothing to undo). A closed verifier's calls
// mostly leave the counts alone, so that they cannot keep Close waiting.
func (v *Verifier) enter(n *atomic.Int64) bool {
	if v.closing.Load() {
		return false
	}
	n.Add(1)
	if v.closing.Load() {
		n.Add(-1)
		return false
	}
	return true
}

// busy: some verification is still counted in.
func (v *Verifier) busy() bool {
	for i := range v.inflight {
		if v.inflight[i].n.Load() != 0 {
			return true
		}
	}
	return false
}

// verify runs one verification (one cgo call, scopes included) and fills r.
// a and b are the credential's parts (b only for Basic); src is the JWT or
// Authorization value to find an accepted token's payload in (nil: none),
// copied unless keep (it is an immutable string).
func (v *Verifier) verify(r *Result, op C.int, a *byte, alen int, b *byte, blen int, now float64, src []byte, authorization, keep bool) {
	c := cResults.Get().(*cResult)
	var h *C.warden_verifier // NULL once closed: warden answers WARDEN_CODE_INVALID_ARGUMENT
	n := &v.inflight[c.shard].n
	in := v.enter(n)
	if in {
		h = v.h
	}
	// h and c.p are C memory, passed as integers (see call.h).
	C.wg_verify(op, C.uintptr_t(uintptr(unsafe.Pointer(h))), (*C.uint8_t)(unsafe.Pointer(a)), C.size_t(alen),
		(*C.uint8_t)(unsafe.Pointer(b)), C.size_t(blen), C.double(now), C.uintptr_t(uintptr(unsafe.Pointer(c.p))))
	if in {
		n.Add(-1)
	}
	r.fill(c, src, authorization, keep)
	cResults.Put(c)
}

// scopes are the scopes of the accepted verdict in c (ok false: they could
// not be read, a warden bug).
func (c *cResult) scopes() (s []C.warden_str, ok bool) {
	n := int(c.p.nscopes)
	switch c.p.scopes_rc {
	case C.WARDEN_CODE_OK:
		return c.p.scopes[:n:n], true
	case C.WARDEN_CODE_BUFFER_TOO_SMALL:
		if cap(c.more) < n {
			c.more = make([]C.warden_str, n)
		}
		var got C.size_t
		if C.warden_result_scopes(&c.p.r, &c.more[0], C.size_t(cap(c.more)), &got) == C.WARDEN_CODE_OK {
			return c.more[:got:got], true
		}
	}
	return nil, false
}

// ---- verification: zero-allocation forms

// VerifyJWTInto verifies the compact JWS token (without "Bearer") at time now
// (seconds since the epoch; 0 = the system clock) into r, reusing r's
// buffers: no allocation once r has held a result this large. r's strings
// alias its buffer and change when r is reused; use VerifyJWT, or copy them,
// to keep them longer.
func (v *Verifier) VerifyJWTInto(r *Result, token []byte, now float64) {
	v.verify(r, opJWT, unsafe.SliceData(token), len(token), nil, 0, now, token, false, false)
}

// VerifyAPIKeyInto verifies an API key; see VerifyJWTInto.
func (v *Verifier) VerifyAPIKeyInto(r *Result, key []byte, now float64) {
	v.verify(r, opAPIKey, unsafe.SliceData(key), len(key), nil, 0, now, nil, false, false)
}

// VerifyBasicInto verifies a Basic user and password (raw octets); see
// VerifyJWTInto. A password check takes milliseconds (PBKDF2, bcrypt) unless
// warden's credential cache holds the pair.
func (v *Verifier) VerifyBasicInto(r *Result, user, password []byte, now float64) {
	v.verify(r, opBasic, unsafe.SliceData(user), len(user), unsafe.SliceData(password), len(password), now, nil, false, false)
}

// VerifyAuthorizationInto verifies an HTTP Authorization value ("Bearer
// <JWT>", "Bearer <API key>", "Basic <base64>"); see VerifyJWTInto.
// r.Kind says which credential it was.
func (v *Verifier) VerifyAuthorizationInto(r *Result, value []byte, now float64) {
	v.verify(r, opAuthorization, unsafe.SliceData(value), len(value), nil, 0, now, value, true, false)
}

// ---- verification: convenient forms (the Result owns its strings)

// bytesOf is s's bytes, without a copy (read only).
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// VerifyJWT verifies a compact JWS (without "Bearer") by the system clock.
func (v *Verifier) VerifyJWT(token string) Result { return v.VerifyJWTAt(token, time.Time{}) }

// VerifyJWTAt verifies a compact JWS as of now (the zero time: the clock).
func (v *Verifier) VerifyJWTAt(token string, now time.Time) Result {
	var r Result
	v.verify(&r, opJWT, unsafe.StringData(token), len(token), nil, 0, Seconds(now), bytesOf(token), false, true)
	r.detach()
	return r
}

// VerifyAPIKey verifies an API key by the system clock.
func (v *Verifier) VerifyAPIKey(key string) Result { return v.VerifyAPIKeyAt(key, time.Time{}) }

// VerifyAPIKeyAt verifies an API key as of now (the zero time: the clock).
func (v *Verifier) VerifyAPIKeyAt(key string, now time.Time) Result {
	var r Result
	v.verify(&r, opAPIKey, unsafe.StringData(key), len(key), nil, 0, Seconds(now), nil, false, true)
	r.detach()
	return r
}

// VerifyBasic verifies a Basic user and password by the system clock.
func (v *Verifier) VerifyBasic(user, password string) Result {
	return v.VerifyBasicAt(user, password, time.Time{})
}

// VerifyBasicAt verifies a Basic user and password as of now.
func (v *Verifier) VerifyBasicAt(user, password string, now time.Time) Result {
	var r Result
	v.verify(&r, opBasic, unsafe.StringData(user), len(user), unsafe.StringData(password), len(password), Seconds(now), nil, false, true)
	r.detach()
	return r
}

// VerifyAuthorization verifies an HTTP Authorization value by the system clock.
func (v *Verifier) VerifyAuthorization(value string) Result {
	return v.VerifyAuthorizationAt(value, time.Time{})
}

// VerifyAuthorizationAt verifies an HTTP Authorization value as of now.
func (v *Verifier) VerifyAuthorizationAt(value string, now time.Time) Result {
	var r Result
	v.verify(&r, opAuthorization, unsafe.StringData(value), len(value), nil, 0, Seconds(now), bytesOf(value), true, true)
	r.detach()
	return r
}

// ---- configuration at run time

func (v *Verifier) status(rc C.uint32_t) error {
	switch Code(rc) {
	case CodeOK:
		return nil
	case CodeConfig:
		return &ConfigError{Msg: v.lastErrorLocked()}
	}
	if v.h == nil {
		return ErrClosed
	}
	return callError(Code(rc), "")
}

func callError(c Code, msg string) error {
	if msg != "" {
		return errors.New("warden: " + c.String() + ": " + msg)
	}
	return errors.New("warden: " + c.String())
}

// Reload re-reads the config file (Open verifiers). A *ConfigError means the
// new config was refused and the old one keeps serving.
func (v *Verifier) Reload() error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.status(C.warden_verifier_reload(v.h))
}

// ReloadFile switches to the config file at path (all or nothing).
func (v *Verifier) ReloadFile(path string) error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	rc := C.warden_verifier_reload_from_file(v.h, (*C.char)(unsafe.Pointer(unsafe.StringData(path))), C.size_t(len(path)))
	return v.status(rc)
}

// ReloadConfig switches to the config in JSON text (all or nothing).
func (v *Verifier) ReloadConfig(json []byte) error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.status(C.warden_verifier_reload_from_json(v.h, u8(json), C.size_t(len(json))))
}

// SetJWKS replaces the JWT key set with a JWK Set ({"keys": [...]}),
// keeping the policy.
func (v *Verifier) SetJWKS(jwks []byte) error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.status(C.warden_verifier_set_jwks(v.h, u8(jwks), C.size_t(len(jwks))))
}

// SetJWKSFor is SetJWKS for the issuer profile whose issuer list holds
// issuer, when the config has several profiles.
func (v *Verifier) SetJWKSFor(issuer string, jwks []byte) error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	iss := (*C.char)(unsafe.Pointer(unsafe.StringData(issuer)))
	return v.status(C.warden_verifier_set_jwks_for(v.h, iss, C.size_t(len(issuer)), u8(jwks), C.size_t(len(jwks))))
}

// PauseRefresh stops refreshing remote key sets (jwks_uri, discovery) in
// the background, returning once the refresher has exited (after at most
// the fetch in progress): for a process that should make no requests of
// its own for a while. Configs loaded meanwhile still fetch their new
// sources once. ResumeRefresh undoes it.
func (v *Verifier) PauseRefresh() error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.status(C.warden_verifier_pause_refresh(v.h))
}

// ResumeRefresh refreshes remote key sets in the background again after
// PauseRefresh.
func (v *Verifier) ResumeRefresh() error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.status(C.warden_verifier_resume_refresh(v.h))
}

// LastError is the message of the most recent refused reload or key set.
func (v *Verifier) LastError() string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.lastErrorLocked()
}

func (v *Verifier) lastErrorLocked() string {
	if v.h == nil {
		return ""
	}
	var needed C.size_t
	buf := make([]C.char, 1024)
	if C.warden_verifier_last_error(v.h, &buf[0], C.size_t(len(buf)), &needed) == C.WARDEN_CODE_BUFFER_TOO_SMALL {
		buf = make([]C.char, int(needed)+1)
		C.warden_verifier_last_error(v.h, &buf[0], C.size_t(len(buf)), &needed)
	}
	return C.GoString(&buf[0])
}

// ---- run-time revocation

// RevokeJTI rejects tokens with this jti from now on; until (the token's
// exp; the zero time = keep) lets warden forget the entry afterwards.
func (v *Verifier) RevokeJTI(jti string, until time.Time) error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.status(C.warden_revoke_jti(v.h, (*C.char)(unsafe.Pointer(unsafe.StringData(jti))), C.size_t(len(jti)), C.double(Seconds(until)), 0))
}

// RevokeSubjectBefore rejects tokens of subject issued at or before before
// (and those without iat).
func (v *Verifier) RevokeSubjectBefore(subject string, before time.Time) error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.status(C.warden_revoke_subject_before(v.h, (*C.char)(unsafe.Pointer(unsafe.StringData(subject))), C.size_t(len(subject)), C.double(Seconds(before)), 0))
}

// RevokeAPIKeyID rejects the API key with this configured id from now on.
func (v *Verifier) RevokeAPIKeyID(id string) error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.status(C.warden_revoke_api_key_id(v.h, (*C.char)(unsafe.Pointer(unsafe.StringData(id))), C.size_t(len(id)), 0))
}

func (v *Verifier) found(rc C.uint32_t) (bool, error) {
	if Code(rc) == CodeNotFound {
		return false, nil
	}
	return rc == C.WARDEN_CODE_OK, v.status(rc)
}

// UnrevokeJTI undoes RevokeJTI; false when there was no such revocation.
func (v *Verifier) UnrevokeJTI(jti string) (bool, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.found(C.warden_unrevoke_jti(v.h, (*C.char)(unsafe.Pointer(unsafe.StringData(jti))), C.size_t(len(jti))))
}

// UnrevokeSubject undoes RevokeSubjectBefore.
func (v *Verifier) UnrevokeSubject(subject string) (bool, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.found(C.warden_unrevoke_subject(v.h, (*C.char)(unsafe.Pointer(unsafe.StringData(subject))), C.size_t(len(subject))))
}

// UnrevokeAPIKeyID undoes RevokeAPIKeyID.
func (v *Verifier) UnrevokeAPIKeyID(id string) (bool, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.found(C.warden_unrevoke_api_key_id(v.h, (*C.char)(unsafe.Pointer(unsafe.StringData(id))), C.size_t(len(id))))
}

// ---- statistics

// VerdictCount is how many verifications of kind ended with code so far.
func (v *Verifier) VerdictCount(kind Kind, code Code) (uint64, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out C.uint64_t
	err := v.status(C.warden_stats_verdicts(v.h, C.uint32_t(kind), C.uint32_t(code), &out))
	return uint64(out), err
}

// Counter is an event counter (enum warden_counter).
type Counter uint32

// Event counters.
const (
	CounterTokenCacheHit    Counter = 0 // a JWT found in the verified-token cache
	CounterTokenCacheMiss   Counter = 1
	CounterBasicCacheHit    Counter = 2 // a Basic pair found in the verified-credential cache
	CounterBasicCacheMiss   Counter = 3
	CounterReload           Counter = 4 // successful reloads
	CounterReloadFailure    Counter = 5 // refused reloads and JWK sets (the old config kept serving)
	CounterKeySetSwap       Counter = 6 // successful SetJWKS calls
	CounterRevocation       Counter = 7 // run-time revocations and unrevocations
	CounterJWKSFetch        Counter = 8 // remote JWKS fetches that installed a key set
	CounterJWKSFetchFailure Counter = 9
)

// Counter is the value of an event counter since the verifier was created.
func (v *Verifier) Counter(which Counter) (uint64, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out C.uint64_t
	err := v.status(C.warden_stats_counter(v.h, C.uint32_t(which), &out))
	return uint64(out), err
}

// Prometheus is every counter in the Prometheus text exposition format.
func (v *Verifier) Prometheus() (string, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	size := 4096
	for {
		buf := make([]C.char, size)
		var needed C.size_t
		rc := C.warden_stats_prometheus(v.h, &buf[0], C.size_t(size), &needed)
		if rc == C.WARDEN_CODE_OK {
			return C.GoString(&buf[0]), nil
		}
		if rc != C.WARDEN_CODE_BUFFER_TOO_SMALL {
			return "", v.status(rc)
		}
		size = int(needed) + 1024
	}
}
