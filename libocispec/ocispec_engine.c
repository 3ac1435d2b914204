/* The table-driven parse / generate / free engine behind every spec type. */
#ifndef _GNU_SOURCE
#include "config.h"
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "ocispec_internal.h"

#define AT(base, off, type) ((type *)((char *)(base) + (off)))
#define CAT(base, off, type) ((const type *)((const char *)(base) + (off)))

static void *
xzalloc (size_t n)
{
  void *p = calloc (1, n ? n : 1);
  if (p == NULL)
    abort ();
  return p;
}

static char *
xstrdup (const char *s)
{
  char *r = strdup (s);
  if (r == NULL)
    abort ();
  return r;
}

/* ---- free -------------------------------------------------------------------- */

static void
free_map_object (const struct ocispec_type *sub, struct ocispec_map *m)
{
  size_t i;

  if (m == NULL)
    return;
  for (i = 0; i < m->len; i++)
    {
      free (m->keys ? m->keys[i] : NULL);
      ocispec_free (sub, m->values ? m->values[i] : NULL);
    }
  free (m->keys);
  free (m->values);
  free (m);
}

static void
free_field (const struct ocispec_field *f, void *base)
{
  size_t i;

  switch (f->kind)
    {
    case OCISPEC_STRING:
      free (*AT (base, f->off, char *));
      *AT (base, f->off, char *) = NULL;
      break;
    case OCISPEC_BOOL:
      *AT (base, f->off, bool) = false;
      if (f->aux)
        *AT (base, f->aux, bool) = false;
      break;
    case OCISPEC_INT32:
      *AT (base, f->off, int32_t) = 0;
      *AT (base, f->aux, bool) = false;
      break;
    case OCISPEC_UINT16:
      *AT (base, f->off, uint16_t) = 0;
      *AT (base, f->aux, bool) = false;
      break;
    case OCISPEC_UINT32:
      *AT (base, f->off, uint32_t) = 0;
      *AT (base, f->aux, bool) = false;
      break;
    case OCISPEC_INT64:
      *AT (base, f->off, int64_t) = 0;
      *AT (base, f->aux, bool) = false;
      break;
    case OCISPEC_UINT64:
      *AT (base, f->off, uint64_t) = 0;
      *AT (base, f->aux, bool) = false;
      break;
    case OCISPEC_STRING_ARRAY:
      {
        char **a = *AT (base, f->off, char **);
        size_t n = *AT (base, f->aux, size_t);
        for (i = 0; a != NULL && i < n; i++)
          free (a[i]);
        free (a);
        *AT (base, f->off, char **) = NULL;
        *AT (base, f->aux, size_t) = 0;
        break;
      }
    case OCISPEC_UINT32_ARRAY:
      free (*AT (base, f->off, uint32_t *));
      *AT (base, f->off, uint32_t *) = NULL;
      *AT (base, f->aux, size_t) = 0;
      break;
    case OCISPEC_OBJECT:
      ocispec_free (f->sub, *AT (base, f->off, void *));
      *AT (base, f->off, void *) = NULL;
      break;
    case OCISPEC_OBJECT_ARRAY:
      {
        void **a = *AT (base, f->off, void **);
        size_t n = *AT (base, f->aux, size_t);
        for (i = 0; a != NULL && i < n; i++)
          ocispec_free (f->sub, a[i]);
        free (a);
        *AT (base, f->off, void **) = NULL;
        *AT (base, f->aux, size_t) = 0;
        break;
      }
    case OCISPEC_MAP_STRING:
      free_json_map_string_string (*AT (base, f->off, json_map_string_string *));
      *AT (base, f->off, json_map_string_string *) = NULL;
      break;
    case OCISPEC_MAP_OBJECT:
      free_map_object (f->sub, *AT (base, f->off, struct ocispec_map *));
      *AT (base, f->off, struct ocispec_map *) = NULL;
      break;
    }
}

void
ocispec_free (const struct ocispec_type *t, void *ptr)
{
  size_t i;

  if (ptr == NULL)
    return;
  for (i = 0; i < t->nfields; i++)
    free_field (&t->fields[i], ptr);
  yajl_tree_free (*AT (ptr, t->residual_off, yajl_val));
  free (ptr);
}

