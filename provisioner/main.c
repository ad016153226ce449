/* The virt-station command: global options, then one command of the table (commands.h).
 *
 * The program itself links only GLib, libyaml, libarchive (static by default) and libpci (the
 * local GPU inventory for `up`). Not libxml2: it loads ICU and libstdc++, about 3 ms on every
 * start and 13 ms with a cold page cache, the largest part of a `seed`; the program writes the
 * domain XML with its own serializer (domains/xmlnode.c) and leaves parsing node devices to the
 * module (gpu/nodedev.h), and tests/unit/test-program-libs.sh fails when libxml2 comes back.
 * Commands that talk to libvirt live in the module virt-station-libvirt.so (module.c), loaded when
 * a command first needs libvirt: libvirt and its 56 libraries take longer to load (about 30 ms)
 * than `seed` takes to do all its work, or `up --dry-run` with known host facts, so commands that
 * do not need them do not pay for them. A command either lives in the module as a whole (its entry
 * is in the module's table) or calls into it for its libvirt steps (up: the table's `up`). Listing
 * every command (--help, --generate) loads the module; running one of the program's does not. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "provisioner/commands.h"
#include "provisioner/generate.h"
#include "vs-config.h"

/* Prints `virt-station --help` on @out, which lists every command: that loads the module. Returns
 * @status, or VS_EXIT_ERROR without the module. */
static int
print_help(FILE *out, int status)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) commands = vs_commands_all(&error);
    g_autofree char *usage = NULL;

    if (!commands) {
        fprintf(stderr, "virt-station: %s\n", error->message);
        return VS_EXIT_ERROR;
    }
    usage = vs_commands_usage(commands);
    fputs(usage, out);
    return status;
}

/* Prints the man page or a shell's completion script (--generate FORMAT). */
static int
generate(const char *format)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) commands = vs_commands_all(&error);
    g_autofree char *text = commands ? vs_generate(format, commands, &error) : NULL;

    if (!text) {
        fprintf(stderr, "virt-station: %s\n", error->message);
        return vs_cli_exit_status(error);
    }
    fputs(text, stdout);
    return VS_EXIT_OK;
}

/* Runs the command argv[1] (`help CMD` is `CMD --help`). */
static int
run_command(VsCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    const VsCommand *cmd;

    if (strcmp(argv[1], "help") == 0) {
        if (argc < 3)
            return print_help(stdout, VS_EXIT_OK);
        argv[1] = argv[2];
        argv[2] = (char *)"--help";
        argc = 3;
    }
    cmd = vs_commands_find(argv[1], &error);
    if (error) {
        fprintf(stderr, "virt-station: %s\n", error->message);
        return VS_EXIT_ERROR;
    }
    if (!cmd) {
        fprintf(stderr, "virt-station: unknown command '%s'\nTry 'virt-station --help'.\n",
                argv[1]);
        return VS_EXIT_USAGE;
    }
    return cmd->run(cli, argc - 1, argv + 1);
}

int
main(int argc, char **argv)
{
    VsCli cli = {0};
    VsMainOptions o = {0};
    g_autofree GOptionEntry *entries = vs_options_bind(vs_main_options, &o);
    g_autoptr(GOptionContext) ctx = g_option_context_new("COMMAND [ARGS]");
    g_autoptr(GError) error = NULL;
    int status;

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
    if (o.version) {
        printf("virt-station %s\n", VS_VERSION);
        status = VS_EXIT_OK;
    } else if (o.generate) {
        status = generate(o.generate);
    } else if (argc < 2) {
        status = cli.help ? print_help(stdout, VS_EXIT_OK) : print_help(stderr, VS_EXIT_USAGE);
    } else {
        status = run_command(&cli, argc, argv);
    }
    vs_options_clear(vs_cli_global_options, &cli);
    vs_options_clear(vs_main_options, &o);
    return status;
}
