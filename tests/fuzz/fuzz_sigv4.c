/*
 * libFuzzer entry for the SigV4 canonicaliser and claim parsers: the input is
 * split at NUL bytes into path, query, Authorization value, then header
 * name/value pairs. Any bytes: never a crash, and the canonical request
 * always has its six newline-separated sections.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/strbuf.h"
#include "s3/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16 * 1024)
        return 0;
    char *buf = xmalloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';
    const char *fields[40];
    size_t n = 0;
    const char *p = buf;
    while (n < ARRAY_SIZE(fields)) {
        fields[n++] = p;
        size_t len = strlen(p);
        if (p + len >= buf + size)
            break;
        p += len + 1;
    }
    struct sigv4_header h[16];
    size_t nh = 0;
    for (size_t i = 3; i + 1 < n && nh < ARRAY_SIZE(h); i += 2) {
        h[nh].name = fields[i];
        h[nh].value = fields[i + 1];
        nh++;
    }
    struct sigv4_request r = {
        .method = "GET",
        .path = fields[0],
        .query = n > 1 ? fields[1] : NULL,
        .headers = h,
        .nheaders = nh,
        .normalize_path = size & 1,
        .skip_param = "X-Amz-Signature",
    };
    struct strbuf cr = STRBUF_INIT, sh = STRBUF_INIT;
    sigv4_canonical_request(&r, NULL, &cr);
    size_t lines = 0;
    for (size_t i = 0; i < cr.len; i++)
        lines += cr.buf[i] == '\n';
    if (lines < 6) /* method, path, query, headers, blank, signed list */
        abort();
    sigv4_signed_header_list(&r, &sh);
    struct sigv4_claim c;
    bool malformed;
    if (n > 2 && sigv4_parse_authorization(fields[2], &c)) {
        char sig[65];
        struct sigv4_credentials cred = {c.access_key, "secret", c.region,
                                         c.service};
        sigv4_signature(&cred, &r, c.signed_headers, "20150830T123600Z", sig,
                        NULL, NULL);
        if (strlen(sig) != 64)
            abort();
    }
    if (n > 1)
        (void)sigv4_parse_presigned(fields[1], &c, &malformed);
    time_t t;
    (void)sigv4_parse_amz_date(fields[0], &t);
    strbuf_release(&cr);
    strbuf_release(&sh);
    free(buf);
    return 0;
}
