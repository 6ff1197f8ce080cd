/*
 * sigv4.c - AWS Signature Version 4 (see sigv4.h).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/units.h"
#include "core/hex.h"
#include "s3/sigv4.h"

#include <ctype.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

void sigv4_sha256_hex(const void *data, size_t len, char hex[65])
{
    uint8_t md[32];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    hex_encode(md, 32, hex);
}

static void hmac(const uint8_t *key, size_t keylen, const void *data,
                 size_t len, uint8_t out[32])
{
    unsigned int outlen = 32;
    HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen);
}

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
           c == '~';
}

void sigv4_uri_encode(struct strbuf *out, const char *s, size_t len,
                      bool keep_slash)
{
    static const char upper[] = "0123456789ABCDEF";
    strbuf_grow(out, len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            strbuf_addch(out, c);
        } else {
            char e[3] = {'%', upper[c >> 4], upper[c & 15]};
            strbuf_add(out, e, 3);
        }
    }
}

void sigv4_uri_decode(struct strbuf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < len &&
            (hi = hex_digit(s[i + 1])) >= 0 && (lo = hex_digit(s[i + 2])) >= 0) {
            strbuf_addch(out, hi * 16 + lo);
            i += 2;
        } else {
            strbuf_addch(out, s[i]);
        }
    }
}

/* Remove dot segments and collapse slashes (RFC 3986 5.2.4 style). */
static void normalize(const char *path, struct strbuf *out)
{
    /* segments as (start, len) into path */
    size_t nseg = 0, alloc = 0;
    struct seg {
        const char *s;
        size_t n;
    } *segs = NULL;
    const char *p = path;
    bool trailing = false;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p) {
            trailing = true;
            break;
        }
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        trailing = e != NULL;
        if (n == 1 && p[0] == '.') {
            /* skip */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (nseg)
                nseg--;
        } else {
            ALLOC_GROW(segs, nseg + 1, alloc);
            segs[nseg].s = p;
            segs[nseg].n = n;
            nseg++;
        }
        p += n;
    }
    struct strbuf tmp = STRBUF_INIT;
    for (size_t i = 0; i < nseg; i++) {
        strbuf_addch(&tmp, '/');
        strbuf_add(&tmp, segs[i].s, segs[i].n);
    }
    if (!nseg || trailing)
        strbuf_addch(&tmp, '/');
    sigv4_uri_encode(out, tmp.buf, tmp.len, true);
    strbuf_release(&tmp);
    free(segs);
}

struct qparam {
    char *key; /* encoded canonical */
    char *val;
};

static int qparam_cmp(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->val, y->val);
}

static void canonical_query(const char *q, const char *skip,
                            struct strbuf *out)
{
    struct qparam *ps = NULL;
    size_t n = 0, alloc = 0;
    struct strbuf dec = STRBUF_INIT, enc = STRBUF_INIT;
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        if (len) {
            const char *eq = memchr(q, '=', len);
            size_t klen = eq ? (size_t)(eq - q) : len;
            strbuf_reset(&dec);
            sigv4_uri_decode(&dec, q, klen);
            if (!skip || strcmp(dec.buf, skip) != 0) {
                ALLOC_GROW(ps, n + 1, alloc);
                strbuf_reset(&enc);
                sigv4_uri_encode(&enc, dec.buf, dec.len, false);
                ps[n].key = xstrdup(enc.buf);
                strbuf_reset(&dec);
                strbuf_reset(&enc);
                if (eq)
                    sigv4_uri_decode(&dec, eq + 1, len - klen - 1);
                sigv4_uri_encode(&enc, dec.buf, dec.len, false);
                ps[n].val = xstrdup(enc.buf);
                n++;
            }
        }
        q += len + (amp ? 1 : 0);
        if (!amp)
            break;
    }
    if (n)
        qsort(ps, n, sizeof(*ps), qparam_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i)
            strbuf_addch(out, '&');
        strbuf_addf(out, "%s=%s", ps[i].key, ps[i].val);
        free(ps[i].key);
        free(ps[i].val);
    }
    free(ps);
    strbuf_release(&dec);
    strbuf_release(&enc);
}

struct hdr {
    char *name; /* lower case */
    const char *value;
    size_t order;
};

static int hdr_cmp(const void *a, const void *b)
{
    const struct hdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Trim and collapse runs of whitespace (including folded newlines). */
static void add_trimmed(struct strbuf *out, const char *v)
{
    while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
        v++;
    bool space = false;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
            space = true;
            continue;
        }
        if (space)
            strbuf_addch(out, ' ');
        space = false;
        strbuf_addch(out, *v);
    }
}