/* ---- parse ------------------------------------------------------------------- */

static void *parse_object (const struct ocispec_type *t, yajl_val v, const struct ocispec_path *path,
                           unsigned opts, parser_error *err);

static int
expect_string (yajl_val v, const struct ocispec_path *p, parser_error *err, char **out)
{
  if (v == NULL || v->type != yajl_t_string || v->u.string == NULL)
    {
      ocispec_set_error (err, p, "expected string");
      return -1;
    }
  *out = xstrdup (v->u.string);
  return 0;
}

/* Integers must be written as integers: no fraction, no exponent. */
static int
parse_integer (yajl_val v, bool is_signed, const struct ocispec_path *p, parser_error *err, int64_t *s,
               uint64_t *u)
{
  const char *r, *c;
  char *end = NULL;

  if (v == NULL || v->type != yajl_t_number)
    goto bad;
  r = v->u.number.r;
  if (r == NULL)
    {
      /* A tree built by hand, without the text. */
      if (!(v->u.number.flags & YAJL_NUMBER_INT_VALID))
        goto bad;
      if (!is_signed && v->u.number.i < 0)
        goto range;
      *s = v->u.number.i;
      *u = (uint64_t)v->u.number.i;
      return 0;
    }
  c = r;
  if (*c == '-')
    c++;
  if (*c == '\0')
    goto bad;
  for (; *c; c++)
    if (*c < '0' || *c > '9')
      goto bad;
  errno = 0;
  if (is_signed)
    {
      *s = strtoll (r, &end, 10);
      if (errno == ERANGE)
        goto range;
    }
  else
    {
      if (r[0] == '-')
        goto range;
      *u = strtoull (r, &end, 10);
      if (errno == ERANGE)
        goto range;
    }
  return 0;
bad:
  ocispec_set_error (err, p, "expected integer");
  return -1;
range:
  ocispec_set_error (err, p, "integer out of range");
  return -1;
}

static int
parse_scalar (const struct ocispec_field *f, void *base, yajl_val v, const struct ocispec_path *p,
              parser_error *err)
{
  int64_t s = 0;
  uint64_t u = 0;

  switch (f->kind)
    {
    case OCISPEC_BOOL:
      if (v->type != yajl_t_true && v->type != yajl_t_false)
        {
          ocispec_set_error (err, p, "expected boolean");
          return -1;
        }
      *AT (base, f->off, bool) = (v->type == yajl_t_true);
      if (f->aux)
        *AT (base, f->aux, bool) = true;
      return 0;
    case OCISPEC_INT32:
    case OCISPEC_INT64:
      if (parse_integer (v, true, p, err, &s, &u) < 0)
        return -1;
      if (f->kind == OCISPEC_INT32)
        {
          if (s < INT32_MIN || s > INT32_MAX)
            goto range;
          *AT (base, f->off, int32_t) = (int32_t)s;
        }
      else
        *AT (base, f->off, int64_t) = s;
      break;
    case OCISPEC_UINT16:
    case OCISPEC_UINT32:
    case OCISPEC_UINT64:
      if (parse_integer (v, false, p, err, &s, &u) < 0)
        return -1;
      if (f->kind == OCISPEC_UINT16)
        {
          if (u > UINT16_MAX)
            goto range;
          *AT (base, f->off, uint16_t) = (uint16_t)u;
        }
      else if (f->kind == OCISPEC_UINT32)
        {
          if (u > UINT32_MAX)
            goto range;
          *AT (base, f->off, uint32_t) = (uint32_t)u;
        }
      else
        *AT (base, f->off, uint64_t) = u;
      break;
    default:
      abort ();
    }
  *AT (base, f->aux, bool) = true;
  return 0;
range:
  ocispec_set_error (err, p, "integer out of range");
  return -1;
}

static int
expect_array (yajl_val v, const struct ocispec_path *p, parser_error *err)
{
  if (v->type != yajl_t_array)
    {
      ocispec_set_error (err, p, "expected array");
      return -1;
    }
  if (v->u.array.len > OCISPEC_MAX_ARRAY_LEN)
    {
      ocispec_set_error (err, p, "array too large");
      return -1;
    }
  return 0;
}

