/*
 * warden's C ABI against libjwt 1.x (Debian's libjwt-dev) on the same tokens.
 *
 *   bench_libjwt DIR [--seconds S] [--json FILE]
 *
 * DIR is what benches/hosts/tokens.py writes: config.json, <ALG>.jwt and
 * <ALG>.key. Built and run by benches/c/run.sh. A benchmark, not a test: it
 * asserts nothing about speed (it exits non-zero only when a library
 * accepts a tampered token or rejects a good one).
 *
 * Each side does what a C host does per request, with everything that can
 * be prepared once prepared once:
 *
 * - warden: one warden_verifier (from config.json: the keys, the issuer and
 *   audience policy, verified-token cache off) and one reusable
 *   warden_result; per call warden_verify_jwt(v, token, len, 0, &r) (0: the
 *   system clock), then the subject from r.subject / r.subject_len.
 * - libjwt: per call jwt_decode(&jwt, token, key, key_len) (signature),
 *   jwt_get_alg() pinned to the expected alg (libjwt 1.x picks the alg from
 *   the header), exp / nbf against time(NULL), iss and aud compared, sub
 *   read, jwt_free(). libjwt 1.10 has no claim validation of its own
 *   (jwt_valid came in 1.11), so these few lines are the host's.
 *
 * Timing: the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so time
 * spent descheduled on a shared machine does not count. Batches of about
 * 2 ms of each library run back to back, order alternating, for S seconds
 * per alg (at least 21 rounds); reported: the median per-call time of each
 * and the median of the per-round ratios libjwt / warden.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <jwt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "warden.h"

#define ISSUER "https://auth.example.com"
#define AUDIENCE "orders-api"
#define SUBJECT "user_2Nf8kQ4tXb7LmZ9pR3vW"

static void die(const char *what, const char *detail) {
    fprintf(stderr, "bench_libjwt: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

static char *slurp(const char *dir, const char *name, size_t *len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) buf = realloc(buf, (cap *= 2) + 1);
    }
    fclose(f);
    if (!buf) die("out of memory", NULL);
    buf[n] = 0; /* jwt_decode wants a NUL-terminated token */
    *len = n;
    return buf;
}

static uint64_t cpu_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) die("clock_gettime", strerror(errno));
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct sample {
    const char *alg;
    jwt_alg_t jwt_alg;
    char *token;
    size_t token_len;
    unsigned char *key;
    size_t key_len;
};

static const warden_verifier *verifier;
static warden_result result;

/* One request through warden: 1 when accepted with the expected subject. */
static int warden_once(const struct sample *s) {
    if (warden_verify_jwt(verifier, (const uint8_t *)s->token, s->token_len, 0, &result) != WARDEN_CODE_OK)
        return 0;
    return result.subject_len == sizeof SUBJECT - 1 && memcmp(result.subject, SUBJECT, sizeof SUBJECT - 1) == 0;
}

/* One request through libjwt, with the checks warden makes. */
static int libjwt_once(const struct sample *s) {
    jwt_t *jwt = NULL;
    if (jwt_decode(&jwt, s->token, s->key, (int)s->key_len) != 0) return 0;
    int ok = 0;
    long now = (long)time(NULL);
    const char *iss, *aud, *sub;
    long exp, nbf;
    if (jwt_get_alg(jwt) != s->jwt_alg) goto out;
    errno = 0;
    exp = jwt_get_grant_int(jwt, "exp");
    if (errno || exp <= now) goto out;
    nbf = jwt_get_grant_int(jwt, "nbf");
    if (!errno && nbf > now) goto out;
    errno = 0;
    iss = jwt_get_grant(jwt, "iss");
    aud = jwt_get_grant(jwt, "aud");
    sub = jwt_get_grant(jwt, "sub");
    ok = iss && strcmp(iss, ISSUER) == 0 && aud && strcmp(aud, AUDIENCE) == 0 && sub &&
         strlen(sub) == sizeof SUBJECT - 1 && memcmp(sub, SUBJECT, sizeof SUBJECT - 1) == 0;
out:
    jwt_free(jwt);
    return ok;
}

typedef int (*op_fn)(const struct sample *);

