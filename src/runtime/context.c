/* The context of one CLI call: configuration, id validation. */
#include "config.h"
#include "runtime/runtime.h"
#include "runtime/log.h"
#include "common/utils.h"
#include <errno.h>
#include <string.h>

static void
config_warn (const char *msg)
{
  kata_warn ("%s", msg);
}

int
kata_context_load_config (kata_context_t *ctx, kata_error_t **err)
{
  if (ctx->cfg)
    return 0;
  if (kata_config_load (ctx->kata_config, &ctx->cfg, config_warn, err) < 0)
    return kata_error_wrap (err, "load configuration");
  return 0;
}

int
kata_validate_id (const char *id, kata_error_t **err)
{
  size_t i, len;

  if (id == NULL || id[0] == '\0')
    return kata_make_error_nostr (err, KATA_EBADID, "invalid id format: %s", id ? id : "");
  len = strlen (id);
  if (len > 1024)
    return kata_make_error_nostr (err, KATA_EBADID, "invalid id format: %.64s... (longer than 1024 bytes)", id);
  for (i = 0; i < len; i++)
    {
      char c = id[i];
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '+'
            || c == '-' || c == '.'))
        return kata_make_error_nostr (err, KATA_EBADID, "invalid id format: %s", id);
    }
  if (strcmp (id, ".") == 0 || strcmp (id, "..") == 0)
    return kata_make_error_nostr (err, KATA_EBADID, "invalid id format: %s", id);
  return 0;
}
