package warden

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// records is an slog.Handler keeping every record.
type records struct {
	mu   sync.Mutex
	seen []slog.Record
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.seen = append(h.seen, r)
	h.mu.Unlock()
	return nil
}
func (h *records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *records) WithGroup(string) slog.Handler      { return h }

// about counts the records mentioning s, and how many of them are warnings.
func (h *records) about(s string) (n, warnings int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.seen {
		if strings.Contains(r.Message, s) {
			n++
			if r.Level == slog.LevelWarn && strings.HasPrefix(r.Message, "warden: ") {
				warnings++
			}
		}
	}
	return n, warnings
}

func TestRemoteKeyEventsAreLogged(t *testing.T) {
	h := &records{}
	SetLogger(slog.New(h))
	defer SetLogger(nil)
	cfg := `{"jwt": {"jwks_uri": "http://127.0.0.1:9/jwks", "allow_insecure_loopback": true,
	         "refresh": {"min_s": 0.05, "max_s": 0.1, "timeout_s": 0.2}}}`
	v, err := OpenConfig([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	// The first fetch happens in OpenConfig: its failure is logged before it returns.
	if n, w := h.about("127.0.0.1:9"); n < 1 || w != n {
		t.Fatalf("after OpenConfig: %d records, %d warnings", n, w)
	}
	deadline := time.Now().Add(5 * time.Second)
	for n, _ := h.about("127.0.0.1:9"); n < 3 && time.Now().Before(deadline); n, _ = h.about("127.0.0.1:9") {
		time.Sleep(20 * time.Millisecond)
	}
	if n, w := h.about("127.0.0.1:9"); n < 3 || w != n {
		t.Fatalf("the refresher's retries: %d records, %d warnings", n, w)
	}
	v.Close()
	n, _ := h.about("127.0.0.1:9")
	time.Sleep(300 * time.Millisecond)
	if m, _ := h.about("127.0.0.1:9"); m != n {
		t.Fatalf("%d records after Close", m-n)
	}
}

func TestPauseAndResumeRefresh(t *testing.T) {
	h := &records{}
	SetLogger(slog.New(h))
	defer SetLogger(nil)
	cfg := `{"jwt": {"jwks_uri": "http://127.0.0.1:9/paused", "allow_insecure_loopback": true,
	         "refresh": {"min_s": 0.05, "max_s": 0.1, "timeout_s": 0.2}}}`
	v, err := OpenConfig([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.PauseRefresh(); err != nil {
		t.Fatal(err)
	}
	// Paused: no fetch (and so no record) for several retry intervals.
	n, _ := h.about("127.0.0.1:9/paused")
	time.Sleep(400 * time.Millisecond)
	if m, _ := h.about("127.0.0.1:9/paused"); m != n {
		t.Fatalf("%d fetches while paused", m-n)
	}
	if err := v.ResumeRefresh(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for m, _ := h.about("127.0.0.1:9/paused"); m < n+2 && time.Now().Before(deadline); m, _ = h.about("127.0.0.1:9/paused") {
		time.Sleep(20 * time.Millisecond)
	}
	if m, _ := h.about("127.0.0.1:9/paused"); m < n+2 {
		t.Fatalf("resumed: %d fetches in 5 s", m-n)
	}
	v.Close()
	if err := v.PauseRefresh(); err != ErrClosed {
		t.Fatalf("PauseRefresh after Close: %v", err)
	}
	if err := v.ResumeRefresh(); err != ErrClosed {
		t.Fatalf("ResumeRefresh after Close: %v", err)
	}
}