static int
expect_object (yajl_val v, const struct ocispec_path *p, parser_error *err)
{
  if (v == NULL || v->type != yajl_t_object)
    {
      ocispec_set_error (err, p, "expected object");
      return -1;
    }
  if (v->u.object.len > OCISPEC_MAX_ARRAY_LEN)
    {
      ocispec_set_error (err, p, "object has too many keys");
      return -1;
    }
  return 0;
}

static int
parse_field (const struct ocispec_field *f, void *base, yajl_val v, const struct ocispec_path *p,
             unsigned opts, parser_error *err)
{
  size_t i, n;

  switch (f->kind)
    {
    case OCISPEC_STRING:
      return expect_string (v, p, err, AT (base, f->off, char *));

    case OCISPEC_STRING_ARRAY:
      {
        char **a;
        if (expect_array (v, p, err) < 0)
          return -1;
        n = v->u.array.len;
        a = xzalloc ((n + 1) * sizeof (char *));
        *AT (base, f->off, char **) = a;
        for (i = 0; i < n; i++)
          {
            struct ocispec_path ep = { p, NULL, i };
            if (expect_string (v->u.array.values[i], &ep, err, &a[i]) < 0)
              return -1;
            *AT (base, f->aux, size_t) = i + 1;
          }
        return 0;
      }

    case OCISPEC_UINT32_ARRAY:
      {
        uint32_t *a;
        if (expect_array (v, p, err) < 0)
          return -1;
        n = v->u.array.len;
        a = xzalloc ((n + 1) * sizeof (uint32_t));
        *AT (base, f->off, uint32_t *) = a;
        for (i = 0; i < n; i++)
          {
            struct ocispec_path ep = { p, NULL, i };
            int64_t s;
            uint64_t u = 0;
            if (parse_integer (v->u.array.values[i], false, &ep, err, &s, &u) < 0)
              return -1;
            if (u > UINT32_MAX)
              {
                ocispec_set_error (err, &ep, "integer out of range");
                return -1;
              }
            a[i] = (uint32_t)u;
            *AT (base, f->aux, size_t) = i + 1;
          }
        return 0;
      }

    case OCISPEC_OBJECT:
      *AT (base, f->off, void *) = parse_object (f->sub, v, p, opts, err);
      return *AT (base, f->off, void *) ? 0 : -1;

    case OCISPEC_OBJECT_ARRAY:
      {
        void **a;
        if (expect_array (v, p, err) < 0)
          return -1;
        n = v->u.array.len;
        a = xzalloc ((n + 1) * sizeof (void *));
        *AT (base, f->off, void **) = a;
        for (i = 0; i < n; i++)
          {
            struct ocispec_path ep = { p, NULL, i };
            a[i] = parse_object (f->sub, v->u.array.values[i], &ep, opts, err);
            if (a[i] == NULL)
              return -1;
            *AT (base, f->aux, size_t) = i + 1;
          }
        return 0;
      }

    case OCISPEC_MAP_STRING:
    case OCISPEC_MAP_OBJECT:
      {
        struct ocispec_map *m;
        if (expect_object (v, p, err) < 0)
          return -1;
        n = v->u.object.len;
        m = xzalloc (f->kind == OCISPEC_MAP_STRING ? sizeof (json_map_string_string)
                                                   : sizeof (struct ocispec_map));
        *AT (base, f->off, struct ocispec_map *) = m;
        m->keys = xzalloc ((n + 1) * sizeof (char *));
        m->values = xzalloc ((n + 1) * sizeof (void *));
        for (i = 0; i < n; i++)
          {
            const char *k = v->u.object.keys[i] ? v->u.object.keys[i] : "";
            struct ocispec_path ep = { p, k, 0 };
            void *val = NULL;
            if (f->kind == OCISPEC_MAP_STRING)
              {
                char *s = NULL;
                if (expect_string (v->u.object.values[i], &ep, err, &s) < 0)
                  return -1;
                val = s;
              }
            else
              {
                val = parse_object (f->sub, v->u.object.values[i], &ep, opts, err);
                if (val == NULL)
                  return -1;
              }
            m->keys[i] = xstrdup (k);
            m->values[i] = val;
            m->len = i + 1;
          }
        return 0;
      }

    default:
      return parse_scalar (f, base, v, p, err);
    }
}

