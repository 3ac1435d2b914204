/* Unit tests of the TOML parser (src/runtime/toml.c). */
#include "config.h"
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "common/error.h"
#include "common/utils.h"
#include "runtime/toml.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/unit/data"
#endif

static toml_value_t *
parse_ok (const char *s)
{
  toml_value_t *v = NULL;
  kata_error_t *err = NULL;

  if (kata_toml_parse (s, strlen (s), "t.toml", &v, &err) < 0)
    fail_msg ("unexpected error: %s\ninput: %s", err->msg, s);
  assert_non_null (v);
  assert_int_equal (v->kind, TOML_TABLE);
  return v;
}

static void
expect_error_len (const char *s, size_t len, const char *msg)
{
  toml_value_t *v = NULL;
  kata_error_t *err = NULL;

  if (kata_toml_parse (s, len, "t.toml", &v, &err) == 0)
    fail_msg ("parsed, expected error '%s'\ninput: %s", msg, s);
  assert_null (v);
  assert_non_null (err);
  assert_int_equal (err->status, KATA_EBADCONFIG);
  if (strcmp (err->msg, msg) != 0)
    fail_msg ("input: %s\nexpected: %s\n     got: %s", s, msg, err->msg);
  kata_error_free (err);
}

static void
expect_error (const char *s, const char *msg)
{
  expect_error_len (s, strlen (s), msg);
}

static const char *
get_str (const toml_value_t *root, const char *path)
{
  const toml_value_t *v = kata_toml_get (root, path);
  if (v == NULL)
    fail_msg ("missing %s", path);
  assert_int_equal (v->kind, TOML_STRING);
  assert_int_equal (strlen (v->u.str.s), v->u.str.len);
  return v->u.str.s;
}

static int64_t
get_int (const toml_value_t *root, const char *path)
{
  const toml_value_t *v = kata_toml_get (root, path);
  if (v == NULL)
    fail_msg ("missing %s", path);
  assert_int_equal (v->kind, TOML_INT);
  return v->u.i;
}

static double
get_float (const toml_value_t *root, const char *path)
{
  const toml_value_t *v = kata_toml_get (root, path);
  if (v == NULL)
    fail_msg ("missing %s", path);
  assert_int_equal (v->kind, TOML_FLOAT);
  return v->u.f;
}

static void
test_empty (void **state)
{
  toml_value_t *v = parse_ok ("");
  assert_int_equal (v->u.tab.len, 0);
  kata_toml_free (v);
  v = parse_ok ("\n\n  # just a comment\n\t\n# another\r\n");
  assert_int_equal (v->u.tab.len, 0);
  kata_toml_free (v);
  /* a byte-order mark is tolerated */
  v = parse_ok ("\xEF\xBB\xBF"
                "a = 1");
  assert_int_equal (get_int (v, "a"), 1);
  kata_toml_free (v);
}

static void
test_tables (void **state)
{
  toml_value_t *v = parse_ok ("top = 1\n"
                              "[a]\n"
                              "x = 2\n"
                              "\n"
                              "[hypervisor.qemu]\n"
                              "path = \"/usr/bin/qemu\"\n"
                              "[ hypervisor . 'other' ]\n"
                              "y = 3\n"
                              "[hypervisor]\n"
                              "z = 4\n");
  const toml_value_t *t;
  const toml_entry_t *e;

  assert_int_equal (get_int (v, "top"), 1);
  assert_int_equal (get_int (v, "a.x"), 2);
  assert_string_equal (get_str (v, "hypervisor.qemu.path"), "/usr/bin/qemu");
  assert_int_equal (get_int (v, "hypervisor.other.y"), 3);
  assert_int_equal (get_int (v, "hypervisor.z"), 4);
  /* definition order is kept */
  assert_int_equal (v->u.tab.len, 3);
  assert_string_equal (v->u.tab.entries[0].key, "top");
  assert_string_equal (v->u.tab.entries[1].key, "a");
  assert_string_equal (v->u.tab.entries[2].key, "hypervisor");
  t = kata_toml_get (v, "hypervisor.qemu");
  assert_non_null (t);
  assert_int_equal (t->kind, TOML_TABLE);
  assert_int_equal (t->line, 5);
  assert_int_equal (t->col, 1);
  /* [hypervisor] defined the implicit table: its position moves to the header */
  t = kata_toml_get (v, "hypervisor");
  assert_int_equal (t->line, 9);
  e = kata_toml_get_entry (t, "qemu");
  assert_non_null (e);
  assert_int_equal (e->line, 5);
  assert_int_equal (e->col, 13);
  e = kata_toml_get_entry (kata_toml_get (v, "a"), "x");
  assert_int_equal (e->line, 3);
  assert_int_equal (e->col, 1);
  assert_int_equal (e->value->line, 3);
  assert_int_equal (e->value->col, 5);
  kata_toml_free (v);
}

