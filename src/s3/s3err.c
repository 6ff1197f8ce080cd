/*
 * s3err.c - S3 error table and XML error bodies (see s3err.h).
 */
#include "core/common.h"
#include "s3/s3err.h"

static const struct {
    const char *code;
    int status;
    const char *msg;
} table[] = {
#define S3ERR_ROW(name, status, msg) {#name, status, msg},
    S3ERRORS(S3ERR_ROW)
#undef S3ERR_ROW
};

const char *s3err_code(enum s3err e)
{
    return (size_t)e < ARRAY_SIZE(table) ? table[e].code : "InternalError";
}

int s3err_status(enum s3err e)
{
    return (size_t)e < ARRAY_SIZE(table) ? table[e].status : 500;
}

const char *s3err_message(enum s3err e)
{
    return (size_t)e < ARRAY_SIZE(table) ? table[e].msg : "internal error";
}

void xml_escape(struct strbuf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        switch (s[i]) {
        case '&':
            strbuf_addstr(out, "&amp;");
            break;
        case '<':
            strbuf_addstr(out, "&lt;");
            break;
        case '>':
            strbuf_addstr(out, "&gt;");
            break;
        case '"':
            strbuf_addstr(out, "&quot;");
            break;
        case '\'':
            strbuf_addstr(out, "&apos;");
            break;
        default:
            if ((unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' &&
                s[i] != '\r')
                strbuf_addf(out, "&#x%x;", (unsigned char)s[i]);
            else
                strbuf_addch(out, s[i]);
        }
    }
}

void s3_error_xml(struct strbuf *out, enum s3err e, const char *message,
                  const char *resource, const char *request_id)
{
    const char *m = message ? message : s3err_message(e);
    strbuf_addstr(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<Error><Code>");
    strbuf_addstr(out, s3err_code(e));
    strbuf_addstr(out, "</Code><Message>");
    xml_escape(out, m, strlen(m));
    strbuf_addstr(out, "</Message>");
    if (resource) {
        strbuf_addstr(out, "<Resource>");
        xml_escape(out, resource, strlen(resource));
        strbuf_addstr(out, "</Resource>");
    }
    strbuf_addstr(out, "<RequestId>");
    xml_escape(out, request_id ? request_id : "", request_id ? strlen(request_id) : 0);
    strbuf_addstr(out, "</RequestId></Error>");
}
