/*
 * libFuzzer entry for the S3 XML bodies (CompleteMultipartUpload and
 * Delete): any bytes, never a crash; accepted documents satisfy the limits
 * the parsers promise, rejected ones say why.
 */
#include "core/common.h"
#include "s3/xmlbody.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[256];
    struct s3_complete c;
    struct s3_delete d;
    if (size > 256 * 1024)
        return 0;
    if (s3_parse_complete((const char *)data, size, &c, msg)) {
        if (!c.nparts || c.nparts > 10000)
            abort();
        for (size_t i = 0; i < c.nparts; i++)
            if (c.parts[i].number < 1 || c.parts[i].number > 10000 ||
                !c.parts[i].etag)
                abort();
        s3_complete_release(&c);
    } else if (!msg[0]) {
        abort();
    }
    if (s3_parse_delete((const char *)data, size, &d, msg)) {
        if (!d.nkeys || d.nkeys > 1000)
            abort();
        for (size_t i = 0; i < d.nkeys; i++)
            if (!d.keys[i].key || strlen(d.keys[i].key) > 1024)
                abort();
        s3_delete_release(&d);
    } else if (!msg[0]) {
        abort();
    }
    return 0;
}
