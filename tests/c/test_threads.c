/*
 * One verifier, many threads: 8 threads verify on the same handle while one
 * thread reloads good and broken configs and swaps good and bad JWK sets,
 * and another revokes, unrevokes and reads statistics.
 *
 *     test_threads <fixtures dir> [seconds]
 *
 * FX_TOKEN_MAIN and FX_API_KEY are valid under config A, config B and the
 * K1+K3 key set alike, so every verdict for them must be OK, whatever the
 * interleaving; a token valid under only some of them (K2, K3) may only be
 * OK or the code for a missing key (unknown_key, unsupported_alg).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "check.h"
#include "fixtures.h"

#define WORKERS 8

static warden_verifier *v;
static atomic_bool stop;
static char path_a[1200], path_broken[1200], path_refused[1200];
static char *config_b_text;
static size_t config_b_len;

struct tally {
    long verifications, ok, bad;
};

static double elapsed(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void bad(struct tally *t, const char *what, uint32_t code) {
    /* report the first few only; the count is what fails the test */
    if (t->bad++ < 5) fprintf(stderr, "worker: %s -> %s\n", what, warden_code_str(code));
}

static void *worker(void *arg) {
    struct tally *t = arg;
    warden_result r;
    warden_result_init(&r);
    char bearer[2048], buf[64];
    snprintf(bearer, sizeof bearer, "Bearer %s", FX_TOKEN_MAIN);
    for (long i = 0; !atomic_load(&stop); i++) {
        uint32_t c = warden_verify_jwt(v, BYTES(FX_TOKEN_MAIN), FX_NOW, &r);
        t->verifications++;
        if (c != WARDEN_CODE_OK || !span_eq(r.subject, r.subject_len, "c-user-1") || r.scope_count != 3) {
            bad(t, "main token", c);
        } else {
            size_t n = 0;
            uint32_t s = warden_result_claim_path_str(&r, TEXT("realm.level.name"), buf, sizeof buf, &n);
            if (s != WARDEN_CODE_OK || !span_eq(buf, n, "deep \"q\"")) bad(t, "claim", s);
            else t->ok++;
        }

        c = warden_verify_authorization(v, BYTES(bearer), FX_NOW, &r);
        t->verifications++;
        if (c != WARDEN_CODE_OK || r.kind != WARDEN_KIND_JWT) bad(t, "bearer", c);
        else t->ok++;

        c = warden_verify_api_key(v, BYTES(FX_API_KEY), FX_NOW, &r);
        t->verifications++;
        if (c != WARDEN_CODE_OK || !span_eq(r.key_id, r.key_id_len, "c-key-1")) bad(t, "api key", c);
        else t->ok++;

        /* K2 (HS256) is unknown_key where K1 is the only HS256 key; K3 (HS384)
         * is unsupported_alg where no HS384 key is configured. */
        c = warden_verify_jwt(v, BYTES(FX_TOKEN_K2), FX_NOW, &r);
        t->verifications++;
        if (c != WARDEN_CODE_OK && c != WARDEN_CODE_UNKNOWN_KEY) bad(t, "k2 token", c);
        c = warden_verify_jwt(v, BYTES(FX_TOKEN_K3), FX_NOW, &r);
        t->verifications++;
        if (c != WARDEN_CODE_OK && c != WARDEN_CODE_UNSUPPORTED_ALG) bad(t, "k3 token", c);

        c = warden_verify_jwt(v, BYTES(FX_TOKEN_FORGED), FX_NOW, &r);
        t->verifications++;
        if (c != WARDEN_CODE_BAD_SIGNATURE) bad(t, "forged token", c);

        if (i % 64 == 0) {
            c = warden_verify_basic(v, BYTES(FX_BASIC_USER), BYTES(FX_BASIC_PASS), FX_NOW, &r);
            t->verifications++;
            if (c != WARDEN_CODE_OK) bad(t, "basic", c);
            else t->ok++;
        }
    }
    warden_result_free(&r);
    return NULL;
}

static long reloads_ok, reloads_refused;

static void *reloader(void *arg) {
    (void)arg;
    char err[256];
    for (long i = 0; !atomic_load(&stop); i++) {
        uint32_t c;
        switch (i % 8) {
        case 0: c = warden_verifier_reload_from_file(v, TEXT(path_a)); break;
        case 1: c = warden_verifier_reload_from_file(v, TEXT(path_broken)); break;
        case 2: c = warden_verifier_reload_from_json(v, (const uint8_t *)config_b_text, config_b_len); break;
        case 3: c = warden_verifier_set_jwks(v, BYTES(FX_JWKS_K1_K3_JSON)); break;
        case 4: c = warden_verifier_set_jwks(v, BYTES(FX_JWKS_SHORT_JSON)); break;
        case 5: c = warden_verifier_reload_from_file(v, TEXT(path_refused)); break;
        case 6: c = warden_verifier_reload_from_json(v, BYTES("{\"jwt\": [")); break;
        default: c = warden_verifier_reload(v); break; /* B came from JSON: refused unless A is in force */
        }
        if (c == WARDEN_CODE_OK) {
            reloads_ok++;
        } else {
            reloads_refused++;
            CHECK_CODE(c, WARDEN_CODE_CONFIG);
            uint32_t e = warden_verifier_last_error(v, err, sizeof err, NULL);
            CHECK((e == WARDEN_CODE_OK || e == WARDEN_CODE_BUFFER_TOO_SMALL) && err[0] != 0);
        }
    }
    return NULL;
}

