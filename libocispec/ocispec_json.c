/* JSON plumbing: a hardened yajl tree builder, tree copy and generation,
 * error messages with paths, and json_map_string_string helpers. */
#ifndef _GNU_SOURCE
#include "config.h"
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>
#include "ocispec_internal.h"

/* ---- errors ------------------------------------------------------------------ */

static void
path_append (char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
  if (*len + n + 1 > *cap)
    {
      size_t ncap = (*cap ? *cap * 2 : 64);
      while (ncap < *len + n + 1)
        ncap *= 2;
      char *nb = realloc (*buf, ncap);
      if (nb == NULL)
        abort ();
      *buf = nb;
      *cap = ncap;
    }
  memcpy (*buf + *len, s, n);
  *len += n;
  (*buf)[*len] = '\0';
}

static void
path_render_into (const struct ocispec_path *p, char **buf, size_t *len, size_t *cap)
{
  if (p == NULL)
    return;
  path_render_into (p->parent, buf, len, cap);
  if (p->key != NULL)
    {
      if (*len > 0)
        path_append (buf, len, cap, ".", 1);
      path_append (buf, len, cap, p->key, strlen (p->key));
    }
  else
    {
      char tmp[32];
      int n = snprintf (tmp, sizeof tmp, "[%zu]", p->index);
      path_append (buf, len, cap, tmp, (size_t)n);
    }
}

/* "(root)" for the empty path. */
char *
ocispec_path_render (const struct ocispec_path *path)
{
  char *buf = NULL;
  size_t len = 0, cap = 0;

  path_render_into (path, &buf, &len, &cap);
  if (buf == NULL)
    {
      buf = strdup ("(root)");
      if (buf == NULL)
        abort ();
    }
  return buf;
}

void
ocispec_set_error (parser_error *err, const struct ocispec_path *path, const char *fmt, ...)
{
  char *msg = NULL, *p, *full = NULL;
  va_list ap;

  if (err == NULL || *err != NULL)
    return;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);
  p = ocispec_path_render (path);
  if (asprintf (&full, "%s: %s", p, msg) < 0)
    abort ();
  free (p);
  free (msg);
  *err = full;
}

static void
set_error_plain (parser_error *err, const char *fmt, ...)
{
  va_list ap;
  char *msg = NULL;

  if (err == NULL || *err != NULL)
    return;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);
  *err = msg;
}

/* ---- tree builder ------------------------------------------------------------ */

struct builder
{
  yajl_val root;
  yajl_val stack[OCISPEC_MAX_DEPTH];
  size_t cap[OCISPEC_MAX_DEPTH];
  char *pending[OCISPEC_MAX_DEPTH]; /* key waiting for its value */
  size_t depth;
  size_t nodes;
  char *error; /* set when a callback cancels */
};

static void *
xzalloc (size_t n)
{
  void *p = calloc (1, n);
  if (p == NULL)
    abort ();
  return p;
}

/* Path of the value being added at the current depth, into a malloc'd string. */
static char *
builder_path (struct builder *b)
{
  struct ocispec_path segs[OCISPEC_MAX_DEPTH];
  const struct ocispec_path *parent = NULL;
  size_t i;

  for (i = 0; i < b->depth; i++)
    {
      yajl_val n = b->stack[i];
      bool top = (i + 1 == b->depth);

      segs[i].parent = parent;
      if (n->type == yajl_t_object)
        {
          if (top)
            segs[i].key = b->pending[i] ? b->pending[i] : "";
          else
            segs[i].key = n->u.object.len ? n->u.object.keys[n->u.object.len - 1] : "";
          segs[i].index = 0;
        }
      else
        {
          segs[i].key = NULL;
          segs[i].index = top ? n->u.array.len : (n->u.array.len ? n->u.array.len - 1 : 0);
        }
      parent = &segs[i];
    }
  return ocispec_path_render (parent);
}

static int
builder_fail (struct builder *b, const char *what)
{
  char *p;

  if (b->error != NULL)
    return 0;
  p = builder_path (b);
  if (asprintf (&b->error, "%s: %s", p, what) < 0)
    abort ();
  free (p);
  return 0;
}