static uint64_t batch(op_fn f, const struct sample *s, long k) {
    uint64_t t0 = cpu_ns();
    for (long i = 0; i < k; i++)
        if (!f(s)) die(s->alg, "a good token was rejected during the run");
    return cpu_ns() - t0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
    const char *dir = NULL, *json_path = NULL;
    double seconds = 3.0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
            json_path = argv[++i];
        else if (!dir && argv[i][0] != '-')
            dir = argv[i];
        else
            die("usage", "bench_libjwt DIR [--seconds S] [--json FILE]");
    }
    if (!dir) die("usage", "bench_libjwt DIR [--seconds S] [--json FILE]");

    size_t cfg_len;
    char *cfg = slurp(dir, "config.json", &cfg_len);
    if (!cfg) die("cannot read config.json in", dir);
    char err[512];
    warden_verifier *v = NULL;
    if (warden_verifier_new_from_json((const uint8_t *)cfg, cfg_len, &v, err, sizeof err) != WARDEN_CODE_OK)
        die("config.json", err);
    verifier = v;
    warden_result_init(&result);

    /* libjwt 1.10 has no EdDSA. */
    struct sample samples[] = {
        {"HS256", JWT_ALG_HS256, 0, 0, 0, 0},
        {"RS256", JWT_ALG_RS256, 0, 0, 0, 0},
        {"ES256", JWT_ALG_ES256, 0, 0, 0, 0},
    };
    size_t nsamples = sizeof samples / sizeof samples[0];

    FILE *json = NULL;
    if (json_path && !(json = fopen(json_path, "w"))) die(json_path, strerror(errno));
    if (json) fprintf(json, "{\"warden\": \"%s\", \"seconds\": %g, \"algs\": [", warden_version(), seconds);
    printf("warden %s (C ABI) against libjwt (jwt_decode + claim checks); thread CPU time, "
           "interleaved rounds, medians\n\n", warden_version());
    printf("%-6s %6s %11s %11s %8s %7s\n", "alg", "bytes", "warden ns", "libjwt ns", "ratio", "rounds");

    for (size_t a = 0; a < nsamples; a++) {
        struct sample *s = &samples[a];
        char name[64];
        snprintf(name, sizeof name, "%s.jwt", s->alg);
        s->token = slurp(dir, name, &s->token_len);
        snprintf(name, sizeof name, "%s.key", s->alg);
        s->key = (unsigned char *)slurp(dir, name, &s->key_len);
        if (!s->token || !s->key) die("missing token or key for", s->alg);
        while (s->token_len && (s->token[s->token_len - 1] == '\n')) s->token[--s->token_len] = 0;

        /* Both accept the token and refuse it tampered. */
        if (!warden_once(s)) die(s->alg, warden_code_str(result.code));
        if (!libjwt_once(s)) die(s->alg, "libjwt rejects the token");
        char keep = s->token[s->token_len - 5];
        s->token[s->token_len - 5] = keep == 'A' ? 'B' : 'A';
        if (warden_once(s)) die(s->alg, "warden accepted a tampered token");
        if (libjwt_once(s)) die(s->alg, "libjwt accepted a tampered token");
        s->token[s->token_len - 5] = keep;

        /* Warm up, then size a batch to about 2 ms of the faster one. */
        batch(warden_once, s, 100);
        batch(libjwt_once, s, 100);
        long k = 1;
        while (batch(warden_once, s, k) < 2000000 && k < (1L << 30)) k *= 2;

        size_t cap = 1024, n = 0;
        double *ratios = malloc(cap * sizeof *ratios), *tw = malloc(cap * sizeof *tw),
               *tj = malloc(cap * sizeof *tj);
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
            uint64_t w, j;
            if (n % 2 == 0) {
                w = batch(warden_once, s, k);
                j = batch(libjwt_once, s, k);
            } else {
                j = batch(libjwt_once, s, k);
                w = batch(warden_once, s, k);
            }
            if (n == cap) {
                cap *= 2;
                ratios = realloc(ratios, cap * sizeof *ratios);
                tw = realloc(tw, cap * sizeof *tw);
                tj = realloc(tj, cap * sizeof *tj);
                if (!ratios || !tw || !tj) die("out of memory", NULL);
            }
            ratios[n] = (double)j / (double)(w ? w : 1);
            tw[n] = (double)w / (double)k;
            tj[n] = (double)j / (double)k;
            n++;
            clock_gettime(CLOCK_MONOTONIC, &now);
            double elapsed = (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
            if (elapsed >= seconds && n >= 21) break;
        }
        double r = median(ratios, n), mw = median(tw, n), mj = median(tj, n);
        printf("%-6s %6zu %11.0f %11.0f %7.2fx %7zu\n", s->alg, s->token_len, mw, mj, r, n);
        if (json)
            fprintf(json, "%s\n {\"alg\": \"%s\", \"bytes\": %zu, \"warden_ns\": %.1f, \"libjwt_ns\": %.1f, "
                    "\"ratio\": %.4f, \"rounds\": %zu, \"batch\": %ld}",
                    a ? "," : "", s->alg, s->token_len, mw, mj, r, n, k);
        free(ratios);
        free(tw);
        free(tj);
        free(s->token);
        free(s->key);
    }
    printf("\nratio: libjwt time / warden time, median of the per-round ratios. "
           "EdDSA: not in libjwt 1.x.\n");
    if (json) {
        fprintf(json, "\n]}\n");
        fclose(json);
    }
    warden_result_free(&result);
    warden_verifier_free(v);
    free(cfg);
    return 0;
}
