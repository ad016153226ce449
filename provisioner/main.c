/* The virt-station command: global options, then one command from the table in commands.c.
 *
 * The program itself links only GLib, libyaml and libarchive. Commands that talk to libvirt live
 * in the module virt-station-libvirt.so (module.c), loaded when a command first needs libvirt:
 * libvirt and its 56 libraries take longer to load (about 30 ms) than `seed` takes to do all
 * its work, or `up --dry-run` with known host facts, so commands that do not need them do not
 * pay for them. A command either lives in the module as a whole (a symbol in the table) or
 * calls into it for its libvirt steps. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "module.h"
#include "vs-config.h"

static void
print_help(FILE *out)
{
    fprintf(out, "Usage: virt-station [GLOBAL OPTIONS] COMMAND [ARGS]\n\n"
                 "Provision and manage GPU-capable workstation VMs on libvirt.\n\n"
                 "Commands:\n");
    for (const VsCommand *cmd = vs_cli_commands(); cmd->name; cmd++)
        fprintf(out, "  %-10s %s\n", cmd->name, cmd->summary);
    fprintf(out, "\nGlobal options (also accepted after the command):\n"
                 "  -c, --connect URI   libvirt connection URI (default: LIBVIRT_DEFAULT_URI,\n"
                 "                      qemu:///system for root, qemu:///session otherwise)\n"
                 "  -q, --quiet         print no progress\n"
                 "      --debug         print debugging detail\n"
                 "      --json          machine-readable output, where the command supports it\n"
                 "  -h, --help          show this help; COMMAND --help shows a command's\n"
                 "      --version       show the version\n\n"
                 "Exit status: 0 success, 1 error, 2 bad usage, 3 refused or not found,\n"
                 "4 timed out, 5 cloud-init finished with errors.\n");
}

/* Returns the function of @cmd, loading the libvirt module when it lives there. */
static VsCommandFunc
command_function(const VsCommand *cmd)
{
    g_autoptr(GError) error = NULL;
    VsCommandFunc func;

    if (cmd->run)
        return cmd->run;
    func = (VsCommandFunc)vs_module_symbol(cmd->symbol, &error);
    if (!func)
        fprintf(stderr, "virt-station: %s\n", error->message);
    return func;
}

static const VsCommand *
find_command(const char *name)
{
    for (const VsCommand *cmd = vs_cli_commands(); cmd->name; cmd++) {
        if (strcmp(cmd->name, name) == 0)
            return cmd;
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    VsCli cli = {0};
    gboolean version = FALSE;
    const GOptionEntry entries[] = {
        {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Show the version", NULL},
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("COMMAND [ARGS]");
    g_autoptr(GError) error = NULL;
    const VsCommand *cmd;

    setlocale(LC_ALL, "");
    /* Global options stop at the first non-option: the command name. */
    g_option_context_set_strict_posix(ctx, TRUE);
    g_set_prgname("virt-station");
    g_option_context_set_help_enabled(ctx, FALSE);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_group(ctx, vs_cli_global_group(&cli));
    if (!g_option_context_parse(ctx, &argc, &argv, &error))
        return vs_cli_fail(&cli, NULL, error) == VS_EXIT_USAGE
                   ? (fprintf(stderr, "Try 'virt-station --help'.\n"), VS_EXIT_USAGE)
                   : VS_EXIT_ERROR;
    if (version) {
        printf("virt-station %s\n", VS_VERSION);
        return VS_EXIT_OK;
    }
    if (cli.help && argc < 2) {
        print_help(stdout);
        return VS_EXIT_OK;
    }
    if (argc < 2) {
        print_help(stderr);
        return VS_EXIT_USAGE;
    }
    if (strcmp(argv[1], "help") == 0) {
        if (argc < 3) {
            print_help(stdout);
            return VS_EXIT_OK;
        }
        /* `help CMD` is `CMD --help`. */
        argv[1] = argv[2];
        argv[2] = (char *)"--help";
        argc = 3;
    }
    cmd = find_command(argv[1]);
    if (!cmd) {
        fprintf(stderr, "virt-station: unknown command '%s'\nTry 'virt-station --help'.\n",
                argv[1]);
        return VS_EXIT_USAGE;
    }
    VsCommandFunc run = command_function(cmd);
    int status = run ? run(&cli, argc - 1, argv + 1) : VS_EXIT_ERROR;
    g_free(cli.uri);
    return status;
}
