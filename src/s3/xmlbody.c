/*
 * xmlbody.c - CompleteMultipartUpload and Delete bodies via expat.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/strbuf.h"
#include "s3/xmlbody.h"

#include <expat.h>

#define MAX_DEPTH 8

enum doc { DOC_COMPLETE, DOC_DELETE };

struct pstate {
    enum doc doc;
    XML_Parser p;
    int depth;
    char path[MAX_DEPTH][32]; /* local names */
    struct strbuf text;
    bool failed;
    char *errmsg;
    /* the element being filled */
    long number;
    bool have_number;
    char *etag, *key, *version;
    struct s3_complete *c;
    struct s3_delete *d;
};

static const char *local_name(const char *name)
{
    /* expat with namespace processing gives "uri|local" */
    const char *bar = strrchr(name, '|');
    return bar ? bar + 1 : name;
}

static void fail(struct pstate *s, const char *msg)
{
    if (!s->failed) {
        snprintf(s->errmsg, 256, "%s (line %lu)", msg,
                 (unsigned long)XML_GetCurrentLineNumber(s->p));
        s->failed = true;
    }
    XML_StopParser(s->p, XML_FALSE);
}

static void XMLCALL on_start(void *ud, const XML_Char *name,
                             const XML_Char **atts)
{
    struct pstate *s = ud;
    (void)atts;
    if (s->depth >= MAX_DEPTH) {
        fail(s, "elements nested too deeply");
        return;
    }
    const char *ln = local_name(name);
    if (s->depth == 0) {
        const char *want = s->doc == DOC_COMPLETE ? "CompleteMultipartUpload"
                                                  : "Delete";
        if (strcmp(ln, want) != 0) {
            fail(s, s->doc == DOC_COMPLETE
                        ? "root element must be CompleteMultipartUpload"
                        : "root element must be Delete");
            return;
        }
    }
    snprintf(s->path[s->depth], sizeof(s->path[0]), "%s", ln);
    s->depth++;
    strbuf_reset(&s->text);
}

static void XMLCALL on_text(void *ud, const XML_Char *t, int len)
{
    struct pstate *s = ud;
    if (s->text.len + (size_t)len > 4096) {
        fail(s, "element text too long");
        return;
    }
    strbuf_add(&s->text, t, (size_t)len);
}

static void end_complete(struct pstate *s, const char *ln)
{
    if (s->depth == 3 && strcmp(s->path[1], "Part") == 0) {
        if (strcmp(ln, "PartNumber") == 0) {
            char *end = NULL;
            errno = 0;
            long n = strtol(s->text.buf, &end, 10);
            if (!s->text.len || *end || errno || n < 1 || n > 10000) {
                fail(s, "PartNumber must be an integer from 1 to 10000");
                return;
            }
            s->number = n;
            s->have_number = true;
        } else if (strcmp(ln, "ETag") == 0) {
            free(s->etag);
            s->etag = xstrdup(s->text.buf);
        }
    } else if (s->depth == 2 && strcmp(ln, "Part") == 0) {
        if (!s->have_number || !s->etag) {
            fail(s, "each Part needs a PartNumber and an ETag");
            return;
        }
        if (s->c->nparts >= 10000) {
            fail(s, "more than 10000 parts");
            return;
        }
        ALLOC_GROW(s->c->parts, s->c->nparts + 1, s->c->alloc);
        s->c->parts[s->c->nparts].number = s->number;
        s->c->parts[s->c->nparts].etag = s->etag;
        s->c->nparts++;
        s->etag = NULL;
        s->have_number = false;
    }
}

