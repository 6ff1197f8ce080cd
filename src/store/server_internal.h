/*
 * server_internal.h - what the store server's files share (server.c: HTTP,
 * routing, auth, bodies; server_object.c: objects; server_multipart.c:
 * multipart uploads; server_bucket.c: buckets and listings). Not a public
 * interface.
 */
#ifndef SKYC_STORE_SERVER_INTERNAL_H
#define SKYC_STORE_SERVER_INTERNAL_H

#include "core/common.h"
#include "core/strbuf.h"
#include "s3/checksum.h"
#include "s3/s3err.h"
#include "s3/sigv4.h"
#include "store/backend.h"
#include "store/cost.h"
#include "store/meta.h"
#include "store/placement.h"
#include "store/server.h"

#include <pthread.h>

#include <microhttpd.h>
#include <openssl/evp.h>

struct store_server;
struct body_hasher;

/* One S3 endpoint: the daemon serving clients of one region. */
struct store_endpoint {
    struct store_server *srv;
    size_t region; /* index into srv->regions */
    struct MHD_Daemon *mhd;
    int port;
};

struct store_server {
    struct store_config cfg;
    struct meta meta;
    struct store_region *regions; /* [0] is the default (primary) region */
    size_t nregions;
    struct store_endpoint *eps;   /* one per region */
    /* multi-region (cfg.nregions > 0): the placement engine decides which
     * regions hold a copy of each object (server_place.c). Every copy of
     * an object is a blob with the same id in its region's backend; the
     * metadata row names the primary's region. The engine is serialised by
     * place_mu (held across the copies a plan makes); a timer thread runs
     * place_advance() and saves the engine to DATA/placement.json. */
    bool multi;
    struct store_cost_model model;
    struct place place;
    struct place_plan plan; /* scratch, under place_mu */
    bool place_ready;
    pthread_mutex_t place_mu;
    pthread_cond_t place_cv;
    pthread_t timer;
    bool timer_on, stopping, dirty;
    char *state_path;
    /* replication copies (server_place.c): in flight, and queued for the
     * copier threads; all under place_mu */
    struct copy_job *jobs, *queue, **queue_tail;
    size_t jobs_pending;
    pthread_cond_t copy_cv;
    pthread_t copiers[2];
    int ncopiers;
    /* the engine's journal (incremental state) */
    char *journal_path;
    int journal_fd;
    size_t journal_lines;
    struct strbuf jbuf;
};

enum op {
    OP_NONE,
    OP_LIST_BUCKETS,
    OP_CREATE_BUCKET,
    OP_HEAD_BUCKET,
    OP_DELETE_BUCKET,
    OP_LIST_OBJECTS,
    OP_LIST_OBJECTS_V2,
    OP_LIST_VERSIONS,
    OP_LIST_UPLOADS,
    OP_GET_LOCATION,
    OP_GET_VERSIONING,
    OP_DELETE_OBJECTS,
    OP_PUT_OBJECT,
    OP_COPY_OBJECT,
    OP_GET_OBJECT,
    OP_HEAD_OBJECT,
    OP_DELETE_OBJECT,
    OP_CREATE_UPLOAD,
    OP_UPLOAD_PART,
    OP_UPLOAD_PART_COPY,
    OP_COMPLETE_UPLOAD,
    OP_ABORT_UPLOAD,
    OP_LIST_PARTS,
    OP_SKYC, /* ?skyc-policy, ?skyc-stats (server_ext.c) */
};

enum body_kind { BODY_NONE, BODY_BUFFER, BODY_BLOB };

/* aws-chunked decoder states */
enum chunk_state { CH_SIZE, CH_DATA, CH_DATA_CR, CH_TRAILER, CH_DONE };

struct req {
    struct store_server *srv;
    size_t at; /* the region whose endpoint took the request */
    struct MHD_Connection *conn;
    const char *method;
    char *path;  /* raw, as sent */
    struct strbuf query; /* raw query rebuilt from MHD's arguments */
    char *bucket, *key; /* decoded; NULL when absent */
    char request_id[17];
    enum op op;
    const struct store_user *user;

    /* an error found before the body: reported once the body is read */
    enum s3err pending;
    char *pending_msg;
    bool has_pending;

