/*
 * ngx_http_warden_module - credential checks (JWT, API keys, HTTP Basic) for
 * nginx, backed by the warden library (include/warden.h), linked statically.
 *
 * Directives (see bindings/nginx/README.md and the "nginx" section of the
 * top-level README):
 *
 *   warden_config       file;                      http, server, location
 *   warden              off | on | jwt | api_key | basic ...;
 *                                                  http, server, location, limit_except
 *   warden_credential   authorization | $variable [authorization];
 *                                                  http, server, location
 *   warden_realm        string;                    http, server, location
 *   warden_require_scope scope ...;                http, server, location,
 *                                                  limit_except
 *   warden_claim_set    $variable claim.path [separator];   http
 *   warden_thread_pool  off | name;                http, server, location
 *   warden_status;                                 location
 *   warden_now          unix-seconds | $variable;  (TEST ONLY) http, server, location
 *
 * Variables: $warden_code $warden_kind $warden_subject $warden_key_id
 * $warden_scopes $warden_exp $warden_claim_<name>, plus warden_claim_set ones.
 *
 * Life cycle: every warden_config file is loaded while the configuration is
 * read (so `nginx -t` and `nginx -s reload` fail with warden's message when
 * it is refused, and the running workers keep serving). Each worker then
 * loads its own verifier from the same file in init_process (its own rate
 * limit buckets, caches and background threads); when the worker cannot
 * (e.g. the file is readable by root only) it uses the copy the master
 * loaded. A verifier is never parsed per request.
 *
 * Credentials are never logged: a refusal is logged at info level with the
 * verdict code and the client address only.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#if (NGX_THREADS)
#include <ngx_thread_pool.h>
#endif

#include <pthread.h>
#include <stdlib.h>

#include "warden.h"


#define WDN_KIND_JWT       (1u << WARDEN_KIND_JWT)
#define WDN_KIND_API_KEY   (1u << WARDEN_KIND_API_KEY)
#define WDN_KIND_BASIC     (1u << WARDEN_KIND_BASIC)
#define WDN_KIND_ALL       (WDN_KIND_JWT | WDN_KIND_API_KEY | WDN_KIND_BASIC)
/* an Authorization value "scheme credentials" of another scheme */
#define WDN_SCHEME_OTHER   (1u << 8)

#define WDN_SOURCE_AUTHORIZATION      1   /* the Authorization header */
#define WDN_SOURCE_VARIABLE           2   /* a bare token or API key */
#define WDN_SOURCE_VARIABLE_HEADER    3   /* "Bearer ..."/"Basic ..." text */

/* verdict codes 0..18 are warden's; the module adds these */
#define WDN_NCODES                19
#define WDN_CODE_NO_CREDENTIAL    1000
#define WDN_CODE_KIND_NOT_ALLOWED 1001
#define WDN_CODE_INSUFFICIENT     1002

#define WDN_NEVENTS               10
#define WDN_RESULT_CACHE          64

#define WDN_STATE_NEW             0
#define WDN_STATE_PENDING         1
#define WDN_STATE_DONE            2
#define WDN_STATE_DECIDED         3

/* $warden_subject, $warden_key_id, $warden_scopes and $warden_exp are
 * evaluated at most once per verdict (nginx asks for a variable's value
 * twice per use: its length, then its bytes) */
#define WDN_NMEMO                 4


typedef struct {
    ngx_str_t                   path;
    warden_verifier            *master;    /* loaded while reading the config */
    warden_verifier            *worker;    /* used by this worker */
    uint64_t                    last[WDN_NEVENTS];
} ngx_http_warden_verifier_t;


typedef struct {
    ngx_atomic_t                verdicts[4][WDN_NCODES];
    ngx_atomic_t                refusals[4];
    ngx_atomic_t                events[WDN_NEVENTS];
} ngx_http_warden_shctx_t;


/* What this worker counted since it last added to the shared totals. */
typedef struct {
    ngx_atomic_uint_t           verdicts[4][WDN_NCODES];
    ngx_atomic_uint_t           refusals[4];
} ngx_http_warden_counts_t;


typedef struct {
    ngx_array_t                 verifiers;  /* ngx_http_warden_verifier_t * */
    ngx_shm_zone_t             *shm_zone;
    ngx_event_t                 sync_event;
} ngx_http_warden_main_conf_t;


typedef struct {
    ngx_http_warden_verifier_t *verifier;
    ngx_uint_t                  kinds;
    ngx_uint_t                  source;
    ngx_http_complex_value_t   *credential;
    ngx_str_t                   realm;
    ngx_array_t                *scopes;     /* ngx_str_t */
    ngx_http_complex_value_t   *now;
    double                      now_const;  /* warden_now without variables */
    ngx_str_t                   bearer;     /* Bearer realm="..." */
    ngx_str_t                   basic;      /* Basic realm="..." */
    ngx_str_t                   scope_attr; /* scope="a b" */
    ngx_flag_t                  status;
#if (NGX_THREADS)
    ngx_thread_pool_t          *thread_pool;
    ngx_str_t                   thread_pool_name;
#endif
} ngx_http_warden_loc_conf_t;


typedef struct {
    warden_result              *res;
    ngx_uint_t                  code;      /* warden code or WDN_CODE_* */
    ngx_uint_t                  kind;
    ngx_uint_t                  state;
    ngx_uint_t                  other_scheme; /* Digest, Negotiate, ... */
    ngx_int_t                   rc;        /* what the access handler decided */
    void                       *wlcf;      /* ... for this location */
    ngx_uint_t                  memo;      /* bit i: vals[i] was evaluated */
    ngx_uint_t                  found;     /* bit i: ... and is set */
    ngx_str_t                   vals[WDN_NMEMO];
} ngx_http_warden_ctx_t;


typedef struct {
    ngx_str_t                   path;
    ngx_str_t                   sep;
} ngx_http_warden_claim_var_t;


#if (NGX_THREADS)
typedef struct {
    ngx_http_warden_ctx_t      *ctx;
    const warden_verifier      *verifier;
    ngx_str_t                   value;
    double                      now;
} ngx_http_warden_task_t;
#endif


static ngx_int_t ngx_http_warden_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_warden_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_warden_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_warden_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_warden_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_warden_init_process(ngx_cycle_t *cycle);
static void ngx_http_warden_exit_process(ngx_cycle_t *cycle);