static const struct ocispec_field *
find_field (const struct ocispec_type *t, const char *key)
{
  size_t i;

  for (i = 0; i < t->nfields; i++)
    if (strcmp (t->fields[i].key, key) == 0)
      return &t->fields[i];
  return NULL;
}

static void
residual_add (yajl_val *res, const char *key, yajl_val v)
{
  yajl_val r = *res;
  size_t n;

  if (r == NULL)
    {
      r = xzalloc (sizeof (*r));
      r->type = yajl_t_object;
      *res = r;
    }
  n = r->u.object.len;
  const char **nk = realloc ((void *)r->u.object.keys, (n + 1) * sizeof (char *));
  if (nk == NULL)
    abort ();
  r->u.object.keys = nk;
  yajl_val *nv = realloc (r->u.object.values, (n + 1) * sizeof (yajl_val));
  if (nv == NULL)
    abort ();
  r->u.object.values = nv;
  r->u.object.keys[n] = xstrdup (key);
  r->u.object.values[n] = ocispec_yajl_copy (v);
  r->u.object.len = n + 1;
}

static bool
field_is_set (const struct ocispec_field *f, const void *base)
{
  switch (f->kind)
    {
    case OCISPEC_STRING:
    case OCISPEC_STRING_ARRAY:
    case OCISPEC_UINT32_ARRAY:
    case OCISPEC_OBJECT:
    case OCISPEC_OBJECT_ARRAY:
    case OCISPEC_MAP_STRING:
    case OCISPEC_MAP_OBJECT:
      return *CAT (base, f->off, void *) != NULL;
    default:
      return f->aux ? *CAT (base, f->aux, bool) : true;
    }
}

static void *
parse_object (const struct ocispec_type *t, yajl_val v, const struct ocispec_path *path, unsigned opts,
              parser_error *err)
{
  void *base;
  size_t i;

  if (expect_object (v, path, err) < 0)
    return NULL;
  base = xzalloc (t->size);
  for (i = 0; i < v->u.object.len; i++)
    {
      const char *key = v->u.object.keys[i] ? v->u.object.keys[i] : "";
      yajl_val val = v->u.object.values[i];
      struct ocispec_path p = { path, key, 0 };
      const struct ocispec_field *f = find_field (t, key);

      if (f == NULL)
        {
          if (opts & OPT_PARSE_STRICT)
            {
              ocispec_set_error (err, &p, "unknown field");
              goto fail;
            }
          residual_add (AT (base, t->residual_off, yajl_val), key, val);
          continue;
        }
      /* A repeated key: the last one wins. */
      free_field (f, base);
      if (val == NULL || val->type == yajl_t_null)
        continue;
      if (parse_field (f, base, val, &p, opts, err) < 0)
        goto fail;
    }
  for (i = 0; i < t->nfields; i++)
    if (t->fields[i].required && !field_is_set (&t->fields[i], base))
      {
        struct ocispec_path p = { path, t->fields[i].key, 0 };
        ocispec_set_error (err, &p, "missing required field");
        goto fail;
      }
  return base;
fail:
  ocispec_free (t, base);
  return NULL;
}

void *
ocispec_make (const struct ocispec_type *t, yajl_val tree, const struct parser_context *ctx,
              parser_error *err)
{
  if (err != NULL)
    *err = NULL;
  return parse_object (t, tree, NULL, ctx ? ctx->options : 0, err);
}

void *
ocispec_parse_data (const struct ocispec_type *t, const char *data, const struct parser_context *ctx,
                    parser_error *err)
{
  yajl_val tree;
  void *r;

  if (err != NULL)
    *err = NULL;
  tree = ocispec_json_parse (data, data ? strlen (data) : 0, err);
  if (tree == NULL)
    return NULL;
  r = parse_object (t, tree, NULL, ctx ? ctx->options : 0, err);
  yajl_tree_free (tree);
  return r;
}

