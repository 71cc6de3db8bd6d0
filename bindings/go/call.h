/*
 * The Go binding's C side: one verification and the gathering of its scopes
 * in a single cgo call (each cgo call costs tens of nanoseconds, as much as
 * copying every string of a result). Included by the cgo preambles of
 * warden.go and result.go; not part of warden's C ABI.
 */
#ifndef WARDEN_GO_CALL_H
#define WARDEN_GO_CALL_H

#include "warden.h"

enum { WG_JWT, WG_API_KEY, WG_BASIC, WG_AUTHORIZATION };

/* Scopes gathered by the call itself; a verdict with more takes a second call. */
#define WG_SCOPES 16

/*
 * A pooled verification: the C result (initialized once, reused) and, after
 * an accepted verdict, its scopes. C memory (calloc), so warden's pointers
 * never sit in the Go heap.
 */
typedef struct wg_call {
    warden_result r;
    /* warden_result_scopes' status: WARDEN_CODE_OK with the first nscopes
       entries of scopes set, WARDEN_CODE_BUFFER_TOO_SMALL when nscopes >
       WG_SCOPES (none set), anything else a failure. */
    uint32_t scopes_rc;
    size_t nscopes;
    warden_str scopes[WG_SCOPES];
} wg_call;

/*
 * warden_verify_<op>(v, (a, alen) [, (b, blen)], now, &c->r), then the
 * scopes of an accepted verdict into c->scopes. Returns the verdict.
 *
 * The verifier and the call come as integers: both are C memory, and a
 * pointer argument to a type that holds pointers (wg_call, and the opaque
 * warden_verifier) would have the Go runtime check on every call whether it
 * points into the Go heap (~20 ns, a tenth of the binding's cost). The
 * credential bytes do come from Go memory; as pointers to bytes, which hold
 * no pointers, they are not checked.
 */
static inline uint32_t wg_verify(int op, uintptr_t verifier, const uint8_t *a, size_t alen,
                                 const uint8_t *b, size_t blen, double now, uintptr_t call) {
    const warden_verifier *v = (const warden_verifier *)verifier;
    wg_call *c = (wg_call *)call;
    uint32_t rc;
    switch (op) {
    case WG_JWT:
        rc = warden_verify_jwt(v, a, alen, now, &c->r);
        break;
    case WG_API_KEY:
        rc = warden_verify_api_key(v, a, alen, now, &c->r);
        break;
    case WG_BASIC:
        rc = warden_verify_basic(v, a, alen, b, blen, now, &c->r);
        break;
    default:
        rc = warden_verify_authorization(v, a, alen, now, &c->r);
        break;
    }
    c->scopes_rc = WARDEN_CODE_OK;
    c->nscopes = 0;
    if (rc == WARDEN_CODE_OK && c->r.scope_count > 0) {
        c->scopes_rc = warden_result_scopes(&c->r, c->scopes, WG_SCOPES, &c->nscopes);
    }
    return rc;
}

/* The Go log sink (logger.go, //export), as a warden_log_fn. */
extern void wardenGoLog(void *user_data, uint32_t level, char *msg, size_t msg_len);

static inline warden_log_fn wg_log_fn(void) {
    return (warden_log_fn)wardenGoLog;
}

#endif
