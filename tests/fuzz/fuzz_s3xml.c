/* libFuzzer entry for the S3 response reader (transfer/s3xml.c): any bytes,
 * never a crash; malformed XML is located by line:col. */
#include "core/common.h"
#include "transfer/s3xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_open(void *arg, const char *name, int depth)
{
    size_t *n = arg;
    if (!name || depth < 1)
        abort();
    (*n)++;
}

static void on_text(void *arg, const char *name, const char *text, int depth)
{
    if (!name || !text || depth < 1)
        abort();
    (void)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;
    struct s3x_handler h = {on_open, on_text, &n};
    struct skyc_error err = {0};
    if (size > 1 << 20)
        return 0;
    if (s3x_parse((const char *)data, size, &h, &err) != SKYC_OK &&
        strncmp(err.msg, "S3 response XML, line ", 22) != 0)
        abort();
    return 0;
}