static int
builder_add (struct builder *b, yajl_val v)
{
  yajl_val top;
  size_t d;

  if (++b->nodes > OCISPEC_MAX_NODES)
    {
      yajl_tree_free (v);
      return builder_fail (b, "too many JSON values");
    }
  if (b->depth == 0)
    {
      if (b->root != NULL)
        {
          yajl_tree_free (v);
          return builder_fail (b, "multiple top-level values");
        }
      b->root = v;
      return 1;
    }
  d = b->depth - 1;
  top = b->stack[d];
  if (top->type == yajl_t_object)
    {
      if (b->pending[d] == NULL)
        {
          yajl_tree_free (v);
          return builder_fail (b, "value without key");
        }
      if (top->u.object.len == b->cap[d])
        {
          size_t ncap = b->cap[d] ? b->cap[d] * 2 : 8;
          const char **nk = realloc ((void *)top->u.object.keys, ncap * sizeof (char *));
          if (nk == NULL)
            abort ();
          top->u.object.keys = nk;
          yajl_val *nv = realloc (top->u.object.values, ncap * sizeof (yajl_val));
          if (nv == NULL)
            abort ();
          top->u.object.values = nv;
          b->cap[d] = ncap;
        }
      top->u.object.keys[top->u.object.len] = b->pending[d];
      top->u.object.values[top->u.object.len] = v;
      top->u.object.len++;
      b->pending[d] = NULL;
    }
  else
    {
      if (top->u.array.len >= OCISPEC_MAX_ARRAY_LEN)
        {
          yajl_tree_free (v);
          return builder_fail (b, "array too large");
        }
      if (top->u.array.len == b->cap[d])
        {
          size_t ncap = b->cap[d] ? b->cap[d] * 2 : 8;
          yajl_val *nv = realloc (top->u.array.values, ncap * sizeof (yajl_val));
          if (nv == NULL)
            abort ();
          top->u.array.values = nv;
          b->cap[d] = ncap;
        }
      top->u.array.values[top->u.array.len++] = v;
    }
  return 1;
}

static yajl_val
new_node (yajl_type t)
{
  yajl_val v = xzalloc (sizeof (*v));
  v->type = t;
  return v;
}

static int
cb_null (void *ctx)
{
  return builder_add (ctx, new_node (yajl_t_null));
}

static int
cb_boolean (void *ctx, int val)
{
  return builder_add (ctx, new_node (val ? yajl_t_true : yajl_t_false));
}

static int
cb_number (void *ctx, const char *s, size_t len)
{
  yajl_val v = new_node (yajl_t_number);
  char *end = NULL;

  v->u.number.r = strndup (s, len);
  if (v->u.number.r == NULL)
    abort ();
  errno = 0;
  v->u.number.i = strtoll (v->u.number.r, &end, 10);
  if (errno == 0 && end != NULL && *end == '\0')
    v->u.number.flags |= YAJL_NUMBER_INT_VALID;
  errno = 0;
  end = NULL;
  v->u.number.d = strtod (v->u.number.r, &end);
  if (errno == 0 && end != NULL && *end == '\0')
    v->u.number.flags |= YAJL_NUMBER_DOUBLE_VALID;
  return builder_add (ctx, v);
}

static int
cb_string (void *ctx, const unsigned char *s, size_t len)
{
  yajl_val v;

  if (memchr (s, '\0', len) != NULL)
    return builder_fail (ctx, "string contains a NUL byte");
  v = new_node (yajl_t_string);
  v->u.string = strndup ((const char *)s, len);
  if (v->u.string == NULL)
    abort ();
  return builder_add (ctx, v);
}

static int
cb_map_key (void *ctx, const unsigned char *s, size_t len)
{
  struct builder *b = ctx;
  size_t d = b->depth - 1;
  yajl_val top = b->stack[d];

  if (memchr (s, '\0', len) != NULL)
    {
      free (b->pending[d]);
      b->pending[d] = strndup ((const char *)s, len); /* up to the NUL, for the path */
      if (b->pending[d] == NULL)
        abort ();
      return builder_fail (b, "key contains a NUL byte");
    }
  if (top->u.object.len >= OCISPEC_MAX_ARRAY_LEN)
    return builder_fail (b, "object has too many keys");
  free (b->pending[d]);
  b->pending[d] = strndup ((const char *)s, len);
  if (b->pending[d] == NULL)
    abort ();
  return 1;
}