static void *admin(void *arg) {
    (void)arg;
    char *text = NULL;
    size_t cap = 0;
    for (long i = 0; !atomic_load(&stop); i++) {
        CHECK_CODE(warden_revoke_jti(v, TEXT("c-unrelated"), 0, FX_NOW), WARDEN_CODE_OK);
        CHECK_CODE(warden_revoke_subject_before(v, TEXT("c-someone-else"), FX_NOW, FX_NOW), WARDEN_CODE_OK);
        CHECK_CODE(warden_unrevoke_jti(v, TEXT("c-unrelated")), WARDEN_CODE_OK);
        CHECK_CODE(warden_unrevoke_subject(v, TEXT("c-someone-else")), WARDEN_CODE_OK);
        uint64_t n;
        CHECK_CODE(warden_stats_verdicts(v, WARDEN_KIND_JWT, WARDEN_CODE_OK, &n), WARDEN_CODE_OK);
        CHECK_CODE(warden_stats_counter(v, WARDEN_COUNTER_RELOAD, &n), WARDEN_CODE_OK);
        size_t needed = 0;
        uint32_t c = warden_stats_prometheus(v, text, cap, &needed);
        if (c == WARDEN_CODE_BUFFER_TOO_SMALL) {
            cap = needed + 256;
            text = realloc(text, cap);
            c = warden_stats_prometheus(v, text, cap, &needed);
        }
        CHECK_CODE(c, WARDEN_CODE_OK);
        struct timespec pause = {0, 200000};
        nanosleep(&pause, NULL);
    }
    free(text);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s <fixtures dir> [seconds]\n", argv[0]);
        return 2;
    }
    double seconds = argc > 2 ? atof(argv[2]) : 3.0;
    snprintf(path_a, sizeof path_a, "%s/config_a.json", argv[1]);
    snprintf(path_broken, sizeof path_broken, "%s/config_broken.json", argv[1]);
    snprintf(path_refused, sizeof path_refused, "%s/config_refused.json", argv[1]);
    char path_b[1200];
    snprintf(path_b, sizeof path_b, "%s/config_b.json", argv[1]);
    config_b_text = slurp(path_b, &config_b_len);

    char err[512];
    CHECK_CODE(warden_verifier_new_from_file(TEXT(path_a), &v, err, sizeof err), WARDEN_CODE_OK);
    if (!v) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }

    pthread_t workers[WORKERS], rt, at;
    struct tally tallies[WORKERS];
    memset(tallies, 0, sizeof tallies);
    for (int i = 0; i < WORKERS; i++) pthread_create(&workers[i], NULL, worker, &tallies[i]);
    pthread_create(&rt, NULL, reloader, NULL);
    pthread_create(&at, NULL, admin, NULL);

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (elapsed(&t0) < seconds) {
        struct timespec pause = {0, 50000000};
        nanosleep(&pause, NULL);
    }
    atomic_store(&stop, true);
    for (int i = 0; i < WORKERS; i++) pthread_join(workers[i], NULL);
    pthread_join(rt, NULL);
    pthread_join(at, NULL);

    long verifications = 0, ok = 0, wrong = 0;
    for (int i = 0; i < WORKERS; i++) {
        verifications += tallies[i].verifications;
        ok += tallies[i].ok;
        wrong += tallies[i].bad;
    }
    printf("%ld verifications (%ld checked OK), %ld wrong; %ld reloads/key swaps, %ld refused\n", verifications,
           ok, wrong, reloads_ok, reloads_refused);
    CHECK(wrong == 0);
    CHECK(verifications > 1000 && reloads_ok > 10 && reloads_refused > 10);

    /* the counters saw every verdict */
    uint64_t jwt_ok = 0, api_ok = 0, basic_ok = 0, reloads = 0, failures = 0;
    warden_stats_verdicts(v, WARDEN_KIND_JWT, WARDEN_CODE_OK, &jwt_ok);
    warden_stats_verdicts(v, WARDEN_KIND_API_KEY, WARDEN_CODE_OK, &api_ok);
    warden_stats_verdicts(v, WARDEN_KIND_BASIC, WARDEN_CODE_OK, &basic_ok);
    warden_stats_counter(v, WARDEN_COUNTER_RELOAD, &reloads);
    warden_stats_counter(v, WARDEN_COUNTER_RELOAD_FAILURE, &failures);
    CHECK((long)(jwt_ok + api_ok + basic_ok) >= ok);
    CHECK(reloads > 0 && failures > 0);

    /* and the verifier still serves */
    warden_result r;
    warden_result_init(&r);
    CHECK_CODE(warden_verify_jwt(v, BYTES(FX_TOKEN_MAIN), FX_NOW, &r), WARDEN_CODE_OK);
    warden_result_free(&r);
    warden_verifier_free(v);
    free(config_b_text);
    return report(argv[0]);
}