    /* body */
    enum body_kind body;
    struct strbuf buf;       /* BODY_BUFFER */
    struct blob_writer w;    /* BODY_BLOB */
    bool w_open;
    bool inline_data;        /* BODY_BLOB kept in buf, stored in the row */
    uint64_t received;       /* decoded payload bytes */
    EVP_MD_CTX *md5;
    EVP_MD_CTX *sha256;      /* over the raw body when its hash was signed */
    char want_sha256[65];
    struct checksum ck;
    enum checksum_algo ck_algo;
    char *ck_expected;       /* header value, or from the trailer */
    bool ck_trailer;

    /* aws-chunked */
    bool chunked;
    bool chunk_signed;
    enum chunk_state cs;
    struct strbuf line;
    uint64_t chunk_left;
    EVP_MD_CTX *chunk_sha;
    char chunk_sig[65];      /* claimed signature of the current chunk */
    char prev_sig[65];       /* seed = request signature */
    uint8_t sign_key[32];
    char amz_date[17];
    struct strbuf scope;
    int64_t decoded_len;     /* x-amz-decoded-content-length or -1 */
    uint8_t want_md5[16];    /* Content-MD5 */
    bool have_md5;
    uint8_t md5_out[16];     /* MD5 of the payload, after the body */
    struct body_hasher *hasher; /* big bodies: MD5 + checksum on a helper
                                 * thread while this one writes (server.c) */
    uint64_t wb_off;         /* blob bytes handed to writeback so far */
    char **owned;            /* strings freed with the request */
    size_t nowned, owned_alloc;
};

/* Header lookup (case-insensitive); NULL when absent. */
const char *req_header(struct req *r, const char *name);
/* Query argument value (raw, decoded here into a per-request copy);
 * *present tells "?uploads" (present, "") from absent. */
const char *req_arg(struct req *r, const char *name);
bool req_has_arg(struct req *r, const char *name);

/* Set the error to answer with (first one wins). Returns MHD_YES. */
void req_fail(struct req *r, enum s3err e, const char *msg);

/* Responses. Each consumes nothing of r and queues exactly one response. */
enum MHD_Result respond_error(struct req *r, enum s3err e, const char *msg);
/* InternalError for a failure of ours; err's message goes to the log, not
 * to the client. */
enum MHD_Result respond_internal(struct req *r, const struct skyc_error *err);
enum MHD_Result respond_xml(struct req *r, int status, struct strbuf *xml);
enum MHD_Result respond_empty(struct req *r, int status);
/* Add the headers every response carries, then queue. Frees resp. */
enum MHD_Result respond(struct req *r, int status, struct MHD_Response *resp);

/* "2009-10-12T17:50:30.000Z" of ms since the epoch. */
void iso8601(struct strbuf *out, int64_t ms);
/* "Mon, 12 Oct 2009 17:50:30 GMT" into buf[40]. */
void http_date(char buf[40], int64_t ms);
/* Parse an HTTP date (RFC 1123, RFC 850, asctime) or ISO 8601; -1 if bad. */
int64_t parse_http_date(const char *s);

/* The region the bytes of a new write go to (the endpoint's region, or the
 * home of a single-region bucket), and where a blob lives. */
struct store_region *region_for_write(struct req *r);
struct store_region *region_named(struct store_server *s, const char *name);
/* Remove blob id from every region (each copy shares the id). */
void remove_everywhere(struct store_server *s, const char *id);

/* server_place.c: the placement engine wired to the regions. Each is a
 * no-op on a single-region server. */
enum skyc_err mr_start(struct store_server *s, struct skyc_error *err);
void mr_stop(struct store_server *s);
/* CreateBucket: the home region of the new bucket, from its
 * LocationConstraint lc (a configured region by full name "gcp:europe-west1"
 * or S3 name "europe-west1"), else the endpoint's region; NULL when lc names
 * no region of the server. A single-region server's one region. */
struct store_region *mr_home_for_create(struct req *r, const char *lc);
/* The S3 region name (after "cloud:") of bucket's home into out[128]: the
 * single-region policy's home when it names one, else stored (the region
 * recorded at creation). */
void mr_bucket_home(struct store_server *s, const char *bucket,
                    const char *stored, char out[128]);
/* A bucket was created: give it its policy over every region. */
void mr_bucket_created(struct store_server *s, const char *bucket);
/* An object row now names blob in region primary: run place_put and make
 * the copies its plan asks for. */