static int
start_container (struct builder *b, yajl_type t)
{
  yajl_val v;

  if (b->depth >= OCISPEC_MAX_DEPTH)
    return builder_fail (b, "JSON nested too deeply");
  v = new_node (t);
  if (!builder_add (b, v))
    return 0;
  b->stack[b->depth] = v;
  b->cap[b->depth] = 0;
  b->pending[b->depth] = NULL;
  b->depth++;
  return 1;
}

static int
cb_start_map (void *ctx)
{
  return start_container (ctx, yajl_t_object);
}

static int
cb_start_array (void *ctx)
{
  return start_container (ctx, yajl_t_array);
}

static int
cb_end (void *ctx)
{
  struct builder *b = ctx;

  if (b->depth == 0)
    return 0;
  b->depth--;
  free (b->pending[b->depth]);
  b->pending[b->depth] = NULL;
  return 1;
}

static const yajl_callbacks builder_callbacks = {
  .yajl_null = cb_null,
  .yajl_boolean = cb_boolean,
  .yajl_number = cb_number,
  .yajl_string = cb_string,
  .yajl_start_map = cb_start_map,
  .yajl_map_key = cb_map_key,
  .yajl_end_map = cb_end,
  .yajl_start_array = cb_start_array,
  .yajl_end_array = cb_end,
};

yajl_val
ocispec_json_parse (const char *data, size_t len, parser_error *err)
{
  struct builder b;
  yajl_handle h;
  yajl_status st;
  size_t i;

  if (data == NULL)
    {
      set_error_plain (err, "no JSON data");
      return NULL;
    }
  memset (&b, 0, sizeof b);
  h = yajl_alloc (&builder_callbacks, NULL, &b);
  if (h == NULL)
    abort ();
  yajl_config (h, yajl_allow_comments, 1);
  bool at_end = false;
  st = yajl_parse (h, (const unsigned char *)data, len);
  if (st == yajl_status_ok)
    {
      at_end = true;
      st = yajl_complete_parse (h);
    }
  if (st != yajl_status_ok || b.root == NULL)
    {
      if (b.error != NULL)
        {
          if (err != NULL && *err == NULL)
            *err = b.error;
          else
            free (b.error);
        }
      else
        {
          unsigned char *msg = yajl_get_error (h, 0, (const unsigned char *)data, len);
          size_t n = msg ? strlen ((char *)msg) : 0;
          while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
            msg[--n] = '\0';
          if (at_end)
            set_error_plain (err, "%s", msg ? (char *)msg : "parse error");
          else
            set_error_plain (err, "%s (at byte %zu)", msg ? (char *)msg : "parse error",
                             (size_t)yajl_get_bytes_consumed (h));
          if (msg)
            yajl_free_error (h, msg);
        }
      for (i = 0; i < OCISPEC_MAX_DEPTH; i++)
        free (b.pending[i]);
      yajl_tree_free (b.root);
      yajl_free (h);
      return NULL;
    }
  for (i = 0; i < OCISPEC_MAX_DEPTH; i++)
    free (b.pending[i]);
  yajl_free (h);
  return b.root;
}

yajl_val
ocispec_json_parse_file (const char *filename, parser_error *err)
{
  char *buf = NULL;
  size_t len = 0, cap = 0;
  yajl_val v;
  int fd;

  if (filename == NULL)
    {
      set_error_plain (err, "no file name");
      return NULL;
    }
  fd = open (filename, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      set_error_plain (err, "open `%s`: %s", filename, strerror (errno));
      return NULL;
    }
  for (;;)
    {
      ssize_t r;
      if (len + 1 >= cap)
        {
          size_t ncap = cap ? cap * 2 : 8192;
          char *nb;
          if (ncap > OCISPEC_MAX_FILE_SIZE + 1)
            ncap = OCISPEC_MAX_FILE_SIZE + 1;
          if (len + 1 >= ncap)
            {
              free (buf);
              close (fd);
              set_error_plain (err, "read `%s`: file larger than %u bytes", filename,
                               (unsigned)OCISPEC_MAX_FILE_SIZE);
              return NULL;
            }
          nb = realloc (buf, ncap);
          if (nb == NULL)
            abort ();
          buf = nb;
          cap = ncap;
        }
      r = read (fd, buf + len, cap - len - 1);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int e = errno;
          free (buf);
          close (fd);
          set_error_plain (err, "read `%s`: %s", filename, strerror (e));
          return NULL;
        }
      if (r == 0)
        break;
      len += (size_t)r;
    }
  close (fd);
  buf[len] = '\0';
  if (memchr (buf, '\0', len) != NULL)
    {
      set_error_plain (err, "`%s`: file contains a NUL byte at offset %zu", filename,
                       (size_t)((char *)memchr (buf, '\0', len) - buf));
      free (buf);
      return NULL;
    }
  v = ocispec_json_parse (buf, len, err);
  free (buf);
  return v;
}