static struct hdr *sorted_headers(const struct sigv4_request *r)
{
    struct hdr *hs = xcalloc(r->nheaders + 1, sizeof(*hs));
    for (size_t i = 0; i < r->nheaders; i++) {
        hs[i].name = xstrdup(r->headers[i].name);
        for (char *p = hs[i].name; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        hs[i].value = r->headers[i].value ? r->headers[i].value : "";
        hs[i].order = i;
    }
    if (r->nheaders)
        qsort(hs, r->nheaders, sizeof(*hs), hdr_cmp);
    return hs;
}

static void free_headers(struct hdr *hs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(hs[i].name);
    free(hs);
}

/* Is name in the ';'-separated list? */
static bool in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ';');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncasecmp(p, name, n) == 0)
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

void sigv4_signed_header_list(const struct sigv4_request *r,
                              struct strbuf *out)
{
    struct hdr *hs = sorted_headers(r);
    for (size_t i = 0; i < r->nheaders; i++) {
        if (i && strcmp(hs[i].name, hs[i - 1].name) == 0)
            continue;
        if (i)
            strbuf_addch(out, ';');
        strbuf_addstr(out, hs[i].name);
    }
    free_headers(hs, r->nheaders);
}

void sigv4_canonical_request(const struct sigv4_request *r,
                             const char *signed_headers, struct strbuf *out)
{
    struct strbuf names = STRBUF_INIT;
    strbuf_addstr(out, r->method);
    strbuf_addch(out, '\n');
    const char *path = r->path && *r->path ? r->path : "/";
    if (r->path_encoded)
        strbuf_addstr(out, path);
    else if (r->normalize_path)
        normalize(path, out);
    else
        sigv4_uri_encode(out, path, strlen(path), true);
    strbuf_addch(out, '\n');
    canonical_query(r->query, r->skip_param, out);
    strbuf_addch(out, '\n');

    struct hdr *hs = sorted_headers(r);
    for (size_t i = 0; i < r->nheaders; i++) {
        if (signed_headers && !in_list(signed_headers, hs[i].name))
            continue;
        bool first = !i || strcmp(hs[i].name, hs[i - 1].name) != 0;
        if (first) {
            if (names.len)
                strbuf_addch(out, '\n'), strbuf_addch(&names, ';');
            strbuf_addstr(&names, hs[i].name);
            strbuf_addstr(out, hs[i].name);
            strbuf_addch(out, ':');
        } else {
            strbuf_addch(out, ',');
        }
        add_trimmed(out, hs[i].value);
    }
    free_headers(hs, r->nheaders);
    strbuf_addstr(out, "\n\n");
    /* The signed list is what the client claimed (sorted), or ours. */
    strbuf_addstr(out, signed_headers ? signed_headers : names.buf);
    strbuf_addch(out, '\n');
    strbuf_addstr(out, r->payload_hash ? r->payload_hash : SIGV4_EMPTY_SHA256);
    strbuf_release(&names);
}

void sigv4_string_to_sign(const char *amz_date, const char *scope,
                          const char *canonical_request, struct strbuf *out)
{
    char hex[65];
    sigv4_sha256_hex(canonical_request, strlen(canonical_request), hex);
    strbuf_addf(out, SIGV4_ALGORITHM "\n%s\n%s\n%s", amz_date, scope, hex);
}

void sigv4_signing_key(const char *secret, const char *date8,
                       const char *region, const char *service,
                       uint8_t key[32])
{
    struct strbuf k = STRBUF_INIT;
    uint8_t a[32], b[32];
    strbuf_addf(&k, "AWS4%s", secret);
    hmac((const uint8_t *)k.buf, k.len, date8, strlen(date8), a);
    hmac(a, 32, region, strlen(region), b);
    hmac(b, 32, service, strlen(service), a);
    hmac(a, 32, "aws4_request", 12, key);
    OPENSSL_cleanse(k.buf, k.len);
    strbuf_release(&k);
}

void sigv4_hmac_hex(const uint8_t key[32], const char *data, size_t len,
                    char hex[65])
{
    uint8_t out[32];
    hmac(key, 32, data, len, out);
    hex_encode(out, 32, hex);
}

