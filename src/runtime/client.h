/* A client of the sandbox monitor (and through it, of the agent). */
#ifndef KATA_CLIENT_H
#define KATA_CLIENT_H
#include <stdint.h>
#include <yajl/yajl_tree.h>
#include "common/error.h"

typedef struct kata_client_s kata_client_t;

/* Connects to <root>/sbs/<sid>/monitor.sock.  A refused or missing socket gives
   status KATA_EVMDEAD ("sandbox SID is not running"). */
int kata_client_connect (const char *root, const char *sandbox_id, kata_client_t **out, kata_error_t **err);
/* A client over FD, an already connected stream socket (it takes FD: kata_client_close
   closes it).  SANDBOX_ID names the sandbox in errors.  For tests and fuzzers. */
kata_client_t *kata_client_from_fd (int fd, const char *sandbox_id);

/* One request/response.  PARAMS_JSON NULL means {}.  On success *root is the parsed
   response (free with yajl_tree_free) and *result its "result" object (may pass NULLs
   to ignore).  TIMEOUT_MS <= 0 waits forever.  Agent errors: status KATA_EAGENT with
   the agent's message; VM death: KATA_EVMDEAD. */
int kata_client_call (kata_client_t *c, const char *method, const char *params_json, yajl_val *root,
                      yajl_val *result, int timeout_ms, kata_error_t **err);

/* Events (frames of type EVENT other than vm-dead: the agent's "oom", ...) that arrive
   during kata_client_call or kata_client_wait go to CB (PAYLOAD is not NUL-terminated). */
typedef void (*kata_client_event_cb) (const char *payload, size_t len, void *data);
void kata_client_on_event (kata_client_t *c, kata_client_event_cb cb, void *data);
/* Waits up to TIMEOUT_MS for an event between calls: 1 when one was handed to the
   callback, 0 when the time is up, -1 when the connection is lost or the VM died
   (KATA_EVMDEAD). */
int kata_client_wait (kata_client_t *c, int timeout_ms, kata_error_t **err);

/* Low level, for the shim: the socket fd, and frames it may receive between calls. */
int kata_client_fd (kata_client_t *c);
void kata_client_close (kata_client_t *c);

#endif
