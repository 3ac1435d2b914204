/* kata-runtime list [--format table|json] [--quiet] */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/kata-runtime/common.h"
#include "common/json.h"
#include "common/utils.h"

struct list_args
{
  const char *format;
  bool quiet;
};

static const struct argp_option options[] = {
  { "format", 'f', "FORMAT", 0, "select one of: table or json (default: \"table\")", 0 },
  { "quiet", 'q', NULL, 0, "display only container IDs", 0 },
  { 0 },
};

static error_t
parse_opt (int key, char *arg, struct argp_state *state)
{
  struct list_args *a = state->input;
  switch (key)
    {
    case 'f':
      a->format = arg;
      return 0;
    case 'q':
      a->quiet = true;
      return 0;
    default:
      return ARGP_ERR_UNKNOWN;
    }
}

static const struct argp argp
    = { options,
        parse_opt,
        NULL,
        "lists containers started by kata-runtime with the given root\v"
        "The global option \"--root\" specifies the root directory where containers "
        "are stored.",
        kata_cmd_common_children,
        NULL,
        NULL };

/* Go's text/tabwriter as runc uses it: minwidth 12, padding 3. */
static void
print_table (const kata_container_summary_t *s, size_t n)
{
  enum
  {
    NCOL = 6
  };
  static const char *const hdr[NCOL] = { "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER" };
  size_t w[NCOL], i, c;
  char pid[32];

  for (c = 0; c < NCOL; c++)
    w[c] = strlen (hdr[c]);
  for (i = 0; i < n; i++)
    {
      const char *cells[NCOL] = { s[i].id, pid, s[i].status, s[i].bundle, s[i].created, s[i].owner };
      snprintf (pid, sizeof pid, "%d", (int)s[i].pid);
      for (c = 0; c < NCOL; c++)
        if (cells[c] && strlen (cells[c]) > w[c])
          w[c] = strlen (cells[c]);
    }
  for (c = 0; c < NCOL - 1; c++)
    w[c] = w[c] + 3 < 12 ? 12 : w[c] + 3;
  for (c = 0; c < NCOL; c++)
    printf ("%-*s%s", c < NCOL - 1 ? (int)w[c] : 0, hdr[c], c < NCOL - 1 ? "" : "\n");
  for (i = 0; i < n; i++)
    {
      const char *cells[NCOL] = { s[i].id, pid, s[i].status, s[i].bundle, s[i].created, s[i].owner };
      snprintf (pid, sizeof pid, "%d", (int)s[i].pid);
      for (c = 0; c < NCOL; c++)
        printf ("%-*s%s", c < NCOL - 1 ? (int)w[c] : 0, cells[c] ? cells[c] : "", c < NCOL - 1 ? "" : "\n");
    }
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* Go's json.Encoder (runc's list) escapes <, >, & and U+2028/U+2029 as \uXXXX.  They only
   occur inside strings in JSON, so the whole text can be rewritten.  Frees J. */
static char *
go_html_escape (char *j)
{
  cleanup_free char *in = j;
  size_t n = 0, k = 0;
  const char *p;
  char *out;

  for (p = in; *p; p++)
    n += (*p == '<' || *p == '>' || *p == '&') ? 6 : 1;
  out = xmalloc (n + 1);
  for (p = in; *p; p++)
    {
      if (*p == '<' || *p == '>' || *p == '&')
        k += (size_t)sprintf (out + k, "\\u%04x", (unsigned)*p);
      else if ((unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x80
               && ((unsigned char)p[2] == 0xa8 || (unsigned char)p[2] == 0xa9))
        {
          /* 3 bytes become 6: grow */
          out = xrealloc (out, n + 4);
          n += 3;
          k += (size_t)sprintf (out + k, "\\u20%02x", (unsigned char)p[2] == 0xa8 ? 0x28 : 0x29);
          p += 2;
        }
      else
        out[k++] = *p;
    }
  out[k] = '\0';
  return out;
}

/* runc's json: the fields of its containerState in Go's order, "annotations" (omitted
   when empty, keys sorted as Go encodes a map) before "owner". */
static char *
to_json (const kata_container_summary_t *s, size_t n)
{
  yajl_gen g;
  size_t i, k, a;

  if (n == 0)
    return xstrdup ("null"); /* runc encodes a nil slice */
  g = kata_gen_new ();
  yajl_gen_array_open (g);
  for (i = 0; i < n; i++)
    {
      yajl_gen_map_open (g);
      kata_gen_kv_str (g, "ociVersion", "1.2.0");
      kata_gen_kv_str (g, "id", s[i].id);
      kata_gen_kv_int (g, "pid", s[i].pid);
      kata_gen_kv_str (g, "status", s[i].status);
      kata_gen_kv_str (g, "bundle", s[i].bundle);
      kata_gen_kv_str (g, "rootfs", s[i].rootfs ? s[i].rootfs : "");
      kata_gen_kv_str (g, "created", s[i].created);
      if (s[i].annotations_len)
        {
          cleanup_free const char **keys = xmalloc0 (s[i].annotations_len * sizeof (char *));
          for (k = 0; k < s[i].annotations_len; k++)
            keys[k] = s[i].annotations_keys[k];
          qsort (keys, s[i].annotations_len, sizeof (char *), cmp_str);
          kata_gen_str (g, "annotations");
          yajl_gen_map_open (g);
          for (k = 0; k < s[i].annotations_len; k++)
            for (a = 0; a < s[i].annotations_len; a++)
              if (s[i].annotations_keys[a] == keys[k])
                {
                  kata_gen_kv_str (g, keys[k], s[i].annotations_values[a]);
                  break;
                }
          yajl_gen_map_close (g);
        }
      kata_gen_kv_str (g, "owner", s[i].owner ? s[i].owner : "");
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
  return go_html_escape (kata_gen_finish (g, NULL));
}

int
cmd_list (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
{
  struct list_args a = { .format = "table" };
  kata_container_summary_t *s = NULL;
  size_t n = 0, i;
  int first, ret = 0;

  if (kata_cmd_parse (&argp, argc, argv, &first, &a, err) < 0)
    return -1;
  if (kata_cmd_check_args ("list", argc - first, 0, err) < 0)
    return -1;
  if (strcmp (a.format, "table") != 0 && strcmp (a.format, "json") != 0)
    return kata_make_error_nostr (err, EINVAL, "invalid format option");
  if (kata_container_list (ctx, &s, &n, err) < 0)
    return -1;
  if (a.quiet)
    for (i = 0; i < n; i++)
      printf ("%s\n", s[i].id);
  else if (strcmp (a.format, "json") == 0)
    {
      cleanup_free char *j = to_json (s, n);
      ret = kata_cmd_print (j, err);
    }
  else
    print_table (s, n);
  kata_container_summary_free (s, n);
  if (ret == 0 && fflush (stdout) != 0)
    return kata_make_error (err, errno, "write to stdout");
  return ret;
}
