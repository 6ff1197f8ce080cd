/*
 * sigv4.h - AWS Signature Version 4: one implementation for signing client
 * requests (transfer plane's S3 client) and verifying them (store server).
 *
 * The pieces follow AWS's four steps and are public so tests can check each
 * against the published suite (../shared/data/sigv4-test-suite):
 *
 *   canonical request  sigv4_canonical_request()
 *   string to sign     sigv4_string_to_sign()
 *   signing key        sigv4_signing_key()
 *   signature          sigv4_signature()  (hex HMAC-SHA256 of the string)
 *
 * Inputs are described by struct sigv4_request. Conventions:
 * - path is the DECODED path ("/bucket/my key/ሴ"); the canonical form
 *   URI-encodes each byte except unreserved characters and '/'. For S3 set
 *   normalize_path = false (S3 signs the path as is, "a//b" stays); other
 *   services (and the generic test suite) use true: dot segments removed,
 *   repeated slashes collapsed. With path_encoded the path is used as is
 *   (a server retrying with the client's own encoding).
 * - query is the query string AS SENT on the wire (percent-encoded, without
 *   the '?'), or NULL. Each key and value is decoded and re-encoded strictly,
 *   then pairs are sorted by key, then value. A parameter named in
 *   skip_param (presigned X-Amz-Signature) is left out.
 * - headers may repeat a name and may be in any case and order; values of
 *   one name are joined with ',' in the order given, trimmed, inner runs of
 *   spaces collapsed. signed_headers ("host;x-amz-date", lower case, sorted,
 *   as in an Authorization header) selects which to sign; NULL signs all.
 * - payload_hash is the hex SHA-256 of the body, or "UNSIGNED-PAYLOAD", or a
 *   "STREAMING-..." marker; NULL means the hash of the empty body.
 *
 * Client use (header auth), given a key, a request and its headers that
 * already include Host, x-amz-date and (for S3) x-amz-content-sha256:
 *     struct sigv4_credentials c = {ak, sk, "us-east-1", "s3"};
 *     sigv4_authorization(&c, &req, "20150830T123600Z", &authz);
 *     -> add header "Authorization: <authz.buf>"
 * Presigned URL: sigv4_presign_query() appends the X-Amz-* parameters
 * (including the signature) to a query string.
 *
 * Server use: sigv4_parse_authorization() / sigv4_parse_presigned() split the
 * client's claim; the server looks up the secret for claim.access_key,
 * recomputes with sigv4_signature() and compares with sigv4_equal().
 *
 * Nothing here allocates except the strbufs the caller passes (appended to).
 * Functions returning bool return false on malformed input, never crash.
 */
#ifndef SKYC_S3_SIGV4_H
#define SKYC_S3_SIGV4_H

#include "core/common.h"
#include "core/error.h"
#include "core/strbuf.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_UNSIGNED "UNSIGNED-PAYLOAD"
#define SIGV4_EMPTY_SHA256                                                     \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct sigv4_header {
    const char *name;
    const char *value;
};

struct sigv4_request {
    const char *method;
    const char *path;  /* decoded */
    const char *query; /* as sent, or NULL */
    const struct sigv4_header *headers;
    size_t nheaders;
    const char *payload_hash;
    bool normalize_path;
    const char *skip_param; /* query key left out of the canonical query */
    bool path_encoded;      /* path is already canonical: used verbatim */
};

struct sigv4_credentials {
    const char *access_key;
    const char *secret_key;
    const char *region;
    const char *service;
};

/* The canonical request (step 1), appended to out. */
void sigv4_canonical_request(const struct sigv4_request *r,
                             const char *signed_headers, struct strbuf *out);

/* "host;x-amz-date": sorted lower-case names of all of r's headers. */
void sigv4_signed_header_list(const struct sigv4_request *r,
                              struct strbuf *out);

/* Step 2: amz_date is "YYYYMMDDTHHMMSSZ"; scope "YYYYMMDD/region/svc/aws4_request". */
void sigv4_string_to_sign(const char *amz_date, const char *scope,
                          const char *canonical_request, struct strbuf *out);

/* Step 3. date8 is "YYYYMMDD". */
void sigv4_signing_key(const char *secret, const char *date8,
                       const char *region, const char *service,
                       uint8_t key[32]);

/* Step 4: hex(HMAC-SHA256(key, sts)) into hex[65]. */
void sigv4_hmac_hex(const uint8_t key[32], const char *data, size_t len,
                    char hex[65]);

/*
 * All four steps: the signature of r under c at amz_date, into hex[65].
 * When creq/sts are non-NULL they receive the intermediate texts.
 */
void sigv4_signature(const struct sigv4_credentials *c,
                     const struct sigv4_request *r, const char *signed_headers,
                     const char *amz_date, char hex[65], struct strbuf *creq,
                     struct strbuf *sts);

/* The Authorization header value for r signing all its headers. */
void sigv4_authorization(const struct sigv4_credentials *c,
                         const struct sigv4_request *r, const char *amz_date,
                         struct strbuf *out);

/*
 * Presigned URL query: appends X-Amz-Algorithm, -Credential, -Date, -Expires,
 * -SignedHeaders (host) and -Signature to query (which may hold other
 * parameters already, encoded, without '?'). r->query is ignored; host is
 * the Host header value. Payload is UNSIGNED-PAYLOAD.
 */
void sigv4_presign_query(const struct sigv4_credentials *c, const char *method,
                         const char *path, const char *host,
                         const char *amz_date, long expires,
                         struct strbuf *query);

/* A client's claim, from an Authorization header or presigned query. */
struct sigv4_claim {
    char access_key[128];
    char date8[9];
    char region[64];
    char service[32];
    char signed_headers[1024];
    char signature[65];
    char amz_date[17]; /* presigned: X-Amz-Date; header: filled by caller */
    long expires;      /* presigned only, seconds; else 0 */
};

/* Parse "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...". */
bool sigv4_parse_authorization(const char *value, struct sigv4_claim *out);

/*
 * Parse a presigned query (as sent). Returns false when it is not one
 * (no X-Amz-Algorithm) or is malformed; *malformed tells them apart.
 */
bool sigv4_parse_presigned(const char *query, struct sigv4_claim *out,
                           bool *malformed);

/* "YYYYMMDD/region/service/aws4_request" of a claim. */
void sigv4_claim_scope(const struct sigv4_claim *c, struct strbuf *out);

/* Constant-time compare of two hex signatures. */
bool sigv4_equal(const char *a, const char *b);

/* Parse "YYYYMMDDTHHMMSSZ" into a UTC time; false when malformed. */
bool sigv4_parse_amz_date(const char *s, time_t *out);
/* Format t as "YYYYMMDDTHHMMSSZ" into buf[17]. */
void sigv4_format_amz_date(time_t t, char buf[17]);

/*
 * aws-chunked payload signing (STREAMING-AWS4-HMAC-SHA256-PAYLOAD): the
 * signature of one chunk given the previous signature (the seed is the
 * request's signature) and the chunk's hex SHA-256.
 */
void sigv4_chunk_signature(const uint8_t key[32], const char *amz_date,
                           const char *scope, const char *prev_sig,
                           const char *chunk_sha256_hex, char hex[65]);

/* S3 URI encoding: unreserved kept, '/' kept when keep_slash, else %XX. */
void sigv4_uri_encode(struct strbuf *out, const char *s, size_t len,
                      bool keep_slash);
/* Percent-decode s[0..len) into out ('+' is kept as '+'). */
void sigv4_uri_decode(struct strbuf *out, const char *s, size_t len);

/* Hex SHA-256 of data into hex[65]. */
void sigv4_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
