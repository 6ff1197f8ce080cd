/*
 * s3xml.c - a flat element stream over expat for S3 response bodies.
 */
#include "core/common.h"
#include "core/strbuf.h"
#include "transfer/s3xml.h"

#include <expat.h>

#define MAX_TEXT (64 << 10)
#define MAX_DEPTH 16

struct state {
    const struct s3x_handler *h;
    struct strbuf text;
    int depth;
    char names[MAX_DEPTH][128];
};

static const char *local(const char *name)
{
    const char *sep = strrchr(name, ' '); /* expat ns separator */
    if (!sep)
        sep = strrchr(name, ':');
    return sep ? sep + 1 : name;
}

static void XMLCALL on_start(void *ud, const XML_Char *name,
                             const XML_Char **attrs)
{
    struct state *s = ud;
    (void)attrs;
    if (s->depth < MAX_DEPTH)
        snprintf(s->names[s->depth], sizeof(s->names[0]), "%s", local(name));
    s->depth++;
    strbuf_reset(&s->text);
    if (s->h->on_open && s->depth <= MAX_DEPTH)
        s->h->on_open(s->h->arg, s->names[s->depth - 1], s->depth);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct state *s = ud;
    (void)name;
    if (s->h->on_text && s->depth <= MAX_DEPTH && s->depth > 0)
        s->h->on_text(s->h->arg, s->names[s->depth - 1], s->text.buf,
                      s->depth);
    strbuf_reset(&s->text);
    s->depth--;
}

static void XMLCALL on_chars(void *ud, const XML_Char *t, int len)
{
    struct state *s = ud;
    if (s->text.len + (size_t)len <= MAX_TEXT)
        strbuf_add(&s->text, t, (size_t)len);
}

enum skyc_err s3x_parse(const char *xml, size_t len,
                        const struct s3x_handler *h, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    struct state s = {h, STRBUF_INIT, 0, {{0}}};
    XML_Parser p = XML_ParserCreate(NULL);
    if (!p)
        return skyc_fail(err, SKYC_E_INTERNAL, "expat: out of memory");
    XML_SetUserData(p, &s);
    XML_SetElementHandler(p, on_start, on_end);
    XML_SetCharacterDataHandler(p, on_chars);
    if (len > INT_MAX ||
        XML_Parse(p, xml, (int)len, 1) == XML_STATUS_ERROR)
        rc = skyc_fail(err, SKYC_E_INPUT, "S3 response XML, line %lu:%lu: %s",
                       (unsigned long)XML_GetCurrentLineNumber(p),
                       (unsigned long)XML_GetCurrentColumnNumber(p) + 1,
                       XML_ErrorString(XML_GetErrorCode(p)));
    XML_ParserFree(p);
    strbuf_release(&s.text);
    return rc;
}

static void error_text(void *arg, const char *name, const char *text, int d)
{
    struct s3x_error *e = arg;
    (void)d;
    if (!strcmp(name, "Code"))
        snprintf(e->code, sizeof(e->code), "%s", text);
    else if (!strcmp(name, "Message"))
        snprintf(e->msg, sizeof(e->msg), "%s", text);
}

void s3x_parse_error(const char *xml, size_t len, struct s3x_error *e)
{
    struct s3x_handler h = {NULL, error_text, e};
    e->code[0] = e->msg[0] = '\0';
    if (len)
        (void)s3x_parse(xml, len, &h, NULL);
}