static char *ngx_http_warden_config(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_warden(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_warden_credential(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_warden_require_scope(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_warden_claim_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_warden_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_warden_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

static ngx_int_t ngx_http_warden_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_warden_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_warden_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_warden_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_warden_claim_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static void ngx_http_warden_sync(ngx_cycle_t *cycle,
    ngx_http_warden_main_conf_t *wmcf);


static ngx_conf_enum_t  ngx_http_warden_kind_names[] = {
    { ngx_string("jwt"), WDN_KIND_JWT },
    { ngx_string("api_key"), WDN_KIND_API_KEY },
    { ngx_string("basic"), WDN_KIND_BASIC },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_warden_commands[] = {

    { ngx_string("warden_config"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_warden_config,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("warden"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_1MORE,
      ngx_http_warden,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("warden_credential"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_warden_credential,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("warden_realm"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_warden_loc_conf_t, realm),
      NULL },

    { ngx_string("warden_require_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LMT_CONF
                        |NGX_CONF_1MORE,
      ngx_http_warden_require_scope,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("warden_claim_set"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE23,
      ngx_http_warden_claim_set,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("warden_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_warden_thread_pool,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("warden_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_warden_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("warden_now"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_warden_loc_conf_t, now),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_warden_module_ctx = {
    ngx_http_warden_preconfiguration,      /* preconfiguration */
    ngx_http_warden_postconfiguration,     /* postconfiguration */

    ngx_http_warden_create_main_conf,      /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_warden_create_loc_conf,       /* create location configuration */
    ngx_http_warden_merge_loc_conf         /* merge location configuration */
};


ngx_module_t  ngx_http_warden_module = {
    NGX_MODULE_V1,
    &ngx_http_warden_module_ctx,           /* module context */
    ngx_http_warden_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_warden_init_process,          /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_warden_exit_process,          /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


enum {
    WDN_VAR_CODE = 0,
    WDN_VAR_KIND,
    WDN_VAR_SUBJECT,
    WDN_VAR_KEY_ID,
    WDN_VAR_SCOPES,
    WDN_VAR_EXP
};


static ngx_http_variable_t  ngx_http_warden_vars[] = {
    { ngx_string("warden_code"), NULL, ngx_http_warden_variable,
      WDN_VAR_CODE, NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("warden_kind"), NULL, ngx_http_warden_variable,
      WDN_VAR_KIND, NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("warden_subject"), NULL, ngx_http_warden_variable,
      WDN_VAR_SUBJECT, NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("warden_key_id"), NULL, ngx_http_warden_variable,
      WDN_VAR_KEY_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("warden_scopes"), NULL, ngx_http_warden_variable,
      WDN_VAR_SCOPES, NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("warden_exp"), NULL, ngx_http_warden_variable,
      WDN_VAR_EXP, NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("warden_claim_"), NULL,
      ngx_http_warden_claim_prefix_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },
      ngx_http_null_variable
};


static const char *ngx_http_warden_event_names[WDN_NEVENTS] = {
    "token_cache_hits", "token_cache_misses", "basic_cache_hits",
    "basic_cache_misses", "reloads", "reload_failures", "key_set_swaps",
    "revocation_changes", "jwks_fetches", "jwks_fetch_failures"
};

static const char *ngx_http_warden_refusal_names[4] = {
    "no_credential", "kind_not_allowed", "insufficient_scope", "error"
};


/*
 * warden's log events (remote key-set fetches) for the error log. The first
 * fetch runs in the constructor, on the thread that creates the verifier,
 * and is logged at once (nginx -t shows it). Later ones come from warden's
 * refresher thread, where nginx's log writers (syslog included) must not
 * run: a worker queues them and its event loop logs them within a second;
 * the master pauses its verifiers' refreshers (they only serve nginx -t and
 * the workers' fallback), and would drop such events (each worker logs its
 * own).
 */
#define WDN_LOG_QUEUE             16
#define WDN_LOG_MSG               480

typedef struct {
    ngx_http_warden_verifier_t  *vf;
    ngx_uint_t                   level;
    size_t                       len;
    u_char                       text[WDN_LOG_MSG];
} ngx_http_warden_logev_t;

typedef struct {
    pthread_mutex_t              mu;
    ngx_uint_t                   n;
    ngx_uint_t                   dropped;
    ngx_http_warden_logev_t      q[WDN_LOG_QUEUE];
} ngx_http_warden_logq_t;

static ngx_http_warden_logq_t  ngx_http_warden_logq = {
    PTHREAD_MUTEX_INITIALIZER, 0, 0, {{ NULL, 0, 0, { 0 } }}
};
/* the thread that may log directly, the log it uses, and whether other
 * threads' events are queued (in a worker) or dropped (in the master) */
static pthread_t    ngx_http_warden_log_thread;
static ngx_log_t   *ngx_http_warden_log_to;
static ngx_uint_t   ngx_http_warden_log_queued;


/* per worker: warden_result objects reused across requests */
static warden_result  *ngx_http_warden_results[WDN_RESULT_CACHE];
static ngx_uint_t      ngx_http_warden_nresults;
static ngx_http_warden_shctx_t  *ngx_http_warden_sh;
/* per worker: verdicts not yet added to the shared zone. Counting is a
 * plain increment of this worker's memory: an atomic add to the shared zone
 * per request would bounce one cache line between the cores of busy
 * workers. Added every second, when this worker serves warden_status, and
 * when it exits, as the verifiers' event counters are. */
static ngx_http_warden_counts_t  ngx_http_warden_local;


/* ------------------------------------------------------------------ */
/* small helpers                                                      */

static const char *
ngx_http_warden_code_name(ngx_uint_t code)
{
    switch (code) {
    case WDN_CODE_NO_CREDENTIAL:
        return "no_credential";
    case WDN_CODE_KIND_NOT_ALLOWED:
        return "kind_not_allowed";
    case WDN_CODE_INSUFFICIENT:
        return "insufficient_scope";
    default:
        return warden_code_str((uint32_t) code);
    }
}


static void
ngx_http_warden_count(ngx_uint_t kind, ngx_uint_t code)
{
    ngx_http_warden_counts_t  *local = &ngx_http_warden_local;

    if (ngx_http_warden_sh == NULL) {
        return;
    }

    if (code < WDN_NCODES) {
        if (kind > WARDEN_KIND_BASIC) {
            kind = 0;
        }
        local->verdicts[kind][code]++;
        return;
    }

    switch (code) {
    case WDN_CODE_NO_CREDENTIAL:
        local->refusals[0]++;
        break;
    case WDN_CODE_KIND_NOT_ALLOWED:
        local->refusals[1]++;
        break;
    case WDN_CODE_INSUFFICIENT:
        local->refusals[2]++;
        break;
    default:
        local->refusals[3]++;
    }
}


/* Whether [p, p + len) holds a control character (< 0x20, or 0x7f), eight
 * bytes at a time: for a word w, (w - 0x20..) & ~w & 0x80.. is non-zero
 * exactly when some byte of w is below 0x20, and with w ^ 0x7f.. and 0x01..
 * exactly when some byte is 0x7f (bytes >= 0x80, UTF-8, never match). */
static ngx_uint_t
ngx_http_warden_has_ctl(const u_char *p, size_t len)
{
    uint64_t  w, x;

#define WDN_BYTES(c)  ((uint64_t) 0x0101010101010101ULL * (c))

    for ( /* void */ ; len >= 8; p += 8, len -= 8) {
        ngx_memcpy(&w, p, 8);
        x = w ^ WDN_BYTES(0x7f);
        if (((w - WDN_BYTES(0x20)) & ~w & WDN_BYTES(0x80))
            | ((x - WDN_BYTES(0x01)) & ~x & WDN_BYTES(0x80)))
        {
            return 1;
        }
    }

#undef WDN_BYTES

    for ( /* void */ ; len > 0; p++, len--) {
        if (*p < 0x20 || *p == 0x7f) {
            return 1;
        }
    }

    return 0;
}


/* Replace control characters (CR, LF, NUL, ...) so that no value can split
 * a header line when passed upstream with proxy_set_header. */
static void
ngx_http_warden_sanitize(u_char *p, size_t len)
{
    size_t  i;

    if (!ngx_http_warden_has_ctl(p, len)) {
        return;
    }

    for (i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f) {
            p[i] = ' ';
        }
    }
}


/* text [data, len) as a variable's value without control characters: the
 * bytes themselves when they have none (warden's result memory, which lives
 * as long as the request: see ngx_http_warden_cleanup), else a sanitized
 * copy in the request pool */
static ngx_int_t
ngx_http_warden_clean(ngx_http_request_t *r, const u_char *data, size_t len,
    ngx_str_t *out)
{
    u_char  *p;

    if (!ngx_http_warden_has_ctl(data, len)) {
        out->data = (u_char *) data;

    } else {
        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }
        ngx_memcpy(p, data, len);
        ngx_http_warden_sanitize(p, len);
        out->data = p;
    }

    out->len = len;
    return NGX_OK;
}


/* a static NUL-terminated name (verdict codes, kinds) as a value */
static ngx_int_t
ngx_http_warden_name_value(ngx_http_variable_value_t *v, const char *name)
{
    v->data = (u_char *) name;
    v->len = ngx_strlen(name);
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    return NGX_OK;
}


/* ------------------------------------------------------------------ */
/* JSON rendering of claims (the text was validated by warden)       */

static const u_char *
ngx_http_warden_json_ws(const u_char *p, const u_char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
    }
    return p;
}


/* the end of the JSON value starting at p, or NULL */
static const u_char *
ngx_http_warden_json_end(const u_char *p, const u_char *end)
{
    ngx_uint_t  depth, in_string;

    if (p >= end) {
        return NULL;
    }

    if (*p == '"') {
        for (p++; p < end; p++) {
            if (*p == '\\') {
                p++;
            } else if (*p == '"') {
                return p + 1;
            }
        }
        return NULL;
    }

    if (*p == '{' || *p == '[') {
        depth = 0;
        in_string = 0;
        for ( /* void */ ; p < end; p++) {
            if (in_string) {
                if (*p == '\\') {
                    p++;
                } else if (*p == '"') {
                    in_string = 0;
                }
                continue;
            }
            switch (*p) {
            case '"':
                in_string = 1;
                break;
            case '{':
            case '[':
                depth++;
                break;
            case '}':
            case ']':
                if (--depth == 0) {
                    return p + 1;
                }
                break;
            }
        }
        return NULL;
    }

    while (p < end && *p != ',' && *p != ']' && *p != '}' && *p != ' '
           && *p != '\t' && *p != '\n' && *p != '\r')
    {
        p++;
    }
    return p;
}


static ngx_int_t
ngx_http_warden_hex4(const u_char *p, uint32_t *out)
{
    ngx_uint_t  i;
    uint32_t    c = 0;

    for (i = 0; i < 4; i++) {
        c <<= 4;
        if (p[i] >= '0' && p[i] <= '9') {
            c |= p[i] - '0';
        } else if ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f') {
            c |= (p[i] | 0x20) - 'a' + 10;
        } else {
            return NGX_ERROR;
        }
    }
    *out = c;
    return NGX_OK;
}


/* Unescape the JSON string whose text (without quotes) is [p, end) into
 * dst, which has at least end - p bytes. Returns the bytes written. */
static size_t
ngx_http_warden_json_unescape(u_char *dst, const u_char *p, const u_char *end)
{
    u_char    *d = dst;
    uint32_t   c, lo;

    while (p < end) {
        if (*p != '\\') {
            *d++ = *p++;
            continue;
        }
        if (p + 1 >= end) {
            break;
        }
        p++;
        switch (*p++) {
        case 'b': *d++ = '\b'; continue;
        case 'f': *d++ = '\f'; continue;
        case 'n': *d++ = '\n'; continue;
        case 'r': *d++ = '\r'; continue;
        case 't': *d++ = '\t'; continue;
        case 'u': break;
        default: *d++ = p[-1]; continue;     /* " \ / */
        }

        if (end - p < 4 || ngx_http_warden_hex4(p, &c) != NGX_OK) {
            break;
        }
        p += 4;

        if (c >= 0xd800 && c <= 0xdbff) {
            if (end - p >= 6 && p[0] == '\\' && p[1] == 'u'
                && ngx_http_warden_hex4(p + 2, &lo) == NGX_OK
                && lo >= 0xdc00 && lo <= 0xdfff)
            {
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            } else {
                c = 0xfffd;
            }
        } else if (c >= 0xdc00 && c <= 0xdfff) {
            c = 0xfffd;
        }

        if (c < 0x80) {
            *d++ = (u_char) c;
        } else if (c < 0x800) {
            *d++ = (u_char) (0xc0 | (c >> 6));
            *d++ = (u_char) (0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            *d++ = (u_char) (0xe0 | (c >> 12));
            *d++ = (u_char) (0x80 | ((c >> 6) & 0x3f));
            *d++ = (u_char) (0x80 | (c & 0x3f));
        } else {
            *d++ = (u_char) (0xf0 | (c >> 18));
            *d++ = (u_char) (0x80 | ((c >> 12) & 0x3f));
            *d++ = (u_char) (0x80 | ((c >> 6) & 0x3f));
            *d++ = (u_char) (0x80 | (c & 0x3f));
        }
    }

    return d - dst;
}


/* Render one JSON value: strings unescaped, arrays as their elements joined
 * by sep (string elements unescaped), anything else as its JSON text.
 * NGX_DECLINED for null. */
static ngx_int_t
ngx_http_warden_render(ngx_pool_t *pool, const u_char *json, size_t len,
    ngx_str_t *sep, ngx_str_t *out)
{
    size_t          n, size;
    u_char         *d;
    const u_char   *p, *end, *e;

    p = ngx_http_warden_json_ws(json, json + len);
    end = json + len;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'
                       || end[-1] == '\r'))
    {
        end--;
    }

    if (p == end || (end - p == 4 && ngx_strncmp(p, "null", 4) == 0)) {
        return NGX_DECLINED;
    }

    if (*p == '"' && end - p >= 2) {
        d = ngx_pnalloc(pool, end - p);
        if (d == NULL) {
            return NGX_ERROR;
        }
        out->data = d;
        out->len = ngx_http_warden_json_unescape(d, p + 1, end - 1);
        return NGX_OK;
    }

    if (*p != '[') {
        out->data = ngx_pnalloc(pool, end - p);
        if (out->data == NULL) {
            return NGX_ERROR;
        }
        out->len = end - p;
        ngx_memcpy(out->data, p, out->len);
        return NGX_OK;
    }

    /* an array: count the elements, then join them */

    n = 0;
    for (e = ngx_http_warden_json_ws(p + 1, end); e < end && *e != ']'; n++) {
        e = ngx_http_warden_json_end(e, end);
        if (e == NULL) {
            return NGX_ERROR;
        }
        e = ngx_http_warden_json_ws(e, end);
        if (e < end && *e == ',') {
            e = ngx_http_warden_json_ws(e + 1, end);
        }
    }

    size = (end - p) + n * sep->len + 1;
    d = ngx_pnalloc(pool, size);
    if (d == NULL) {
        return NGX_ERROR;
    }
    out->data = d;

    n = 0;
    for (p = ngx_http_warden_json_ws(p + 1, end); p < end && *p != ']'; n++) {
        e = ngx_http_warden_json_end(p, end);
        if (e == NULL) {
            return NGX_ERROR;
        }
        if (n > 0) {
            d = ngx_cpymem(d, sep->data, sep->len);
        }
        if (*p == '"' && e - p >= 2) {
            d += ngx_http_warden_json_unescape(d, p + 1, e - 1);
        } else if (!(e - p == 4 && ngx_strncmp(p, "null", 4) == 0)) {
            d = ngx_cpymem(d, p, e - p);
        }
        p = ngx_http_warden_json_ws(e, end);
        if (p < end && *p == ',') {
            p = ngx_http_warden_json_ws(p + 1, end);
        }
    }

    out->len = d - out->data;
    return NGX_OK;
}


/* ------------------------------------------------------------------ */
/* per-request state                                                  */

static void
ngx_http_warden_cleanup(void *data)
{
    ngx_http_warden_ctx_t  *ctx = data;

    if (ctx->res == NULL) {
        return;
    }

    if (ngx_http_warden_nresults < WDN_RESULT_CACHE) {
        ngx_http_warden_results[ngx_http_warden_nresults++] = ctx->res;

    } else {
        warden_result_free(ctx->res);
        free(ctx->res);
    }

    ctx->res = NULL;
}


/* The context of the last verification of this request. r->ctx is cleared
 * by internal redirects (error_page, try_files ...), so the variables also
 * look for it among the pool cleanups, as the realip module does. */
static ngx_http_warden_ctx_t *
ngx_http_warden_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t     *cln;
    ngx_http_warden_ctx_t  *ctx;

    r = r->main;

    ctx = ngx_http_get_module_ctx(r, ngx_http_warden_module);
    if (ctx != NULL) {
        return ctx;
    }

    if (!r->internal && !r->filter_finalize) {
        return NULL;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_warden_cleanup) {
            ctx = cln->data;
            ngx_http_set_ctx(r, ctx, ngx_http_warden_module);
            return ctx;
        }
    }

    return NULL;
}


/* The verdict of this request's credential when it was accepted (also when
 * a scope was missing), else NULL. The result object is reused across
 * requests, so its own code is not enough: it may still hold the verdict of
 * an earlier request when this one had no credential. */
static warden_result *
ngx_http_warden_accepted(ngx_http_warden_ctx_t *ctx)
{
    if (ctx == NULL || ctx->state < WDN_STATE_DECIDED || ctx->res == NULL
        || (ctx->code != WARDEN_CODE_OK && ctx->code != WDN_CODE_INSUFFICIENT)
        || ctx->res->code != WARDEN_CODE_OK)
    {
        return NULL;
    }

    return ctx->res;
}


static ngx_http_warden_ctx_t *
ngx_http_warden_new_ctx(ngx_http_request_t *r)
{
    warden_result          *res;
    ngx_pool_cleanup_t     *cln;
    ngx_http_warden_ctx_t  *ctx;

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_warden_ctx_t));
    if (cln == NULL) {
        return NULL;
    }

    ctx = cln->data;
    ngx_memzero(ctx, sizeof(ngx_http_warden_ctx_t));

    /* until a verdict is stored: a check that fails before one (a thread
     * pool queue overflow, no memory) must not let the request through
     * when an error_page redirects it into a protected location */
    ctx->rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

    if (ngx_http_warden_nresults > 0) {
        res = ngx_http_warden_results[--ngx_http_warden_nresults];

    } else {
        res = malloc(sizeof(warden_result));
        if (res == NULL) {
            return NULL;
        }
        warden_result_init(res);
    }

    ctx->res = res;
    cln->handler = ngx_http_warden_cleanup;

    ngx_http_set_ctx(r, ctx, ngx_http_warden_module);

    return ctx;
}


/* ------------------------------------------------------------------ */
/* the access handler                                                 */

static ngx_table_elt_t *
ngx_http_warden_add_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;
    h->lowcase_key = NULL;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return h;
}


static ngx_int_t
ngx_http_warden_challenge(ngx_http_request_t *r,
    ngx_http_warden_loc_conf_t *wlcf, ngx_uint_t kinds, const char *error,
    const char *description, ngx_uint_t with_scope)
{
    u_char                    *p;
    size_t                     len;
    ngx_str_t                  value;
    ngx_table_elt_t           *h, *first;
    ngx_http_core_loc_conf_t  *clcf;

    first = NULL;

    if (kinds & (WDN_KIND_JWT | WDN_KIND_API_KEY)) {

        len = wlcf->bearer.len;
        if (error) {
            len += sizeof(", error=\"\"") - 1 + ngx_strlen(error);
        }
        if (description) {
            len += sizeof(", error_description=\"\"") - 1
                   + ngx_strlen(description);
        }
        if (with_scope) {
            len += 2 + wlcf->scope_attr.len;
        }

        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }
        value.data = p;
        p = ngx_cpymem(p, wlcf->bearer.data, wlcf->bearer.len);
        if (error) {
            p = ngx_sprintf(p, ", error=\"%s\"", error);
        }
        if (description) {
            p = ngx_sprintf(p, ", error_description=\"%s\"", description);
        }
        if (with_scope) {
            *p++ = ',';
            *p++ = ' ';
            p = ngx_cpymem(p, wlcf->scope_attr.data, wlcf->scope_attr.len);
        }
        value.len = p - value.data;

        first = ngx_http_warden_add_header(r, "WWW-Authenticate", &value);
        if (first == NULL) {
            return NGX_ERROR;
        }
    }

    if (kinds & WDN_KIND_BASIC) {

        clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

        if (first != NULL && clcf->satisfy == NGX_HTTP_SATISFY_ANY) {
            /* with "satisfy any", nginx removes the challenge it knows of
             * (headers_out.www_authenticate) when another module grants
             * access: keep both challenges in that one field (RFC 9110
             * 11.6.1 allows a list) so that none is left behind */
            p = ngx_pnalloc(r->pool, first->value.len + 2 + wlcf->basic.len);
            if (p == NULL) {
                return NGX_ERROR;
            }
            value.data = p;
            p = ngx_cpymem(p, first->value.data, first->value.len);
            *p++ = ',';
            *p++ = ' ';
            p = ngx_cpymem(p, wlcf->basic.data, wlcf->basic.len);
            first->value.data = value.data;
            first->value.len = p - value.data;

        } else {
            h = ngx_http_warden_add_header(r, "WWW-Authenticate",
                                           &wlcf->basic);
            if (h == NULL) {
                return NGX_ERROR;
            }
            if (first == NULL) {
                first = h;
            }
        }
    }

    r->headers_out.www_authenticate = first;

    return NGX_OK;
}


/* Log a refusal: the verdict code and the client address only. The log's
 * usual request context is left out because the request line may carry a
 * credential (a token in the query string). */
static void
ngx_http_warden_log_refusal(ngx_http_request_t *r, ngx_http_warden_ctx_t *ctx)
{
    ngx_log_t  log;

    if (r->connection->log->log_level < NGX_LOG_INFO) {
        return;
    }

    log = *r->connection->log;
    log.handler = NULL;
    log.data = NULL;
    log.action = NULL;

    ngx_log_error(NGX_LOG_INFO, &log, 0,
                  "warden: refused %s credential: %s, client: %V",
                  warden_kind_str((uint32_t) ctx->kind),
                  ngx_http_warden_code_name(ctx->code),
                  &r->connection->addr_text);
}


static double
ngx_http_warden_now(ngx_http_request_t *r, ngx_http_warden_loc_conf_t *wlcf)
{
    u_char      *z;
    double       now;
    ngx_str_t    s;
    ngx_time_t  *tp;

    if (wlcf->now == NULL) {
        /* the system clock as nginx read it when this event loop iteration
         * began (what its own timers, logs and limit_req use), to the
         * millisecond; 0 would have warden read the clock again for every
         * request */
        tp = ngx_timeofday();
        return (double) tp->sec + (double) tp->msec / 1000;
    }

    if (wlcf->now_const > 0) {
        return wlcf->now_const;
    }

    if (ngx_http_complex_value(r, wlcf->now, &s) != NGX_OK || s.len == 0
        || s.len > 64)
    {
        return 0;
    }

    z = ngx_pnalloc(r->pool, s.len + 1);
    if (z == NULL) {
        return 0;
    }
    ngx_memcpy(z, s.data, s.len);
    z[s.len] = '\0';

    now = strtod((char *) z, NULL);
    return (now > 0 && now < 1e15) ? now : 0;
}


/* Parse an Authorization value as SPEC §5 does (trim SP/HT, then
 * "scheme 1*SP credentials"). Returns the scheme as a kind bit,
 * WDN_SCHEME_OTHER for another scheme, or 0 for another shape, and the
 * credentials in *cred. */
static ngx_uint_t
ngx_http_warden_scheme(ngx_str_t *value, ngx_str_t *cred)
{
    u_char  *p, *end, *s;

    p = value->data;
    end = p + value->len;

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    while (end > p && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }

    for (s = p; s < end && *s != ' '; s++) { /* void */ }

    if (s == end) {
        return 0;
    }

    cred->data = s;
    while (cred->data < end && *cred->data == ' ') {
        cred->data++;
    }
    cred->len = end - cred->data;

    /* case-insensitive: for letters, c | 0x20 is the lower-case letter, and
     * no other byte maps to one */
    if (s - p == 6 && (p[0] | 0x20) == 'b' && (p[1] | 0x20) == 'e'
        && (p[2] | 0x20) == 'a' && (p[3] | 0x20) == 'r'
        && (p[4] | 0x20) == 'e' && (p[5] | 0x20) == 'r')
    {
        return WDN_KIND_JWT | WDN_KIND_API_KEY;
    }

    if (s - p == 5 && (p[0] | 0x20) == 'b' && (p[1] | 0x20) == 'a'
        && (p[2] | 0x20) == 's' && (p[3] | 0x20) == 'i'
        && (p[4] | 0x20) == 'c')
    {
        return WDN_KIND_BASIC;
    }

    return WDN_SCHEME_OTHER;
}


/* The verification itself; may run in a thread pool. mode: 0 authorization
 * value, 1 JWT, 2 API key. */
static void
ngx_http_warden_verify(const warden_verifier *v, ngx_uint_t mode,
    ngx_str_t *value, double now, warden_result *res)
{
    switch (mode) {
    case 1:
        (void) warden_verify_jwt(v, value->data, value->len, now, res);
        break;
    case 2:
        (void) warden_verify_api_key(v, value->data, value->len, now, res);
        break;
    default:
        (void) warden_verify_authorization(v, value->data, value->len, now,
                                           res);
    }
}


#if (NGX_THREADS)

static void
ngx_http_warden_thread_verify(void *data, ngx_log_t *log)
{
    ngx_http_warden_task_t  *t = data;

    ngx_http_warden_verify(t->verifier, 0, &t->value, t->now, t->ctx->res);
}


static void
ngx_http_warden_thread_event_handler(ngx_event_t *ev)
{
    ngx_connection_t       *c;
    ngx_http_request_t     *r;
    ngx_http_warden_ctx_t  *ctx;

    r = ev->data;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    r->main->blocked--;
    r->aio = 0;

    ctx = ngx_http_get_module_ctx(r, ngx_http_warden_module);
    if (ctx != NULL) {
        ctx->state = WDN_STATE_DONE;
    }

    if (r->done) {
        /* the request was finalized while the task ran */
        c->write->handler(c->write);

    } else {
        r->write_event_handler(r);
        ngx_http_run_posted_requests(c);
    }
}

#endif


/* Decide what to answer once the verdict is known. */
static ngx_int_t
ngx_http_warden_decide(ngx_http_request_t *r, ngx_http_warden_loc_conf_t *wlcf,
    ngx_http_warden_ctx_t *ctx)
{
    u_char         *p;
    size_t          len;
    ngx_str_t      *need, value;
    ngx_uint_t      k, n;
    const char     *scope;
    warden_result  *res = ctx->res;

    ctx->wlcf = wlcf;

    if (ctx->code != WDN_CODE_KIND_NOT_ALLOWED) {
        ctx->code = res->code;
        ctx->kind = res->kind;

        if (ctx->code == WARDEN_CODE_OK
            && !(wlcf->kinds & (1u << ctx->kind)))
        {
            /* cannot happen with the dispatch above; never accept it */
            ctx->code = WDN_CODE_KIND_NOT_ALLOWED;
        }
    }

    ngx_http_warden_count(ctx->kind, ctx->code);

    if (ctx->code >= WDN_NCODES && ctx->code < WDN_CODE_NO_CREDENTIAL) {
        /* WARDEN_CODE_INTERNAL or INVALID_ARGUMENT: a bug, not a verdict */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "warden: verification failed: %s",
                      warden_code_str((uint32_t) ctx->code));
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->code == WARDEN_CODE_OK) {

        if (wlcf->scopes == NULL) {
            return NGX_OK;
        }

        need = wlcf->scopes->elts;
        for (k = 0; k < wlcf->scopes->nelts; k++) {
            for (n = 0; n < res->scope_count; n++) {
                if (warden_result_scope(res, n, &scope, &len)
                        == WARDEN_CODE_OK
                    && len == need[k].len
                    && ngx_memcmp(scope, need[k].data, len) == 0)
                {
                    break;
                }
            }
            if (n == res->scope_count) {
                break;
            }
        }

        if (k == wlcf->scopes->nelts) {
            return NGX_OK;
        }

        ctx->code = WDN_CODE_INSUFFICIENT;
        ngx_http_warden_count(ctx->kind, ctx->code);
        ngx_http_warden_log_refusal(r, ctx);

        /* RFC 6750 §3.1 */
        if (ctx->kind != WARDEN_KIND_BASIC
            && ngx_http_warden_challenge(r, wlcf, WDN_KIND_JWT,
                                         "insufficient_scope", NULL, 1)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_FORBIDDEN;
    }

    ngx_http_warden_log_refusal(r, ctx);

    if (ctx->code == WARDEN_CODE_RATE_LIMITED) {
        p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        value.data = p;
        value.len = ngx_sprintf(p, "%uL", res->retry_after_s > 0
                                          ? res->retry_after_s : 1) - p;
        if (ngx_http_warden_add_header(r, "Retry-After", &value) == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_TOO_MANY_REQUESTS;
    }

    /* RFC 6750 §3.1: a credential of a scheme or kind this location does
     * not take gets the challenges of every kind it takes and no error
     * code, like a request without one */
    if (ctx->code == WDN_CODE_KIND_NOT_ALLOWED || ctx->other_scheme) {
        if (ngx_http_warden_challenge(r, wlcf, wlcf->kinds, NULL, NULL, 0)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        return NGX_HTTP_UNAUTHORIZED;
    }

    /* challenge for the kind the credential was when this location takes
     * it, else for every kind the location takes */
    k = wlcf->kinds;
    if (wlcf->kinds & (1u << ctx->kind)) {
        k = 1u << ctx->kind;
    }

    if (ngx_http_warden_challenge(r, wlcf, k, "invalid_token",
                                  ngx_http_warden_code_name(ctx->code), 0)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_HTTP_UNAUTHORIZED;
}


static ngx_int_t
ngx_http_warden_handler(ngx_http_request_t *r)
{
    u_char                      *p;
    double                       now;
    ngx_str_t                    value, cred;
    ngx_uint_t                   scheme, mode, kinds;
    ngx_http_warden_ctx_t       *ctx;
    ngx_http_warden_loc_conf_t  *wlcf;

    scheme = 0;
    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_warden_module);

    if (wlcf->kinds == 0 || wlcf->verifier == NULL) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_warden_module);

    if (ctx == NULL && r->internal) {
        /* an internal redirect (index, try_files, error_page) cleared
         * r->ctx: find the verdict this request already has */
        ctx = ngx_http_warden_get_ctx(r);
    }

    if (ctx != NULL && (ctx->state != WDN_STATE_DECIDED || ctx->wlcf == wlcf))
    {
        /* re-entered: after a thread task, with satisfy any, or after an
         * internal redirect back into a location with the same policy (a
         * location with another policy verifies again) */
        if (ctx->state == WDN_STATE_NEW) {
            /* its check failed before a verdict: it never passes */
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        if (ctx->state == WDN_STATE_PENDING) {
            return NGX_AGAIN;
        }
        if (ctx->state == WDN_STATE_DONE) {
            ctx->state = WDN_STATE_DECIDED;
            ctx->rc = ngx_http_warden_decide(r, wlcf, ctx);
        }
        return ctx->rc;
    }

    ctx = ngx_http_warden_new_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    kinds = wlcf->kinds;

    /* where the credential comes from */

    if (wlcf->source == WDN_SOURCE_AUTHORIZATION) {
        if (r->headers_in.authorization == NULL) {
            goto no_credential;
        }
        value = r->headers_in.authorization->value;

    } else {
        if (ngx_http_complex_value(r, wlcf->credential, &value) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        if (value.len == 0) {
            goto no_credential;
        }

        if (wlcf->source == WDN_SOURCE_VARIABLE && kinds != WDN_KIND_JWT
            && kinds != WDN_KIND_API_KEY)
        {
            /* a bare credential that may be a JWT or an API key: let warden
             * tell them apart as it does for a Bearer value */
            p = ngx_pnalloc(r->pool, value.len + 7);
            if (p == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
            ngx_memcpy(p, "Bearer ", 7);
            ngx_memcpy(p + 7, value.data, value.len);
            value.data = p;
            value.len += 7;

        } else if (wlcf->source == WDN_SOURCE_VARIABLE) {
            mode = (kinds == WDN_KIND_JWT) ? 1 : 2;
            goto verify;
        }
    }

    /* an Authorization-style value */

    mode = 0;
    scheme = ngx_http_warden_scheme(&value, &cred);

    /* Digest, Negotiate, ...: warden's verdict is malformed (SPEC §5); the
     * answer is that of a request without a credential (RFC 6750 §3.1) */
    ctx->other_scheme = (scheme == WDN_SCHEME_OTHER);

    if (scheme == WDN_KIND_BASIC && !(kinds & WDN_KIND_BASIC)) {
        ctx->kind = WARDEN_KIND_BASIC;
        ctx->code = WDN_CODE_KIND_NOT_ALLOWED;
        ctx->state = WDN_STATE_DECIDED;
        ctx->rc = ngx_http_warden_decide(r, wlcf, ctx);
        return ctx->rc;
    }

    if (scheme & WDN_KIND_JWT) {
        if (!(kinds & (WDN_KIND_JWT | WDN_KIND_API_KEY))) {
            ctx->kind = WARDEN_KIND_JWT;
            ctx->code = WDN_CODE_KIND_NOT_ALLOWED;
            ctx->state = WDN_STATE_DECIDED;
            ctx->rc = ngx_http_warden_decide(r, wlcf, ctx);
            return ctx->rc;
        }

        if (!(kinds & WDN_KIND_API_KEY)) {
            mode = 1;
            value = cred;

        } else if (!(kinds & WDN_KIND_JWT)) {
            mode = 2;
            value = cred;
        }
    }

verify:

    now = ngx_http_warden_now(r, wlcf);

#if (NGX_THREADS)
    if (wlcf->thread_pool != NULL && mode == 0 && scheme == WDN_KIND_BASIC) {
        ngx_thread_task_t       *task;
        ngx_http_warden_task_t  *t;

        /* a password check (PBKDF2, bcrypt) can take tens of milliseconds:
         * run it in the thread pool instead of blocking the worker */

        task = ngx_thread_task_alloc(r->pool, sizeof(ngx_http_warden_task_t));
        if (task == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        t = task->ctx;
        t->ctx = ctx;
        t->verifier = wlcf->verifier->worker;
        t->value = value;
        t->now = now;

        task->handler = ngx_http_warden_thread_verify;
        task->event.handler = ngx_http_warden_thread_event_handler;
        task->event.data = r;

        if (ngx_thread_task_post(wlcf->thread_pool, task) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->main->blocked++;
        r->aio = 1;
        ctx->state = WDN_STATE_PENDING;

        return NGX_AGAIN;
    }
#endif

    ngx_http_warden_verify(wlcf->verifier->worker, mode, &value, now,
                           ctx->res);

    ctx->state = WDN_STATE_DECIDED;
    ctx->rc = ngx_http_warden_decide(r, wlcf, ctx);
    return ctx->rc;

no_credential:

    ctx->code = WDN_CODE_NO_CREDENTIAL;
    ctx->kind = 0;
    ctx->state = WDN_STATE_DECIDED;
    ctx->wlcf = wlcf;
    ngx_http_warden_count(0, ctx->code);

    /* RFC 6750 §3.1: no error code when the request has no credential */
    if (ngx_http_warden_challenge(r, wlcf, kinds, NULL, NULL, 0) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->rc = NGX_HTTP_UNAUTHORIZED;
    return ctx->rc;
}


/* ------------------------------------------------------------------ */
/* variables                                                          */

/* The value of $warden_subject, $warden_key_id, $warden_scopes or
 * $warden_exp for an accepted credential: NGX_OK with *out set, or
 * NGX_DECLINED when it has none. */
static ngx_int_t
ngx_http_warden_accepted_value(ngx_http_request_t *r,
    ngx_http_warden_ctx_t *ctx, uintptr_t data, ngx_str_t *out)
{
    u_char         *p, *d;
    size_t          len, total;
    ngx_uint_t      i;
    const char     *s;
    warden_result  *res;

    res = ngx_http_warden_accepted(ctx);
    if (res == NULL) {
        return NGX_DECLINED;
    }

    switch (data) {

    case WDN_VAR_SUBJECT:
        if (res->subject == NULL) {
            return NGX_DECLINED;
        }
        return ngx_http_warden_clean(r, (u_char *) res->subject,
                                     res->subject_len, out);

    case WDN_VAR_KEY_ID:
        if (res->kid != NULL) {
            return ngx_http_warden_clean(r, (u_char *) res->kid,
                                         res->kid_len, out);
        }
        if (res->key_id != NULL) {
            return ngx_http_warden_clean(r, (u_char *) res->key_id,
                                         res->key_id_len, out);
        }
        return NGX_DECLINED;

    case WDN_VAR_SCOPES:
        total = 0;
        for (i = 0; i < res->scope_count; i++) {
            if (warden_result_scope(res, i, &s, &len) == WARDEN_CODE_OK) {
                total += len + 1;
            }
        }
        p = ngx_pnalloc(r->pool, total + 1);
        if (p == NULL) {
            return NGX_ERROR;
        }
        d = p;
        for (i = 0; i < res->scope_count; i++) {
            if (warden_result_scope(res, i, &s, &len) == WARDEN_CODE_OK) {
                if (d != p) {
                    *d++ = ' ';
                }
                d = ngx_cpymem(d, s, len);
            }
        }
        ngx_http_warden_sanitize(p, d - p);
        out->data = p;
        out->len = d - p;
        return NGX_OK;

    case WDN_VAR_EXP:
        if (!res->has_exp) {
            return NGX_DECLINED;
        }
        p = ngx_pnalloc(r->pool, 64);
        if (p == NULL) {
            return NGX_ERROR;
        }
        /* whole seconds as an integer; the range check first: converting
         * a double outside int64_t's range is undefined behaviour */
        if (res->exp > -9.2e18 && res->exp < 9.2e18
            && res->exp == (double) (int64_t) res->exp)
        {
            len = ngx_sprintf(p, "%L", (int64_t) res->exp) - p;
        } else {
            len = snprintf((char *) p, 64, "%.17g", res->exp);
        }
        out->data = p;
        out->len = len;
        return NGX_OK;
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_warden_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_int_t               rc;
    ngx_uint_t              i, bit;
    ngx_http_warden_ctx_t  *ctx;

    v->not_found = 1;

    ctx = ngx_http_warden_get_ctx(r);
    if (ctx == NULL || ctx->state < WDN_STATE_DECIDED) {
        return NGX_OK;
    }

    switch (data) {

    case WDN_VAR_CODE:
        return ngx_http_warden_name_value(v,
                                          ngx_http_warden_code_name(ctx->code));

    case WDN_VAR_KIND:
        if (ctx->kind == 0) {
            return NGX_OK;
        }
        return ngx_http_warden_name_value(v,
                                          warden_kind_str((uint32_t) ctx->kind));
    }

    /* The rest describe an accepted credential. A decided ctx never changes
     * (a location with another policy verifies into a new ctx), so each is
     * worked out once, when first used, and kept in the ctx. */

    i = data - WDN_VAR_SUBJECT;
    if (i >= WDN_NMEMO) {
        return NGX_OK;
    }
    bit = (ngx_uint_t) 1 << i;

    if (!(ctx->memo & bit)) {
        rc = ngx_http_warden_accepted_value(r, ctx, data, &ctx->vals[i]);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }
        ctx->memo |= bit;
        if (rc == NGX_OK) {
            ctx->found |= bit;
        }
    }

    if (!(ctx->found & bit)) {
        return NGX_OK;
    }

    v->data = ctx->vals[i].data;
    v->len = ctx->vals[i].len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    return NGX_OK;
}


static ngx_int_t
ngx_http_warden_claim_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, ngx_str_t *path, ngx_str_t *sep)
{
    size_t                  len;
    ngx_int_t               rc;
    ngx_str_t               out;
    const char             *json;
    warden_result          *res;
    ngx_http_warden_ctx_t  *ctx;

    v->not_found = 1;

    ctx = ngx_http_warden_get_ctx(r);
    res = ngx_http_warden_accepted(ctx);
    if (res == NULL) {
        return NGX_OK;
    }

    /* a top-level member of exactly that name first, then a dotted path */
    if (warden_result_claim(res, (const char *) path->data, path->len, &json,
                            &len) != WARDEN_CODE_OK
        && (ngx_strlchr(path->data, path->data + path->len, '.') == NULL
            || warden_result_claim_path(res, (const char *) path->data,
                                        path->len, &json, &len)
               != WARDEN_CODE_OK))
    {
        return NGX_OK;
    }

    rc = ngx_http_warden_render(r->pool, (const u_char *) json, len, sep,
                                &out);
    if (rc == NGX_DECLINED) {
        return NGX_OK;
    }
    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_warden_sanitize(out.data, out.len);

    v->data = out.data;
    v->len = out.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    return NGX_OK;
}


static ngx_int_t
ngx_http_warden_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_warden_claim_var_t  *cv = (ngx_http_warden_claim_var_t *) data;

    return ngx_http_warden_claim_value(r, v, &cv->path, &cv->sep);
}


static ngx_int_t
ngx_http_warden_claim_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t  *name = (ngx_str_t *) data;
    ngx_str_t   claim, sep = ngx_string(",");

    claim.data = name->data + sizeof("warden_claim_") - 1;
    claim.len = name->len - (sizeof("warden_claim_") - 1);

    return ngx_http_warden_claim_value(r, v, &claim, &sep);
}


/* ------------------------------------------------------------------ */
/* status                                                             */

static ngx_int_t
ngx_http_warden_status_handler(ngx_http_request_t *r)
{
    size_t                        size;
    ngx_int_t                     rc;
    ngx_buf_t                    *b;
    ngx_uint_t                    k, c;
    ngx_chain_t                   out;
    ngx_http_warden_shctx_t      *sh;
    ngx_http_warden_main_conf_t  *wmcf;

    static const char  *kinds[4] = { "none", "jwt", "api_key", "basic" };

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_warden_module);
    sh = ngx_http_warden_sh;

    if (sh == NULL) {
        return NGX_HTTP_NOT_FOUND;
    }

    /* this worker's counts are current; other workers add theirs every
     * second (and when they exit) */
    ngx_http_warden_sync((ngx_cycle_t *) ngx_cycle, wmcf);

    size = 512 + 4 * WDN_NCODES * 80 + 4 * 100 + WDN_NEVENTS * 200;

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_sprintf(b->last,
        "# HELP warden_verdicts_total Verifications by credential kind and "
        "verdict code, all workers.\n"
        "# TYPE warden_verdicts_total counter\n");

    for (k = 1; k < 4; k++) {
        for (c = 0; c < WDN_NCODES; c++) {
            b->last = ngx_sprintf(b->last,
                                  "warden_verdicts_total{kind=\"%s\","
                                  "code=\"%s\"} %uA\n",
                                  kinds[k], warden_code_str((uint32_t) c),
                                  sh->verdicts[k][c]);
        }
    }

    b->last = ngx_sprintf(b->last,
        "# HELP warden_nginx_refusals_total Requests refused by nginx "
        "without a warden verdict, or despite an accepted one "
        "(insufficient_scope).\n"
        "# TYPE warden_nginx_refusals_total counter\n");

    for (k = 0; k < 4; k++) {
        b->last = ngx_sprintf(b->last,
                              "warden_nginx_refusals_total{reason=\"%s\"} "
                              "%uA\n",
                              ngx_http_warden_refusal_names[k],
                              sh->refusals[k]);
    }

    for (k = 0; k < WDN_NEVENTS; k++) {
        b->last = ngx_sprintf(b->last,
                              "# TYPE warden_%s_total counter\n"
                              "warden_%s_total %uA\n",
                              ngx_http_warden_event_names[k],
                              ngx_http_warden_event_names[k],
                              sh->events[k]);
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* Add what this worker and its verifiers counted since the last call to
 * the shared totals. */
static ngx_uint_t
ngx_http_warden_log_level(uint32_t level)
{
    switch (level) {
    case WARDEN_LOG_INFO:
        return NGX_LOG_INFO;
    case WARDEN_LOG_WARN:
        return NGX_LOG_WARN;
    default:
        return NGX_LOG_ERR;
    }
}


/* warden_log_fn: user_data is the verifier's ngx_http_warden_verifier_t */
static void
ngx_http_warden_log_event(void *data, uint32_t level, const char *msg,
    size_t len)
{
    ngx_http_warden_verifier_t  *vf = data;
    ngx_http_warden_logq_t      *lq = &ngx_http_warden_logq;

    if (pthread_equal(pthread_self(), ngx_http_warden_log_thread)) {
        if (ngx_http_warden_log_to != NULL) {
            ngx_log_error(ngx_http_warden_log_level(level),
                          ngx_http_warden_log_to, 0, "warden: \"%V\": %*s",
                          &vf->path, len, msg);
        }
        return;
    }

    if (!ngx_http_warden_log_queued
        || pthread_mutex_lock(&lq->mu) != 0)
    {
        return;
    }

    if (lq->n < WDN_LOG_QUEUE) {
        len = ngx_min(len, WDN_LOG_MSG);
        lq->q[lq->n].vf = vf;
        lq->q[lq->n].level = ngx_http_warden_log_level(level);
        lq->q[lq->n].len = len;
        ngx_memcpy(lq->q[lq->n].text, msg, len);
        lq->n++;

    } else {
        lq->dropped++;
    }

    (void) pthread_mutex_unlock(&lq->mu);
}


/* log what the refresher threads queued (the worker's own thread) */
static void
ngx_http_warden_log_drain(ngx_log_t *log)
{
    ngx_uint_t                      i, n, dropped;
    ngx_http_warden_logq_t         *lq = &ngx_http_warden_logq;
    static ngx_http_warden_logev_t  out[WDN_LOG_QUEUE];

    if (pthread_mutex_lock(&lq->mu) != 0) {
        return;
    }
    n = lq->n;
    dropped = lq->dropped;
    ngx_memcpy(out, lq->q, n * sizeof(out[0]));
    lq->n = 0;
    lq->dropped = 0;
    (void) pthread_mutex_unlock(&lq->mu);

    for (i = 0; i < n; i++) {
        ngx_log_error(out[i].level, log, 0, "warden: \"%V\": %*s",
                      &out[i].vf->path, out[i].len, out[i].text);
    }
    if (dropped) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "warden: %ui more key-set events not logged "
                      "(more than %d a second)", dropped, WDN_LOG_QUEUE);
    }
}


static void
ngx_http_warden_sync(ngx_cycle_t *cycle, ngx_http_warden_main_conf_t *wmcf)
{
    uint64_t                     value;
    ngx_uint_t                   i, k;
    ngx_http_warden_shctx_t     *sh = ngx_http_warden_sh;
    ngx_http_warden_counts_t    *local = &ngx_http_warden_local;
    ngx_http_warden_verifier_t **vs, *vf;

    ngx_http_warden_log_drain(cycle->log);

    if (sh == NULL || wmcf == NULL) {
        return;
    }

    for (k = 0; k < 4; k++) {
        for (i = 0; i < WDN_NCODES; i++) {
            if (local->verdicts[k][i] != 0) {
                (void) ngx_atomic_fetch_add(&sh->verdicts[k][i],
                                            local->verdicts[k][i]);
                local->verdicts[k][i] = 0;
            }
        }
        if (local->refusals[k] != 0) {
            (void) ngx_atomic_fetch_add(&sh->refusals[k], local->refusals[k]);
            local->refusals[k] = 0;
        }
    }

    vs = wmcf->verifiers.elts;
    for (i = 0; i < wmcf->verifiers.nelts; i++) {
        vf = vs[i];
        if (vf->worker == NULL) {
            continue;
        }
        for (k = 0; k < WDN_NEVENTS; k++) {
            if (warden_stats_counter(vf->worker, (uint32_t) k, &value)
                    == WARDEN_CODE_OK
                && value > vf->last[k])
            {
                (void) ngx_atomic_fetch_add(&sh->events[k],
                                            value - vf->last[k]);
                vf->last[k] = value;
            }
        }
    }
}


static void
ngx_http_warden_sync_handler(ngx_event_t *ev)
{
    ngx_http_warden_main_conf_t  *wmcf = ev->data;

    ngx_http_warden_sync((ngx_cycle_t *) ngx_cycle, wmcf);

    if (!ngx_exiting && !ngx_quit && !ngx_terminate) {
        ngx_add_timer(ev, 1000);
    }
}


static ngx_int_t
ngx_http_warden_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t  *shpool;

    if (data) {
        /* a reload: keep counting where the previous cycle stopped */
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    shm_zone->data = ngx_slab_calloc(shpool, sizeof(ngx_http_warden_shctx_t));
    if (shm_zone->data == NULL) {
        return NGX_ERROR;
    }
    shpool->data = shm_zone->data;

    return NGX_OK;
}


/* ------------------------------------------------------------------ */
/* configuration                                                      */

static void
ngx_http_warden_free_verifier(void *data)
{
    ngx_http_warden_verifier_t  *vf = data;

    /* runs in the process that destroys the cycle: the master after a
     * reload, or nginx -t. A worker's own verifier dies with the worker. */
    if (vf->master != NULL) {
        warden_verifier_free(vf->master);
        vf->master = NULL;
    }
}


static char *
ngx_http_warden_config(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_warden_loc_conf_t  *wlcf = conf;

    char                          err[1024];
    uint32_t                      rc;
    ngx_str_t                    *value, path;
    ngx_uint_t                    i;
    ngx_pool_cleanup_t           *cln;
    ngx_http_warden_verifier_t  **vs, *vf;
    ngx_http_warden_main_conf_t  *wmcf;

    if (wlcf->verifier != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    wmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_warden_module);

    vs = wmcf->verifiers.elts;
    for (i = 0; i < wmcf->verifiers.nelts; i++) {
        if (vs[i]->path.len == path.len
            && ngx_strncmp(vs[i]->path.data, path.data, path.len) == 0)
        {
            wlcf->verifier = vs[i];
            return NGX_CONF_OK;
        }
    }

    vf = ngx_pcalloc(cf->pool, sizeof(ngx_http_warden_verifier_t));
    if (vf == NULL) {
        return NGX_CONF_ERROR;
    }
    vf->path = path;

    err[0] = '\0';
    ngx_http_warden_log_thread = pthread_self();
    ngx_http_warden_log_to = cf->log;
    rc = warden_verifier_new_from_file_with_logger((const char *) path.data,
                                                   path.len,
                                                   ngx_http_warden_log_event,
                                                   vf, &vf->master, err,
                                                   sizeof(err));
    ngx_http_warden_log_to = NULL;
    if (rc != WARDEN_CODE_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "warden_config \"%V\" refused: %s", &path,
                           err[0] ? err : warden_code_str(rc));
        return NGX_CONF_ERROR;
    }
    vf->worker = vf->master;

    /* the master only hands this copy to the workers it forks: no key-set
     * requests of its own, and no refresher thread holding a lock when it
     * forks (a worker using this copy refreshes it itself) */
    (void) warden_verifier_pause_refresh(vf->master);

    cln = ngx_pool_cleanup_add(cf->cycle->pool, 0);
    if (cln == NULL) {
        warden_verifier_free(vf->master);
        return NGX_CONF_ERROR;
    }
    cln->handler = ngx_http_warden_free_verifier;
    cln->data = vf;

    vs = ngx_array_push(&wmcf->verifiers);
    if (vs == NULL) {
        return NGX_CONF_ERROR;
    }
    *vs = vf;

    wlcf->verifier = vf;

    return NGX_CONF_OK;
}


static char *
ngx_http_warden(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_warden_loc_conf_t  *wlcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i, k, kinds;

    if (wlcf->kinds != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        wlcf->kinds = 0;
        return NGX_CONF_OK;
    }

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "on") == 0) {
        wlcf->kinds = WDN_KIND_ALL;
        return NGX_CONF_OK;
    }

    kinds = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        for (k = 0; ngx_http_warden_kind_names[k].name.len; k++) {
            if (ngx_http_warden_kind_names[k].name.len == value[i].len
                && ngx_strcmp(ngx_http_warden_kind_names[k].name.data,
                              value[i].data) == 0)
            {
                break;
            }
        }

        if (ngx_http_warden_kind_names[k].name.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\", expected \"on\", "
                               "\"off\" or credential kinds \"jwt\", "
                               "\"api_key\", \"basic\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        kinds |= ngx_http_warden_kind_names[k].value;
    }

    wlcf->kinds = kinds;

    return NGX_CONF_OK;
}


static char *
ngx_http_warden_credential(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_warden_loc_conf_t  *wlcf = conf;

    ngx_str_t                         *value;
    ngx_http_compile_complex_value_t   ccv;

    if (wlcf->source != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "authorization") == 0) {
        if (cf->args->nelts != 2) {
            return "takes no second parameter with \"authorization\"";
        }
        wlcf->source = WDN_SOURCE_AUTHORIZATION;
        return NGX_CONF_OK;
    }

    if (value[1].data[0] != '$') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid credential source \"%V\": expected "
                           "\"authorization\" or a variable such as "
                           "$http_x_api_key or $cookie_token", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 3) {
        if (ngx_strcmp(value[2].data, "authorization") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\", expected "
                               "\"authorization\"", &value[2]);
            return NGX_CONF_ERROR;
        }
        wlcf->source = WDN_SOURCE_VARIABLE_HEADER;

    } else {
        wlcf->source = WDN_SOURCE_VARIABLE;
    }

    wlcf->credential = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (wlcf->credential == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = wlcf->credential;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_warden_require_scope(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_warden_loc_conf_t  *wlcf = conf;

    ngx_str_t   *value, *s;
    ngx_uint_t   i;

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        if (wlcf->scopes != NGX_CONF_UNSET_PTR) {
            return "is duplicate";
        }
        wlcf->scopes = NULL;
        return NGX_CONF_OK;
    }

    if (wlcf->scopes == NGX_CONF_UNSET_PTR || wlcf->scopes == NULL) {
        wlcf->scopes = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
        if (wlcf->scopes == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0 || ngx_strlchr(value[i].data,
                                             value[i].data + value[i].len,
                                             ' ') != NULL)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid scope \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        s = ngx_array_push(wlcf->scopes);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }
        *s = value[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_warden_claim_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                    *value, name;
    ngx_http_variable_t          *var;
    ngx_http_warden_claim_var_t  *cv;

    value = cf->args->elts;
    name = value[1];

    if (name.len < 2 || name.data[0] != '$') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid variable name \"%V\"", &name);
        return NGX_CONF_ERROR;
    }
    name.data++;
    name.len--;

    if (value[2].len == 0) {
        return "needs a claim name or path";
    }

    cv = ngx_palloc(cf->pool, sizeof(ngx_http_warden_claim_var_t));
    if (cv == NULL) {
        return NGX_CONF_ERROR;
    }
    cv->path = value[2];
    if (cf->args->nelts == 4) {
        cv->sep = value[3];
    } else {
        ngx_str_set(&cv->sep, ",");
    }

    var = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_CONF_ERROR;
    }

    if (var->get_handler != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "variable \"$%V\" is already defined", &name);
        return NGX_CONF_ERROR;
    }

    var->get_handler = ngx_http_warden_claim_variable;
    var->data = (uintptr_t) cv;

    return NGX_CONF_OK;
}


