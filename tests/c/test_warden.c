/*
 * Every function of include/warden.h, with its error paths.
 *
 *     test_warden <fixtures dir>
 *
 * Tokens, keys and configs are tests/c/fixtures (generate.py). Every `now`
 * is FX_NOW unless a test is about the clock.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fixtures.h"

static char dir[1024];

static const char *fixture_path(const char *name) {
    static char buf[4][1200];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

static warden_verifier *from_file(const char *name) {
    warden_verifier *v = NULL;
    char err[512];
    const char *path = fixture_path(name);
    uint32_t rc = warden_verifier_new_from_file(TEXT(path), &v, err, sizeof err);
    if (rc != WARDEN_CODE_OK) {
        fprintf(stderr, "cannot load %s: %s: %s\n", path, warden_code_str(rc), err);
        exit(2);
    }
    return v;
}

static uint32_t jwt(const warden_verifier *v, const char *token, warden_result *r) {
    return warden_verify_jwt(v, BYTES(token), FX_NOW, r);
}

static void test_static_strings(void) {
    const char *version = warden_version();
    CHECK(version != NULL && version[0] >= '0' && version[0] <= '9' && strchr(version, '.') != NULL);
    const char *names[] = {"ok", "too_large", "malformed", "unsupported_alg", "unknown_key", "bad_type",
                           "crit_unsupported", "bad_signature", "expired", "not_yet_valid", "issued_in_future",
                           "lifetime_too_long", "missing_claim", "bad_issuer", "bad_audience", "revoked",
                           "bad_api_key", "bad_credentials", "rate_limited"};
    for (uint32_t c = 0; c <= WARDEN_CODE_RATE_LIMITED; c++) CHECK(strcmp(warden_code_str(c), names[c]) == 0);
    CHECK(strcmp(warden_code_str(WARDEN_CODE_INVALID_ARGUMENT), "invalid_argument") == 0);
    CHECK(strcmp(warden_code_str(WARDEN_CODE_INTERNAL), "internal") == 0);
    CHECK(strcmp(warden_code_str(WARDEN_CODE_CONFIG), "config") == 0);
    CHECK(strcmp(warden_code_str(WARDEN_CODE_NOT_FOUND), "not_found") == 0);
    CHECK(strcmp(warden_code_str(WARDEN_CODE_BUFFER_TOO_SMALL), "buffer_too_small") == 0);
    CHECK(strcmp(warden_code_str(WARDEN_CODE_WRONG_TYPE), "wrong_type") == 0);
    CHECK(strcmp(warden_code_str(19), "unknown") == 0);
    CHECK(strcmp(warden_code_str(99), "unknown") == 0);
    CHECK(strcmp(warden_code_str(UINT32_MAX), "unknown") == 0);
    CHECK(strcmp(warden_kind_str(WARDEN_KIND_NONE), "none") == 0);
    CHECK(strcmp(warden_kind_str(WARDEN_KIND_JWT), "jwt") == 0);
    CHECK(strcmp(warden_kind_str(WARDEN_KIND_API_KEY), "api_key") == 0);
    CHECK(strcmp(warden_kind_str(WARDEN_KIND_BASIC), "basic") == 0);
    CHECK(strcmp(warden_kind_str(4), "unknown") == 0);
}

static void test_constructors(void) {
    warden_verifier *v = (warden_verifier *)1;
    char err[512];

    /* from a file; err_buf gets the empty string on success */
    memset(err, 'x', sizeof err);
    const char *a = fixture_path("config_a.json");
    CHECK_CODE(warden_verifier_new_from_file(TEXT(a), &v, err, sizeof err), WARDEN_CODE_OK);
    CHECK(v != NULL && err[0] == 0);
    warden_verifier_free(v);

    /* err_buf may be omitted */
    CHECK_CODE(warden_verifier_new_from_file(TEXT(a), &v, NULL, 0), WARDEN_CODE_OK);
    warden_verifier_free(v);

    /* missing file: the message names it */
    const char *missing = fixture_path("no-such-config.json");
    v = (warden_verifier *)1;
    CHECK_CODE(warden_verifier_new_from_file(TEXT(missing), &v, err, sizeof err), WARDEN_CODE_CONFIG);
    CHECK(v == NULL);
    CHECK(strstr(err, "no-such-config.json") != NULL && strstr(err, "cannot read") != NULL);

    /* broken JSON: file, line and column */
    const char *broken = fixture_path("config_broken.json");
    CHECK_CODE(warden_verifier_new_from_file(TEXT(broken), &v, err, sizeof err), WARDEN_CODE_CONFIG);
    CHECK(v == NULL && strstr(err, "config_broken.json") != NULL && strstr(err, "line ") != NULL);

    /* refused config: the place and the reason */
    const char *refused = fixture_path("config_refused.json");
    CHECK_CODE(warden_verifier_new_from_file(TEXT(refused), &v, err, sizeof err), WARDEN_CODE_CONFIG);
    CHECK(v == NULL && strstr(err, "leeway") != NULL);

    /* the message is cut to fit, NUL-terminated */
    char small[8];
    memset(small, 'x', sizeof small);
    CHECK_CODE(warden_verifier_new_from_file(TEXT(missing), &v, small, sizeof small), WARDEN_CODE_CONFIG);
    CHECK(strlen(small) == 7);

    /* the path is (ptr, len): no NUL needed, and a prefix of a longer string works */
    char longer[1300];
    snprintf(longer, sizeof longer, "%s-and-more", a);
    CHECK_CODE(warden_verifier_new_from_file(longer, strlen(a), &v, err, sizeof err), WARDEN_CODE_OK);
    warden_verifier_free(v);

    /* from JSON */
    CHECK_CODE(warden_verifier_new_from_json(BYTES(FX_CONFIG_B_JSON), &v, err, sizeof err), WARDEN_CODE_OK);
    CHECK(v != NULL);
    warden_verifier_free(v);
    CHECK_CODE(warden_verifier_new_from_json(BYTES("{}"), &v, err, sizeof err), WARDEN_CODE_OK);
    warden_verifier_free(v);
    CHECK_CODE(warden_verifier_new_from_json(NULL, 0, &v, err, sizeof err), WARDEN_CODE_CONFIG);
    CHECK(v == NULL && strstr(err, "not valid JSON") != NULL);
    CHECK_CODE(warden_verifier_new_from_json(BYTES("{\"jwt\": {\"leeway\": 1}}"), &v, err, sizeof err),
               WARDEN_CODE_CONFIG);
    CHECK(strstr(err, "jwt.leeway") != NULL);
    CHECK_CODE(warden_verifier_new_from_json(BYTES("{\"a\": 1, \"a\": 1}"), &v, err, sizeof err),
               WARDEN_CODE_CONFIG);

    /* invalid arguments */
    CHECK_CODE(warden_verifier_new_from_file(TEXT(a), NULL, err, sizeof err), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK(strstr(err, "invalid argument") != NULL);
    CHECK_CODE(warden_verifier_new_from_file(NULL, 5, &v, err, sizeof err), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK(v == NULL);
    CHECK_CODE(warden_verifier_new_from_file(NULL, 0, &v, err, sizeof err), WARDEN_CODE_CONFIG);
    CHECK_CODE(warden_verifier_new_from_file(TEXT(a), &v, NULL, 10), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verifier_new_from_json(NULL, 3, &v, err, sizeof err), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verifier_new_from_json(BYTES("{}"), NULL, NULL, 0), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verifier_new_from_json(BYTES("{}"), &v, err, SIZE_MAX), WARDEN_CODE_INVALID_ARGUMENT);
    /* *out is NULL after every failure, even when err_buf is unusable */
    v = (warden_verifier *)&v;
    CHECK_CODE(warden_verifier_new_from_json(BYTES("{}"), &v, NULL, 5), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK(v == NULL);
    v = (warden_verifier *)&v;
    CHECK_CODE(warden_verifier_new_from_file(TEXT(a), &v, err, (size_t)PTRDIFF_MAX + 1), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK(v == NULL);

    warden_verifier_free(NULL);
}

static void test_jwt(void) {
    warden_verifier *v = from_file("config_a.json");
    warden_result r;
    CHECK_CODE(warden_result_init(&r), WARDEN_CODE_OK);
    CHECK(r.internal == NULL && r.code == 0 && r.kind == WARDEN_KIND_NONE && r.subject == NULL);

    /* the main token: every field */
    CHECK_CODE(jwt(v, FX_TOKEN_MAIN, &r), WARDEN_CODE_OK);
    CHECK(r.code == WARDEN_CODE_OK && r.kind == WARDEN_KIND_JWT);
    CHECK(span_eq(r.subject, r.subject_len, "c-user-1"));
    CHECK(span_eq(r.kid, r.kid_len, "c-hs256-1"));
    CHECK(r.key_id == NULL && r.key_id_len == 0);
    CHECK(r.has_exp && r.exp == FX_EXP);
    CHECK(r.retry_after_s == 0);
    CHECK(r.scope_count == 3);
    const char *p;
    size_t n;
    CHECK_CODE(warden_result_scope(&r, 0, &p, &n), WARDEN_CODE_OK);
    CHECK(span_eq(p, n, "read"));
    CHECK_CODE(warden_result_scope(&r, 1, &p, &n), WARDEN_CODE_OK);
    CHECK(span_eq(p, n, "write"));
    CHECK_CODE(warden_result_scope(&r, 2, &p, &n), WARDEN_CODE_OK);
    CHECK(span_eq(p, n, "admin:x"));
    CHECK_CODE(warden_result_scope(&r, 3, &p, &n), WARDEN_CODE_NOT_FOUND);
    CHECK(p == NULL && n == 0);
    CHECK_CODE(warden_result_scope(&r, SIZE_MAX, &p, &n), WARDEN_CODE_NOT_FOUND);
    CHECK_CODE(warden_result_scope(&r, 0, NULL, &n), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_result_scope(&r, 0, &p, NULL), WARDEN_CODE_INVALID_ARGUMENT);
    p = "untouched";
    n = 9;
    CHECK_CODE(warden_result_scope(NULL, 0, &p, &n), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK(p != NULL && n == 9); /* an invalid argument changes nothing */

    /* every scope in one call: the same strings; measured with (NULL, 0);
       a short array is left untouched */
    warden_str scopes[5];
    const warden_str unset = {"junk", 99};
    for (int i = 0; i < 5; i++) scopes[i] = unset;
    size_t count = 99;
    CHECK_CODE(warden_result_scopes(&r, scopes, 5, &count), WARDEN_CODE_OK);
    CHECK(count == 3);
    CHECK(span_eq(scopes[0].ptr, scopes[0].len, "read") && span_eq(scopes[1].ptr, scopes[1].len, "write"));
    CHECK(span_eq(scopes[2].ptr, scopes[2].len, "admin:x"));
    CHECK(scopes[3].ptr == unset.ptr && scopes[3].len == 99 && scopes[4].ptr == unset.ptr);
    CHECK_CODE(warden_result_scope(&r, 1, &p, &n), WARDEN_CODE_OK);
    CHECK(scopes[1].ptr == p && scopes[1].len == n);
    CHECK_CODE(warden_result_scopes(&r, scopes, 3, &count), WARDEN_CODE_OK);
    CHECK(count == 3);
    count = 99;
    CHECK_CODE(warden_result_scopes(&r, NULL, 0, &count), WARDEN_CODE_BUFFER_TOO_SMALL);
    CHECK(count == 3);
    for (int i = 0; i < 5; i++) scopes[i] = unset;
    count = 99;
    CHECK_CODE(warden_result_scopes(&r, scopes, 2, &count), WARDEN_CODE_BUFFER_TOO_SMALL);
    CHECK(count == 3 && scopes[0].ptr == unset.ptr && scopes[1].len == 99);
    count = 99;
    CHECK_CODE(warden_result_scopes(&r, NULL, 3, &count), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK(count == 0);
    CHECK_CODE(warden_result_scopes(&r, scopes, SIZE_MAX, &count), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_result_scopes(&r, scopes, PTRDIFF_MAX / sizeof(warden_str) + 1, &count),
               WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_result_scopes(&r, scopes, 5, NULL), WARDEN_CODE_INVALID_ARGUMENT);
    count = 99;
    CHECK_CODE(warden_result_scopes(NULL, scopes, 5, &count), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK(count == 0 && scopes[0].ptr == unset.ptr);

    /* claims as raw JSON */
    CHECK_CODE(warden_result_claim(&r, TEXT("iss"), &p, &n), WARDEN_CODE_OK);
    CHECK(span_eq(p, n, "\"https://c.example\""));
    CHECK_CODE(warden_result_claim(&r, TEXT("num"), &p, &n), WARDEN_CODE_OK);
    CHECK(span_eq(p, n, "1.5e3"));
    CHECK_CODE(warden_result_claim(&r, TEXT("flag"), &p, &n), WARDEN_CODE_OK);
    CHECK(span_eq(p, n, "true"));
    CHECK_CODE(warden_result_claim(&r, TEXT("nothing"), &p, &n), WARDEN_CODE_OK);
    CHECK(span_eq(p, n, "null"));
    CHECK_CODE(warden_result_claim(&r, TEXT("list"), &p, &n), WARDEN_CODE_OK);
    CHECK(span_eq(p, n, "[1,\"two\",{\"three\":3}]"));
    CHECK_CODE(warden_result_claim(&r, TEXT("realm"), &p, &n), WARDEN_CODE_OK);
    CHECK(span_eq(p, n, "{\"roles\":[\"r1\",\"r2\"],\"level\":{\"n\":3,\"name\":\"deep \\\"q\\\"\"}}"));
    CHECK_CODE(warden_result_claim(&r, TEXT("esc"), &p, &n), WARDEN_CODE_OK);
    CHECK(n > 2 && p[0] == '"' && p[n - 1] == '"' && memchr(p, '\\', n) != NULL);
    CHECK_CODE(warden_result_claim(&r, TEXT("a.b"), &p, &n), WARDEN_CODE_OK);
    CHECK(span_eq(p, n, "\"dotted name\""));
    CHECK_CODE(warden_result_claim(&r, TEXT("nope"), &p, &n), WARDEN_CODE_NOT_FOUND);
    CHECK(p == NULL && n == 0);
    CHECK_CODE(warden_result_claim(&r, "issuer", 3, &p, &n), WARDEN_CODE_OK); /* (ptr, len): "iss" */
    CHECK_CODE(warden_result_claim(&r, NULL, 0, &p, &n), WARDEN_CODE_NOT_FOUND);
    CHECK_CODE(warden_result_claim(&r, "\xff", 1, &p, &n), WARDEN_CODE_NOT_FOUND);
    CHECK_CODE(warden_result_claim(&r, NULL, 3, &p, &n), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_result_claim(&r, TEXT("iss"), NULL, &n), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_result_claim(&r, TEXT("iss"), &p, NULL), WARDEN_CODE_INVALID_ARGUMENT);
    p = "untouched";
    n = 9;
    CHECK_CODE(warden_result_claim(NULL, TEXT("iss"), &p, &n), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK(p != NULL && n == 9);
    CHECK_CODE(warden_result_claim(&r, NULL, 3, &p, &n), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK(p != NULL && n == 9);

    /* nested claims by dotted path */
    CHECK_CODE(warden_result_claim_path(&r, TEXT("realm.roles"), &p, &n), WARDEN_CODE_OK);
    CHECK(span_eq(p, n, "[\"r1\",\"r2\"]"));
    CHECK_CODE(warden_result_claim_path(&r, TEXT("realm.level.n"), &p, &n), WARDEN_CODE_OK);
    CHECK(span_eq(p, n, "3"));
    CHECK_CODE(warden_result_claim_path(&r, TEXT("realm.level.name"), &p, &n), WARDEN_CODE_OK);
    CHECK(span_eq(p, n, "\"deep \\\"q\\\"\""));
    CHECK_CODE(warden_result_claim_path(&r, TEXT("sub"), &p, &n), WARDEN_CODE_OK);
    CHECK(span_eq(p, n, "\"c-user-1\""));
    CHECK_CODE(warden_result_claim_path(&r, TEXT("realm.nope"), &p, &n), WARDEN_CODE_NOT_FOUND);
    CHECK_CODE(warden_result_claim_path(&r, TEXT("realm.roles.0"), &p, &n), WARDEN_CODE_NOT_FOUND);
    CHECK_CODE(warden_result_claim_path(&r, TEXT("iss.x"), &p, &n), WARDEN_CODE_NOT_FOUND);
    CHECK_CODE(warden_result_claim_path(&r, TEXT("a.b"), &p, &n), WARDEN_CODE_NOT_FOUND);
    CHECK_CODE(warden_result_claim_path(&r, TEXT("realm."), &p, &n), WARDEN_CODE_NOT_FOUND);
    CHECK_CODE(warden_result_claim_path(&r, NULL, 2, &p, &n), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_result_claim_path(NULL, TEXT("realm"), &p, &n), WARDEN_CODE_INVALID_ARGUMENT);

    /* string claims, unescaped into the caller's buffer */
    char buf[128];
    size_t len = 99;
    const char esc[] = "tab\there\nquote\" slash/ e\xcc\x81 \xc3\xa9 key \xf0\x9f\x94\x91 nul\0end";
    CHECK_CODE(warden_result_claim_str(&r, TEXT("esc"), buf, sizeof buf, &len), WARDEN_CODE_OK);
    CHECK(len == sizeof esc - 1 && memcmp(buf, esc, len) == 0);
    CHECK_CODE(warden_result_claim_str(&r, TEXT("esc"), NULL, 0, &len), WARDEN_CODE_BUFFER_TOO_SMALL);
    CHECK(len == sizeof esc - 1);
    memset(buf, 'x', sizeof buf);
    CHECK_CODE(warden_result_claim_str(&r, TEXT("esc"), buf, 10, &len), WARDEN_CODE_BUFFER_TOO_SMALL);
    CHECK(len == sizeof esc - 1 && buf[0] == 'x');
    CHECK_CODE(warden_result_claim_str(&r, TEXT("esc"), buf, sizeof esc - 1, &len), WARDEN_CODE_OK);
    CHECK_CODE(warden_result_claim_str(&r, TEXT("raw"), buf, sizeof buf, &len), WARDEN_CODE_OK);
    CHECK(span_eq(buf, len, "\xc5\x81ucja"));
    CHECK_CODE(warden_result_claim_str(&r, TEXT("sub"), buf, sizeof buf, &len), WARDEN_CODE_OK);
    CHECK(span_eq(buf, len, "c-user-1"));
    CHECK_CODE(warden_result_claim_str(&r, TEXT("empty"), NULL, 0, &len), WARDEN_CODE_OK);
    CHECK(len == 0);
    CHECK_CODE(warden_result_claim_str(&r, TEXT("num"), buf, sizeof buf, &len), WARDEN_CODE_WRONG_TYPE);
    CHECK(len == 0);
    CHECK_CODE(warden_result_claim_str(&r, TEXT("realm"), buf, sizeof buf, &len), WARDEN_CODE_WRONG_TYPE);
    CHECK_CODE(warden_result_claim_str(&r, TEXT("nope"), buf, sizeof buf, &len), WARDEN_CODE_NOT_FOUND);
    CHECK_CODE(warden_result_claim_str(&r, TEXT("sub"), buf, sizeof buf, NULL), WARDEN_CODE_INVALID_ARGUMENT);
    len = 99;
    CHECK_CODE(warden_result_claim_str(&r, TEXT("sub"), NULL, 5, &len), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK(len == 0); /* 0 after every error, as the header says */
    len = 99;
    CHECK_CODE(warden_result_claim_str(&r, TEXT("sub"), buf, (size_t)PTRDIFF_MAX + 1, &len),
               WARDEN_CODE_INVALID_ARGUMENT);
    CHECK(len == 0);
    CHECK_CODE(warden_result_claim_str(NULL, TEXT("sub"), buf, sizeof buf, &len), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_result_claim_path_str(&r, TEXT("realm.level.name"), buf, sizeof buf, &len), WARDEN_CODE_OK);
    CHECK(span_eq(buf, len, "deep \"q\""));
    CHECK_CODE(warden_result_claim_path_str(&r, TEXT("realm.level.n"), buf, sizeof buf, &len),
               WARDEN_CODE_WRONG_TYPE);
    CHECK_CODE(warden_result_claim_path_str(&r, TEXT("realm.level.x"), buf, sizeof buf, &len),
               WARDEN_CODE_NOT_FOUND);

    /* scp array; kid of the key for a token without kid */
    CHECK_CODE(jwt(v, FX_TOKEN_SCP, &r), WARDEN_CODE_OK);
    CHECK(r.scope_count == 3 && r.has_exp);
    CHECK_CODE(warden_result_scope(&r, 2, &p, &n), WARDEN_CODE_OK);
    CHECK(span_eq(p, n, "s:c"));
    CHECK_CODE(warden_result_claim(&r, TEXT("realm"), &p, &n), WARDEN_CODE_NOT_FOUND);
    CHECK_CODE(jwt(v, FX_TOKEN_NO_KID, &r), WARDEN_CODE_OK);
    CHECK(span_eq(r.kid, r.kid_len, "c-hs256-1") && span_eq(r.subject, r.subject_len, "c-user-4"));
    CHECK(r.scope_count == 0);

    /* the conformance vector (shared/vectors/jwt_hs.json) and the jwks_file key */
    CHECK_CODE(jwt(v, FX_TOKEN_VECTOR_OK, &r), WARDEN_CODE_OK);
    CHECK(span_eq(r.kid, r.kid_len, "hs256-2023") && span_eq(r.subject, r.subject_len, "user-1"));
    CHECK_CODE(jwt(v, FX_TOKEN_VECTOR_BAD_SIG, &r), WARDEN_CODE_BAD_SIGNATURE);
    CHECK_CODE(jwt(v, FX_TOKEN_K2, &r), WARDEN_CODE_OK);
    CHECK(span_eq(r.kid, r.kid_len, "c-hs256-2"));

    /* rejections clear every field */
    CHECK_CODE(jwt(v, FX_TOKEN_MAIN, &r), WARDEN_CODE_OK);
    CHECK_CODE(jwt(v, FX_TOKEN_FORGED, &r), WARDEN_CODE_BAD_SIGNATURE);
    CHECK(r.code == WARDEN_CODE_BAD_SIGNATURE && r.kind == WARDEN_KIND_JWT);
    CHECK(r.subject == NULL && r.subject_len == 0 && r.kid == NULL && r.scope_count == 0 && !r.has_exp);
    CHECK(r.exp == 0 && r.retry_after_s == 0);
    CHECK_CODE(warden_result_claim(&r, TEXT("sub"), &p, &n), WARDEN_CODE_NOT_FOUND);
    CHECK_CODE(warden_result_scope(&r, 0, &p, &n), WARDEN_CODE_NOT_FOUND);
    count = 99;
    CHECK_CODE(warden_result_scopes(&r, scopes, 5, &count), WARDEN_CODE_OK); /* none: not an error */
    CHECK(count == 0 && scopes[0].ptr == unset.ptr);
    CHECK_CODE(warden_result_scopes(&r, NULL, 0, &count), WARDEN_CODE_OK);
    CHECK(count == 0);
    CHECK_CODE(jwt(v, FX_TOKEN_EXPIRED, &r), WARDEN_CODE_EXPIRED);
    CHECK_CODE(jwt(v, FX_TOKEN_NO_EXP, &r), WARDEN_CODE_MISSING_CLAIM);
    CHECK_CODE(jwt(v, FX_TOKEN_ALG_NONE, &r), WARDEN_CODE_UNSUPPORTED_ALG);
    CHECK_CODE(jwt(v, FX_TOKEN_CONFIG_REVOKED, &r), WARDEN_CODE_REVOKED);
    CHECK_CODE(jwt(v, FX_TOKEN_K3, &r), WARDEN_CODE_UNSUPPORTED_ALG); /* no HS384 key in A */
    CHECK_CODE(jwt(v, "a.b.c", &r), WARDEN_CODE_MALFORMED);
    CHECK_CODE(warden_verify_jwt(v, NULL, 0, FX_NOW, &r), WARDEN_CODE_MALFORMED);
    CHECK(r.kind == WARDEN_KIND_JWT);
    /* a token given as (ptr, len) inside a longer buffer */
    char padded[2048];
    snprintf(padded, sizeof padded, "%s trailing garbage", FX_TOKEN_MAIN);
    CHECK_CODE(warden_verify_jwt(v, (const uint8_t *)padded, strlen(FX_TOKEN_MAIN), FX_NOW, &r), WARDEN_CODE_OK);
    CHECK_CODE(warden_verify_jwt(v, (const uint8_t *)padded, strlen(padded), FX_NOW, &r), WARDEN_CODE_MALFORMED);

    /* too large (max_token_bytes defaults to 8192) */
    size_t big_len = 9000;
    uint8_t *big = malloc(big_len);
    memset(big, 'a', big_len);
    CHECK_CODE(warden_verify_jwt(v, big, big_len, FX_NOW, &r), WARDEN_CODE_TOO_LARGE);
    free(big);

    /* now == 0 is the clock: the fixtures expired in 2023 */
    CHECK_CODE(warden_verify_jwt(v, BYTES(FX_TOKEN_MAIN), 0, &r), WARDEN_CODE_EXPIRED);
    CHECK_CODE(warden_verify_jwt(v, BYTES(FX_TOKEN_MAIN), FX_EXP - 0.5, &r), WARDEN_CODE_OK);
    CHECK_CODE(warden_verify_jwt(v, BYTES(FX_TOKEN_MAIN), FX_EXP, &r), WARDEN_CODE_EXPIRED);

    /* invalid arguments: the result says so too */
    CHECK_CODE(jwt(v, FX_TOKEN_MAIN, &r), WARDEN_CODE_OK);
    CHECK_CODE(warden_verify_jwt(v, BYTES(FX_TOKEN_MAIN), NAN, &r), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK(r.code == WARDEN_CODE_INVALID_ARGUMENT && r.kind == WARDEN_KIND_NONE && r.subject == NULL);
    CHECK_CODE(warden_result_claim(&r, TEXT("sub"), &p, &n), WARDEN_CODE_NOT_FOUND);
    CHECK_CODE(warden_verify_jwt(v, BYTES(FX_TOKEN_MAIN), INFINITY, &r), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verify_jwt(v, BYTES(FX_TOKEN_MAIN), -INFINITY, &r), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verify_jwt(v, NULL, 10, FX_NOW, &r), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verify_jwt(v, (const uint8_t *)"x", SIZE_MAX, FX_NOW, &r), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verify_jwt(NULL, BYTES(FX_TOKEN_MAIN), FX_NOW, &r), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK(r.code == WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verify_jwt(v, BYTES(FX_TOKEN_MAIN), FX_NOW, NULL), WARDEN_CODE_INVALID_ARGUMENT);

    /* a result outlives its verifier; free releases and resets it */
    CHECK_CODE(jwt(v, FX_TOKEN_MAIN, &r), WARDEN_CODE_OK);
    warden_verifier_free(v);
    CHECK(span_eq(r.subject, r.subject_len, "c-user-1"));
    CHECK_CODE(warden_result_claim_path(&r, TEXT("realm.level.n"), &p, &n), WARDEN_CODE_OK);
    warden_result_free(&r);
    CHECK(r.internal == NULL && r.subject == NULL && r.code == 0);
    CHECK_CODE(warden_result_claim(&r, TEXT("sub"), &p, &n), WARDEN_CODE_NOT_FOUND);
    warden_result_free(&r);
    warden_result_free(NULL);
    CHECK_CODE(warden_result_init(NULL), WARDEN_CODE_INVALID_ARGUMENT);
}

/* A token carried in a claim, verified again through the same result: its
 * bytes live in the result's own memory, which the verification rewrites. */
static void test_credential_read_from_the_same_result(void) {
    warden_verifier *v = from_file("config_a.json");
    warden_result r;
    CHECK_CODE(warden_result_init(&r), WARDEN_CODE_OK);
    CHECK_CODE(jwt(v, FX_TOKEN_NESTED, &r), WARDEN_CODE_OK);
    CHECK(span_eq(r.subject, r.subject_len, "c-outer"));
    const char *inner;
    size_t inner_len;
    CHECK_CODE(warden_result_claim(&r, "nested", 6, &inner, &inner_len), WARDEN_CODE_OK);
    CHECK(inner_len > 2 && inner[0] == '"');
    /* Without its quotes: the token. */
    CHECK_CODE(warden_verify_jwt(v, (const uint8_t *)inner + 1, inner_len - 2, FX_NOW, &r), WARDEN_CODE_OK);
    CHECK(span_eq(r.subject, r.subject_len, "c-inner") && r.scope_count == 1);
    /* The subject handed out, as an API key and as a Basic user name. */
    const char *sub = r.subject;
    CHECK_CODE(warden_verify_api_key(v, (const uint8_t *)sub, r.subject_len, FX_NOW, &r), WARDEN_CODE_BAD_API_KEY);
    CHECK_CODE(warden_verify_jwt(v, BYTES(FX_TOKEN_MAIN), FX_NOW, &r), WARDEN_CODE_OK);
    CHECK_CODE(warden_verify_basic(v, (const uint8_t *)r.subject, r.subject_len, BYTES("x"), FX_NOW, &r),
               WARDEN_CODE_BAD_CREDENTIALS);
    warden_result_free(&r);
    warden_verifier_free(v);
}

static void test_api_key_basic_authorization(void) {
    warden_verifier *v = from_file("config_a.json");
    warden_result r = {0}; /* zeroing is as good as warden_result_init */
    const char *p;
    size_t n;
    warden_str scopes[2];

    CHECK_CODE(warden_result_scopes(&r, scopes, 2, &n), WARDEN_CODE_OK); /* never used: no scopes */
    CHECK(n == 0);
    CHECK_CODE(warden_verify_api_key(v, BYTES(FX_API_KEY), FX_NOW, &r), WARDEN_CODE_OK);
    CHECK(r.kind == WARDEN_KIND_API_KEY && span_eq(r.subject, r.subject_len, "c-svc"));
    CHECK(span_eq(r.key_id, r.key_id_len, "c-key-1") && r.kid == NULL && !r.has_exp);
    CHECK(r.scope_count == 2);
    CHECK_CODE(warden_result_scope(&r, 1, &p, &n), WARDEN_CODE_OK);
    CHECK(span_eq(p, n, "k:write"));
    CHECK_CODE(warden_result_scopes(&r, scopes, 2, &n), WARDEN_CODE_OK);
    CHECK(n == 2 && span_eq(scopes[1].ptr, scopes[1].len, "k:write"));
    CHECK_CODE(warden_result_claim(&r, TEXT("sub"), &p, &n), WARDEN_CODE_NOT_FOUND);
    CHECK_CODE(warden_verify_api_key(v, BYTES(FX_API_KEY_UNKNOWN), FX_NOW, &r), WARDEN_CODE_BAD_API_KEY);
    CHECK(r.kind == WARDEN_KIND_API_KEY && r.key_id == NULL);
    CHECK_CODE(warden_verify_api_key(v, NULL, 0, FX_NOW, &r), WARDEN_CODE_BAD_API_KEY);
    CHECK_CODE(warden_verify_api_key(v, NULL, 1, FX_NOW, &r), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verify_api_key(NULL, BYTES(FX_API_KEY), FX_NOW, &r), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verify_api_key(v, BYTES(FX_API_KEY), NAN, &r), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verify_api_key(v, BYTES(FX_API_KEY), FX_NOW, NULL), WARDEN_CODE_INVALID_ARGUMENT);

    /* rate {per_s: 0.5, burst: 2}: the third at the same instant waits 2 s */
    CHECK_CODE(warden_verify_api_key(v, BYTES(FX_API_KEY_RL), FX_NOW, &r), WARDEN_CODE_OK);
    CHECK_CODE(warden_verify_api_key(v, BYTES(FX_API_KEY_RL), FX_NOW, &r), WARDEN_CODE_OK);
    CHECK_CODE(warden_verify_api_key(v, BYTES(FX_API_KEY_RL), FX_NOW, &r), WARDEN_CODE_RATE_LIMITED);
    CHECK(r.kind == WARDEN_KIND_API_KEY && r.retry_after_s == 2);
    CHECK_CODE(warden_verify_api_key(v, BYTES(FX_API_KEY_RL), FX_NOW + 2, &r), WARDEN_CODE_OK);
    CHECK(r.retry_after_s == 0);

    /* Basic */
    CHECK_CODE(warden_verify_basic(v, BYTES(FX_BASIC_USER), BYTES(FX_BASIC_PASS), FX_NOW, &r), WARDEN_CODE_OK);
    CHECK(r.kind == WARDEN_KIND_BASIC && span_eq(r.subject, r.subject_len, FX_BASIC_USER) && r.scope_count == 0);
    CHECK_CODE(warden_verify_basic(v, BYTES(FX_BASIC_USER), BYTES("c-pass"), FX_NOW, &r),
               WARDEN_CODE_BAD_CREDENTIALS);
    CHECK(r.kind == WARDEN_KIND_BASIC && r.subject == NULL);
    CHECK_CODE(warden_verify_basic(v, BYTES("mallory"), BYTES(FX_BASIC_PASS), FX_NOW, &r),
               WARDEN_CODE_BAD_CREDENTIALS);
    CHECK_CODE(warden_verify_basic(v, NULL, 0, NULL, 0, FX_NOW, &r), WARDEN_CODE_BAD_CREDENTIALS);
    CHECK_CODE(warden_verify_basic(v, BYTES(FX_BASIC_USER), NULL, 4, FX_NOW, &r), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verify_basic(v, NULL, 4, BYTES(FX_BASIC_PASS), FX_NOW, &r), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verify_basic(NULL, BYTES(FX_BASIC_USER), BYTES(FX_BASIC_PASS), FX_NOW, &r),
               WARDEN_CODE_INVALID_ARGUMENT);

    /* Authorization header values */
    char hdr[2048];
    snprintf(hdr, sizeof hdr, "Bearer %s", FX_TOKEN_MAIN);
    CHECK_CODE(warden_verify_authorization(v, BYTES(hdr), FX_NOW, &r), WARDEN_CODE_OK);
    CHECK(r.kind == WARDEN_KIND_JWT && span_eq(r.subject, r.subject_len, "c-user-1"));
    CHECK_CODE(warden_result_claim_path(&r, TEXT("realm.level.n"), &p, &n), WARDEN_CODE_OK);
    snprintf(hdr, sizeof hdr, " \tbearer   %s \t", FX_API_KEY);
    CHECK_CODE(warden_verify_authorization(v, BYTES(hdr), FX_NOW, &r), WARDEN_CODE_OK);
    CHECK(r.kind == WARDEN_KIND_API_KEY && span_eq(r.key_id, r.key_id_len, "c-key-1"));
    CHECK_CODE(warden_verify_authorization(v, BYTES(FX_BASIC_AUTHORIZATION), FX_NOW, &r), WARDEN_CODE_OK);
    CHECK(r.kind == WARDEN_KIND_BASIC && span_eq(r.subject, r.subject_len, FX_BASIC_USER));
    CHECK_CODE(warden_verify_authorization(v, BYTES("Basic Yzpk"), FX_NOW, &r), WARDEN_CODE_BAD_CREDENTIALS);
    CHECK_CODE(warden_verify_authorization(v, BYTES("Basic !!!"), FX_NOW, &r), WARDEN_CODE_MALFORMED);
    CHECK(r.kind == WARDEN_KIND_BASIC);
    CHECK_CODE(warden_verify_authorization(v, BYTES("Digest abc"), FX_NOW, &r), WARDEN_CODE_MALFORMED);
    CHECK_CODE(warden_verify_authorization(v, NULL, 0, FX_NOW, &r), WARDEN_CODE_MALFORMED);
    CHECK_CODE(warden_verify_authorization(v, NULL, 7, FX_NOW, &r), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verify_authorization(NULL, BYTES("Bearer x"), FX_NOW, &r), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verify_authorization(v, BYTES("Bearer x"), FX_NOW, NULL), WARDEN_CODE_INVALID_ARGUMENT);

    /* a freed result can be used again */
    warden_result_free(&r);
    CHECK(r.internal == NULL);
    CHECK_CODE(warden_verify_api_key(v, BYTES(FX_API_KEY), FX_NOW, &r), WARDEN_CODE_OK);
    CHECK(r.internal != NULL && span_eq(r.key_id, r.key_id_len, "c-key-1"));
    warden_result_free(&r);
    warden_verifier_free(v);
}

static void test_revocation(void) {
    warden_verifier *v = from_file("config_a.json");
    warden_result r;
    warden_result_init(&r);
    uint64_t before = 0, after = 0;
    CHECK_CODE(warden_stats_counter(v, WARDEN_COUNTER_REVOCATION, &before), WARDEN_CODE_OK);

    /* jti */
    CHECK_CODE(jwt(v, FX_TOKEN_JTI2, &r), WARDEN_CODE_OK);
    CHECK_CODE(warden_revoke_jti(v, TEXT("c-jti-2"), 0, FX_NOW), WARDEN_CODE_OK);
    CHECK_CODE(jwt(v, FX_TOKEN_JTI2, &r), WARDEN_CODE_REVOKED);
    CHECK_CODE(jwt(v, FX_TOKEN_MAIN, &r), WARDEN_CODE_OK); /* jti c-jti-1 */
    CHECK_CODE(warden_unrevoke_jti(v, TEXT("c-jti-2")), WARDEN_CODE_OK);
    CHECK_CODE(jwt(v, FX_TOKEN_JTI2, &r), WARDEN_CODE_OK);
    CHECK_CODE(warden_unrevoke_jti(v, TEXT("c-jti-2")), WARDEN_CODE_NOT_FOUND);
    /* with an expiry, and `now` 0 = the clock */
    CHECK_CODE(warden_revoke_jti(v, TEXT("c-jti-2"), FX_EXP, 0), WARDEN_CODE_OK);
    CHECK_CODE(jwt(v, FX_TOKEN_JTI2, &r), WARDEN_CODE_REVOKED);
    CHECK_CODE(warden_unrevoke_jti(v, TEXT("c-jti-2")), WARDEN_CODE_OK);
    /* config revocations are not the run time's to undo */
    CHECK_CODE(warden_unrevoke_jti(v, TEXT("c-revoked-jti")), WARDEN_CODE_NOT_FOUND);
    CHECK_CODE(jwt(v, FX_TOKEN_CONFIG_REVOKED, &r), WARDEN_CODE_REVOKED);

    /* subject before a time */
    CHECK_CODE(warden_revoke_subject_before(v, TEXT("c-user-2"), FX_NOW - 500, FX_NOW), WARDEN_CODE_OK);
    CHECK_CODE(jwt(v, FX_TOKEN_SUB2_OLD, &r), WARDEN_CODE_REVOKED);
    CHECK_CODE(jwt(v, FX_TOKEN_SUB2_NEW, &r), WARDEN_CODE_OK);
    CHECK_CODE(warden_unrevoke_subject(v, TEXT("c-user-2")), WARDEN_CODE_OK);
    CHECK_CODE(jwt(v, FX_TOKEN_SUB2_OLD, &r), WARDEN_CODE_OK);
    CHECK_CODE(warden_unrevoke_subject(v, TEXT("c-user-2")), WARDEN_CODE_NOT_FOUND);

    /* API key id */
    CHECK_CODE(warden_revoke_api_key_id(v, TEXT("c-key-1"), FX_NOW), WARDEN_CODE_OK);
    CHECK_CODE(warden_verify_api_key(v, BYTES(FX_API_KEY), FX_NOW, &r), WARDEN_CODE_REVOKED);
    /* revocations survive a reload */
    CHECK_CODE(warden_verifier_reload(v), WARDEN_CODE_OK);
    CHECK_CODE(warden_verify_api_key(v, BYTES(FX_API_KEY), FX_NOW, &r), WARDEN_CODE_REVOKED);
    CHECK_CODE(warden_unrevoke_api_key_id(v, TEXT("c-key-1")), WARDEN_CODE_OK);
    CHECK_CODE(warden_verify_api_key(v, BYTES(FX_API_KEY), FX_NOW, &r), WARDEN_CODE_OK);
    CHECK_CODE(warden_unrevoke_api_key_id(v, TEXT("c-key-1")), WARDEN_CODE_NOT_FOUND);

    CHECK_CODE(warden_stats_counter(v, WARDEN_COUNTER_REVOCATION, &after), WARDEN_CODE_OK);
    CHECK(after - before == 8);

    /* the empty name is a name */
    CHECK_CODE(warden_revoke_jti(v, NULL, 0, 0, FX_NOW), WARDEN_CODE_OK);
    CHECK_CODE(warden_unrevoke_jti(v, NULL, 0), WARDEN_CODE_OK);

    /* invalid arguments */
    CHECK_CODE(warden_revoke_jti(NULL, TEXT("x"), 0, FX_NOW), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_revoke_jti(v, NULL, 3, 0, FX_NOW), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_revoke_jti(v, "\xff\xfe", 2, 0, FX_NOW), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_revoke_jti(v, TEXT("x"), NAN, FX_NOW), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_revoke_jti(v, TEXT("x"), 0, INFINITY), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_revoke_subject_before(NULL, TEXT("x"), 1, FX_NOW), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_revoke_subject_before(v, TEXT("x"), NAN, FX_NOW), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_revoke_subject_before(v, NULL, 1, 1, FX_NOW), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_revoke_api_key_id(NULL, TEXT("x"), FX_NOW), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_revoke_api_key_id(v, "\xc3", 1, FX_NOW), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_revoke_api_key_id(v, TEXT("x"), NAN), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_unrevoke_jti(NULL, TEXT("x")), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_unrevoke_subject(v, NULL, 1), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_unrevoke_api_key_id(v, "\xff", 1), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_stats_counter(v, WARDEN_COUNTER_REVOCATION, &after), WARDEN_CODE_OK);
    CHECK(after - before == 10); /* refused calls change nothing */

    warden_result_free(&r);
    warden_verifier_free(v);
}

/* With several issuer profiles a pushed key set names its profile (there
 * was no way to from C, Python or Go). */
static void test_set_jwks_for_one_of_several_profiles(void) {
    static const char cfg[] = "{\"jwt\": [{\"issuer\": \"https://a\", \"jwks\": {\"keys\": []}}, "
                              "{\"issuer\": \"https://b\", \"jwks\": {\"keys\": []}}]}";
    warden_verifier *v = NULL;
    char err[256];
    uint64_t swaps = 0;
    CHECK_CODE(warden_verifier_new_from_json((const uint8_t *)cfg, strlen(cfg), &v, err, sizeof err), WARDEN_CODE_OK);
    CHECK_CODE(warden_verifier_set_jwks(v, BYTES(FX_JWKS_K1_K3_JSON)), WARDEN_CODE_CONFIG);
    CHECK(warden_verifier_last_error(v, err, sizeof err, NULL) == WARDEN_CODE_OK &&
          strstr(err, "warden_verifier_set_jwks_for") != NULL);
    CHECK_CODE(warden_verifier_set_jwks_for(v, TEXT("https://b"), BYTES(FX_JWKS_K1_K3_JSON)), WARDEN_CODE_OK);
    CHECK_CODE(warden_stats_counter(v, WARDEN_COUNTER_KEY_SET_SWAP, &swaps), WARDEN_CODE_OK);
    CHECK(swaps == 1);
    CHECK_CODE(warden_verifier_set_jwks_for(v, TEXT("https://nobody"), BYTES(FX_JWKS_K1_K3_JSON)), WARDEN_CODE_CONFIG);
    CHECK(warden_verifier_last_error(v, err, sizeof err, NULL) == WARDEN_CODE_OK && strstr(err, "nobody") != NULL);
    CHECK_CODE(warden_verifier_set_jwks_for(v, TEXT("https://a"), BYTES(FX_JWKS_SHORT_JSON)), WARDEN_CODE_CONFIG);
    CHECK_CODE(warden_verifier_set_jwks_for(v, NULL, 3, BYTES(FX_JWKS_K1_K3_JSON)), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verifier_set_jwks_for(v, "\xff", 1, BYTES(FX_JWKS_K1_K3_JSON)), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_stats_counter(v, WARDEN_COUNTER_KEY_SET_SWAP, &swaps), WARDEN_CODE_OK);
    CHECK(swaps == 1);
    warden_verifier_free(v);
}

static void test_reload_and_keys(void) {
    warden_verifier *v = from_file("config_a.json");
    warden_result r;
    warden_result_init(&r);
    char err[512];
    size_t needed = 0;
    uint64_t reloads = 0, failures = 0, swaps = 0;

    CHECK_CODE(warden_verifier_last_error(v, err, sizeof err, &needed), WARDEN_CODE_OK);
    CHECK(err[0] == 0 && needed == 0);
    CHECK_CODE(warden_verifier_reload(v), WARDEN_CODE_OK);

    /* a broken file: refused, the old config keeps serving */
    const char *broken = fixture_path("config_broken.json");
    CHECK_CODE(warden_verifier_reload_from_file(v, TEXT(broken)), WARDEN_CODE_CONFIG);
    CHECK_CODE(warden_verifier_last_error(v, err, sizeof err, &needed), WARDEN_CODE_OK);
    CHECK(strstr(err, "config_broken.json") != NULL && strstr(err, "line ") != NULL && needed == strlen(err));
    CHECK_CODE(jwt(v, FX_TOKEN_MAIN, &r), WARDEN_CODE_OK);
    CHECK_CODE(jwt(v, FX_TOKEN_K2, &r), WARDEN_CODE_OK);
    const char *refused = fixture_path("config_refused.json");
    CHECK_CODE(warden_verifier_reload_from_file(v, TEXT(refused)), WARDEN_CODE_CONFIG);
    CHECK_CODE(warden_verifier_last_error(v, err, sizeof err, NULL), WARDEN_CODE_OK);
    CHECK(strstr(err, "config_refused.json") != NULL && strstr(err, "jwt.leeway") != NULL);
    const char *missing = fixture_path("gone.json");
    CHECK_CODE(warden_verifier_reload_from_file(v, TEXT(missing)), WARDEN_CODE_CONFIG);
    CHECK_CODE(jwt(v, FX_TOKEN_K2, &r), WARDEN_CODE_OK);
    /* the file this config came from is still config_a.json */
    CHECK_CODE(warden_verifier_reload(v), WARDEN_CODE_OK);

    /* last_error: measure, cut, arguments */
    CHECK_CODE(warden_verifier_last_error(v, NULL, 0, &needed), WARDEN_CODE_BUFFER_TOO_SMALL);
    CHECK(needed > 10);
    char small[6];
    CHECK_CODE(warden_verifier_last_error(v, small, sizeof small, &needed), WARDEN_CODE_BUFFER_TOO_SMALL);
    CHECK(strlen(small) == 5);
    CHECK_CODE(warden_verifier_last_error(NULL, err, sizeof err, &needed), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verifier_last_error(v, NULL, 5, &needed), WARDEN_CODE_INVALID_ARGUMENT);

    /* switch to config B by JSON: K2 goes, K3 comes */
    CHECK_CODE(warden_verifier_reload_from_json(v, BYTES(FX_CONFIG_B_JSON)), WARDEN_CODE_OK);
    CHECK_CODE(jwt(v, FX_TOKEN_K2, &r), WARDEN_CODE_UNKNOWN_KEY);
    CHECK_CODE(jwt(v, FX_TOKEN_K3, &r), WARDEN_CODE_OK);
    CHECK(span_eq(r.kid, r.kid_len, "c-hs384-3"));
    CHECK_CODE(jwt(v, FX_TOKEN_MAIN, &r), WARDEN_CODE_OK);
    CHECK_CODE(warden_verifier_reload_from_json(v, BYTES("{\"jwt\": ")), WARDEN_CODE_CONFIG);
    CHECK_CODE(warden_verifier_reload_from_json(v, NULL, 0), WARDEN_CODE_CONFIG);
    CHECK_CODE(jwt(v, FX_TOKEN_K3, &r), WARDEN_CODE_OK);
    /* a config from JSON has no file to re-read */
    CHECK_CODE(warden_verifier_reload(v), WARDEN_CODE_CONFIG);
    CHECK_CODE(warden_verifier_last_error(v, err, sizeof err, NULL), WARDEN_CODE_OK);
    CHECK(strstr(err, "not loaded from a file") != NULL);
    /* back to A by file */
    const char *a = fixture_path("config_a.json");
    CHECK_CODE(warden_verifier_reload_from_file(v, TEXT(a)), WARDEN_CODE_OK);
    CHECK_CODE(jwt(v, FX_TOKEN_K2, &r), WARDEN_CODE_OK);
    CHECK_CODE(jwt(v, FX_TOKEN_K3, &r), WARDEN_CODE_UNSUPPORTED_ALG); /* no HS384 key in A */

    /* replace the key set */
    CHECK_CODE(warden_verifier_set_jwks(v, BYTES(FX_JWKS_K1_K3_JSON)), WARDEN_CODE_OK);
    CHECK_CODE(jwt(v, FX_TOKEN_K3, &r), WARDEN_CODE_OK);
    CHECK_CODE(jwt(v, FX_TOKEN_K2, &r), WARDEN_CODE_UNKNOWN_KEY);
    CHECK_CODE(jwt(v, FX_TOKEN_MAIN, &r), WARDEN_CODE_OK);
    CHECK_CODE(warden_verify_api_key(v, BYTES(FX_API_KEY), FX_NOW, &r), WARDEN_CODE_OK); /* the rest stays */
    CHECK_CODE(warden_verifier_set_jwks(v, BYTES(FX_JWKS_SHORT_JSON)), WARDEN_CODE_CONFIG);
    CHECK_CODE(warden_verifier_last_error(v, err, sizeof err, NULL), WARDEN_CODE_OK);
    CHECK(strstr(err, "jwks") != NULL);
    CHECK_CODE(warden_verifier_set_jwks(v, BYTES("[]")), WARDEN_CODE_CONFIG);
    CHECK_CODE(warden_verifier_set_jwks(v, BYTES("not json")), WARDEN_CODE_CONFIG);
    CHECK(warden_verifier_last_error(v, err, sizeof err, NULL) == WARDEN_CODE_OK && strstr(err, "JSON") != NULL);
    CHECK_CODE(jwt(v, FX_TOKEN_K3, &r), WARDEN_CODE_OK);
    /* a reload brings back the config's keys */
    CHECK_CODE(warden_verifier_reload(v), WARDEN_CODE_OK);
    CHECK_CODE(jwt(v, FX_TOKEN_K3, &r), WARDEN_CODE_UNSUPPORTED_ALG); /* no HS384 key in A */
    CHECK_CODE(jwt(v, FX_TOKEN_K2, &r), WARDEN_CODE_OK);

    /* invalid arguments */
    CHECK_CODE(warden_verifier_reload(NULL), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verifier_reload_from_file(NULL, TEXT(a)), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verifier_reload_from_file(v, NULL, 4), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verifier_reload_from_json(NULL, BYTES("{}")), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verifier_reload_from_json(v, NULL, 2), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verifier_set_jwks(NULL, BYTES(FX_JWKS_K1_K3_JSON)), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verifier_set_jwks(v, NULL, 9), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verifier_set_jwks_for(NULL, TEXT("a"), BYTES(FX_JWKS_K1_K3_JSON)), WARDEN_CODE_INVALID_ARGUMENT);

    CHECK_CODE(warden_stats_counter(v, WARDEN_COUNTER_RELOAD, &reloads), WARDEN_CODE_OK);
    CHECK_CODE(warden_stats_counter(v, WARDEN_COUNTER_RELOAD_FAILURE, &failures), WARDEN_CODE_OK);
    CHECK_CODE(warden_stats_counter(v, WARDEN_COUNTER_KEY_SET_SWAP, &swaps), WARDEN_CODE_OK);
    /* failures: 5 refused reloads, the file-less reload() and 3 refused JWK Sets */
    CHECK(reloads == 5 && failures == 9 && swaps == 1);

    warden_result_free(&r);
    warden_verifier_free(v);
}

static void test_stats(void) {
    warden_verifier *v = from_file("config_a.json");
    warden_result r;
    warden_result_init(&r);
    for (int i = 0; i < 3; i++) jwt(v, FX_TOKEN_MAIN, &r);
    jwt(v, FX_TOKEN_FORGED, &r);
    warden_verify_api_key(v, BYTES(FX_API_KEY), FX_NOW, &r);
    warden_verify_jwt(v, NULL, 1, FX_NOW, &r); /* invalid: not counted */

    uint64_t n = 99;
    CHECK_CODE(warden_stats_verdicts(v, WARDEN_KIND_JWT, WARDEN_CODE_OK, &n), WARDEN_CODE_OK);
    CHECK(n == 3);
    CHECK_CODE(warden_stats_verdicts(v, WARDEN_KIND_JWT, WARDEN_CODE_BAD_SIGNATURE, &n), WARDEN_CODE_OK);
    CHECK(n == 1);
    CHECK_CODE(warden_stats_verdicts(v, WARDEN_KIND_API_KEY, WARDEN_CODE_OK, &n), WARDEN_CODE_OK);
    CHECK(n == 1);
    CHECK_CODE(warden_stats_verdicts(v, WARDEN_KIND_BASIC, WARDEN_CODE_RATE_LIMITED, &n), WARDEN_CODE_OK);
    CHECK(n == 0);
    CHECK_CODE(warden_stats_verdicts(v, WARDEN_KIND_JWT, WARDEN_CODE_MALFORMED, &n), WARDEN_CODE_OK);
    CHECK(n == 0);
    CHECK_CODE(warden_stats_verdicts(v, WARDEN_KIND_NONE, 0, &n), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_stats_verdicts(v, 4, 0, &n), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_stats_verdicts(v, WARDEN_KIND_JWT, 19, &n), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_stats_verdicts(v, WARDEN_KIND_JWT, WARDEN_CODE_INVALID_ARGUMENT, &n),
               WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_stats_verdicts(v, WARDEN_KIND_JWT, 0, NULL), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_stats_verdicts(NULL, WARDEN_KIND_JWT, 0, &n), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_stats_counter(v, WARDEN_COUNTER_TOKEN_CACHE_HIT, &n), WARDEN_CODE_OK);
    CHECK(n == 2); /* the main token, verified three times: one miss, then two hits */
    CHECK_CODE(warden_stats_counter(v, WARDEN_COUNTER_TOKEN_CACHE_MISS, &n), WARDEN_CODE_OK);
    CHECK(n == 2); /* and the forged one */
    CHECK_CODE(warden_stats_counter(v, 1000, &n), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_stats_counter(v, WARDEN_COUNTER_RELOAD, NULL), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_stats_counter(NULL, WARDEN_COUNTER_RELOAD, &n), WARDEN_CODE_INVALID_ARGUMENT);

    size_t needed = 0;
    CHECK_CODE(warden_stats_prometheus(v, NULL, 0, &needed), WARDEN_CODE_BUFFER_TOO_SMALL);
    CHECK(needed > 1000);
    char *text = malloc(needed + 1);
    size_t got = 0;
    CHECK_CODE(warden_stats_prometheus(v, text, needed + 1, &got), WARDEN_CODE_OK);
    CHECK(got == needed && strlen(text) == needed);
    CHECK(strstr(text, "warden_verdicts_total{kind=\"jwt\",code=\"ok\"} 3\n") != NULL);
    CHECK(strstr(text, "warden_verdicts_total{kind=\"jwt\",code=\"bad_signature\"} 1\n") != NULL);
    CHECK(strstr(text, "warden_reloads_total 0\n") != NULL);
    CHECK_CODE(warden_stats_prometheus(v, text, 10, NULL), WARDEN_CODE_BUFFER_TOO_SMALL);
    CHECK(strlen(text) == 9);
    free(text);
    CHECK_CODE(warden_stats_prometheus(NULL, NULL, 0, &needed), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_stats_prometheus(v, NULL, 3, &needed), WARDEN_CODE_INVALID_ARGUMENT);

    warden_result_free(&r);
    warden_verifier_free(v);
}

/* The log sink: a remote key source that cannot be reached makes the
 * refresher log a warning (and keep serving what it has). */
struct log_seen {
    int warnings;
    int bad_level;
    int mentions_source;
};

static void on_log(void *user_data, uint32_t level, const char *msg, size_t msg_len) {
    struct log_seen *seen = user_data;
    if (level == WARDEN_LOG_WARN) {
        __atomic_add_fetch(&seen->warnings, 1, __ATOMIC_SEQ_CST);
    } else if (level != WARDEN_LOG_INFO && level != WARDEN_LOG_ERROR) {
        __atomic_add_fetch(&seen->bad_level, 1, __ATOMIC_SEQ_CST);
    }
    static const char needle[] = "127.0.0.1:9";
    for (size_t i = 0; i + sizeof needle - 1 <= msg_len; i++) {
        if (memcmp(msg + i, needle, sizeof needle - 1) == 0) {
            __atomic_store_n(&seen->mentions_source, 1, __ATOMIC_SEQ_CST);
            break;
        }
    }
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* A remote key source nobody answers (port 9, discard), retried every 0.05-0.1 s. */
static const char cfg_unreachable[] = "{\"jwt\": {\"jwks_uri\": \"http://127.0.0.1:9/jwks\", "
                                      "\"allow_insecure_loopback\": true, "
                                      "\"refresh\": {\"min_s\": 0.05, \"max_s\": 0.1, \"timeout_s\": 0.2}}}";

static void test_logger(void) {
    const char *cfg = cfg_unreachable;
    warden_verifier *v = NULL;
    char err[256];
    CHECK_CODE(warden_verifier_new_from_json((const uint8_t *)cfg, strlen(cfg), &v, err, sizeof err), WARDEN_CODE_OK);
    struct log_seen seen = {0, 0, 0};
    CHECK_CODE(warden_verifier_set_logger(NULL, on_log, &seen), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verifier_set_logger(v, on_log, &seen), WARDEN_CODE_OK);
    for (int i = 0; i < 300 && __atomic_load_n(&seen.warnings, __ATOMIC_SEQ_CST) == 0; i++) sleep_ms(10);
    CHECK(__atomic_load_n(&seen.warnings, __ATOMIC_SEQ_CST) > 0);
    CHECK(__atomic_load_n(&seen.mentions_source, __ATOMIC_SEQ_CST) == 1);
    CHECK(seen.bad_level == 0);
    uint64_t failures = 0;
    CHECK_CODE(warden_stats_counter(v, WARDEN_COUNTER_JWKS_FETCH_FAILURE, &failures), WARDEN_CODE_OK);
    CHECK(failures >= 2);
    /* Removing the logger stops the calls (a call in flight is waited for). */
    CHECK_CODE(warden_verifier_set_logger(v, NULL, NULL), WARDEN_CODE_OK);
    int before = __atomic_load_n(&seen.warnings, __ATOMIC_SEQ_CST);
    sleep_ms(300);
    CHECK(__atomic_load_n(&seen.warnings, __ATOMIC_SEQ_CST) == before);
    warden_verifier_free(v);

    /* Created with a logger: the failed first fetch, made during creation,
     * is logged before the constructor returns. */
    struct log_seen at_start = {0, 0, 0};
    v = NULL;
    CHECK_CODE(warden_verifier_new_from_json_with_logger((const uint8_t *)cfg, strlen(cfg), on_log, &at_start, &v, err,
                                                         sizeof err),
               WARDEN_CODE_OK);
    CHECK(v != NULL && err[0] == '\0');
    CHECK(__atomic_load_n(&at_start.warnings, __ATOMIC_SEQ_CST) >= 1);
    CHECK(__atomic_load_n(&at_start.mentions_source, __ATOMIC_SEQ_CST) == 1);
    warden_verifier_free(v);
    /* After the free returns the logger is never called: its data may go. */
    int after_free = __atomic_load_n(&at_start.warnings, __ATOMIC_SEQ_CST);
    sleep_ms(300);
    CHECK(__atomic_load_n(&at_start.warnings, __ATOMIC_SEQ_CST) == after_free);

    /* The file form; a refused config logs nothing; a NULL logger is none. */
    char path[512];
    snprintf(path, sizeof path, "%s/warden-c-logger-%ld.json", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid());
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    fputs(cfg, fp);
    fclose(fp);
    struct log_seen from_file = {0, 0, 0};
    v = NULL;
    CHECK_CODE(warden_verifier_new_from_file_with_logger(path, strlen(path), on_log, &from_file, &v, err, sizeof err),
               WARDEN_CODE_OK);
    CHECK(__atomic_load_n(&from_file.warnings, __ATOMIC_SEQ_CST) >= 1);
    CHECK_CODE(warden_verifier_reload(v), WARDEN_CODE_OK); /* it remembers its file */
    warden_verifier_free(v);
    remove(path);
    static const char refused[] = "{\"jwt\": {\"jwks_uri\": \"http://127.0.0.1:9/jwks\", \"leeway_s\": -1}}";
    struct log_seen none = {0, 0, 0};
    v = (warden_verifier *)&none;
    CHECK_CODE(warden_verifier_new_from_json_with_logger((const uint8_t *)refused, strlen(refused), on_log, &none, &v,
                                                         err, sizeof err),
               WARDEN_CODE_CONFIG);
    CHECK(v == NULL && err[0] != '\0' && none.warnings == 0);
    CHECK_CODE(warden_verifier_new_from_json_with_logger((const uint8_t *)cfg, strlen(cfg), NULL, NULL, &v, err,
                                                         sizeof err),
               WARDEN_CODE_OK);
    warden_verifier_free(v);
    CHECK_CODE(warden_verifier_new_from_json_with_logger((const uint8_t *)cfg, strlen(cfg), on_log, &none, NULL, err,
                                                         sizeof err),
               WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verifier_new_from_file_with_logger(NULL, 3, on_log, &none, &v, err, sizeof err),
               WARDEN_CODE_INVALID_ARGUMENT);
    CHECK(v == NULL && none.warnings == 0);
}

/* A logger that frees its verifier, as the header allows, when it is called
 * on the thread that is reloading that verifier (the reload's fetch of a new
 * source fails and is logged there). */
struct freeing_logger {
    warden_verifier *v;
    pthread_t caller;
    int freed;
    int calls_after_free;
};

static void on_log_free(void *user_data, uint32_t level, const char *msg, size_t msg_len) {
    (void)level, (void)msg, (void)msg_len;
    struct freeing_logger *f = user_data;
    if (f->freed) {
        __atomic_add_fetch(&f->calls_after_free, 1, __ATOMIC_SEQ_CST);
    } else if (pthread_equal(pthread_self(), f->caller)) {
        warden_verifier_free(f->v);
        f->freed = 1;
    }
}

static void test_logger_frees_its_verifier_inside_a_reload(void) {
    const char *cfg = cfg_unreachable;
    char err[256];
    struct freeing_logger f = {NULL, pthread_self(), 0, 0};
    CHECK_CODE(warden_verifier_new_from_json((const uint8_t *)cfg, strlen(cfg), &f.v, err, sizeof err),
               WARDEN_CODE_OK);
    /* Only the caller's thread logs from here on. */
    CHECK_CODE(warden_verifier_pause_refresh(f.v), WARDEN_CODE_OK);
    CHECK_CODE(warden_verifier_set_logger(f.v, on_log_free, &f), WARDEN_CODE_OK);
    /* Another source: fetched (and failing, logged) during the reload. */
    static const char other[] = "{\"jwt\": {\"jwks_uri\": \"http://127.0.0.1:9/other\", "
                                "\"allow_insecure_loopback\": true, \"refresh\": {\"timeout_s\": 0.2}}}";
    /* The verifier is freed inside this call; the call must not touch freed
     * memory (AddressSanitizer watches), and it is not used afterwards. The
     * reload itself is refused: its new source cannot be fetched. */
    CHECK_CODE(warden_verifier_reload_from_json(f.v, (const uint8_t *)other, strlen(other)), WARDEN_CODE_CONFIG);
    CHECK(f.freed == 1);
    sleep_ms(200);
    CHECK(__atomic_load_n(&f.calls_after_free, __ATOMIC_SEQ_CST) == 0);
}

static uint64_t fetch_failures(const warden_verifier *v) {
    uint64_t n = 0;
    CHECK_CODE(warden_stats_counter(v, WARDEN_COUNTER_JWKS_FETCH_FAILURE, &n), WARDEN_CODE_OK);
    return n;
}

/* A pre-forking server's master pauses its refreshers; its children refresh
 * on their own (threads do not survive fork()). */
static void test_pause_refresh(void) {
    const char *cfg = cfg_unreachable;
    warden_verifier *v = NULL;
    char err[256];
    CHECK_CODE(warden_verifier_new_from_json((const uint8_t *)cfg, strlen(cfg), &v, err, sizeof err), WARDEN_CODE_OK);
    CHECK_CODE(warden_verifier_pause_refresh(NULL), WARDEN_CODE_INVALID_ARGUMENT);
    CHECK_CODE(warden_verifier_resume_refresh(NULL), WARDEN_CODE_INVALID_ARGUMENT);
    for (int i = 0; i < 300 && fetch_failures(v) < 2; i++) sleep_ms(10);
    CHECK(fetch_failures(v) >= 2); /* the refresher retries */
    CHECK_CODE(warden_verifier_pause_refresh(v), WARDEN_CODE_OK);
    uint64_t paused_at = fetch_failures(v);
    sleep_ms(400);
    CHECK(fetch_failures(v) == paused_at); /* no request once it returned */

    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* The child's first verification starts its own refresher. */
        warden_result r;
        warden_result_init(&r);
        static const char token[] = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsifQ.e30.AAAA";
        uint32_t code = warden_verify_jwt(v, (const uint8_t *)token, strlen(token), 1.75e9, &r);
        uint64_t born = fetch_failures(v);
        int i = 0;
        while (i++ < 300 && fetch_failures(v) < born + 2) sleep_ms(10);
        if (code != WARDEN_CODE_UNSUPPORTED_ALG || fetch_failures(v) < born + 2) {
            fprintf(stderr, "child: %s, %llu fetch failures since its start\n", warden_code_str(code),
                    (unsigned long long)(fetch_failures(v) - born));
            _exit(1);
        }
        _exit(0);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(fetch_failures(v) == paused_at); /* the parent stays paused */

    CHECK_CODE(warden_verifier_resume_refresh(v), WARDEN_CODE_OK);
    for (int i = 0; i < 300 && fetch_failures(v) < paused_at + 2; i++) sleep_ms(10);
    CHECK(fetch_failures(v) >= paused_at + 2);
    warden_verifier_free(v);

    /* Nothing to pause without remote key sources. */
    static const char plain[] = "{\"jwt\": {\"jwks\": {\"keys\": [{\"kty\": \"oct\", \"alg\": \"HS256\", "
                                "\"k\": \"YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXowMTIzNDU\"}]}}}";
    CHECK_CODE(warden_verifier_new_from_json((const uint8_t *)plain, strlen(plain), &v, err, sizeof err),
               WARDEN_CODE_OK);
    CHECK_CODE(warden_verifier_pause_refresh(v), WARDEN_CODE_OK);
    CHECK_CODE(warden_verifier_resume_refresh(v), WARDEN_CODE_OK);
    warden_verifier_free(v);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s <fixtures dir>\n", argv[0]);
        return 2;
    }
    snprintf(dir, sizeof dir, "%s", argv[1]);
    test_static_strings();
    test_constructors();
    test_jwt();
    test_credential_read_from_the_same_result();
    test_api_key_basic_authorization();
    test_revocation();
    test_reload_and_keys();
    test_set_jwks_for_one_of_several_profiles();
    test_stats();
    test_logger();
    test_logger_frees_its_verifier_inside_a_reload();
    test_pause_refresh();
    return report(argv[0]);
}
