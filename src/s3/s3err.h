/*
 * s3err.h - S3's error codes, their HTTP statuses and the XML error body.
 *
 * S3ERRORS is an X-macro of (NAME, HTTP status, message) rows; the code in
 * the XML body is NAME verbatim ("NoSuchKey"). s3_error_xml() formats the
 * body S3 sends:
 *   <Error><Code>..</Code><Message>..</Message><Resource>..</Resource>
 *   <RequestId>..</RequestId></Error>
 * The RequestId must equal the response's x-amz-request-id header.
 * Shared by the store server (emits) and the S3 client (parses the code).
 */
#ifndef SKYC_S3_S3ERR_H
#define SKYC_S3_S3ERR_H

#include "core/common.h"
#include "core/strbuf.h"

#define S3ERRORS(X)                                                            \
    X(AccessDenied, 403, "Access Denied")                                      \
    X(AuthorizationHeaderMalformed, 400, "The authorization header is malformed.") \
    X(AuthorizationQueryParametersError, 400, "The presigned URL's X-Amz-* query parameters are malformed.") \
    X(BadDigest, 400, "The Content-MD5 you specified did not match what we received.") \
    X(BucketAlreadyOwnedByYou, 409, "Your previous request to create the named bucket succeeded and you already own it.") \
    X(BucketNotEmpty, 409, "The bucket you tried to delete is not empty")     \
    X(EntityTooSmall, 400, "Your proposed upload is smaller than the minimum allowed object size.") \
    X(EntityTooLarge, 400, "Your proposed upload exceeds the maximum allowed object size.") \
    X(IncompleteBody, 400, "You did not provide the number of bytes specified by the Content-Length HTTP header.") \
    X(InternalError, 500, "We encountered an internal error. Please try again.") \
    X(InvalidAccessKeyId, 403, "The AWS Access Key Id you provided does not exist in our records.") \
    X(InvalidArgument, 400, "Invalid Argument")                                \
    X(InvalidBucketName, 400, "The specified bucket is not valid.")           \
    X(InvalidLocationConstraint, 400, "The specified location-constraint is not valid.") \
    X(InvalidDigest, 400, "The Content-MD5 you specified is not valid.")      \
    X(InvalidPart, 400, "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.") \
    X(InvalidPartOrder, 400, "The list of parts was not in ascending order. Parts must be ordered by part number.") \
    X(InvalidRange, 416, "The requested range is not satisfiable")            \
    X(InvalidRequest, 400, "Invalid Request")                                  \
    X(MalformedXML, 400, "The XML you provided was not well-formed or did not validate against our published schema.") \
    X(MethodNotAllowed, 405, "The specified method is not allowed against this resource.") \
    X(MissingContentLength, 411, "You must provide the Content-Length HTTP header.") \
    X(NoSuchBucket, 404, "The specified bucket does not exist")               \
    X(NoSuchKey, 404, "The specified key does not exist.")                    \
    X(NoSuchUpload, 404, "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.") \
    X(NotImplemented, 501, "A header you provided implies functionality that is not implemented.") \
    X(PreconditionFailed, 412, "At least one of the preconditions you specified did not hold.") \
    X(RequestTimeTooSkewed, 403, "The difference between the request time and the current time is too large.") \
    X(SignatureDoesNotMatch, 403, "The request signature we calculated does not match the signature you provided. Check your key and signing method.") \
    X(XAmzContentSHA256Mismatch, 400, "The provided 'x-amz-content-sha256' header does not match what was computed.") \
    X(KeyTooLongError, 400, "Your key is too long")                           \
    X(InvalidChunkSizeError, 403, "Only the last chunk is allowed to have a size less than 8192 bytes") \
    X(ServiceUnavailable, 503, "Reduce your request rate.")

enum s3err {
#define S3ERR_ENUM(name, status, msg) S3E_##name,
    S3ERRORS(S3ERR_ENUM)
#undef S3ERR_ENUM
    S3E_COUNT
};

const char *s3err_code(enum s3err e);    /* "NoSuchKey" */
int s3err_status(enum s3err e);          /* 404 */
const char *s3err_message(enum s3err e); /* default message */

/* Append s with &, <, >, ", ' escaped for XML text and attributes. */
void xml_escape(struct strbuf *out, const char *s, size_t len);

/*
 * The XML error body. message NULL = the default; resource and request_id
 * are escaped. Appended to out.
 */
void s3_error_xml(struct strbuf *out, enum s3err e, const char *message,
                  const char *resource, const char *request_id);

#endif
