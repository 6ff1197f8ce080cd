#include "core/common.h"
#include "core/error.h"

static const struct skyc_err_info err_table[] = {
#define SKYC_ERR_ROW(name, code, summary) {SKYC_E_##name, #name, summary},
    SKYC_ERRORS(SKYC_ERR_ROW)
#undef SKYC_ERR_ROW
};

const struct skyc_err_info *skyc_err_table(size_t *n)
{
    *n = ARRAY_SIZE(err_table);
    return err_table;
}

static const struct skyc_err_info *lookup(enum skyc_err code)
{
    for (size_t i = 0; i < ARRAY_SIZE(err_table); i++)
        if (err_table[i].code == code)
            return &err_table[i];
    return NULL;
}

const char *skyc_err_name(enum skyc_err code)
{
    const struct skyc_err_info *e = lookup(code);
    return e ? e->name : "UNKNOWN";
}

const char *skyc_err_summary(enum skyc_err code)
{
    const struct skyc_err_info *e = lookup(code);
    return e ? e->summary : "unknown error";
}

enum skyc_err skyc_fail(struct skyc_error *err, enum skyc_err code,
                        const char *fmt, ...)
{
    if (!err || err->code != SKYC_OK)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

void skyc_error_clear(struct skyc_error *err)
{
    if (!err)
        return;
    err->code = SKYC_OK;
    err->msg[0] = '\0';
}
