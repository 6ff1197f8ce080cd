/*
 * xmlbody.h - the S3 request bodies the server parses, with expat:
 * CompleteMultipartUpload and Delete (DeleteObjects).
 *
 * Both parsers accept the documents with or without the S3 namespace,
 * ignore unknown elements, and reject anything that is not well-formed XML
 * or lacks required fields (returning false and a message in errmsg[256]).
 * Results own their strings; release with the matching _release().
 * Limits: at most 10000 parts, 1000 keys, keys up to 1024 bytes.
 */
#ifndef SKYC_S3_XMLBODY_H
#define SKYC_S3_XMLBODY_H

#include "core/common.h"

struct s3_part_ref {
    long number;
    char *etag; /* as sent, quotes included when the client sent them */
};

struct s3_complete {
    struct s3_part_ref *parts;
    size_t nparts, alloc;
};

bool s3_parse_complete(const char *xml, size_t len, struct s3_complete *out,
                       char errmsg[256]);
void s3_complete_release(struct s3_complete *c);

struct s3_delete_key {
    char *key;
    char *version_id; /* NULL when absent */
};

struct s3_delete {
    struct s3_delete_key *keys;
    size_t nkeys, alloc;
    bool quiet;
};

bool s3_parse_delete(const char *xml, size_t len, struct s3_delete *out,
                     char errmsg[256]);
void s3_delete_release(struct s3_delete *d);

#endif