static void
test_keys (void **state)
{
  toml_value_t *v = parse_ok ("bare_key-1 = 1\n"
                              "\"quoted.key\" = 2\n"
                              "'literal \\n' = 3\n"
                              "\"\" = 4\n"
                              "a.b.c = 5\n"
                              "a . b . d = 6\n"
                              "a.\"e.f\" = 7\n"
                              "1234 = 8\n"
                              "\"\\u00e9\" = 9\n");
  const toml_value_t *t;

  assert_int_equal (get_int (v, "bare_key-1"), 1);
  assert_null (kata_toml_get (v, "quoted.key"));
  assert_int_equal (kata_toml_get_key (v, "quoted.key")->u.i, 2);
  assert_int_equal (kata_toml_get_key (v, "literal \\n")->u.i, 3);
  assert_int_equal (kata_toml_get_key (v, "")->u.i, 4);
  assert_int_equal (get_int (v, "a.b.c"), 5);
  assert_int_equal (get_int (v, "a.b.d"), 6);
  t = kata_toml_get (v, "a");
  assert_int_equal (kata_toml_get_key (t, "e.f")->u.i, 7);
  assert_int_equal (get_int (v, "1234"), 8);
  assert_int_equal (kata_toml_get_key (v, "\xc3\xa9")->u.i, 9);
  /* a table made by dotted keys starts where its key was written */
  assert_int_equal (t->line, 5);
  assert_int_equal (t->col, 1);
  assert_int_equal (kata_toml_get_entry (kata_toml_get (v, "a.b"), "d")->col, 9);
  kata_toml_free (v);

  /* dotted keys may add sub-tables of a table they defined, and [headers]
     may add sub-tables below a dotted-key table */
  v = parse_ok ("[fruit]\napple.color = 'red'\napple.taste.sweet = true\n"
                "[fruit.apple.texture]\nsmooth = true\n");
  assert_true (kata_toml_get (v, "fruit.apple.taste.sweet")->u.b);
  assert_true (kata_toml_get (v, "fruit.apple.texture.smooth")->u.b);
  kata_toml_free (v);
}

