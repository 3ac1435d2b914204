/* Strict TOML subset parser: see toml.h for what is accepted. */
#include "config.h"
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/error.h"
#include "common/utils.h"
#include "runtime/toml.h"

/* How a table came to exist; decides whether it may be (re)defined. */
enum
{
  HOW_IMPLICIT = 0, /* intermediate of a [a.b.c] header: [a] may still define it once */
  HOW_HEADER = 1,   /* defined by a [header] (or the root) */
  HOW_DOTTED = 2,   /* defined by a dotted key a.b = 1 */
};

typedef struct
{
  const char *start, *p, *end;
  const char *filename;
  int line;
  const char *line_start;
  kata_error_t **err;
} parser_t;

static int
col_of (const parser_t *ps, const char *at)
{
  return (int)(at - ps->line_start) + 1;
}

static int __attribute__ ((format (printf, 4, 5)))
perr (parser_t *ps, int line, int col, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;
  char *c;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  /* keys may hold escaped control characters: keep messages on one line */
  for (c = msg; c && *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7F)
      *c = '?';
  return kata_make_error_nostr (ps->err, KATA_EBADCONFIG, "%s:%d:%d: %s", ps->filename, line, col,
                                msg ? msg : "out of memory");
}

/* Error at the current position. */
#define PERR(ps, ...) perr ((ps), (ps)->line, col_of ((ps), (ps)->p), __VA_ARGS__)

