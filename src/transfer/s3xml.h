/*
 * s3xml.h - reading the XML of S3 responses (ListObjectsV2,
 * ListMultipartUploads, ListParts, InitiateMultipartUpload, Error) with
 * expat, as a flat stream of elements.
 *
 * on_open(name, depth) is called when an element starts and on_text(name,
 * text, depth) when it ends, with its text content (trimmed of nothing,
 * capped at 64 KiB). Names are local (namespace prefix dropped). Returns
 * SKYC_E_INPUT with the expat message and line:col on malformed XML.
 */
#ifndef SKYC_TRANSFER_S3XML_H
#define SKYC_TRANSFER_S3XML_H

#include "core/common.h"
#include "core/error.h"

struct s3x_handler {
    void (*on_open)(void *arg, const char *name, int depth);
    void (*on_text)(void *arg, const char *name, const char *text, int depth);
    void *arg;
};

enum skyc_err s3x_parse(const char *xml, size_t len,
                        const struct s3x_handler *h, struct skyc_error *err);

/* The <Code> and <Message> of an S3 error body, for messages: "" where the
 * body has none (or is not XML). Never fails. */
struct s3x_error {
    char code[64];
    char msg[512];
};
void s3x_parse_error(const char *xml, size_t len, struct s3x_error *e);

#endif
