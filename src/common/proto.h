/* Agent protocol: framing and messages.  See docs/agent-protocol.md. */
#ifndef KATA_PROTO_H
#define KATA_PROTO_H
#include <stdint.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>
#include "common/error.h"
#include "common/utils.h"

#define KATA_PROTO_VERSION 1
#define KATA_FRAME_HDR_LEN 12
#define KATA_FRAME_MAX_PAYLOAD (1u << 20) /* 1 MiB: hard limit, larger frames are a protocol error */
#define KATA_STREAM_CHUNK (64u << 10)     /* process I/O is sent in chunks of at most this */

enum kata_frame_type
{
  KATA_FRAME_REQ = 1,    /* id = request id chosen by the sender */
  KATA_FRAME_RESP = 2,   /* id = the request's id */
  KATA_FRAME_STREAM = 3, /* id = stream id (process stream base + KATA_STREAM_*) */
  KATA_FRAME_EVENT = 4,  /* id = 0; unsolicited event from the agent (or monitor) */
};

enum
{
  KATA_FRAME_FLAG_EOF = 1, /* STREAM: the stream is closed (payload may be empty) */
};

/* Each process gets a stream base (a multiple of 4) from the agent. */
enum
{
  KATA_STREAM_STDIN = 0,  /* host -> guest */
  KATA_STREAM_STDOUT = 1, /* guest -> host (the tty's output when terminal=true) */
  KATA_STREAM_STDERR = 2, /* guest -> host (unused with a tty) */
};
/* The DNS relay's stream (both ways, one DNS message per frame; docs/network.md).
   Process streams are multiples of 4 below 0x7ffffff0: never this one. */
#define KATA_STREAM_DNS 0xfffffff0u

/* Error codes carried in responses.  Positive values are errnos from the guest. */
enum
{
  KATA_PROTO_EPARSE = -32700,    /* payload is not valid JSON */
  KATA_PROTO_EINVALID = -32600,  /* not a valid request object */
  KATA_PROTO_ENOMETHOD = -32601, /* unknown method */
  KATA_PROTO_EPARAMS = -32602,   /* invalid params */
  KATA_PROTO_EVERSION = -32001,  /* protocol version mismatch */
  KATA_PROTO_EVMDEAD = -32002,   /* (monitor) the VM died */
  KATA_PROTO_EINTERNAL = -32603, /* anything else */
};

typedef struct kata_frame_s
{
  uint8_t type;
  uint8_t flags;
  uint32_t id;
  uint32_t len;
  char *payload; /* malloc'd, NUL-terminated (len bytes + NUL); NULL when len == 0 */
} kata_frame_t;

void kata_frame_clear (kata_frame_t *f);

/* Header (de)serialisation: 4-byte BE payload length, 1 type, 1 flags, 2 reserved (0), 4 BE id. */
void kata_frame_encode_header (uint8_t hdr[KATA_FRAME_HDR_LEN], uint8_t type, uint8_t flags, uint32_t id,
                               uint32_t len);
/* Validates type, reserved bytes and length.  Fills f (payload untouched). */
int kata_frame_decode_header (const uint8_t hdr[KATA_FRAME_HDR_LEN], kata_frame_t *f, kata_error_t **err);

/* Blocking I/O of one frame.  kata_frame_read returns 1 with a frame, 0 at a clean EOF, -1 on error. */
int kata_frame_write (int fd, uint8_t type, uint8_t flags, uint32_t id, const void *payload, uint32_t len,
                      kata_error_t **err);
int kata_frame_read (int fd, kata_frame_t *f, kata_error_t **err);

/* Incremental decoder for non-blocking event loops. */
typedef kata_buf_t kata_frame_reader_t; /* the bytes not yet taken out as frames */
void kata_frame_reader_feed (kata_frame_reader_t *r, const void *data, size_t n);
/* 1: a frame was taken out into F; 0: need more bytes; -1: protocol error (stream is unusable). */
int kata_frame_reader_next (kata_frame_reader_t *r, kata_frame_t *f, kata_error_t **err);
void kata_frame_reader_free (kata_frame_reader_t *r);

/* Encodes a whole frame (header + payload) into a new buffer of *OUT_LEN bytes. */
uint8_t *kata_frame_encode (uint8_t type, uint8_t flags, uint32_t id, const void *payload, uint32_t len,
                            size_t *out_len);

/* Messages.  Request payload: {"method":M,"params":P}.  Response payload:
   {"result":R} or {"error":{"code":C,"message":S}}.  Event: {"event":E, ...}. */
char *kata_msg_request (const char *method, const char *params_json /* NULL = {} */);
char *kata_msg_result (const char *result_json /* NULL = {} */);
char *kata_msg_error (int code, const char *message);
/* Parses a request; *params is a subtree of *root (free only *root). */
int kata_msg_parse_request (const char *payload, size_t len, yajl_val *root, const char **method,
                            yajl_val *params, kata_error_t **err);
/* Parses a response.  On {"error":...} returns -1 with err->status = KATA_EAGENT and the remote
   message as err->msg; *remote_code gets the code (may be NULL).  On success *root holds the
   tree and *result the "result" subtree. */
int kata_msg_parse_response (const char *payload, size_t len, yajl_val *root, yajl_val *result,
                             int *remote_code, kata_error_t **err);

#endif