static void
buf_add_utf8 (kata_buf_t *b, uint32_t cp)
{
  char o[4];
  size_t n;

  if (cp < 0x80)
    o[0] = (char)cp, n = 1;
  else if (cp < 0x800)
    o[0] = (char)(0xC0 | (cp >> 6)), o[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
  else if (cp < 0x10000)
    o[0] = (char)(0xE0 | (cp >> 12)), o[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
    o[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
  else
    o[0] = (char)(0xF0 | (cp >> 18)), o[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), o[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
  kata_buf_append (b, o, n);
}

/* Length of the valid UTF-8 sequence at P, or 0. */
static size_t
utf8_len (const unsigned char *p, const unsigned char *end)
{
  size_t n, i;
  uint32_t cp;

  if (p[0] < 0x80)
    return 1;
  if (p[0] >= 0xC2 && p[0] <= 0xDF)
    n = 2, cp = p[0] & 0x1F;
  else if (p[0] >= 0xE0 && p[0] <= 0xEF)
    n = 3, cp = p[0] & 0x0F;
  else if (p[0] >= 0xF0 && p[0] <= 0xF4)
    n = 4, cp = p[0] & 0x07;
  else
    return 0;
  if ((size_t)(end - p) < n)
    return 0;
  for (i = 1; i < n; i++)
    {
      if ((p[i] & 0xC0) != 0x80)
        return 0;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

static int
validate_utf8 (parser_t *ps)
{
  const unsigned char *p = (const unsigned char *)ps->start, *end = (const unsigned char *)ps->end;
  const unsigned char *ls = p;
  int line = 1;

  while (p < end)
    {
      size_t n = utf8_len (p, end);
      if (n == 0)
        return perr (ps, line, (int)(p - ls) + 1, "invalid UTF-8");
      if (*p == '\n')
        line++, ls = p + 1;
      p += n;
    }
  return 0;
}

/* A control character TOML forbids in comments and strings (tab is fine). */
static bool
is_bad_control (unsigned char c)
{
  return (c < 0x20 && c != '\t') || c == 0x7F;
}

static bool
is_bare (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static void
skip_ws (parser_t *ps)
{
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
    ps->p++;
}

static bool
at_newline (const parser_t *ps)
{
  return ps->p < ps->end && (*ps->p == '\n' || (*ps->p == '\r' && ps->p + 1 < ps->end && ps->p[1] == '\n'));
}

static void
eat_newline (parser_t *ps)
{
  if (*ps->p == '\r')
    ps->p++;
  ps->p++;
  ps->line++;
  ps->line_start = ps->p;
}

static int
skip_comment (parser_t *ps)
{
  ps->p++; /* '#' */
  while (ps->p < ps->end && *ps->p != '\n')
    {
      if (*ps->p == '\r' && at_newline (ps))
        break;
      if (is_bad_control ((unsigned char)*ps->p))
        return PERR (ps, "control character in comment");
      ps->p++;
    }
  return 0;
}

/* Skips whitespace, newlines and comments (inside arrays). */
static int
skip_ws_nl (parser_t *ps)
{
  for (;;)
    {
      skip_ws (ps);
      if (ps->p >= ps->end)
        return 0;
      if (*ps->p == '#')
        {
          if (skip_comment (ps) < 0)
            return -1;
        }
      else if (at_newline (ps))
        eat_newline (ps);
      else
        return 0;
    }
}

/* After a key/value or a header: only a comment may follow on the line. */
static int
expect_eol (parser_t *ps)
{
  skip_ws (ps);
  if (ps->p < ps->end && *ps->p == '#' && skip_comment (ps) < 0)
    return -1;
  if (ps->p >= ps->end)
    return 0;
  if (!at_newline (ps))
    {
      unsigned char c = (unsigned char)*ps->p;
      if (c >= 0x20 && c < 0x7F)
        return PERR (ps, "unexpected '%c' after value, expected end of line", c);
      return PERR (ps, "unexpected character after value, expected end of line");
    }
  eat_newline (ps);
  return 0;
}

static int
parse_escape (parser_t *ps, kata_buf_t *b)
{
  const char *bs = ps->p; /* the backslash */
  int col = col_of (ps, bs);
  char c;

  if (ps->p + 1 >= ps->end)
    return perr (ps, ps->line, col, "unterminated escape sequence");
  c = ps->p[1];
  ps->p += 2;
  switch (c)
    {
    case 'b':
      kata_buf_appendc (b, '\b');
      return 0;
    case 't':
      kata_buf_appendc (b, '\t');
      return 0;
    case 'n':
      kata_buf_appendc (b, '\n');
      return 0;
    case 'f':
      kata_buf_appendc (b, '\f');
      return 0;
    case 'r':
      kata_buf_appendc (b, '\r');
      return 0;
    case '"':
      kata_buf_appendc (b, '"');
      return 0;
    case '\\':
      kata_buf_appendc (b, '\\');
      return 0;
    case 'u':
    case 'U':
      {
        int n = c == 'u' ? 4 : 8, i;
        uint32_t cp = 0;
        if (ps->end - ps->p < n)
          return perr (ps, ps->line, col, "invalid \\%c escape", c);
        for (i = 0; i < n; i++)
          {
            int h = kata_hexval (ps->p[i]);
            if (h < 0)
              return perr (ps, ps->line, col, "invalid \\%c escape", c);
            cp = (cp << 4) | (uint32_t)h;
          }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
          return perr (ps, ps->line, col, "escape \\%c is not a Unicode scalar value", c);
        if (cp == 0)
          return perr (ps, ps->line, col, "NUL character in string");
        ps->p += n;
        buf_add_utf8 (b, cp);
        return 0;
      }
    default:
      if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7F)
        return perr (ps, ps->line, col, "invalid escape sequence '\\%c'", c);
      return perr (ps, ps->line, col, "invalid escape sequence");
    }
}

/* Parses a string starting at the quote; *OUT is the content. */
static int
parse_string (parser_t *ps, bool allow_multi, char **out, size_t *out_len)
{
  const char q = *ps->p;
  const bool literal = q == '\'';
  const int line = ps->line, col = col_of (ps, ps->p);
  kata_buf_t b = { 0 };
  bool multi = false;

  kata_buf_append (&b, "", 0);
  if (ps->end - ps->p >= 3 && ps->p[1] == q && ps->p[2] == q)
    {
      if (!allow_multi)
        {
          kata_buf_clear (&b);
          return perr (ps, line, col, "multi-line strings are not allowed in keys");
        }
      multi = true;
      ps->p += 3;
      if (at_newline (ps)) /* a newline right after the opening quotes is trimmed */
        eat_newline (ps);
    }
  else
    ps->p++;

  for (;;)
    {
      unsigned char c;
      if (ps->p >= ps->end)
        goto unterminated;
      c = (unsigned char)*ps->p;
      if (c == (unsigned char)q)
        {
          if (!multi)
            {
              ps->p++;
              break;
            }
          size_t nq = 0;
          while (ps->p + nq < ps->end && ps->p[nq] == q)
            nq++;
          if (nq >= 3)
            {
              if (nq > 5)
                {
                  kata_buf_clear (&b);
                  return perr (ps, ps->line, col_of (ps, ps->p + 5), "too many quotes");
                }
              kata_buf_append (&b, ps->p, nq - 3);
              ps->p += nq;
              break;
            }
          kata_buf_append (&b, ps->p, nq);
          ps->p += nq;
          continue;
        }
      if (at_newline (ps))
        {
          if (!multi)
            goto unterminated;
          kata_buf_appendc (&b, '\n');
          eat_newline (ps);
          continue;
        }
      if (c == '\\' && !literal)
        {
          if (multi)
            {
              /* line-ending backslash: trims whitespace and newlines */
              const char *s = ps->p + 1;
              while (s < ps->end && (*s == ' ' || *s == '\t'))
                s++;
              if (s < ps->end && (*s == '\n' || (*s == '\r' && s + 1 < ps->end && s[1] == '\n')))
                {
                  ps->p = s;
                  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || at_newline (ps)))
                    {
                      if (at_newline (ps))
                        eat_newline (ps);
                      else
                        ps->p++;
                    }
                  continue;
                }
            }
          if (parse_escape (ps, &b) < 0)
            {
              kata_buf_clear (&b);
              return -1;
            }
          continue;
        }
      if (is_bad_control (c))
        {
          kata_buf_clear (&b);
          return PERR (ps, "control character in string");
        }
      ps->p++;
      kata_buf_appendc (&b, (char)c);
    }
  *out_len = b.len;
  *out = kata_buf_steal (&b);
  return 0;

unterminated:
  kata_buf_clear (&b);
  return perr (ps, line, col, "unterminated string");
}

static toml_value_t *
new_value (toml_kind_t kind, int line, int col)
{
  toml_value_t *v = xmalloc0 (sizeof (*v));
  v->kind = kind;
  v->line = line;
  v->col = col;
  return v;
}

void
kata_toml_free (toml_value_t *v)
{
  size_t i;

  if (v == NULL)
    return;
  switch (v->kind)
    {
    case TOML_STRING:
      free (v->u.str.s);
      break;
    case TOML_ARRAY:
      for (i = 0; i < v->u.arr.len; i++)
        kata_toml_free (v->u.arr.items[i]);
      free (v->u.arr.items);
      break;
    case TOML_TABLE:
      for (i = 0; i < v->u.tab.len; i++)
        {
          free (v->u.tab.entries[i].key);
          kata_toml_free (v->u.tab.entries[i].value);
        }
      free (v->u.tab.entries);
      break;
    default:
      break;
    }
  free (v);
}

const toml_entry_t *
kata_toml_get_entry (const toml_value_t *t, const char *key)
{
  size_t i;

  if (t == NULL || t->kind != TOML_TABLE || key == NULL)
    return NULL;
  for (i = 0; i < t->u.tab.len; i++)
    if (strcmp (t->u.tab.entries[i].key, key) == 0)
      return &t->u.tab.entries[i];
  return NULL;
}

toml_value_t *
kata_toml_get_key (const toml_value_t *t, const char *key)
{
  const toml_entry_t *e = kata_toml_get_entry (t, key);
  return e ? e->value : NULL;
}

toml_value_t *
kata_toml_get (const toml_value_t *t, const char *path)
{
  const toml_value_t *cur = t;
  const char *s = path;

  if (path == NULL)
    return NULL;
  for (;;)
    {
      const char *dot = strchr (s, '.');
      size_t n = dot ? (size_t)(dot - s) : strlen (s);
      cleanup_free char *k = xstrndup (s, n);
      cur = kata_toml_get_key (cur, k);
      if (cur == NULL || dot == NULL)
        return (toml_value_t *)cur;
      s = dot + 1;
    }
}

const char *
kata_toml_kind_name (toml_kind_t kind)
{
  switch (kind)
    {
    case TOML_TABLE:
      return "table";
    case TOML_ARRAY:
      return "array";
    case TOML_STRING:
      return "string";
    case TOML_INT:
      return "integer";
    case TOML_FLOAT:
      return "float";
    case TOML_BOOL:
      return "boolean";
    }
  return "unknown";
}

/* Adds KEY (owned) to table T. */
static int
table_add (parser_t *ps, toml_value_t *t, char *key, int line, int col, toml_value_t *v)
{
  if (t->u.tab.len >= KATA_TOML_MAX_KEYS)
    {
      free (key);
      kata_toml_free (v);
      return perr (ps, line, col, "too many keys in one table (at most %d)", KATA_TOML_MAX_KEYS);
    }
  if ((t->u.tab.len & (t->u.tab.len - 1)) == 0) /* grow at powers of two */
    t->u.tab.entries
        = xrealloc (t->u.tab.entries, sizeof (toml_entry_t) * (t->u.tab.len ? t->u.tab.len * 2 : 1));
  t->u.tab.entries[t->u.tab.len].key = key;
  t->u.tab.entries[t->u.tab.len].line = line;
  t->u.tab.entries[t->u.tab.len].col = col;
  t->u.tab.entries[t->u.tab.len].value = v;
  t->u.tab.len++;
  return 0;
}

typedef struct
{
  char *k[KATA_TOML_MAX_DEPTH];
  int line[KATA_TOML_MAX_DEPTH], col[KATA_TOML_MAX_DEPTH];
  size_t n;
} keypath_t;

static void
keypath_clear (keypath_t *kp)
{
  size_t i;
  for (i = 0; i < kp->n; i++)
    free (kp->k[i]);
  kp->n = 0;
}

/* key = simple-key *( ws '.' ws simple-key ) */
static int
parse_key (parser_t *ps, keypath_t *kp)
{
  kp->n = 0;
  for (;;)
    {
      int line = ps->line, col = col_of (ps, ps->p);
      char *k;

      if (kp->n >= KATA_TOML_MAX_DEPTH)
        return PERR (ps, "key has too many parts (at most %d)", KATA_TOML_MAX_DEPTH);
      if (ps->p >= ps->end)
        return PERR (ps, "expected a key");
      if (*ps->p == '"' || *ps->p == '\'')
        {
          size_t len;
          if (parse_string (ps, false, &k, &len) < 0)
            return -1;
        }
      else if (is_bare (*ps->p))
        {
          const char *s = ps->p;
          while (ps->p < ps->end && is_bare (*ps->p))
            ps->p++;
          k = xstrndup (s, (size_t)(ps->p - s));
        }
      else
        {
          unsigned char c = (unsigned char)*ps->p;
          if (c >= 0x20 && c < 0x7F)
            return PERR (ps, "expected a key, got '%c'", c);
          return PERR (ps, "expected a key");
        }
      kp->k[kp->n] = k;
      kp->line[kp->n] = line;
      kp->col[kp->n] = col;
      kp->n++;
      skip_ws (ps);
      if (ps->p < ps->end && *ps->p == '.')
        {
          ps->p++;
          skip_ws (ps);
          continue;
        }
      return 0;
    }
}

static int parse_value (parser_t *ps, int depth, toml_value_t **out);

static int
parse_array (parser_t *ps, int depth, toml_value_t **out)
{
  toml_value_t *a = new_value (TOML_ARRAY, ps->line, col_of (ps, ps->p));
  size_t cap = 0;

  if (depth >= KATA_TOML_MAX_DEPTH)
    {
      kata_toml_free (a);
      return PERR (ps, "arrays nested too deeply (at most %d)", KATA_TOML_MAX_DEPTH);
    }
  ps->p++; /* '[' */
  for (;;)
    {
      toml_value_t *v;
      if (skip_ws_nl (ps) < 0)
        goto fail;
      if (ps->p >= ps->end)
        {
          perr (ps, a->line, a->col, "unterminated array");
          goto fail;
        }
      if (*ps->p == ']')
        break;
      if (parse_value (ps, depth + 1, &v) < 0)
        goto fail;
      if (a->u.arr.len == cap)
        {
          cap = cap ? cap * 2 : 4;
          a->u.arr.items = xrealloc (a->u.arr.items, cap * sizeof (*a->u.arr.items));
        }
      a->u.arr.items[a->u.arr.len++] = v;
      if (skip_ws_nl (ps) < 0)
        goto fail;
      if (ps->p >= ps->end)
        {
          perr (ps, a->line, a->col, "unterminated array");
          goto fail;
        }
      if (*ps->p == ',')
        {
          ps->p++;
          continue;
        }
      if (*ps->p == ']')
        break;
      PERR (ps, "expected ',' or ']' in array");
      goto fail;
    }
  ps->p++; /* ']' */
  *out = a;
  return 0;
fail:
  kata_toml_free (a);
  return -1;
}

/* Digits with single '_' between digits.  Appends the digits to B. */
static bool
scan_digits (const char **pp, const char *end, int base, kata_buf_t *b)
{
  const char *p = *pp;
  bool any = false;

  while (p < end)
    {
      int h = kata_hexval (*p);
      if (h >= 0 && h < base)
        {
          kata_buf_appendc (b, *p);
          any = true;
          p++;
        }
      else if (*p == '_' && any && p + 1 < end && kata_hexval (p[1]) >= 0 && kata_hexval (p[1]) < base)
        p++;
      else
        break;
    }
  *pp = p;
  return any;
}

static int
parse_number (parser_t *ps, toml_value_t **out)
{
  const char *s = ps->p, *p = s, *end = s;
  const int line = ps->line, col = col_of (ps, s);
  cleanup_free char *digits = NULL;
  kata_buf_t b = { 0 };
  bool neg = false, is_float = false;
  toml_value_t *v;

  while (end < ps->end && (is_bare (*end) || *end == '+' || *end == '.' || *end == ':'))
    end++;
  if (end - s >= 10 && s[4] == '-' && s[7] == '-')
    return perr (ps, line, col, "dates and times are not supported");
  if (end == s)
    {
      unsigned char c = (unsigned char)*s;
      if (c >= 0x20 && c < 0x7F)
        return perr (ps, line, col, "invalid value starting with '%c'", c);
      return perr (ps, line, col, "invalid value");
    }

  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  if ((size_t)(end - p) == 3 && (memcmp (p, "inf", 3) == 0 || memcmp (p, "nan", 3) == 0))
    {
      v = new_value (TOML_FLOAT, line, col);
      v->u.f = p[0] == 'i' ? INFINITY : NAN;
      if (neg)
        v->u.f = -v->u.f;
      ps->p = end;
      *out = v;
      return 0;
    }
  if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'o' || p[1] == 'b'))
    {
      int base = p[1] == 'x' ? 16 : p[1] == 'o' ? 8 : 2;
      uint64_t u = 0;
      if (p != s)
        goto invalid; /* no sign on prefixed integers */
      p += 2;
      if (!scan_digits (&p, end, base, &b) || p != end)
        goto invalid;
      for (size_t i = 0; i < b.len; i++)
        {
          uint64_t d = (uint64_t)kata_hexval (b.data[i]);
          if (u > (UINT64_C (0x7FFFFFFFFFFFFFFF) - d) / (uint64_t)base)
            goto range;
          u = u * (uint64_t)base + d;
        }
      kata_buf_clear (&b);
      v = new_value (TOML_INT, line, col);
      v->u.i = (int64_t)u;
      ps->p = end;
      *out = v;
      return 0;
    }

  /* decimal: int-part [ '.' digits ] [ e [+-] digits ] */
  if (neg)
    kata_buf_appendc (&b, '-');
  {
    size_t before = b.len;
    if (!scan_digits (&p, end, 10, &b))
      goto invalid;
    if (b.data[before] == '0' && b.len - before > 1)
      {
        kata_buf_clear (&b);
        return perr (ps, line, col, "leading zeros are not allowed");
      }
  }
  if (p < end && *p == '.')
    {
      is_float = true;
      kata_buf_appendc (&b, '.');
      p++;
      if (!scan_digits (&p, end, 10, &b))
        goto invalid;
    }
  if (p < end && (*p == 'e' || *p == 'E'))
    {
      is_float = true;
      kata_buf_appendc (&b, 'e');
      p++;
      if (p < end && (*p == '+' || *p == '-'))
        kata_buf_appendc (&b, *p++);
      if (!scan_digits (&p, end, 10, &b))
        goto invalid;
    }
  if (p != end)
    goto invalid;
  digits = kata_buf_steal (&b);
  if (is_float)
    {
      v = new_value (TOML_FLOAT, line, col);
      v->u.f = strtod (digits, NULL);
    }
  else
    {
      char *e;
      long long ll;
      errno = 0;
      ll = strtoll (digits, &e, 10);
      if (errno == ERANGE)
        return perr (ps, line, col, "integer out of range");
      v = new_value (TOML_INT, line, col);
      v->u.i = (int64_t)ll;
    }
  ps->p = end;
  *out = v;
  return 0;

invalid:
  kata_buf_clear (&b);
  return perr (ps, line, col, "invalid value '%.*s'", (int)(end - s > 40 ? 40 : end - s), s);
range:
  kata_buf_clear (&b);
  return perr (ps, line, col, "integer out of range");
}

static bool
word_at (const parser_t *ps, const char *w)
{
  size_t n = strlen (w);
  return (size_t)(ps->end - ps->p) >= n && memcmp (ps->p, w, n) == 0
         && (ps->p + n == ps->end || !is_bare (ps->p[n]));
}

static int
parse_value (parser_t *ps, int depth, toml_value_t **out)
{
  const int line = ps->line, col = col_of (ps, ps->p);

  if (ps->p >= ps->end || at_newline (ps) || *ps->p == '#')
    return PERR (ps, "expected a value");
  switch (*ps->p)
    {
    case '"':
    case '\'':
      {
        char *s;
        size_t len;
        if (parse_string (ps, true, &s, &len) < 0)
          return -1;
        *out = new_value (TOML_STRING, line, col);
        (*out)->u.str.s = s;
        (*out)->u.str.len = len;
        return 0;
      }
    case '[':
      return parse_array (ps, depth, out);
    case '{':
      return PERR (ps, "inline tables are not supported");
    case 't':
    case 'f':
      if (word_at (ps, "true") || word_at (ps, "false"))
        {
          *out = new_value (TOML_BOOL, line, col);
          (*out)->u.b = *ps->p == 't';
          ps->p += (*out)->u.b ? 4 : 5;
          return 0;
        }
      break;
    default:
      break;
    }
  return parse_number (ps, out);
}

static void
describe_key (const keypath_t *kp, size_t upto, kata_buf_t *b)
{
  size_t i;
  kata_buf_append (b, "", 0);
  for (i = 0; i <= upto && i < kp->n; i++)
    {
      if (i)
        kata_buf_appendc (b, '.');
      kata_buf_append (b, kp->k[i], strlen (kp->k[i]));
    }
}

static int
err_key (parser_t *ps, const keypath_t *kp, size_t i, const char *what, const char *why)
{
  kata_buf_t b = { 0 };
  describe_key (kp, i, &b);
  perr (ps, kp->line[i], kp->col[i], "%s'%s'%s", what, b.data, why);
  kata_buf_clear (&b);
  return -1;
}

/* "[a.b.c]": makes the table current. */
static int
parse_header (parser_t *ps, toml_value_t *root, toml_value_t **current)
{
  keypath_t kp = { .n = 0 };
  toml_value_t *t = root;
  const int hline = ps->line, hcol = col_of (ps, ps->p);
  size_t i;
  int ret = -1;

  ps->p++; /* '[' */
  if (ps->p < ps->end && *ps->p == '[')
    return PERR (ps, "arrays of tables are not supported");
  skip_ws (ps);
  if (parse_key (ps, &kp) < 0)
    goto out;
  if (ps->p >= ps->end || *ps->p != ']')
    {
      PERR (ps, "expected ']' to end the table header");
      goto out;
    }
  ps->p++;
  for (i = 0; i < kp.n; i++)
    {
      const bool last = i + 1 == kp.n;
      toml_value_t *next = kata_toml_get_key (t, kp.k[i]);
      if (next == NULL)
        {
          next = new_value (TOML_TABLE, hline, hcol);
          next->u.tab.how = last ? HOW_HEADER : HOW_IMPLICIT;
          if (table_add (ps, t, xstrdup (kp.k[i]), kp.line[i], kp.col[i], next) < 0)
            goto out;
        }
      else if (next->kind != TOML_TABLE)
        {
          err_key (ps, &kp, i, "key ", " is already defined and is not a table");
          goto out;
        }
      else if (last)
        {
          if (next->u.tab.how != HOW_IMPLICIT)
            {
              err_key (ps, &kp, i, "table ", " is already defined");
              goto out;
            }
          next->u.tab.how = HOW_HEADER;
          next->line = hline;
          next->col = hcol;
        }
      t = next;
    }
  *current = t;
  ret = 0;
out:
  keypath_clear (&kp);
  return ret;
}

static int
parse_keyval (parser_t *ps, toml_value_t *table)
{
  keypath_t kp = { .n = 0 };
  toml_value_t *t = table, *v = NULL;
  size_t i;
  int ret = -1;

  if (parse_key (ps, &kp) < 0)
    goto out;
  if (ps->p >= ps->end || *ps->p != '=')
    {
      PERR (ps, "expected '=' after key");
      goto out;
    }
  ps->p++;
  skip_ws (ps);
  for (i = 0; i + 1 < kp.n; i++)
    {
      toml_value_t *next = kata_toml_get_key (t, kp.k[i]);
      if (next == NULL)
        {
          next = new_value (TOML_TABLE, kp.line[i], kp.col[i]);
          next->u.tab.how = HOW_DOTTED;
          if (table_add (ps, t, xstrdup (kp.k[i]), kp.line[i], kp.col[i], next) < 0)
            goto out;
        }
      else if (next->kind != TOML_TABLE)
        {
          err_key (ps, &kp, i, "key ", " is already defined and is not a table");
          goto out;
        }
      else if (next->u.tab.how != HOW_DOTTED)
        {
          err_key (ps, &kp, i, "table ", " is already defined");
          goto out;
        }
      t = next;
    }
  if (kata_toml_get_key (t, kp.k[kp.n - 1]) != NULL)
    {
      err_key (ps, &kp, kp.n - 1, "duplicate key ", "");
      goto out;
    }
  if (parse_value (ps, 0, &v) < 0)
    goto out;
  ret = table_add (ps, t, kp.k[kp.n - 1], kp.line[kp.n - 1], kp.col[kp.n - 1], v);
  kp.n--; /* the last key is now owned by the table */
out:
  keypath_clear (&kp);
  return ret;
}

int
kata_toml_parse (const char *data, size_t len, const char *filename, toml_value_t **out, kata_error_t **err)
{
  parser_t ps = { .start = data,
                  .p = data,
                  .end = data + len,
                  .line = 1,
                  .line_start = data,
                  .filename = filename ? filename : "<input>",
                  .err = err };
  toml_value_t *root, *current;

  if (len > KATA_TOML_MAX_SIZE)
    return kata_make_error_nostr (err, KATA_EBADCONFIG, "%s: file too large (%zu bytes, at most %d)",
                                  ps.filename, len, KATA_TOML_MAX_SIZE);
  if (validate_utf8 (&ps) < 0)
    return -1;
  /* a byte-order mark is tolerated */
  if (len >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0)
    ps.p += 3, ps.line_start = ps.p;
  root = current = new_value (TOML_TABLE, 1, 1);
  root->u.tab.how = HOW_HEADER;
  for (;;)
    {
      skip_ws (&ps);
      if (ps.p >= ps.end)
        break;
      if (*ps.p == '#')
        {
          if (skip_comment (&ps) < 0)
            goto fail;
          continue;
        }
      if (at_newline (&ps))
        {
          eat_newline (&ps);
          continue;
        }
      if (*ps.p == '[')
        {
          if (parse_header (&ps, root, &current) < 0)
            goto fail;
        }
      else if (parse_keyval (&ps, current) < 0)
        goto fail;
      if (expect_eol (&ps) < 0)
        goto fail;
    }
  *out = root;
  return 0;
fail:
  kata_toml_free (root);
  return -1;
}

int
kata_toml_parse_file (const char *path, toml_value_t **out, kata_error_t **err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;

  if (kata_read_file (path, &data, &len, KATA_TOML_MAX_SIZE + 1, err) < 0)
    return -1;
  return kata_toml_parse (data, len, path, out, err);
}
