#include "provisioner/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provisioner/cloudinit.h"
#include "provisioner/commands.h"
#include "provisioner/spec.h"
#include "domains/uri.h"
#include "domains/errors.h"
#include "gpu/inventory.h"
#include "provisioner/ready-error.h"

G_DEFINE_QUARK(vs - cli - error - quark, vs_cli_error)

const VsOption vs_cli_global_options[] = {
    {"connect", 'c', 0, VS_STRING(VsCli, uri),
     "libvirt connection URI (default: LIBVIRT_DEFAULT_URI, qemu:///system for root, "
     "qemu:///session otherwise)",
     "URI"},
    {"quiet", 'q', 0, VS_FLAG(VsCli, quiet), "Print no progress"},
    {"debug", 0, 0, VS_FLAG(VsCli, debug), "Print debugging detail"},
    {"json", 0, 0, VS_FLAG(VsCli, json), "Machine-readable output, where supported"},
    {"help", 'h', 0, VS_FLAG(VsCli, help), "Show help"},
    {NULL},
};

GOptionGroup *
vs_cli_global_group(VsCli *cli)
{
    g_autofree GOptionEntry *entries = vs_options_bind(vs_cli_global_options, cli);
    GOptionGroup *group =
        g_option_group_new("global", "Global options:", "Show the global options", cli, NULL);

    g_option_group_add_entries(group, entries);
    return group;
}

gboolean
vs_cli_parse(VsCli *cli, const VsCommand *cmd, void *options, int *argc, char ***argv,
             GError **error)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(cmd->args);
    g_autofree GOptionEntry *entries = vs_options_bind(cmd->options, options);

    g_assert(options || !cmd->options);
    g_option_context_set_summary(ctx, cmd->description);
    g_option_context_set_help_enabled(ctx, FALSE);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_group(ctx, vs_cli_global_group(cli));
    if (!g_option_context_parse(ctx, argc, argv, error)) {
        g_prefix_error(error, "%s: ", cmd->name);
        return FALSE;
    }
    if (cli->help) {
        /* GOption would write "virt-station [OPTION…] exec NAME"; the command goes first. */
        g_autofree char *help = g_option_context_get_help(ctx, FALSE, NULL);
        g_autofree char *wrong = g_strdup_printf("%s [OPTION…] ", g_get_prgname());
        g_autofree char *right = g_strdup_printf("virt-station %s [OPTION…] ", cmd->name);
        const char *at = strstr(help, wrong);
        if (at)
            printf("%.*s%s%s", (int)(at - help), help, right, at + strlen(wrong));
        else
            fputs(help, stdout);
        exit(VS_EXIT_OK);
    }
    if (cli->json && !cmd->json) {
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE, "%s: --json is not supported here",
                    cmd->name);
        return FALSE;
    }
    return TRUE;
}

char *
vs_cli_uri(const VsCli *cli, GError **error)
{
    g_autoptr(VsSpec) unused = vs_spec_new();
    g_autofree char *configured = NULL;

    if (cli->uri)
        return g_strdup(cli->uri);
    if (!g_getenv("LIBVIRT_DEFAULT_URI") && !vs_spec_load_config(unused, &configured, error))
        return NULL;
    return vs_uri_default(configured);
}

/* Indexed by status: a status added after the last fails to compile until it has its words. */
static const char *const exit_meanings[] = {
    [VS_EXIT_OK] = "success",        [VS_EXIT_ERROR] = "error",
    [VS_EXIT_USAGE] = "bad usage",   [VS_EXIT_REFUSED] = "refused or not found",
    [VS_EXIT_TIMEOUT] = "timed out", [VS_EXIT_CLOUD_INIT] = "cloud-init finished with errors",
};
G_STATIC_ASSERT(G_N_ELEMENTS(exit_meanings) == VS_EXIT_COUNT);

const char *
vs_cli_exit_meaning(VsExit status)
{
    g_assert(status < VS_EXIT_COUNT && exit_meanings[status]);
    return exit_meanings[status];
}

VsExit
vs_cli_exit_status(const GError *error)
{
    if (error->domain == G_OPTION_ERROR)
        return VS_EXIT_USAGE;
    if (error->domain == VS_CLI_ERROR) {
        switch ((VsCliError)error->code) {
        case VS_CLI_ERROR_USAGE:
            return VS_EXIT_USAGE;
        case VS_CLI_ERROR_REFUSED:
            return VS_EXIT_REFUSED;
        case VS_CLI_ERROR_TIMEOUT:
            return VS_EXIT_TIMEOUT;
        case VS_CLI_ERROR_FAILED:
            return VS_EXIT_ERROR;
        case VS_CLI_ERROR_CLOUD_INIT:
            return VS_EXIT_CLOUD_INIT;
        }
    }
    if (error->domain == VS_READY_ERROR)
        return error->code == VS_READY_ERROR_CLOUD_INIT ? VS_EXIT_CLOUD_INIT : VS_EXIT_ERROR;
    if (error->domain == VS_SPEC_ERROR)
        return VS_EXIT_USAGE;
    if (error->domain == VS_GPU_ERROR)
        return error->code == VS_GPU_ERROR_INVALID   ? VS_EXIT_USAGE
               : error->code == VS_GPU_ERROR_UNKNOWN ? VS_EXIT_REFUSED
                                                     : VS_EXIT_ERROR;
    if (error->domain == VS_CLOUDINIT_ERROR)
        return error->code == VS_CLOUDINIT_ERROR_USAGE ? VS_EXIT_USAGE : VS_EXIT_ERROR;
    if (error->domain == VS_DOMAINS_ERROR) {
        switch ((VsDomainsError)error->code) {
        case VS_DOMAINS_ERROR_NOT_FOUND:
        case VS_DOMAINS_ERROR_EXISTS:
        case VS_DOMAINS_ERROR_FOREIGN:
        case VS_DOMAINS_ERROR_REFUSED:
            return VS_EXIT_REFUSED;
        case VS_DOMAINS_ERROR_INVALID:
            return VS_EXIT_USAGE;
        case VS_DOMAINS_ERROR_TIMEOUT:
            return VS_EXIT_TIMEOUT;
        case VS_DOMAINS_ERROR_FAILED:
        case VS_DOMAINS_ERROR_CANCELLED:
        case VS_DOMAINS_ERROR_STOPPED:
            return VS_EXIT_ERROR;
        }
    }
    return VS_EXIT_ERROR;
}

int
vs_cli_fail(const VsCli *cli, const char *command, const GError *error)
{
    fprintf(stderr, "virt-station: %s\n", error->message);
    if (vs_cli_exit_status(error) == VS_EXIT_USAGE && command)
        fprintf(stderr, "Try 'virt-station %s --help'.\n", command);
    return vs_cli_exit_status(error);
}

void
vs_cli_progress(const VsCli *cli, const char *format, ...)
{
    va_list ap;

    if (cli->quiet)
        return;
    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", msg);
}

void
vs_cli_warn(const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    fprintf(stderr, "virt-station: warning: %s\n", msg);
}
