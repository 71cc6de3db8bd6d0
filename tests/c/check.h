/* Tiny test helpers shared by the C tests. */
#ifndef WARDEN_TEST_CHECK_H
#define WARDEN_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warden.h"

/* Atomic: test_threads checks from several threads. */
static _Atomic int checks_passed;
static _Atomic int checks_failed;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (cond) {                                                              \
            checks_passed++;                                                     \
        } else {                                                                 \
            checks_failed++;                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)

/* `expr` (a uint32_t status) must equal `want`. */
#define CHECK_CODE(expr, want)                                                    \
    do {                                                                          \
        uint32_t got_ = (expr);                                                   \
        uint32_t want_ = (uint32_t)(want);                                        \
        if (got_ == want_) {                                                      \
            checks_passed++;                                                      \
        } else {                                                                  \
            checks_failed++;                                                      \
            fprintf(stderr, "%s:%d: %s\n    = %u (%s), want %u (%s)\n", __FILE__, \
                    __LINE__, #expr, got_, warden_code_str(got_), want_,          \
                    warden_code_str(want_));                                      \
        }                                                                         \
    } while (0)

/* A string literal or char * as the (const uint8_t *, size_t) pair warden takes. */
#define BYTES(s) (const uint8_t *)(s), strlen(s)
/* ... as the (const char *, size_t) pair of names and paths. */
#define TEXT(s) (s), strlen(s)

/* Does the (ptr, len) string equal the NUL-terminated `want`? */
static inline int span_eq(const char *p, size_t n, const char *want) {
    return p != NULL && n == strlen(want) && memcmp(p, want, n) == 0;
}

/* Read a whole file (for configs given as JSON); the caller frees it. */
static inline char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        perror(path);
        exit(2);
    }
    buf[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static inline int report(const char *name) {
    printf("%s: %d checks passed, %d failed\n", name, (int)checks_passed, (int)checks_failed);
    return checks_failed == 0 ? 0 : 1;
}

#endif
