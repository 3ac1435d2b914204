#include "config.h"
#include <stdbool.h>
#include "common/proto.h"
#include "common/json.h"
#include "common/utils.h"
#include <errno.h>
#include <string.h>

void
kata_frame_clear (kata_frame_t *f)
{
  free (f->payload);
  memset (f, 0, sizeof *f);
}

static void
put_be32 (uint8_t *p, uint32_t v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

static uint32_t
get_be32 (const uint8_t *p)
{
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

void
kata_frame_encode_header (uint8_t hdr[KATA_FRAME_HDR_LEN], uint8_t type, uint8_t flags, uint32_t id,
                          uint32_t len)
{
  put_be32 (hdr, len);
  hdr[4] = type;
  hdr[5] = flags;
  hdr[6] = 0;
  hdr[7] = 0;
  put_be32 (hdr + 8, id);
}

int
kata_frame_decode_header (const uint8_t hdr[KATA_FRAME_HDR_LEN], kata_frame_t *f, kata_error_t **err)
{
  memset (f, 0, sizeof *f);
  f->len = get_be32 (hdr);
  f->type = hdr[4];
  f->flags = hdr[5];
  f->id = get_be32 (hdr + 8);
  if (f->type < KATA_FRAME_REQ || f->type > KATA_FRAME_EVENT)
    return kata_make_error_nostr (err, KATA_EPROTO, "protocol error: unknown frame type %u", f->type);
  if (hdr[6] || hdr[7])
    return kata_make_error_nostr (err, KATA_EPROTO, "protocol error: reserved header bytes set");
  if (f->len > KATA_FRAME_MAX_PAYLOAD)
    return kata_make_error_nostr (err, KATA_EPROTO, "protocol error: frame of %u bytes exceeds the %u limit",
                                  f->len, KATA_FRAME_MAX_PAYLOAD);
  if (f->type != KATA_FRAME_STREAM && f->len == 0)
    return kata_make_error_nostr (err, KATA_EPROTO, "protocol error: empty control frame");
  return 0;
}

uint8_t *
kata_frame_encode (uint8_t type, uint8_t flags, uint32_t id, const void *payload, uint32_t len,
                   size_t *out_len)
{
  uint8_t *buf = xmalloc (KATA_FRAME_HDR_LEN + len);
  kata_frame_encode_header (buf, type, flags, id, len);
  if (len)
    memcpy (buf + KATA_FRAME_HDR_LEN, payload, len);
  *out_len = KATA_FRAME_HDR_LEN + len;
  return buf;
}

int
kata_frame_write (int fd, uint8_t type, uint8_t flags, uint32_t id, const void *payload, uint32_t len,
                  kata_error_t **err)
{
  size_t n;
  cleanup_free uint8_t *buf = NULL;
  if (len > KATA_FRAME_MAX_PAYLOAD)
    return kata_make_error_nostr (err, KATA_EPROTO, "frame of %u bytes exceeds the %u limit", len,
                                  KATA_FRAME_MAX_PAYLOAD);
  buf = kata_frame_encode (type, flags, id, payload, len, &n);
  if (kata_write_all (fd, buf, n) < 0)
    return kata_make_error (err, errno, "write frame");
  return 0;
}

int
kata_frame_read (int fd, kata_frame_t *f, kata_error_t **err)
{
  uint8_t hdr[KATA_FRAME_HDR_LEN];
  ssize_t r = kata_read_all (fd, hdr, sizeof hdr);
  if (r == 0)
    return 0;
  if (r < 0)
    return kata_make_error (err, errno, "read frame header");
  if (kata_frame_decode_header (hdr, f, err) < 0)
    return -1;
  f->payload = NULL;
  if (f->len)
    {
      f->payload = xmalloc (f->len + 1);
      r = kata_read_all (fd, f->payload, f->len);
      if (r <= 0)
        {
          int e = r == 0 ? EPIPE : errno;
          kata_frame_clear (f);
          return kata_make_error (err, e, "read frame payload");
        }
      f->payload[f->len] = '\0';
    }
  return 1;
}

void
kata_frame_reader_feed (kata_frame_reader_t *r, const void *data, size_t n)
{
  kata_buf_append (r, data, n);
}

int
kata_frame_reader_next (kata_frame_reader_t *r, kata_frame_t *f, kata_error_t **err)
{
  kata_frame_t h;
  size_t total;
  if (r->len < KATA_FRAME_HDR_LEN)
    return 0;
  if (kata_frame_decode_header ((const uint8_t *)kata_buf_ptr (r), &h, err) < 0)
    return -1;
  total = KATA_FRAME_HDR_LEN + (size_t)h.len;
  if (r->len < total)
    return 0;
  *f = h;
  f->payload = NULL;
  if (h.len)
    {
      f->payload = xmalloc (h.len + 1);
      memcpy (f->payload, kata_buf_ptr (r) + KATA_FRAME_HDR_LEN, h.len);
      f->payload[h.len] = '\0';
    }
  kata_buf_consume (r, total);
  return 1;
}

void
kata_frame_reader_free (kata_frame_reader_t *r)
{
  kata_buf_clear (r);
}

char *
kata_msg_request (const char *method, const char *params_json)
{
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "method", method);
  kata_gen_kv_raw (g, "params", params_json ? params_json : "{}");
  yajl_gen_map_close (g);
  return kata_gen_finish (g, NULL);
}

char *
kata_msg_result (const char *result_json)
{
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  kata_gen_kv_raw (g, "result", result_json ? result_json : "{}");
  yajl_gen_map_close (g);
  return kata_gen_finish (g, NULL);
}

char *
kata_msg_error (int code, const char *message)
{
  yajl_gen g = kata_gen_new ();
  yajl_gen_map_open (g);
  kata_gen_str (g, "error");
  yajl_gen_map_open (g);
  kata_gen_kv_int (g, "code", code);
  kata_gen_kv_str (g, "message", message ? message : "");
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
  return kata_gen_finish (g, NULL);
}

/* A JSON string escape \u0000 would decode to a C string cut short ("c1\u0000/../x" read
   as "c1"): both sides refuse messages that contain one. */
static bool
has_escaped_nul (const char *p, size_t len)
{
  for (size_t i = 0; i + 1 < len; i++)
    if (p[i] == '\\')
      {
        if (p[i + 1] == 'u' && i + 5 < len && p[i + 2] == '0' && p[i + 3] == '0' && p[i + 4] == '0'
            && p[i + 5] == '0')
          return true;
        i++; /* skip the escaped character (\\ included) */
      }
  return false;
}

int
kata_msg_parse_request (const char *payload, size_t len, yajl_val *root, const char **method,
                        yajl_val *params, kata_error_t **err)
{
  yajl_val v;
  *root = NULL;
  if (has_escaped_nul (payload, len))
    return kata_make_error_nostr (err, KATA_EPROTO, "invalid request: \\u0000 in a string");
  if (kata_json_parse (payload, len, &v, err) < 0)
    return -1;
  if (!YAJL_IS_OBJECT (v) || kata_json_str (v, "method") == NULL)
    {
      yajl_tree_free (v);
      return kata_make_error_nostr (err, KATA_EPROTO, "invalid request: no method");
    }
  *params = kata_json_get (v, "params");
  if (*params && !YAJL_IS_OBJECT (*params))
    {
      yajl_tree_free (v);
      return kata_make_error_nostr (err, KATA_EPROTO, "invalid request: params is not an object");
    }
  *method = kata_json_str (v, "method");
  *root = v;
  return 0;
}

int
kata_msg_parse_response (const char *payload, size_t len, yajl_val *root, yajl_val *result, int *remote_code,
                         kata_error_t **err)
{
  yajl_val v, e;
  *root = NULL;
  *result = NULL;
  if (remote_code)
    *remote_code = 0;
  if (has_escaped_nul (payload, len))
    return kata_make_error_nostr (err, KATA_EPROTO, "invalid response: \\u0000 in a string");
  if (kata_json_parse (payload, len, &v, err) < 0)
    return -1;
  if (!YAJL_IS_OBJECT (v))
    {
      yajl_tree_free (v);
      return kata_make_error_nostr (err, KATA_EPROTO, "invalid response: not an object");
    }
  e = kata_json_get (v, "error");
  if (e)
    {
      const char *m = kata_json_str (e, "message");
      int code = (int)kata_json_int (e, "code", KATA_PROTO_EINTERNAL);
      if (remote_code)
        *remote_code = code;
      kata_make_error_nostr (err, code == KATA_PROTO_EVMDEAD ? KATA_EVMDEAD : KATA_EAGENT, "%s",
                             m ? m : "unknown agent error");
      yajl_tree_free (v);
      return -1;
    }
  *result = kata_json_get (v, "result");
  if (*result == NULL)
    {
      yajl_tree_free (v);
      return kata_make_error_nostr (err, KATA_EPROTO, "invalid response: no result");
    }
  *root = v;
  return 0;
}