static char *
ngx_http_warden_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
#if (NGX_THREADS)
    ngx_http_warden_loc_conf_t  *wlcf = conf;

    ngx_str_t  *value;

    if (wlcf->thread_pool_name.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    wlcf->thread_pool_name = value[1];

    if (ngx_strcmp(value[1].data, "off") == 0) {
        return NGX_CONF_OK;
    }

    if (ngx_thread_pool_add(cf, &value[1]) == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
#else
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"warden_thread_pool\" needs nginx built with "
                       "--with-threads");
    return NGX_CONF_ERROR;
#endif
}


static char *
ngx_http_warden_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_warden_loc_conf_t  *wlcf = conf;
    ngx_http_core_loc_conf_t    *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_warden_status_handler;
    wlcf->status = 1;

    return NGX_CONF_OK;
}


static void *
ngx_http_warden_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_warden_main_conf_t  *wmcf;

    wmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_warden_main_conf_t));
    if (wmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&wmcf->verifiers, cf->pool, 4,
                       sizeof(ngx_http_warden_verifier_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return wmcf;
}


static void *
ngx_http_warden_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_warden_loc_conf_t  *wlcf;

    wlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_warden_loc_conf_t));
    if (wlcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *     wlcf->credential = NULL;
     *     wlcf->realm = { 0, NULL };
     *     wlcf->bearer, basic, scope_attr = { 0, NULL };
     *     wlcf->status = 0;
     *     wlcf->thread_pool = NULL;
     *     wlcf->thread_pool_name = { 0, NULL };
     */

    wlcf->verifier = NGX_CONF_UNSET_PTR;
    wlcf->kinds = NGX_CONF_UNSET_UINT;
    wlcf->source = NGX_CONF_UNSET_UINT;
    wlcf->scopes = NGX_CONF_UNSET_PTR;
    wlcf->now = NGX_CONF_UNSET_PTR;

    return wlcf;
}


