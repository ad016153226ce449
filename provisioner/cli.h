/* What every command shares: global options, exit statuses, reporting an error once. */
#pragma once

#include <glib.h>

typedef enum {
    VS_EXIT_OK = 0,
    VS_EXIT_ERROR = 1,
    VS_EXIT_USAGE = 2,
    VS_EXIT_REFUSED = 3,
    VS_EXIT_TIMEOUT = 4,
    VS_EXIT_CLOUD_INIT = 5,
} VsExit;

#define VS_CLI_ERROR (vs_cli_error_quark())
GQuark vs_cli_error_quark(void);

typedef enum {
    VS_CLI_ERROR_USAGE,      /* exit 2 */
    VS_CLI_ERROR_REFUSED,    /* exit 3 */
    VS_CLI_ERROR_TIMEOUT,    /* exit 4 */
    VS_CLI_ERROR_FAILED,     /* exit 1 */
    VS_CLI_ERROR_CLOUD_INIT, /* exit 5: the workstation runs, cloud-init reported errors */
} VsCliError;

typedef struct {
    char *uri; /* -c/--connect, NULL when not given */
    gboolean quiet;
    gboolean debug;
    gboolean json;
    gboolean help; /* -h/--help */
} VsCli;

typedef int (*VsCommandFunc)(VsCli *cli, int argc, char **argv);

typedef struct {
    const char *name;
    const char *args;    /* parameter string shown in usage, after the name */
    const char *summary; /* one line for `virt-station --help` */
    VsCommandFunc run;   /* NULL: the command lives in the libvirt module */
    gboolean json;       /* the command supports --json */
    const char *symbol;  /* the command's function in the libvirt module */
} VsCommand;

/* Returns the command table, terminated by an entry with a NULL name. */
const VsCommand *vs_cli_commands(void);

/* Returns the option group for the global options, bound to @cli. */
GOptionGroup *vs_cli_global_group(VsCli *cli);

/* Parses a command's options (its @entries plus the global ones) from @argc/@argv, leaving the
 * positional arguments. --help prints and exits 0. Returns FALSE with @error set on bad usage. */
gboolean vs_cli_parse(VsCli *cli, const VsCommand *cmd, const GOptionEntry *entries, int *argc,
                      char ***argv, GError **error);

/* Returns the libvirt URI to use: -c, else LIBVIRT_DEFAULT_URI, else config.yaml's connect, else
 * qemu:///system for root and qemu:///session for others. NULL with @error for a bad config. */
char *vs_cli_uri(const VsCli *cli, GError **error);

/* Returns the exit status that @error calls for. */
VsExit vs_cli_exit_status(const GError *error);

/* Prints @error once on stderr and returns the exit status it calls for. */
int vs_cli_fail(const VsCli *cli, const char *command, const GError *error);

/* Prints a progress line on stderr unless --quiet. */
void vs_cli_progress(const VsCli *cli, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Prints a warning on stderr (even with --quiet). */
void vs_cli_warn(const char *format, ...) G_GNUC_PRINTF(1, 2);