void sigv4_signature(const struct sigv4_credentials *c,
                     const struct sigv4_request *r, const char *signed_headers,
                     const char *amz_date, char hex[65], struct strbuf *creq,
                     struct strbuf *sts)
{
    struct strbuf cr = STRBUF_INIT, st = STRBUF_INIT, scope = STRBUF_INIT;
    char date8[9];
    uint8_t key[32];
    snprintf(date8, sizeof(date8), "%.8s", amz_date);
    strbuf_addf(&scope, "%s/%s/%s/aws4_request", date8, c->region,
                c->service);
    sigv4_canonical_request(r, signed_headers, &cr);
    sigv4_string_to_sign(amz_date, scope.buf, cr.buf, &st);
    sigv4_signing_key(c->secret_key, date8, c->region, c->service, key);
    sigv4_hmac_hex(key, st.buf, st.len, hex);
    if (creq)
        strbuf_add(creq, cr.buf, cr.len);
    if (sts)
        strbuf_add(sts, st.buf, st.len);
    strbuf_release(&cr);
    strbuf_release(&st);
    strbuf_release(&scope);
}

void sigv4_authorization(const struct sigv4_credentials *c,
                         const struct sigv4_request *r, const char *amz_date,
                         struct strbuf *out)
{
    struct strbuf names = STRBUF_INIT;
    char sig[65];
    sigv4_signed_header_list(r, &names);
    sigv4_signature(c, r, names.buf, amz_date, sig, NULL, NULL);
    strbuf_addf(out,
                SIGV4_ALGORITHM " Credential=%s/%.8s/%s/%s/aws4_request, "
                                "SignedHeaders=%s, Signature=%s",
                c->access_key, amz_date, c->region, c->service, names.buf, sig);
    strbuf_release(&names);
}

void sigv4_presign_query(const struct sigv4_credentials *c, const char *method,
                         const char *path, const char *host,
                         const char *amz_date, long expires,
                         struct strbuf *query)
{
    struct strbuf cred = STRBUF_INIT;
    char sig[65];
    strbuf_addf(&cred, "%s/%.8s/%s/%s/aws4_request", c->access_key, amz_date,
                c->region, c->service);
    if (query->len)
        strbuf_addch(query, '&');
    strbuf_addstr(query, "X-Amz-Algorithm=" SIGV4_ALGORITHM
                         "&X-Amz-Credential=");
    sigv4_uri_encode(query, cred.buf, cred.len, false);
    strbuf_addf(query,
                "&X-Amz-Date=%s&X-Amz-Expires=%ld&X-Amz-SignedHeaders=host",
                amz_date, expires);
    struct sigv4_header h = {"host", host};
    struct sigv4_request r = {
        .method = method,
        .path = path,
        .query = query->buf,
        .headers = &h,
        .nheaders = 1,
        .payload_hash = SIGV4_UNSIGNED,
    };
    sigv4_signature(c, &r, "host", amz_date, sig, NULL, NULL);
    strbuf_addf(query, "&X-Amz-Signature=%s", sig);
    strbuf_release(&cred);
}

/* Copy [s, s+n) into dst[size], false when it does not fit. */
static bool copy_field(char *dst, size_t size, const char *s, size_t n)
{
    if (n >= size)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

/* Split "AK/date8/region/service/aws4_request" into the claim. */
static bool parse_credential(const char *s, size_t n, struct sigv4_claim *c)
{
    const char *end = s + n;
    const char *parts[5];
    size_t lens[5];
    for (int i = 0; i < 5; i++) {
        const char *slash = i < 4 ? memchr(s, '/', (size_t)(end - s)) : NULL;
        /* the access key may not contain '/', the rest neither */
        if (i < 4 && !slash)
            return false;
        parts[i] = s;
        lens[i] = (size_t)((i < 4 ? slash : end) - s);
        s = i < 4 ? slash + 1 : end;
    }
    if (lens[4] != 12 || memcmp(parts[4], "aws4_request", 12) != 0)
        return false;
    if (lens[1] != 8)
        return false;
    for (size_t i = 0; i < 8; i++)
        if (parts[1][i] < '0' || parts[1][i] > '9')
            return false;
    return lens[0] > 0 &&
           copy_field(c->access_key, sizeof(c->access_key), parts[0],
                      lens[0]) &&
           copy_field(c->date8, sizeof(c->date8), parts[1], lens[1]) &&
           copy_field(c->region, sizeof(c->region), parts[2], lens[2]) &&
           copy_field(c->service, sizeof(c->service), parts[3], lens[3]);
}

static bool is_hex64(const char *s, size_t n)
{
    return n == 64 && hex_string(s, n);
}

bool sigv4_parse_authorization(const char *v, struct sigv4_claim *out)
{
    memset(out, 0, sizeof(*out));
    size_t alen = strlen(SIGV4_ALGORITHM);
    if (!v || strncmp(v, SIGV4_ALGORITHM, alen) != 0 || v[alen] != ' ')
        return false;
    const char *p = v + alen;
    bool have_cred = false, have_sh = false, have_sig = false;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && p[n - 1] == ' ')
            n--;
        if (n > 11 && strncmp(p, "Credential=", 11) == 0) {
            if (!parse_credential(p + 11, n - 11, out))
                return false;
            have_cred = true;
        } else if (n > 14 && strncmp(p, "SignedHeaders=", 14) == 0) {
            if (!copy_field(out->signed_headers, sizeof(out->signed_headers),
                            p + 14, n - 14))
                return false;
            have_sh = true;
        } else if (n > 10 && strncmp(p, "Signature=", 10) == 0) {
            if (!is_hex64(p + 10, n - 10))
                return false;
            copy_field(out->signature, sizeof(out->signature), p + 10, 64);
            have_sig = true;
        } else {
            return false;
        }
        p += n;
        while (*p == ' ')
            p++;
    }
    return have_cred && have_sh && have_sig;
}

