/* Thin helpers over yajl for the protocol and state files. */
#ifndef KATA_JSON_H
#define KATA_JSON_H
#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>
#include "common/error.h"

/* Parse JSON text (LEN bytes, need not be NUL-terminated).  */
int kata_json_parse (const char *data, size_t len, yajl_val *out, kata_error_t **err);
static inline void kata_json_freep (yajl_val *v) { if (*v) yajl_tree_free (*v); }
#define cleanup_yajl_val __attribute__ ((cleanup (kata_json_freep)))

/* Lookups on an object; NULL / DEF when absent or of another type. */
yajl_val kata_json_get (yajl_val obj, const char *key);
const char *kata_json_str (yajl_val obj, const char *key);
long long kata_json_int (yajl_val obj, const char *key, long long def);
bool kata_json_bool (yajl_val obj, const char *key, bool def);
yajl_val kata_json_array (yajl_val obj, const char *key); /* must be an array */

/* Generator helpers.  kata_gen_new() gives a non-beautified generator. */
yajl_gen kata_gen_new (void);
void kata_gen_str (yajl_gen g, const char *s);            /* NULL -> null */
void kata_gen_kv_str (yajl_gen g, const char *k, const char *v);
void kata_gen_kv_int (yajl_gen g, const char *k, long long v);
void kata_gen_kv_bool (yajl_gen g, const char *k, bool v);
/* Key with raw JSON text as its value (text must be valid JSON). */
void kata_gen_kv_raw (yajl_gen g, const char *k, const char *json);
/* Re-emit a parsed tree. */
void kata_gen_val (yajl_gen g, yajl_val v);
/* Returns a malloc'd copy of the generated text and frees G. */
char *kata_gen_finish (yajl_gen g, size_t *len);
/* Serialise a tree into a new string. */
char *kata_json_dump (yajl_val v);

#endif