void *
ocispec_parse_file (const struct ocispec_type *t, const char *filename, const struct parser_context *ctx,
                    parser_error *err)
{
  yajl_val tree;
  void *r;

  if (err != NULL)
    *err = NULL;
  tree = ocispec_json_parse_file (filename, err);
  if (tree == NULL)
    return NULL;
  r = parse_object (t, tree, NULL, ctx ? ctx->options : 0, err);
  yajl_tree_free (tree);
  return r;
}

/* ---- generate ------------------------------------------------------------------ */

static int gen_object (yajl_gen g, const struct ocispec_type *t, const void *base,
                       const struct ocispec_path *path, unsigned opts, parser_error *err);

static int
gen_str (yajl_gen g, const char *s, const struct ocispec_path *p, parser_error *err)
{
  if (s == NULL)
    return ocispec_gen_status (yajl_gen_null (g), p, err);
  return ocispec_gen_status (yajl_gen_string (g, (const unsigned char *)s, strlen (s)), p, err);
}

static int
gen_num (yajl_gen g, bool is_signed, int64_t s, uint64_t u, const struct ocispec_path *p, parser_error *err)
{
  char tmp[32];
  int n;

  if (is_signed)
    n = snprintf (tmp, sizeof tmp, "%" PRId64, s);
  else
    n = snprintf (tmp, sizeof tmp, "%" PRIu64, u);
  return ocispec_gen_status (yajl_gen_number (g, tmp, (size_t)n), p, err);
}

/* Whether field f of base should be written, and for scalars their value. */
static bool
scalar_wanted (const struct ocispec_field *f, const void *base, unsigned opts, int64_t *s, uint64_t *u)
{
  bool present = f->aux ? *CAT (base, f->aux, bool) : false;

  switch (f->kind)
    {
    case OCISPEC_BOOL:
      *u = *CAT (base, f->off, bool);
      break;
    case OCISPEC_INT32:
      *s = *CAT (base, f->off, int32_t);
      *u = (uint64_t)*s;
      break;
    case OCISPEC_INT64:
      *s = *CAT (base, f->off, int64_t);
      *u = (uint64_t)*s;
      break;
    case OCISPEC_UINT16:
      *u = *CAT (base, f->off, uint16_t);
      break;
    case OCISPEC_UINT32:
      *u = *CAT (base, f->off, uint32_t);
      break;
    case OCISPEC_UINT64:
      *u = *CAT (base, f->off, uint64_t);
      break;
    default:
      abort ();
    }
  return present || *u != 0 || (opts & OPT_GEN_KEY_VALUE);
}