void mr_after_put(struct req *r, const char *blob, uint64_t size,
                  struct store_region *primary);
/* A GET of o: run place_get and return the region to read from (o's
 * primary when the engine does not know it). When the plan keeps a replica
 * at the reader, *tee is set: hand it to mr_body_response() (which writes
 * the replica from the bytes it serves) or to mr_tee_later(). */
struct mr_tee;
struct store_region *mr_for_read(struct req *r, const struct meta_object *o,
                                 struct mr_tee **tee);
/* A replica the response will not write: the copiers copy it whole. NULL
 * is a no-op. */
void mr_tee_later(struct store_server *s, struct mr_tee *tee);
/* A response streaming [off, off+len) of o's blob held in region from
 * through a blob_reader (a remote backend's region, or a tee); takes tee
 * (may be NULL): a whole-object GET writes the replica from the same
 * bytes, anything else leaves it to mr_tee_later(). NULL on failure. */
struct MHD_Response *mr_body_response(struct req *r,
                                      const struct meta_object *o,
                                      struct store_region *from, uint64_t off,
                                      uint64_t len, struct mr_tee *tee);
/* The placement policy of bucket, canonical (into spec), and where it
 * comes from: "runtime" (set over HTTP, kept in the metadata), "config"
 * or "default". */
enum skyc_err mr_policy_get(struct store_server *s, const char *bucket,
                            struct strbuf *spec, const char **source,
                            struct skyc_error *err);
/* Set it at run time: SKYC_E_USAGE for a policy that does not parse,
 * SKYC_E_NOT_FOUND for no such bucket; canon gets the canonical spelling. */
enum skyc_err mr_policy_set(struct store_server *s, const char *bucket,
                            const char *spec, struct strbuf *canon,
                            struct skyc_error *err);
/* Replication copies queued or running (0 on a single-region server). */
size_t mr_copies_pending(struct store_server *s);
/* server_ext.c: skyc's own extensions (GET|PUT /BUCKET?skyc-policy, GET
 * /?skyc-stats). */
enum MHD_Result h_skyc(struct req *r);
/* A DELETE of key in the request's bucket (its blobs go with
 * remove_everywhere()). */
void mr_delete(struct req *r, const char *key);

/* Operation handlers, called when the body (if any) is complete. */
enum MHD_Result h_list_buckets(struct req *r);
enum MHD_Result h_create_bucket(struct req *r);
enum MHD_Result h_head_bucket(struct req *r);
enum MHD_Result h_delete_bucket(struct req *r);
enum MHD_Result h_list_objects(struct req *r, int version);
enum MHD_Result h_list_uploads(struct req *r);
enum MHD_Result h_get_location(struct req *r);
enum MHD_Result h_get_versioning(struct req *r);
enum MHD_Result h_delete_objects(struct req *r);
enum MHD_Result h_put_object(struct req *r);
enum MHD_Result h_copy_object(struct req *r, bool part);
enum MHD_Result h_get_object(struct req *r, bool head);
enum MHD_Result h_delete_object(struct req *r);
enum MHD_Result h_create_upload(struct req *r);
enum MHD_Result h_upload_part(struct req *r);
enum MHD_Result h_complete_upload(struct req *r);
enum MHD_Result h_abort_upload(struct req *r);
enum MHD_Result h_list_parts(struct req *r);

/* server_object.c: commit the PUT's (or part's) blob and its row, remove
 * the blob it replaced, answer with etag. Takes headers. */
enum MHD_Result finish_put(struct req *r, const char *etag, char *headers,
                           bool part, long part_no, const char *upload_id);
/* An ETag from a header equals a stored one (quotes optional). */
bool etag_eq(const char *a, const char *stored);

/* Before the body of a PUT object / part: conditions that fail early. */
bool precheck_put(struct req *r);

/* Stored headers: the JSON [name, value] list of a PUT's content headers. */
char *collect_object_headers(struct req *r);
/* Add stored headers to a response. */
void add_object_headers(struct MHD_Response *resp, const char *json);

/* S3 key/bucket checks */
bool valid_bucket_name(const char *b);

/* Owner block used in listings. */
void owner_xml(struct req *r, struct strbuf *x);

/* Objects up to this size are stored inline in their metadata row. */
#define INLINE_MAX (64u << 10)

#define XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

#endif
