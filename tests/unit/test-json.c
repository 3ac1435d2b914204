/* JSON helpers over yajl (src/common/json.c): parsing, typed lookups, generation. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "common/error.h"
#include "common/json.h"

static void
test_parse (void **state)
{
  yajl_val v = NULL;
  kata_error_t *err = NULL;
  /* LEN bytes, not NUL-terminated: the trailing garbage is not read */
  assert_int_equal (kata_json_parse ("{\"a\":1}xyz", 7, &v, &err), 0);
  assert_int_equal (kata_json_int (v, "a", 0), 1);
  yajl_tree_free (v);

  assert_int_equal (kata_json_parse ("{\"a\":", 5, &v, &err), -1);
  assert_null (v);
  assert_int_equal (err->status, EINVAL);
  assert_memory_equal (err->msg, "invalid JSON: ", strlen ("invalid JSON: "));
  assert_null (strchr (err->msg, '\n')); /* yajl's multi-line message is cut to one line */
  kata_error_cleanup (&err);

  /* an embedded NUL would make the text end early for yajl */
  assert_int_equal (kata_json_parse ("{\"a\":1}\0{}", 10, &v, &err), -1);
  assert_string_equal (err->msg, "invalid JSON: NUL byte");
  kata_error_cleanup (&err);
}

static void
test_lookups (void **state)
{
  const char *text = "{\"s\":\"x\",\"i\":-7,\"big\":9007199254740993,\"f\":1.5,\"t\":true,\"n\":false,"
                     "\"arr\":[1,2],\"obj\":{\"k\":\"v\"},\"null\":null}";
  cleanup_yajl_val yajl_val v = NULL;
  assert_int_equal (kata_json_parse (text, strlen (text), &v, NULL), 0);

  assert_string_equal (kata_json_str (v, "s"), "x");
  assert_null (kata_json_str (v, "i"));       /* another type */
  assert_null (kata_json_str (v, "missing")); /* absent */
  assert_int_equal (kata_json_int (v, "i", 0), -7);
  assert_int_equal (kata_json_int (v, "big", 0), 9007199254740993LL);
  assert_int_equal (kata_json_int (v, "f", 42), 42); /* not an integer: the default */
  assert_int_equal (kata_json_int (v, "s", 42), 42);
  assert_true (kata_json_bool (v, "t", false));
  assert_false (kata_json_bool (v, "n", true));
  assert_true (kata_json_bool (v, "null", true));
  assert_false (kata_json_bool (v, "missing", false));
  assert_non_null (kata_json_array (v, "arr"));
  assert_int_equal (kata_json_array (v, "arr")->u.array.len, 2);
  assert_null (kata_json_array (v, "obj"));
  assert_string_equal (kata_json_str (kata_json_get (v, "obj"), "k"), "v");
  assert_non_null (kata_json_get (v, "null"));
  /* lookups on a non-object or on NULL are absent, not a crash */
  assert_null (kata_json_get (kata_json_get (v, "arr"), "k"));
  assert_null (kata_json_get (NULL, "k"));
  assert_int_equal (kata_json_int (NULL, "k", 3), 3);
}

static void
test_generate (void **state)
{
  yajl_gen g = kata_gen_new ();
  size_t len = 0;
  char *out;
  yajl_gen_map_open (g);
  kata_gen_kv_str (g, "s", "a\"b\n");
  kata_gen_kv_str (g, "null", NULL);
  kata_gen_kv_int (g, "i", -9223372036854775807LL - 1);
  kata_gen_kv_bool (g, "b", true);
  kata_gen_kv_raw (g, "raw", "{\"x\":[1,2.5,\"y\",null,false]}");
  kata_gen_kv_raw (g, "bad", "{"); /* invalid raw JSON becomes null */
  kata_gen_kv_raw (g, "none", NULL);
  yajl_gen_map_close (g);
  out = kata_gen_finish (g, &len);
  assert_string_equal (out, "{\"s\":\"a\\\"b\\n\",\"null\":null,\"i\":-9223372036854775808,\"b\":true,"
                            "\"raw\":{\"x\":[1,2.5,\"y\",null,false]},\"bad\":null,\"none\":null}");
  assert_int_equal (len, strlen (out));
  free (out);
}

/* parse -> dump keeps the text (numbers as written, key order) */
static void
test_dump_roundtrip (void **state)
{
  const char *text = "{\"b\":1,\"a\":[true,false,null,\"s\",{}],\"n\":1e3,\"u\":\"\\u00e9\"}";
  cleanup_yajl_val yajl_val v = NULL;
  char *out;
  assert_int_equal (kata_json_parse (text, strlen (text), &v, NULL), 0);
  out = kata_json_dump (v);
  assert_string_equal (out, "{\"b\":1,\"a\":[true,false,null,\"s\",{}],\"n\":1e3,\"u\":\"\xc3\xa9\"}");
  free (out);
  out = kata_json_dump (NULL);
  assert_string_equal (out, "null");
  free (out);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse),
    cmocka_unit_test (test_lookups),
    cmocka_unit_test (test_generate),
    cmocka_unit_test (test_dump_roundtrip),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
