#include "config.h"
#include "common/json.h"
#include "common/utils.h"
#include <errno.h>
#include <string.h>

int
kata_json_parse (const char *data, size_t len, yajl_val *out, kata_error_t **err)
{
  char errbuf[256];
  cleanup_free char *copy = NULL;
  if (memchr (data, '\0', len))
    return kata_make_error_nostr (err, EINVAL, "invalid JSON: NUL byte");
  copy = xstrndup (data, len);
  errbuf[0] = '\0';
  *out = yajl_tree_parse (copy, errbuf, sizeof errbuf);
  if (*out == NULL)
    {
      char *nl = strchr (errbuf, '\n');
      if (nl)
        *nl = '\0';
      return kata_make_error_nostr (err, EINVAL, "invalid JSON: %s", errbuf[0] ? errbuf : "parse error");
    }
  return 0;
}

yajl_val
kata_json_get (yajl_val obj, const char *key)
{
  size_t i;
  if (obj == NULL || !YAJL_IS_OBJECT (obj))
    return NULL;
  for (i = 0; i < obj->u.object.len; i++)
    if (strcmp (obj->u.object.keys[i], key) == 0)
      return obj->u.object.values[i];
  return NULL;
}

const char *
kata_json_str (yajl_val obj, const char *key)
{
  yajl_val v = kata_json_get (obj, key);
  return v && YAJL_IS_STRING (v) ? YAJL_GET_STRING (v) : NULL;
}

long long
kata_json_int (yajl_val obj, const char *key, long long def)
{
  yajl_val v = kata_json_get (obj, key);
  return v && YAJL_IS_INTEGER (v) ? YAJL_GET_INTEGER (v) : def;
}

bool
kata_json_bool (yajl_val obj, const char *key, bool def)
{
  yajl_val v = kata_json_get (obj, key);
  if (v && YAJL_IS_TRUE (v))
    return true;
  if (v && YAJL_IS_FALSE (v))
    return false;
  return def;
}

yajl_val
kata_json_array (yajl_val obj, const char *key)
{
  yajl_val v = kata_json_get (obj, key);
  return v && YAJL_IS_ARRAY (v) ? v : NULL;
}

yajl_gen
kata_gen_new (void)
{
  yajl_gen g = yajl_gen_alloc (NULL);
  if (g == NULL)
    abort ();
  yajl_gen_config (g, yajl_gen_validate_utf8, 0);
  return g;
}

void
kata_gen_str (yajl_gen g, const char *s)
{
  if (s == NULL)
    yajl_gen_null (g);
  else
    yajl_gen_string (g, (const unsigned char *) s, strlen (s));
}

void
kata_gen_kv_str (yajl_gen g, const char *k, const char *v)
{
  kata_gen_str (g, k);
  kata_gen_str (g, v);
}

void
kata_gen_kv_int (yajl_gen g, const char *k, long long v)
{
  kata_gen_str (g, k);
  yajl_gen_integer (g, v);
}

void
kata_gen_kv_bool (yajl_gen g, const char *k, bool v)
{
  kata_gen_str (g, k);
  yajl_gen_bool (g, v);
}

void
kata_gen_val (yajl_gen g, yajl_val v)
{
  size_t i;
  if (v == NULL)
    {
      yajl_gen_null (g);
      return;
    }
  switch (v->type)
    {
    case yajl_t_string:
      kata_gen_str (g, v->u.string);
      break;
    case yajl_t_number:
      yajl_gen_number (g, v->u.number.r, strlen (v->u.number.r));
      break;
    case yajl_t_object:
      yajl_gen_map_open (g);
      for (i = 0; i < v->u.object.len; i++)
        {
          kata_gen_str (g, v->u.object.keys[i]);
          kata_gen_val (g, v->u.object.values[i]);
        }
      yajl_gen_map_close (g);
      break;
    case yajl_t_array:
      yajl_gen_array_open (g);
      for (i = 0; i < v->u.array.len; i++)
        kata_gen_val (g, v->u.array.values[i]);
      yajl_gen_array_close (g);
      break;
    case yajl_t_true:
      yajl_gen_bool (g, 1);
      break;
    case yajl_t_false:
      yajl_gen_bool (g, 0);
      break;
    default:
      yajl_gen_null (g);
      break;
    }
}

void
kata_gen_kv_raw (yajl_gen g, const char *k, const char *json)
{
  yajl_val v = NULL;
  kata_gen_str (g, k);
  if (json == NULL || kata_json_parse (json, strlen (json), &v, NULL) < 0)
    {
      yajl_gen_null (g);
      return;
    }
  kata_gen_val (g, v);
  yajl_tree_free (v);
}

char *
kata_gen_finish (yajl_gen g, size_t *len)
{
  const unsigned char *buf;
  size_t l = 0;
  char *r;
  yajl_gen_get_buf (g, &buf, &l);
  r = xstrndup ((const char *) buf, l);
  if (len)
    *len = l;
  yajl_gen_free (g);
  return r;
}

char *
kata_json_dump (yajl_val v)
{
  yajl_gen g = kata_gen_new ();
  kata_gen_val (g, v);
  return kata_gen_finish (g, NULL);
}