/* a quoted-string (RFC 9110) holding s */
static ngx_int_t
ngx_http_warden_quote(ngx_conf_t *cf, const char *prefix, ngx_str_t *s,
    const char *suffix, ngx_str_t *out)
{
    u_char  *p;
    size_t   i, len;

    len = ngx_strlen(prefix) + 2 * s->len + ngx_strlen(suffix) + 2;

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    p = ngx_cpymem(p, prefix, ngx_strlen(prefix));
    *p++ = '"';
    for (i = 0; i < s->len; i++) {
        if (s->data[i] == '"' || s->data[i] == '\\') {
            *p++ = '\\';
        }
        *p++ = (s->data[i] < 0x20 || s->data[i] == 0x7f) ? ' ' : s->data[i];
    }
    *p++ = '"';
    p = ngx_cpymem(p, suffix, ngx_strlen(suffix));
    out->len = p - out->data;

    return NGX_OK;
}


static char *
ngx_http_warden_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_warden_loc_conf_t  *prev = parent;
    ngx_http_warden_loc_conf_t  *conf = child;

    u_char      *p;
    ngx_str_t   *s, joined;
    ngx_uint_t   i;

    ngx_conf_merge_ptr_value(conf->verifier, prev->verifier, NULL);
    ngx_conf_merge_uint_value(conf->kinds, prev->kinds, 0);
    ngx_conf_merge_ptr_value(conf->scopes, prev->scopes, NULL);
    ngx_conf_merge_ptr_value(conf->now, prev->now, NULL);
    ngx_conf_merge_str_value(conf->realm, prev->realm, "api");

    if (conf->source == NGX_CONF_UNSET_UINT) {
        conf->source = (prev->source == NGX_CONF_UNSET_UINT)
                       ? WDN_SOURCE_AUTHORIZATION : prev->source;
        conf->credential = prev->credential;
    }