/* ---- tree copy and generation ------------------------------------------------- */

yajl_val
ocispec_yajl_copy (yajl_val v)
{
  yajl_val c;
  size_t i;

  if (v == NULL)
    return NULL;
  c = new_node (v->type);
  switch (v->type)
    {
    case yajl_t_string:
      c->u.string = strdup (v->u.string ? v->u.string : "");
      if (c->u.string == NULL)
        abort ();
      break;
    case yajl_t_number:
      c->u.number = v->u.number;
      c->u.number.r = strdup (v->u.number.r ? v->u.number.r : "0");
      if (c->u.number.r == NULL)
        abort ();
      break;
    case yajl_t_object:
      if (v->u.object.len > 0)
        {
          c->u.object.keys = xzalloc (v->u.object.len * sizeof (char *));
          c->u.object.values = xzalloc (v->u.object.len * sizeof (yajl_val));
        }
      for (i = 0; i < v->u.object.len; i++)
        {
          c->u.object.keys[i] = strdup (v->u.object.keys[i] ? v->u.object.keys[i] : "");
          if (c->u.object.keys[i] == NULL)
            abort ();
          c->u.object.values[i] = ocispec_yajl_copy (v->u.object.values[i]);
          c->u.object.len++;
        }
      break;
    case yajl_t_array:
      if (v->u.array.len > 0)
        c->u.array.values = xzalloc (v->u.array.len * sizeof (yajl_val));
      for (i = 0; i < v->u.array.len; i++)
        c->u.array.values[i] = ocispec_yajl_copy (v->u.array.values[i]);
      c->u.array.len = v->u.array.len;
      break;
    default:
      break;
    }
  return c;
}

int
ocispec_gen_status (yajl_gen_status st, const struct ocispec_path *path, parser_error *err)
{
  if (st == yajl_gen_status_ok)
    return 0;
  if (st == yajl_gen_invalid_string)
    ocispec_set_error (err, path, "invalid UTF-8 string");
  else
    ocispec_set_error (err, path, "JSON generation failed (yajl status %d)", (int)st);
  return -1;
}

static int
gen_tree_depth (yajl_gen g, yajl_val v, const struct ocispec_path *path, parser_error *err, unsigned depth)
{
  size_t i;

  if (depth > OCISPEC_MAX_DEPTH)
    {
      ocispec_set_error (err, path, "JSON nested too deeply");
      return -1;
    }
  if (v == NULL)
    return ocispec_gen_status (yajl_gen_null (g), path, err);
  switch (v->type)
    {
    case yajl_t_string:
      {
        const char *s = v->u.string ? v->u.string : "";
        return ocispec_gen_status (yajl_gen_string (g, (const unsigned char *)s, strlen (s)), path, err);
      }
    case yajl_t_number:
      {
        const char *r = v->u.number.r;
        char tmp[64];
        if (r == NULL)
          {
            snprintf (tmp, sizeof tmp, "%lld", v->u.number.i);
            r = tmp;
          }
        return ocispec_gen_status (yajl_gen_number (g, r, strlen (r)), path, err);
      }
    case yajl_t_object:
      if (ocispec_gen_status (yajl_gen_map_open (g), path, err) < 0)
        return -1;
      for (i = 0; i < v->u.object.len; i++)
        {
          const char *k = v->u.object.keys[i] ? v->u.object.keys[i] : "";
          struct ocispec_path p = { path, k, 0 };
          if (ocispec_gen_status (yajl_gen_string (g, (const unsigned char *)k, strlen (k)), &p, err) < 0)
            return -1;
          if (gen_tree_depth (g, v->u.object.values[i], &p, err, depth + 1) < 0)
            return -1;
        }
      return ocispec_gen_status (yajl_gen_map_close (g), path, err);
    case yajl_t_array:
      if (ocispec_gen_status (yajl_gen_array_open (g), path, err) < 0)
        return -1;
      for (i = 0; i < v->u.array.len; i++)
        {
          struct ocispec_path p = { path, NULL, i };
          if (gen_tree_depth (g, v->u.array.values[i], &p, err, depth + 1) < 0)
            return -1;
        }
      return ocispec_gen_status (yajl_gen_array_close (g), path, err);
    case yajl_t_true:
      return ocispec_gen_status (yajl_gen_bool (g, 1), path, err);
    case yajl_t_false:
      return ocispec_gen_status (yajl_gen_bool (g, 0), path, err);
    default:
      return ocispec_gen_status (yajl_gen_null (g), path, err);
    }
}