static void
test_basic_strings (void **state)
{
  toml_value_t *v = parse_ok ("a = \"plain\"\n"
                              "b = \"q\\\"b\\\\n\\nt\\tr\\rb\\bf\\f\"\n"
                              "c = \"\\u00e9\\u20AC\\U0001F600\"\n"
                              "d = \"\"\n"
                              "e = \"tab\there # not a comment\"\n"
                              "f = \"caf\xc3\xa9\"\n");
  assert_string_equal (get_str (v, "a"), "plain");
  assert_string_equal (get_str (v, "b"), "q\"b\\n\nt\tr\rb\bf\f");
  assert_string_equal (get_str (v, "c"), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  assert_string_equal (get_str (v, "d"), "");
  assert_string_equal (get_str (v, "e"), "tab\there # not a comment");
  assert_string_equal (get_str (v, "f"), "caf\xc3\xa9");
  assert_int_equal (kata_toml_get (v, "b")->u.str.len, 14);
  kata_toml_free (v);
}

static void
test_literal_strings (void **state)
{
  toml_value_t *v = parse_ok ("a = 'C:\\Users\\x'\n"
                              "b = '\"quoted\"'\n"
                              "c = ''\n");
  assert_string_equal (get_str (v, "a"), "C:\\Users\\x");
  assert_string_equal (get_str (v, "b"), "\"quoted\"");
  assert_string_equal (get_str (v, "c"), "");
  kata_toml_free (v);
}

static void
test_multiline_strings (void **state)
{
  toml_value_t *v = parse_ok ("a = \"\"\"\nline1\nline2\"\"\"\n"
                              "b = \"\"\"one \\\n    two \\\n\n   three\"\"\"\n"
                              "c = \"\"\"has \"\" quotes \"\"\"\"\"\n"
                              "d = '''\nraw \\n text\n'''\n"
                              "e = '''x''''\n"
                              "f = \"\"\"crlf\r\nline\"\"\"\n"
                              "g = 1\n");
  assert_string_equal (get_str (v, "a"), "line1\nline2");
  assert_string_equal (get_str (v, "b"), "one two three");
  assert_string_equal (get_str (v, "c"), "has \"\" quotes \"\"");
  assert_string_equal (get_str (v, "d"), "raw \\n text\n");
  assert_string_equal (get_str (v, "e"), "x'");
  assert_string_equal (get_str (v, "f"), "crlf\nline");
  /* lines are still counted inside multi-line strings */
  assert_int_equal (kata_toml_get (v, "g")->line, 15);
  kata_toml_free (v);
}

static void
test_integers (void **state)
{
  toml_value_t *v = parse_ok ("a = 0\nb = +42\nc = -17\nd = 1_000_000\ne = 0xDEAD_beef\n"
                              "f = 0o755\ng = 0b1010\nh = 9223372036854775807\n"
                              "i = -9223372036854775808\nj = 0x7FFFFFFFFFFFFFFF\nk = -0\nl = +0\n");
  assert_int_equal (get_int (v, "a"), 0);
  assert_int_equal (get_int (v, "b"), 42);
  assert_int_equal (get_int (v, "c"), -17);
  assert_int_equal (get_int (v, "d"), 1000000);
  assert_int_equal (get_int (v, "e"), 0xDEADBEEF);
  assert_int_equal (get_int (v, "f"), 0755);
  assert_int_equal (get_int (v, "g"), 10);
  assert_true (get_int (v, "h") == INT64_MAX);
  assert_true (get_int (v, "i") == INT64_MIN);
  assert_true (get_int (v, "j") == INT64_MAX);
  assert_int_equal (get_int (v, "k"), 0);
  assert_int_equal (get_int (v, "l"), 0);
  kata_toml_free (v);
}

static void
test_floats (void **state)
{
  toml_value_t *v = parse_ok ("a = 3.14\nb = -0.5\nc = 1e3\nd = 6.02E+23\ne = 1_000.5\n"
                              "f = 5e-2\ng = inf\nh = -inf\ni = nan\nj = +1.5\nk = 0.0\n");
  assert_float_equal (get_float (v, "a"), 3.14, 1e-12);
  assert_float_equal (get_float (v, "b"), -0.5, 1e-12);
  assert_float_equal (get_float (v, "c"), 1000.0, 1e-9);
  assert_float_equal (get_float (v, "d"), 6.02e23, 1e9);
  assert_float_equal (get_float (v, "e"), 1000.5, 1e-9);
  assert_float_equal (get_float (v, "f"), 0.05, 1e-12);
  assert_true (isinf (get_float (v, "g")) && get_float (v, "g") > 0);
  assert_true (isinf (get_float (v, "h")) && get_float (v, "h") < 0);
  assert_true (isnan (get_float (v, "i")));
  assert_float_equal (get_float (v, "j"), 1.5, 1e-12);
  assert_float_equal (get_float (v, "k"), 0.0, 0);
  kata_toml_free (v);
}

static void
test_booleans (void **state)
{
  toml_value_t *v = parse_ok ("t = true\nf = false # comment\n");
  assert_int_equal (kata_toml_get (v, "t")->kind, TOML_BOOL);
  assert_true (kata_toml_get (v, "t")->u.b);
  assert_false (kata_toml_get (v, "f")->u.b);
  kata_toml_free (v);
}

static void
test_arrays (void **state)
{
  toml_value_t *v = parse_ok ("empty = []\n"
                              "ints = [1, 2, 3]\n"
                              "multi = [\n"
                              "  \"a\", # first\n"
                              "  # a comment line\n"
                              "  'b',\n"
                              "\n"
                              "  \"c\",   # trailing comma\n"
                              "]\n"
                              "nested = [[1, 2], [\"x\"], []]\n"
                              "mixed = [1, 'two', 3.0, true]\n"
                              "after = 1\n");
  const toml_value_t *a;

  a = kata_toml_get (v, "empty");
  assert_int_equal (a->kind, TOML_ARRAY);
  assert_int_equal (a->u.arr.len, 0);
  a = kata_toml_get (v, "ints");
  assert_int_equal (a->u.arr.len, 3);
  assert_int_equal (a->u.arr.items[2]->u.i, 3);
  assert_int_equal (a->u.arr.items[2]->col, 15);
  a = kata_toml_get (v, "multi");
  assert_int_equal (a->u.arr.len, 3);
  assert_string_equal (a->u.arr.items[0]->u.str.s, "a");
  assert_string_equal (a->u.arr.items[1]->u.str.s, "b");
  assert_string_equal (a->u.arr.items[2]->u.str.s, "c");
  assert_int_equal (a->u.arr.items[2]->line, 8);
  assert_int_equal (a->u.arr.items[2]->col, 3);
  a = kata_toml_get (v, "nested");
  assert_int_equal (a->u.arr.len, 3);
  assert_int_equal (a->u.arr.items[0]->kind, TOML_ARRAY);
  assert_int_equal (a->u.arr.items[0]->u.arr.items[1]->u.i, 2);
  assert_string_equal (a->u.arr.items[1]->u.arr.items[0]->u.str.s, "x");
  assert_int_equal (a->u.arr.items[2]->u.arr.len, 0);
  a = kata_toml_get (v, "mixed");
  assert_int_equal (a->u.arr.items[1]->kind, TOML_STRING);
  assert_int_equal (a->u.arr.items[2]->kind, TOML_FLOAT);
  assert_int_equal (a->u.arr.items[3]->kind, TOML_BOOL);
  assert_int_equal (get_int (v, "after"), 1);
  assert_int_equal (kata_toml_get (v, "after")->line, 12);
  kata_toml_free (v);
}

static void
test_crlf_and_ws (void **state)
{
  toml_value_t *v = parse_ok ("[t]\r\n\ta\t=\t1\t# c\r\n  b = 'x'  \r\n");
  assert_int_equal (get_int (v, "t.a"), 1);
  assert_string_equal (get_str (v, "t.b"), "x");
  assert_int_equal (kata_toml_get (v, "t.b")->line, 3);
  assert_int_equal (kata_toml_get (v, "t.b")->col, 7);
  kata_toml_free (v);
}

static void
test_get (void **state)
{
  toml_value_t *v = parse_ok ("a = 1\n[t]\nb = [1]\n");
  assert_null (kata_toml_get (v, "missing"));
  assert_null (kata_toml_get (v, "a.b"));   /* a is not a table */
  assert_null (kata_toml_get (v, "t.b.c")); /* b is an array */
  assert_null (kata_toml_get (v, "t."));
  assert_null (kata_toml_get (v, NULL));
  assert_null (kata_toml_get (NULL, "a"));
  assert_null (kata_toml_get_key (v, NULL));
  assert_null (kata_toml_get_key (kata_toml_get (v, "a"), "x"));
  assert_null (kata_toml_get_entry (v, "zz"));
  assert_ptr_equal (kata_toml_get (v, "t"), kata_toml_get_key (v, "t"));
  assert_ptr_equal (kata_toml_get_entry (v, "t")->value, kata_toml_get_key (v, "t"));
  kata_toml_free (v);
  kata_toml_free (NULL);
}

static void
test_kind_name (void **state)
{
  assert_string_equal (kata_toml_kind_name (TOML_TABLE), "table");
  assert_string_equal (kata_toml_kind_name (TOML_ARRAY), "array");
  assert_string_equal (kata_toml_kind_name (TOML_STRING), "string");
  assert_string_equal (kata_toml_kind_name (TOML_INT), "integer");
  assert_string_equal (kata_toml_kind_name (TOML_FLOAT), "float");
  assert_string_equal (kata_toml_kind_name (TOML_BOOL), "boolean");
  assert_string_equal (kata_toml_kind_name ((toml_kind_t)99), "unknown");
}

static void
test_null_filename (void **state)
{
  toml_value_t *v = NULL;
  kata_error_t *err = NULL;
  assert_int_equal (kata_toml_parse ("a = ", 4, NULL, &v, &err), -1);
  assert_string_equal (err->msg, "<input>:1:5: expected a value");
  kata_error_free (err);
  /* DATA need not be NUL-terminated: LEN bounds it */
  assert_int_equal (kata_toml_parse ("a = 12345", 6, NULL, &v, &err), 0);
  assert_int_equal (get_int (v, "a"), 12);
  kata_toml_free (v);
}

struct err_case
{
  const char *in, *msg;
};

static const struct err_case syntax_errors[] = {
  /* strings */
  { "a = \"abc", "t.toml:1:5: unterminated string" },
  { "a = 'abc", "t.toml:1:5: unterminated string" },
  { "a = \"x\ny\"", "t.toml:1:5: unterminated string" },
  { "\n  a = \"\"\"abc\n\n", "t.toml:2:7: unterminated string" },
  { "a = '''abc''", "t.toml:1:5: unterminated string" },
  { "a = \"a\\qb\"", "t.toml:1:7: invalid escape sequence '\\q'" },
  { "a = \"\\x41\"", "t.toml:1:6: invalid escape sequence '\\x'" },
  { "a = \"\\u12\"", "t.toml:1:6: invalid \\u escape" },
  { "a = \"\\U0001F6\"", "t.toml:1:6: invalid \\U escape" },
  { "a = \"\\uD800\"", "t.toml:1:6: escape \\u is not a Unicode scalar value" },
  { "a = \"\\U00110000\"", "t.toml:1:6: escape \\U is not a Unicode scalar value" },
  { "a = \"\\u0000\"", "t.toml:1:6: NUL character in string" },
  { "a = \"\\", "t.toml:1:6: unterminated escape sequence" },
  { "a = \"\x01\"", "t.toml:1:6: control character in string" },
  { "a = '\x7f'", "t.toml:1:6: control character in string" },
  { "a = '''x''''''", "t.toml:1:14: too many quotes" },
  { "\"\"\"k\"\"\" = 1", "t.toml:1:1: multi-line strings are not allowed in keys" },
  /* encoding and comments */
  { "a = \"\xff\"", "t.toml:1:6: invalid UTF-8" },
  { "a = 1\nb = '\xc3'", "t.toml:2:6: invalid UTF-8" },
  { "a = '\xed\xa0\x80'", "t.toml:1:6: invalid UTF-8" },
  { "# \x01", "t.toml:1:3: control character in comment" },
  /* duplicates and redefinitions */
  { "a = 1\na = 2", "t.toml:2:1: duplicate key 'a'" },
  { "\"x\\ny\" = 1\n\"x\\ny\" = 2", "t.toml:2:1: duplicate key 'x?y'" },
  { "a = 1\n\"a\" = 2", "t.toml:2:1: duplicate key 'a'" },
  { "[t]\nx = 1\n[u]\n[t]\n", "t.toml:4:2: table 't' is already defined" },
  { "[a.b]\n[a.b]", "t.toml:2:4: table 'a.b' is already defined" },
  { "[a]\n[a.b]\n[a]", "t.toml:3:2: table 'a' is already defined" },
  { "a = 1\n[a]", "t.toml:2:2: key 'a' is already defined and is not a table" },
  { "a = 1\n[a.b]", "t.toml:2:2: key 'a' is already defined and is not a table" },
  { "a = [1]\n[a.b]", "t.toml:2:2: key 'a' is already defined and is not a table" },
  { "[a]\nb.c = 1\n[a.b]", "t.toml:3:4: table 'a.b' is already defined" },
  { "[a.b]\n[a]\nb.c = 1", "t.toml:3:1: table 'b' is already defined" },
  { "a.b = 1\na.b.c = 2", "t.toml:2:3: key 'a.b' is already defined and is not a table" },
  { "a.b = 1\na.b = 2", "t.toml:2:3: duplicate key 'a.b'" },
  { "[t]\na = 1\n[t.a]", "t.toml:3:4: key 't.a' is already defined and is not a table" },
  /* garbage after values / structure */
  { "a = 1 x", "t.toml:1:7: unexpected 'x' after value, expected end of line" },
  { "a = \"s\" \"t\"", "t.toml:1:9: unexpected '\"' after value, expected end of line" },
  { "a = 1 b = 2", "t.toml:1:7: unexpected 'b' after value, expected end of line" },
  { "[t] x", "t.toml:1:5: unexpected 'x' after value, expected end of line" },
  { "a = 1\r2", "t.toml:1:6: unexpected character after value, expected end of line" },
  { "a =", "t.toml:1:4: expected a value" },
  { "a = # c", "t.toml:1:5: expected a value" },
  { "a = \n1", "t.toml:1:5: expected a value" },
  { "= 1", "t.toml:1:1: expected a key, got '='" },
  { "a 1", "t.toml:1:3: expected '=' after key" },
  { "a.= 1", "t.toml:1:3: expected a key, got '='" },
  { "a", "t.toml:1:2: expected '=' after key" },
  { "[a", "t.toml:1:3: expected ']' to end the table header" },
  { "[]", "t.toml:1:2: expected a key, got ']'" },
  { "[a.]", "t.toml:1:4: expected a key, got ']'" },
  { "[[a]]", "t.toml:1:2: arrays of tables are not supported" },
  { "a = {b = 1}", "t.toml:1:5: inline tables are not supported" },
  { "a = 1979-05-27", "t.toml:1:5: dates and times are not supported" },
  { "a = 1979-05-27T07:32:00Z", "t.toml:1:5: dates and times are not supported" },
  /* arrays */
  { "a = [1, 2", "t.toml:1:5: unterminated array" },
  { "a = [1,\n2,\n", "t.toml:1:5: unterminated array" },
  { "a = [1 2]", "t.toml:1:8: expected ',' or ']' in array" },
  { "a = [,]", "t.toml:1:6: invalid value starting with ','" },
  { "a = [1,,2]", "t.toml:1:8: invalid value starting with ','" },
  { "a = [1, {}]", "t.toml:1:9: inline tables are not supported" },
  /* numbers and words */
  { "a = 01", "t.toml:1:5: leading zeros are not allowed" },
  { "a = -007", "t.toml:1:5: leading zeros are not allowed" },
  { "a = 1__0", "t.toml:1:5: invalid value '1__0'" },
  { "a = _1", "t.toml:1:5: invalid value '_1'" },
  { "a = 1_", "t.toml:1:5: invalid value '1_'" },
  { "a = 0x", "t.toml:1:5: invalid value '0x'" },
  { "a = 0xG", "t.toml:1:5: invalid value '0xG'" },
  { "a = +0x10", "t.toml:1:5: invalid value '+0x10'" },
  { "a = 0b102", "t.toml:1:5: invalid value '0b102'" },
  { "a = 1.", "t.toml:1:5: invalid value '1.'" },
  { "a = .5", "t.toml:1:5: invalid value '.5'" },
  { "a = 1e", "t.toml:1:5: invalid value '1e'" },
  { "a = 1.5.2", "t.toml:1:5: invalid value '1.5.2'" },
  { "a = -inf1", "t.toml:1:5: invalid value '-inf1'" },
  { "a = tru", "t.toml:1:5: invalid value 'tru'" },
  { "a = truee", "t.toml:1:5: invalid value 'truee'" },
  { "a = True", "t.toml:1:5: invalid value 'True'" },
  { "a = 9223372036854775808", "t.toml:1:5: integer out of range" },
  { "a = -9223372036854775809", "t.toml:1:5: integer out of range" },
  { "a = 0x8000000000000000", "t.toml:1:5: integer out of range" },
  { "a = @", "t.toml:1:5: invalid value starting with '@'" },
};

static void
test_syntax_errors (void **state)
{
  size_t i;
  for (i = 0; i < sizeof (syntax_errors) / sizeof (syntax_errors[0]); i++)
    expect_error (syntax_errors[i].in, syntax_errors[i].msg);
  /* a NUL byte in the input is a control character */
  expect_error_len ("a = 'x\0'", 8, "t.toml:1:7: control character in string");
  expect_error_len ("a = \"x\\\0\"", 9, "t.toml:1:7: invalid escape sequence");
  expect_error_len ("a = 1\0", 6, "t.toml:1:6: unexpected character after value, expected end of line");
}

static char *
repeat (const char *s, size_t n)
{
  size_t l = strlen (s), i;
  char *r = xmalloc (l * n + 1);
  for (i = 0; i < n; i++)
    memcpy (r + i * l, s, l);
  r[l * n] = '\0';
  return r;
}

static void
test_depth_limit (void **state)
{
  cleanup_free char *open64 = repeat ("[", KATA_TOML_MAX_DEPTH);
  cleanup_free char *close64 = repeat ("]", KATA_TOML_MAX_DEPTH);
  cleanup_free char *ok = xasprintf ("a = %s%s", open64, close64);
  cleanup_free char *bad = xasprintf ("a = %s[%s]", open64, close64);
  cleanup_free char *msg = xasprintf ("t.toml:1:%d: arrays nested too deeply (at most %d)",
                                      5 + KATA_TOML_MAX_DEPTH, KATA_TOML_MAX_DEPTH);
  cleanup_free char *k64 = repeat ("k.", KATA_TOML_MAX_DEPTH - 1);
  cleanup_free char *kok = xasprintf ("%sk = 1", k64);
  cleanup_free char *kbad = xasprintf ("%sk.k = 1", k64);
  cleanup_free char *kmsg = xasprintf ("t.toml:1:%d: key has too many parts (at most %d)",
                                       2 * KATA_TOML_MAX_DEPTH + 1, KATA_TOML_MAX_DEPTH);
  cleanup_free char *hbad = xasprintf ("[%sk.k]", k64);
  cleanup_free char *hmsg = xasprintf ("t.toml:1:%d: key has too many parts (at most %d)",
                                       2 * KATA_TOML_MAX_DEPTH + 2, KATA_TOML_MAX_DEPTH);
  toml_value_t *v;

  v = parse_ok (ok);
  kata_toml_free (v);
  expect_error (bad, msg);
  v = parse_ok (kok);
  kata_toml_free (v);
  expect_error (kbad, kmsg);
  expect_error (hbad, hmsg);
}

static void
test_keys_limit (void **state)
{
  size_t i, cap = (KATA_TOML_MAX_KEYS + 1) * 16;
  char *s = xmalloc (cap);
  size_t n = 0;
  toml_value_t *v;
  cleanup_free char *msg = NULL;

  for (i = 0; i < KATA_TOML_MAX_KEYS; i++)
    n += (size_t)snprintf (s + n, cap - n, "k%zu = %zu\n", i, i);
  v = parse_ok (s);
  assert_int_equal (v->u.tab.len, KATA_TOML_MAX_KEYS);
  assert_int_equal (get_int (v, "k4095"), 4095);
  kata_toml_free (v);
  snprintf (s + n, cap - n, "one_more = 1\n");
  msg = xasprintf ("t.toml:%d:1: too many keys in one table (at most %d)", KATA_TOML_MAX_KEYS + 1,
                   KATA_TOML_MAX_KEYS);
  expect_error (s, msg);
  free (s);
}

static void
test_size_limit (void **state)
{
  size_t len = (size_t)KATA_TOML_MAX_SIZE + 1;
  char *s = xmalloc (len);
  cleanup_free char *msg
      = xasprintf ("t.toml: file too large (%zu bytes, at most %d)", len, KATA_TOML_MAX_SIZE);
  toml_value_t *v;

  memset (s, '\n', len);
  expect_error_len (s, len, msg);
  /* exactly the limit is fine */
  v = NULL;
  {
    kata_error_t *err = NULL;
    assert_int_equal (kata_toml_parse (s, len - 1, "t.toml", &v, &err), 0);
  }
  assert_int_equal (v->u.tab.len, 0);
  kata_toml_free (v);
  free (s);
}

static void
test_parse_file (void **state)
{
  toml_value_t *v = NULL;
  kata_error_t *err = NULL;
  const toml_value_t *a;

  assert_int_equal (kata_toml_parse_file (TEST_DATA_DIR "/toml/valid.toml", &v, &err), 0);
  assert_string_equal (get_str (v, "hypervisor.qemu.path"), "/usr/bin/qemu-system-x86_64");
  assert_int_equal (get_int (v, "hypervisor.qemu.default_memory"), 2048);
  assert_string_equal (get_str (v, "hypervisor.qemu.kernel_params"), "quiet console=hvc0 \"x\"");
  a = kata_toml_get (v, "agent.kata.kernel_modules");
  assert_int_equal (a->kind, TOML_ARRAY);
  assert_int_equal (a->u.arr.len, 2);
  assert_string_equal (a->u.arr.items[1]->u.str.s, "i915");
  assert_true (kata_toml_get (v, "runtime.enable_debug")->u.b);
  assert_float_equal (get_float (v, "extra.ratio"), 0.75, 1e-12);
  assert_int_equal (get_int (v, "extra.mask"), 0xff);
  kata_toml_free (v);

  assert_int_equal (kata_toml_parse_file (TEST_DATA_DIR "/toml/duplicate-key.toml", &v, &err), -1);
  assert_int_equal (err->status, KATA_EBADCONFIG);
  assert_string_equal (err->msg, TEST_DATA_DIR "/toml/duplicate-key.toml:6:1: duplicate key 'path'");
  kata_error_free (err);
  err = NULL;

  assert_int_equal (kata_toml_parse_file (TEST_DATA_DIR "/toml/bad-escape.toml", &v, &err), -1);
  assert_string_equal (err->msg, TEST_DATA_DIR "/toml/bad-escape.toml:3:28: invalid escape sequence '\\d'");
  kata_error_free (err);
  err = NULL;

  assert_int_equal (kata_toml_parse_file (TEST_DATA_DIR "/toml/no-such-file.toml", &v, &err), -1);
  assert_int_equal (err->status, ENOENT);
  kata_error_free (err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_empty),
    cmocka_unit_test (test_tables),
    cmocka_unit_test (test_keys),
    cmocka_unit_test (test_basic_strings),
    cmocka_unit_test (test_literal_strings),
    cmocka_unit_test (test_multiline_strings),
    cmocka_unit_test (test_integers),
    cmocka_unit_test (test_floats),
    cmocka_unit_test (test_booleans),
    cmocka_unit_test (test_arrays),
    cmocka_unit_test (test_crlf_and_ws),
    cmocka_unit_test (test_get),
    cmocka_unit_test (test_kind_name),
    cmocka_unit_test (test_null_filename),
    cmocka_unit_test (test_syntax_errors),
    cmocka_unit_test (test_depth_limit),
    cmocka_unit_test (test_keys_limit),
    cmocka_unit_test (test_size_limit),
    cmocka_unit_test (test_parse_file),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