bool sigv4_parse_presigned(const char *query, struct sigv4_claim *out,
                           bool *malformed)
{
    struct strbuf dec = STRBUF_INIT;
    bool alg = false, cred = false, date = false, exp = false, sh = false,
         sig = false, bad = false;
    memset(out, 0, sizeof(*out));
    const char *q = query ? query : "";
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        if (eq) {
            size_t klen = (size_t)(eq - q);
            strbuf_reset(&dec);
            sigv4_uri_decode(&dec, eq + 1, len - klen - 1);
#define KEY(s) (klen == strlen(s) && strncmp(q, s, klen) == 0)
            if (KEY("X-Amz-Algorithm")) {
                alg = true;
                bad |= strcmp(dec.buf, SIGV4_ALGORITHM) != 0;
            } else if (KEY("X-Amz-Credential")) {
                cred = parse_credential(dec.buf, dec.len, out);
                bad |= !cred;
            } else if (KEY("X-Amz-Date")) {
                time_t t;
                date = dec.len == 16 && sigv4_parse_amz_date(dec.buf, &t);
                bad |= !date;
                if (date)
                    copy_field(out->amz_date, sizeof(out->amz_date), dec.buf,
                               16);
            } else if (KEY("X-Amz-Expires")) {
                char *end = NULL;
                long e = dec.len ? strtol(dec.buf, &end, 10) : -1;
                exp = end && !*end && e >= 0;
                bad |= !exp;
                out->expires = e;
            } else if (KEY("X-Amz-SignedHeaders")) {
                sh = copy_field(out->signed_headers,
                                sizeof(out->signed_headers), dec.buf, dec.len);
                bad |= !sh;
            } else if (KEY("X-Amz-Signature")) {
                sig = is_hex64(dec.buf, dec.len);
                bad |= !sig;
                if (sig)
                    copy_field(out->signature, sizeof(out->signature), dec.buf,
                               64);
            }
#undef KEY
        }
        if (!amp)
            break;
        q = amp + 1;
    }
    strbuf_release(&dec);
    *malformed = alg && (bad || !cred || !date || !exp || !sh || !sig);
    return alg && !*malformed;
}

void sigv4_claim_scope(const struct sigv4_claim *c, struct strbuf *out)
{
    strbuf_addf(out, "%s/%s/%s/aws4_request", c->date8, c->region,
                c->service);
}

bool sigv4_equal(const char *a, const char *b)
{
    size_t n = strlen(a);
    if (n != strlen(b))
        return false;
    return CRYPTO_memcmp(a, b, n) == 0;
}

bool sigv4_parse_amz_date(const char *s, time_t *out)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, se;
    if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return false;
    if (!parse_fixed_digits(s, 4, &y) || !parse_fixed_digits(s + 4, 2, &mo) || !parse_fixed_digits(s + 6, 2, &d) ||
        !parse_fixed_digits(s + 9, 2, &h) || !parse_fixed_digits(s + 11, 2, &mi) ||
        !parse_fixed_digits(s + 13, 2, &se))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    *out = timegm(&tm);
    return true;
}

void sigv4_format_amz_date(time_t t, char buf[17])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 17, "%Y%m%dT%H%M%SZ", &tm);
}

void sigv4_chunk_signature(const uint8_t key[32], const char *amz_date,
                           const char *scope, const char *prev_sig,
                           const char *chunk_sha256_hex, char hex[65])
{
    struct strbuf s = STRBUF_INIT;
    strbuf_addf(&s, "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n" SIGV4_EMPTY_SHA256
                    "\n%s",
                amz_date, scope, prev_sig, chunk_sha256_hex);
    sigv4_hmac_hex(key, s.buf, s.len, hex);
    strbuf_release(&s);
}