int
ocispec_gen_tree (yajl_gen g, yajl_val v, const struct ocispec_path *path, parser_error *err)
{
  return gen_tree_depth (g, v, path, err, 0);
}

yajl_gen
ocispec_gen_new (const struct parser_context *ctx)
{
  unsigned int opts = ctx ? ctx->options : 0;
  yajl_gen g = yajl_gen_alloc (NULL);

  if (g == NULL)
    abort ();
  yajl_gen_config (g, yajl_gen_beautify, (opts & OPT_GEN_SIMPLIFY) ? 0 : 1);
  yajl_gen_config (g, yajl_gen_validate_utf8, (opts & OPT_GEN_NO_VALIDATE_UTF8) ? 0 : 1);
  return g;
}

char *
ocispec_gen_finish (yajl_gen g, parser_error *err)
{
  const unsigned char *buf = NULL;
  size_t len = 0;
  char *out;

  if (yajl_gen_get_buf (g, &buf, &len) != yajl_gen_status_ok)
    {
      set_error_plain (err, "JSON generation failed");
      yajl_gen_free (g);
      return NULL;
    }
  out = malloc (len + 1);
  if (out == NULL)
    abort ();
  memcpy (out, buf, len);
  out[len] = '\0';
  yajl_gen_free (g);
  return out;
}

char *
ocispec_yajl_to_json (yajl_val v, const struct parser_context *ctx, parser_error *err)
{
  yajl_gen g = ocispec_gen_new (ctx);

  if (ocispec_gen_tree (g, v, NULL, err) < 0)
    {
      yajl_gen_free (g);
      return NULL;
    }
  return ocispec_gen_finish (g, err);
}

/* ---- json_map_string_string ---------------------------------------------------- */

void
free_json_map_string_string (json_map_string_string *map)
{
  size_t i;

  if (map == NULL)
    return;
  for (i = 0; i < map->len; i++)
    {
      free (map->keys ? map->keys[i] : NULL);
      free (map->values ? map->values[i] : NULL);
    }
  free (map->keys);
  free (map->values);
  free (map);
}

const char *
json_map_string_string_get (const json_map_string_string *map, const char *key)
{
  size_t i;

  if (map == NULL || key == NULL)
    return NULL;
  for (i = map->len; i > 0; i--)
    if (map->keys[i - 1] != NULL && strcmp (map->keys[i - 1], key) == 0)
      return map->values[i - 1];
  return NULL;
}

int
append_json_map_string_string (json_map_string_string *map, const char *key, const char *val)
{
  size_t i;
  char *v;

  if (map == NULL || key == NULL || val == NULL)
    return -1;
  v = strdup (val);
  if (v == NULL)
    abort ();
  for (i = 0; i < map->len; i++)
    if (map->keys[i] != NULL && strcmp (map->keys[i], key) == 0)
      {
        free (map->values[i]);
        map->values[i] = v;
        return 0;
      }
  char **nk = realloc (map->keys, (map->len + 1) * sizeof (char *));
  if (nk == NULL)
    abort ();
  map->keys = nk;
  char **nv = realloc (map->values, (map->len + 1) * sizeof (char *));
  if (nv == NULL)
    abort ();
  map->values = nv;
  map->keys[map->len] = strdup (key);
  if (map->keys[map->len] == NULL)
    abort ();
  map->values[map->len] = v;
  map->len++;
  return 0;
}
