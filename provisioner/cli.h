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

#define VS_EXIT_COUNT (VS_EXIT_CLOUD_INIT + 1)

/* Returns what @status means, in a few words ("refused or not found"). */
const char *vs_cli_exit_meaning(VsExit status);

#define VS_CLI_ERROR (vs_cli_error_quark())
GQuark vs_cli_error_quark(void);

typedef enum {
    VS_CLI_ERROR_USAGE,      /* exit 2 */
    VS_CLI_ERROR_REFUSED,    /* exit 3 */
    VS_CLI_ERROR_TIMEOUT,    /* exit 4 */
    VS_CLI_ERROR_FAILED,     /* exit 1 */
    VS_CLI_ERROR_CLOUD_INIT, /* exit 5: the workstation runs, cloud-init reported errors */
} VsCliError;

/* The global options. */
typedef struct {
    char *uri; /* -c/--connect, NULL when not given */
    gboolean quiet;
    gboolean debug;
    gboolean json;
    gboolean help; /* -h/--help */
} VsCli;

/* A command's table entry (commands.h). */
typedef struct VsCommand VsCommand;

/* Returns the option group for the global options, bound to @cli. */
GOptionGroup *vs_cli_global_group(VsCli *cli);

/* Parses @cmd's options (its table's, into @options, the struct their offsets refer to, plus the
 * global ones into @cli) from @argc/@argv, leaving the positional arguments. --help prints and
 * exits 0. Returns FALSE with @error set on bad usage. */
gboolean vs_cli_parse(VsCli *cli, const VsCommand *cmd, void *options, int *argc, char ***argv,
                      GError **error);

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
