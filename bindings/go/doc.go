// Package warden verifies JWTs, API keys and HTTP Basic credentials
// in-process, through warden's C ABI (include/warden.h) linked statically.
//
// Build the library first, at the root of the warden checkout:
//
//	cargo build --release --lib     # or: go generate ./... in bindings/go
//
// cgo links ../../target/release/libwarden.a (static: nothing to find at run
// time). With CARGO_TARGET_DIR set, point cgo at it instead:
//
//	CGO_LDFLAGS="$CARGO_TARGET_DIR/release/libwarden.a" go test ./...
//
// (bindings/go/test.sh does this.)
//
// Use:
//
//	v, err := warden.Open("/etc/warden/config.json")
//	if err != nil { log.Fatal(err) }           // *warden.ConfigError says where and why
//	defer v.Close()
//	r := v.VerifyAuthorization(req.Header.Get("Authorization"))
//	if r.OK() {
//		fmt.Println("hello", r.Subject, r.Scopes)
//	} else {
//		fmt.Println("rejected:", r.Code)       // expired, bad_signature, ...
//	}
//
// A Verifier is safe for concurrent use by any number of goroutines; share
// one. Rejections are results, not errors. VerifyXxx return a Result that
// owns its strings; VerifyXxxInto fill a caller-owned *Result, reusing its
// buffers, and allocate nothing in steady state (their strings alias the
// Result's buffer and change when it is reused). Middleware protects a
// net/http handler.
//
// Configs with remote keys (jwks_uri, discovery) log their key-set fetches
// through log/slog (slog.Default(), or the logger given to SetLogger): a
// failed fetch, after which the last good key set keeps serving, at Warn.
package warden

//go:generate sh -c "cd ../.. && cargo build --release --lib"
