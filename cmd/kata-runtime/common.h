/* Shared command-line handling of kata-runtime's subcommands. */
#ifndef KATA_CMD_COMMON_H
#define KATA_CMD_COMMON_H
#include <argp.h>
#include <stdbool.h>
#include <stdint.h>
#include "common/error.h"
#include "runtime/runtime.h"

/* One subcommand: parses ARGV (ARGV[0] is the verb) and calls the runtime.
   Returns the exit status (>= 0), or -1 with *ERR set. */
typedef int (*kata_cmd_fn) (kata_context_t *ctx, int argc, char **argv, kata_error_t **err);

struct kata_command_s
{
  const char *name;
  kata_cmd_fn fn;
  const char *summary;
  bool hidden;
};

/* Prints the list of commands (main.c). */
void kata_cmd_print_commands (FILE *out);

/* The argp child every subcommand includes: -h/--help. */
extern const struct argp_child kata_cmd_common_children[];
extern const struct argp kata_cmd_common_argp;

/* Parses ARGV with ARGP (ARGP_IN_ORDER), stopping at the first non-option
   argument; *FIRST gets its index.  Returns -1 (+ ERR) on a usage error. */
int kata_cmd_parse (const struct argp *argp, int argc, char **argv, int *first, void *input,
                    kata_error_t **err);

/* runc's check: `"VERB" requires exactly N argument(s)` and friends. */
int kata_cmd_check_args (const char *verb, int nargs, int expected, kata_error_t **err);
int kata_cmd_check_min_args (const char *verb, int nargs, int min, kata_error_t **err);
/* Exactly one argument, a valid container id. */
int kata_cmd_get_id (const char *verb, int argc, char **argv, int first, const char **id, kata_error_t **err);

/* "KILL", "SIGKILL", "sigkill", "9", "RTMIN+3" -> the signal number. */
int kata_parse_signal (const char *s, int *signum, kata_error_t **err);
/* Go durations ("5s", "1m30s", "250ms", "1h"; a bare "0") -> nanoseconds. */
int kata_parse_duration (const char *s, uint64_t *ns, kata_error_t **err);
/* docker/go-units RAMInBytes: "256m", "1g", "1024", "512KiB" (binary units). */
int kata_parse_mem_size (const char *s, int64_t *bytes, kata_error_t **err);
/* A decimal integer in [MIN, MAX]. */
int kata_parse_int (const char *flag, const char *s, long long min, long long max, long long *out,
                    kata_error_t **err);

/* create and run share their flags. */
extern const struct argp_option kata_create_options[];
/* Handles one create flag; ARGP_ERR_UNKNOWN for other keys. */
error_t kata_create_parse_key (int key, char *arg, struct argp_state *state, kata_create_opts_t *opts);

/* --preserve-fds N > 0 is refused: host fds cannot be handed to a process in the VM
   (docs/compatibility.md). */
int kata_cmd_check_preserve_fds (int n, kata_error_t **err);

/* First line of `QEMU --version` (malloc'd), or -1 with ERR. */
int kata_cmd_qemu_version (const char *qemu, char **version, kata_error_t **err);
/* Runs ARGV (execvp; stdin /dev/null) and collects its stdout, with its stderr too when
   WITH_STDERR (else stderr goes to /dev/null), at most MAX bytes, into *OUT (never NULL on
   success); *STATUS gets the wait status.  -1 only when it could not be run or read. */
int kata_cmd_capture (char *const argv[], int with_stderr, size_t max, char **out, int *status,
                      kata_error_t **err);

/* Prints the version lines (--version and `version`). */
void kata_cmd_print_version (FILE *out);

/* Writes JSON/text to stdout followed by a newline. */
int kata_cmd_print (const char *text, kata_error_t **err);

#define KATA_CMD(name) int cmd_##name (kata_context_t *ctx, int argc, char **argv, kata_error_t **err)
KATA_CMD (create);
KATA_CMD (start);
KATA_CMD (run);
KATA_CMD (kill);
KATA_CMD (delete);
KATA_CMD (state);
KATA_CMD (list);
KATA_CMD (ps);
KATA_CMD (exec);
KATA_CMD (pause);
KATA_CMD (resume);
KATA_CMD (events);
KATA_CMD (update);
KATA_CMD (spec);
KATA_CMD (features);
KATA_CMD (kata_check);
KATA_CMD (kata_env);
KATA_CMD (factory);
KATA_CMD (version);

#endif