#if (NGX_THREADS)
    if (conf->thread_pool_name.data == NULL) {
        conf->thread_pool_name = prev->thread_pool_name;
    }

    conf->thread_pool = NULL;
    if (conf->thread_pool_name.data != NULL
        && ngx_strcmp(conf->thread_pool_name.data, "off") != 0)
    {
        /* the pool is looked up when the workers start */
        conf->thread_pool = ngx_thread_pool_add(cf, &conf->thread_pool_name);
        if (conf->thread_pool == NULL) {
            return NGX_CONF_ERROR;
        }
    }
#endif

    if (conf->now != NULL && conf->now->lengths == NULL) {
        u_char  buf[64];

        conf->now_const = 0;
        if (conf->now->value.len > 0 && conf->now->value.len < sizeof(buf)) {
            ngx_memcpy(buf, conf->now->value.data, conf->now->value.len);
            buf[conf->now->value.len] = '\0';
            conf->now_const = strtod((char *) buf, NULL);
        }
        if (!(conf->now_const > 0 && conf->now_const < 1e15)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"warden_now\" value \"%V\"",
                               &conf->now->value);
            return NGX_CONF_ERROR;
        }
    }

    if (conf->kinds != 0 && conf->verifier == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"warden\" is on but no \"warden_config\" file "
                           "is set for this location");
        return NGX_CONF_ERROR;
    }

    if (conf->source == WDN_SOURCE_VARIABLE
        && (conf->kinds & WDN_KIND_BASIC)
        && !(conf->kinds & (WDN_KIND_JWT | WDN_KIND_API_KEY)))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"warden basic\" needs an Authorization-style "
                           "credential: use \"warden_credential $variable "
                           "authorization\" or the Authorization header");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_warden_quote(cf, "Bearer realm=", &conf->realm, "",
                              &conf->bearer) != NGX_OK
        || ngx_http_warden_quote(cf, "Basic realm=", &conf->realm,
                                 ", charset=\"UTF-8\"", &conf->basic)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (conf->scopes != NULL) {
        s = conf->scopes->elts;
        joined.len = 0;
        for (i = 0; i < conf->scopes->nelts; i++) {
            joined.len += s[i].len + 1;
        }
        joined.data = ngx_pnalloc(cf->pool, joined.len);
        if (joined.data == NULL) {
            return NGX_CONF_ERROR;
        }
        p = joined.data;
        for (i = 0; i < conf->scopes->nelts; i++) {
            if (i > 0) {
                *p++ = ' ';
            }
            p = ngx_cpymem(p, s[i].data, s[i].len);
        }
        joined.len = p - joined.data;

        if (ngx_http_warden_quote(cf, "scope=", &joined, "",
                                  &conf->scope_attr) != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_warden_preconfiguration(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_warden_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_warden_postconfiguration(ngx_conf_t *cf)
{
    ngx_str_t                     name = ngx_string("warden_stats");
    ngx_http_handler_pt          *h;
    ngx_http_core_main_conf_t    *cmcf;
    ngx_http_warden_main_conf_t  *wmcf;

    wmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_warden_module);

    if (wmcf->verifiers.nelts > 0) {
        cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

        h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        *h = ngx_http_warden_handler;
    }

    /* counters shared by the workers (kept across reloads) */
    wmcf->shm_zone = ngx_shared_memory_add(cf, &name, 8 * ngx_pagesize,
                                           &ngx_http_warden_module);
    if (wmcf->shm_zone == NULL) {
        return NGX_ERROR;
    }
    wmcf->shm_zone->init = ngx_http_warden_init_zone;

    return NGX_OK;
}


static ngx_int_t
ngx_http_warden_init_process(ngx_cycle_t *cycle)
{
    char                          err[1024];
    uint32_t                      rc;
    ngx_uint_t                    i;
    warden_verifier              *v;
    ngx_http_warden_verifier_t  **vs;
    ngx_http_warden_main_conf_t  *wmcf;

    wmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_warden_module);
    if (wmcf == NULL) {
        return NGX_OK;
    }

    /* only the processes that serve requests verify: the cache manager and
     * loader would load verifiers, and fetch remote key sets, for nothing */
    if (ngx_process != NGX_PROCESS_WORKER && ngx_process != NGX_PROCESS_SINGLE) {
        return NGX_OK;
    }

    ngx_http_warden_sh = (wmcf->shm_zone != NULL) ? wmcf->shm_zone->data
                                                  : NULL;

    /* a verifier of its own for each worker: its own caches, rate limit
     * buckets and background threads (threads do not survive fork()) */

    ngx_http_warden_log_thread = pthread_self();
    ngx_http_warden_log_to = cycle->log;
    ngx_http_warden_log_queued = 1;

    vs = wmcf->verifiers.elts;
    for (i = 0; i < wmcf->verifiers.nelts; i++) {
        v = NULL;
        err[0] = '\0';
        rc = warden_verifier_new_from_file_with_logger(
                 (const char *) vs[i]->path.data, vs[i]->path.len,
                 ngx_http_warden_log_event, vs[i], &v, err, sizeof(err));
        if (rc == WARDEN_CODE_OK) {
            vs[i]->worker = v;

        } else {
            ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                          "warden: worker could not load \"%V\" itself (%s); "
                          "using the copy loaded by the master",
                          &vs[i]->path, err[0] ? err : warden_code_str(rc));
            vs[i]->worker = vs[i]->master;
            /* paused where it was loaded; refreshed here (the same process
             * when nginx runs without a master) */
            (void) warden_verifier_resume_refresh(vs[i]->worker);
        }
        ngx_memzero(vs[i]->last, sizeof(vs[i]->last));
    }

    if (ngx_http_warden_sh != NULL && wmcf->verifiers.nelts > 0) {
        wmcf->sync_event.handler = ngx_http_warden_sync_handler;
        wmcf->sync_event.data = wmcf;
        wmcf->sync_event.log = cycle->log;
        wmcf->sync_event.cancelable = 1;
        ngx_add_timer(&wmcf->sync_event, 1000);
    }

    return NGX_OK;
}


static void
ngx_http_warden_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_warden_main_conf_t  *wmcf;

    wmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_warden_module);
    if (wmcf == NULL
        || (ngx_process != NGX_PROCESS_WORKER && ngx_process != NGX_PROCESS_SINGLE))
    {
        return;
    }

    ngx_http_warden_sync(cycle, wmcf);
}