static void end_delete(struct pstate *s, const char *ln)
{
    if (s->depth == 3 && strcmp(s->path[1], "Object") == 0) {
        if (strcmp(ln, "Key") == 0) {
            if (s->text.len > 1024 || memchr(s->text.buf, 0, s->text.len)) {
                fail(s, "Key longer than 1024 bytes");
                return;
            }
            free(s->key);
            s->key = xstrdup(s->text.buf);
        } else if (strcmp(ln, "VersionId") == 0) {
            free(s->version);
            s->version = xstrdup(s->text.buf);
        }
    } else if (s->depth == 2 && strcmp(ln, "Quiet") == 0) {
        s->d->quiet = strcmp(s->text.buf, "true") == 0;
    } else if (s->depth == 2 && strcmp(ln, "Object") == 0) {
        if (!s->key) {
            fail(s, "each Object needs a Key");
            return;
        }
        if (s->d->nkeys >= 1000) {
            fail(s, "more than 1000 keys");
            return;
        }
        ALLOC_GROW(s->d->keys, s->d->nkeys + 1, s->d->alloc);
        s->d->keys[s->d->nkeys].key = s->key;
        s->d->keys[s->d->nkeys].version_id = s->version;
        s->d->nkeys++;
        s->key = s->version = NULL;
    }
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct pstate *s = ud;
    if (s->failed)
        return;
    const char *ln = local_name(name);
    if (s->doc == DOC_COMPLETE)
        end_complete(s, ln);
    else
        end_delete(s, ln);
    s->depth--;
    strbuf_reset(&s->text);
}

static bool parse(struct pstate *s, const char *xml, size_t len)
{
    bool ok = false;
    s->p = XML_ParserCreateNS(NULL, '|');
    strbuf_init(&s->text, 64);
    XML_SetUserData(s->p, s);
    XML_SetElementHandler(s->p, on_start, on_end);
    XML_SetCharacterDataHandler(s->p, on_text);
    if (len > INT_MAX) {
        fail(s, "body too large");
        goto out;
    }
    if (XML_Parse(s->p, xml, (int)len, XML_TRUE) == XML_STATUS_ERROR) {
        if (!s->failed)
            snprintf(s->errmsg, 256, "%s (line %lu, column %lu)",
                     XML_ErrorString(XML_GetErrorCode(s->p)),
                     (unsigned long)XML_GetCurrentLineNumber(s->p),
                     (unsigned long)XML_GetCurrentColumnNumber(s->p) + 1);
        goto out;
    }
    ok = !s->failed;
out:
    XML_ParserFree(s->p);
    strbuf_release(&s->text);
    free(s->etag);
    free(s->key);
    free(s->version);
    return ok;
}

bool s3_parse_complete(const char *xml, size_t len, struct s3_complete *out,
                       char errmsg[256])
{
    struct pstate s = {.doc = DOC_COMPLETE, .errmsg = errmsg, .c = out};
    memset(out, 0, sizeof(*out));
    errmsg[0] = '\0';
    if (!parse(&s, xml, len)) {
        s3_complete_release(out);
        return false;
    }
    if (!out->nparts) {
        snprintf(errmsg, 256, "CompleteMultipartUpload lists no parts");
        return false;
    }
    return true;
}

void s3_complete_release(struct s3_complete *c)
{
    for (size_t i = 0; i < c->nparts; i++)
        free(c->parts[i].etag);
    free(c->parts);
    memset(c, 0, sizeof(*c));
}

bool s3_parse_delete(const char *xml, size_t len, struct s3_delete *out,
                     char errmsg[256])
{
    struct pstate s = {.doc = DOC_DELETE, .errmsg = errmsg, .d = out};
    memset(out, 0, sizeof(*out));
    errmsg[0] = '\0';
    if (!parse(&s, xml, len)) {
        s3_delete_release(out);
        return false;
    }
    if (!out->nkeys) {
        snprintf(errmsg, 256, "Delete lists no objects");
        return false;
    }
    return true;
}

void s3_delete_release(struct s3_delete *d)
{
    for (size_t i = 0; i < d->nkeys; i++) {
        free(d->keys[i].key);
        free(d->keys[i].version_id);
    }
    free(d->keys);
    memset(d, 0, sizeof(*d));
}
