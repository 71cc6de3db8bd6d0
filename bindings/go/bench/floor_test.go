package bench

import (
	"testing"

	warden "github.com/warden-auth/warden/bindings/go"
)

// BenchmarkWardenFloor: a token rejected at the first check (malformed), i.e.
// the cost of the binding itself (cgo call, pooled C result, copying out).
func BenchmarkWardenFloor(b *testing.B) {
	var r warden.Result
	tok := []byte("x")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		verifier.VerifyJWTInto(&r, tok, 0)
	}
}

// BenchmarkWardenFloorParallel: the binding's cost with GOMAXPROCS goroutines
// calling one verifier at once (what they share: the in-flight counts).
func BenchmarkWardenFloorParallel(b *testing.B) {
	tok := []byte("x")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var r warden.Result
		for pb.Next() {
			verifier.VerifyJWTInto(&r, tok, 0)
		}
	})
}