static int
gen_field (yajl_gen g, const struct ocispec_field *f, const void *base, const struct ocispec_path *path,
           unsigned opts, parser_error *err)
{
  struct ocispec_path p = { path, f->key, 0 };
  int64_t s = 0;
  uint64_t u = 0;
  size_t i, n;

#define KEY()                                                                                                \
  do                                                                                                         \
    {                                                                                                        \
      if (gen_str (g, f->key, &p, err) < 0)                                                                  \
        return -1;                                                                                           \
    }                                                                                                        \
  while (0)

  switch (f->kind)
    {
    case OCISPEC_STRING:
      {
        const char *str = *CAT (base, f->off, char *);
        if (str == NULL)
          return 0;
        KEY ();
        return gen_str (g, str, &p, err);
      }
    case OCISPEC_BOOL:
      if (!scalar_wanted (f, base, opts, &s, &u))
        return 0;
      KEY ();
      return ocispec_gen_status (yajl_gen_bool (g, u != 0), &p, err);
    case OCISPEC_INT32:
    case OCISPEC_INT64:
      if (!scalar_wanted (f, base, opts, &s, &u))
        return 0;
      KEY ();
      return gen_num (g, true, s, u, &p, err);
    case OCISPEC_UINT16:
    case OCISPEC_UINT32:
    case OCISPEC_UINT64:
      if (!scalar_wanted (f, base, opts, &s, &u))
        return 0;
      KEY ();
      return gen_num (g, false, s, u, &p, err);
    case OCISPEC_STRING_ARRAY:
    case OCISPEC_UINT32_ARRAY:
    case OCISPEC_OBJECT_ARRAY:
      {
        const void *a = *CAT (base, f->off, void *);
        if (a == NULL)
          return 0;
        n = *CAT (base, f->aux, size_t);
        KEY ();
        if (ocispec_gen_status (yajl_gen_array_open (g), &p, err) < 0)
          return -1;
        for (i = 0; i < n; i++)
          {
            struct ocispec_path ep = { &p, NULL, i };
            int r = 0;
            if (f->kind == OCISPEC_STRING_ARRAY)
              {
                const char *str = ((char *const *)a)[i];
                if (str != NULL)
                  r = gen_str (g, str, &ep, err);
              }
            else if (f->kind == OCISPEC_UINT32_ARRAY)
              r = gen_num (g, false, 0, ((const uint32_t *)a)[i], &ep, err);
            else if (((void *const *)a)[i] != NULL)
              r = gen_object (g, f->sub, ((void *const *)a)[i], &ep, opts, err);
            if (r < 0)
              return -1;
          }
        return ocispec_gen_status (yajl_gen_array_close (g), &p, err);
      }
    case OCISPEC_OBJECT:
      {
        const void *o = *CAT (base, f->off, void *);
        if (o == NULL)
          return 0;
        KEY ();
        return gen_object (g, f->sub, o, &p, opts, err);
      }
    case OCISPEC_MAP_STRING:
    case OCISPEC_MAP_OBJECT:
      {
        const struct ocispec_map *m = *CAT (base, f->off, struct ocispec_map *);
        if (m == NULL)
          return 0;
        KEY ();
        if (ocispec_gen_status (yajl_gen_map_open (g), &p, err) < 0)
          return -1;
        for (i = 0; m->keys != NULL && m->values != NULL && i < m->len; i++)
          {
            struct ocispec_path ep = { &p, m->keys[i] ? m->keys[i] : "", 0 };
            int r;
            if (m->keys[i] == NULL || m->values[i] == NULL)
              continue;
            if (gen_str (g, m->keys[i], &ep, err) < 0)
              return -1;
            if (f->kind == OCISPEC_MAP_STRING)
              r = gen_str (g, m->values[i], &ep, err);
            else
              r = gen_object (g, f->sub, m->values[i], &ep, opts, err);
            if (r < 0)
              return -1;
          }
        return ocispec_gen_status (yajl_gen_map_close (g), &p, err);
      }
    }
#undef KEY
  return 0;
}

static int
gen_object (yajl_gen g, const struct ocispec_type *t, const void *base, const struct ocispec_path *path,
            unsigned opts, parser_error *err)
{
  yajl_val res = *CAT (base, t->residual_off, yajl_val);
  size_t i;

  if (ocispec_gen_status (yajl_gen_map_open (g), path, err) < 0)
    return -1;
  for (i = 0; i < t->nfields; i++)
    if (gen_field (g, &t->fields[i], base, path, opts, err) < 0)
      return -1;
  if (res != NULL && res->type == yajl_t_object)
    for (i = 0; i < res->u.object.len; i++)
      {
        const char *k = res->u.object.keys[i] ? res->u.object.keys[i] : "";
        struct ocispec_path p = { path, k, 0 };
        if (find_field (t, k) != NULL)
          continue; /* the typed field wins */
        if (gen_str (g, k, &p, err) < 0 || ocispec_gen_tree (g, res->u.object.values[i], &p, err) < 0)
          return -1;
      }
  return ocispec_gen_status (yajl_gen_map_close (g), path, err);
}

char *
ocispec_generate (const struct ocispec_type *t, const void *ptr, const struct parser_context *ctx,
                  parser_error *err)
{
  yajl_gen g;

  if (err != NULL)
    *err = NULL;
  if (ptr == NULL)
    {
      ocispec_set_error (err, NULL, "nothing to generate (NULL %s)", t->name);
      return NULL;
    }
  g = ocispec_gen_new (ctx);
  if (gen_object (g, t, ptr, NULL, ctx ? ctx->options : 0, err) < 0)
    {
      yajl_gen_free (g);
      return NULL;
    }
  return ocispec_gen_finish (g, err);
}
