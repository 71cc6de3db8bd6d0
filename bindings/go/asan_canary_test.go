//go:build asan

package warden

import (
	"os"
	"strings"
	"testing"
	"unsafe"
)

// TestASanCanary proves that the -asan run (test.sh --asan, against a
// libwarden built with AddressSanitizer) catches warden reading past the
// memory it was given: it hands warden a length one byte past a Go heap
// allocation, and the process must be stopped by an AddressSanitizer report.
// It runs only when test.sh asks for it, in a run of its own.
func TestASanCanary(t *testing.T) {
	if os.Getenv("WARDEN_ASAN_CANARY") != "1" {
		t.Skip("run by test.sh --asan, which expects this test to be killed by AddressSanitizer")
	}
	v, err := OpenConfig([]byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	value := make([]byte, 100)
	copy(value, "Bearer x.y.z")
	copy(value[12:], strings.Repeat(" ", 88))
	// The caller's bug: one byte too many. Trailing blanks are trimmed, so
	// warden reads the last byte it was given.
	over := unsafe.Slice(unsafe.SliceData(value), len(value)+1)
	var r Result
	v.VerifyAuthorizationInto(&r, over, 0)
	t.Fatalf("AddressSanitizer did not stop the read past the buffer (verdict %v)", r.Code)
}
