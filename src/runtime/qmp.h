/* A small blocking QMP client (QEMU Machine Protocol). */
#ifndef KATA_QMP_H
#define KATA_QMP_H
#include <stdbool.h>
#include <yajl/yajl_tree.h>
#include "common/error.h"

typedef struct kata_qmp_s kata_qmp_t;

/* Takes FD (a connected stream socket), reads the greeting and negotiates
   capabilities.  FD is owned by the client afterwards (closed on failure too). */
int kata_qmp_connect_fd (int fd, int timeout_ms, kata_qmp_t **out, kata_error_t **err);
/* Connects to the unix socket PATH, retrying while it does not exist yet. */
int kata_qmp_connect (const char *path, int timeout_ms, kata_qmp_t **out, kata_error_t **err);
void kata_qmp_close (kata_qmp_t *q);

/* Executes COMMAND with ARGS_JSON (an object, or NULL) and waits for its answer.
   *RET (may be NULL) gets the whole reply tree; its "return" is kata_json_get (*ret, "return").
   A QMP error gives status KATA_EPROTO with QEMU's "desc".  Events read meanwhile are queued. */
int kata_qmp_execute (kata_qmp_t *q, const char *command, const char *args_json, yajl_val *ret,
                      int timeout_ms, kata_error_t **err);

/* getfd: hands FD (ours stays open) to QEMU under FDNAME (for netdev_add fd=FDNAME). */
int kata_qmp_getfd (kata_qmp_t *q, const char *fdname, int fd, kata_error_t **err);

/* Takes the next event (queued, or read within TIMEOUT_MS; 0 = only queued).  Returns 1 with
 *EV (free with yajl_tree_free), 0 on timeout, -1 on error. */
int kata_qmp_next_event (kata_qmp_t *q, yajl_val *ev, int timeout_ms, kata_error_t **err);
/* Waits for event NAME whose data.KEY equals VALUE (KEY NULL: any); other events stay queued. */
int kata_qmp_wait_event (kata_qmp_t *q, const char *name, const char *key, const char *value, int timeout_ms,
                         kata_error_t **err);

/* Commands. */
int kata_qmp_query_status (kata_qmp_t *q, char **status, bool *running, kata_error_t **err);
int kata_qmp_stop (kata_qmp_t *q, kata_error_t **err);
int kata_qmp_cont (kata_qmp_t *q, kata_error_t **err);
int kata_qmp_quit (kata_qmp_t *q, kata_error_t **err);
int kata_qmp_blockdev_add_file (kata_qmp_t *q, const char *node, const char *path, bool readonly,
                                kata_error_t **err);
int kata_qmp_blockdev_del (kata_qmp_t *q, const char *node, kata_error_t **err);
int kata_qmp_device_add (kata_qmp_t *q, const char *args_json, kata_error_t **err);
/* netdev_del ID. */
int kata_qmp_netdev_del (kata_qmp_t *q, const char *id, kata_error_t **err);
/* device_del and wait (up to TIMEOUT_MS) for DEVICE_DELETED of ID. */
int kata_qmp_device_del (kata_qmp_t *q, const char *id, int timeout_ms, kata_error_t **err);
int kata_qmp_migrate_set_capability (kata_qmp_t *q, const char *capability, bool state, kata_error_t **err);
int kata_qmp_migrate (kata_qmp_t *q, const char *uri, kata_error_t **err);
int kata_qmp_migrate_incoming (kata_qmp_t *q, const char *uri, kata_error_t **err);
/* *STATUS gets query-migrate's "status" ("active", "completed", "failed", ...). */
int kata_qmp_query_migrate (kata_qmp_t *q, char **status, kata_error_t **err);

#endif
