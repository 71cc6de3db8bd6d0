package warden

/*
#include <stdint.h>
#include <stddef.h>
*/
import "C"

import (
	"context"
	"log/slog"
	"sync/atomic"
	"unsafe"
)

// SetLogger sets where warden's remote key-set events go (configs with
// jwks_uri or discovery only): at slog.LevelWarn a failed fetch (the last
// good key set keeps serving, or a reload is refused), keys skipped as
// unusable, fetched keys a configured key shadows; a successful fetch at
// slog.LevelInfo. nil (the default) means slog.Default() at the time of the
// event. The first fetch happens in Open / OpenConfig, a reload's in Reload*;
// later ones on warden's refresher thread. A handler must not call the
// Verifier's methods: inside Reload* it runs under the Verifier's read lock,
// which a Close waiting meanwhile would deadlock.
func SetLogger(l *slog.Logger) { logger.Store(l) }

var logger atomic.Pointer[slog.Logger]

var logLevels = [...]slog.Level{1: slog.LevelInfo, 2: slog.LevelWarn, 3: slog.LevelError}

//export wardenGoLog
func wardenGoLog(_ unsafe.Pointer, level C.uint32_t, msg *C.char, n C.size_t) {
	l := logger.Load()
	if l == nil {
		l = slog.Default()
	}
	lv := slog.LevelError
	if int(level) < len(logLevels) && level > 0 {
		lv = logLevels[level]
	}
	l.Log(context.Background(), lv, "warden: "+C.GoStringN(msg, C.int(n)))
}
