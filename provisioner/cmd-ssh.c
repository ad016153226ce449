/* virt-station ssh / exec: a shell or a command in the workstation over SSH, verifying the
 * guest's host key from the metadata. ssh replaces virt-station, so the exit status is the
 * command's own (255 when the connection failed, as ssh does). */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "provisioner/commands.h"
#include "provisioner/ready.h"
#include "provisioner/sshcmd.h"
#include "provisioner/target.h"

#define EXIT_NOT_RUN 125

typedef struct {
    gboolean tty;
    char *identity;
} SshOptions;

/* ssh and exec share their options. */
static const VsOption ssh_options[] = {
    {"tty", 't', 0, VS_FLAG(SshOptions, tty), "Give the command a terminal"},
    {"identity", 0, 0, VS_FILENAME(SshOptions, identity),
     "The private key to log in with (this time; else the one remembered)", "FILE",
     VS_COMPLETE_FILE},
    {NULL},
};
VS_OPTIONS_AUTO_CLEAR(SshOptions, ssh_options)

static int run_ssh(VsCli *cli, int argc, char **argv);
static int run_exec(VsCli *cli, int argc, char **argv);

const VsCommand vs_command_ssh = {
    .name = "ssh",
    .args = "NAME [-- COMMAND]",
    .summary = "Log in to a workstation over SSH",
    .description = "Open a shell in a workstation (or run a command).",
    .options = ssh_options,
    .operand = VS_COMPLETE_WORKSTATION,
    .run = run_ssh,
};

const VsCommand vs_command_exec = {
    .name = "exec",
    .args = "NAME -- COMMAND [ARGS...]",
    .summary = "Run a command in a workstation; exit with its status",
    .description = "Run a command in a workstation; exit with its status.",
    .options = ssh_options,
    .operand = VS_COMPLETE_WORKSTATION,
    .run = run_exec,
};

static int
ssh_like(VsCli *cli, const VsCommand *cmd, int argc, char **argv, gboolean exec_mode)
{
    const char *command = cmd->name;
    g_auto(SshOptions) o = {0};
    g_auto(GStrv) identities = NULL;
    g_auto(VsTarget) t = {0};
    g_autoptr(GError) error = NULL;
    g_autoptr(VsSshTarget) ssh = NULL;
    g_autoptr(GPtrArray) args = NULL;
    g_autofree char *address = NULL;
    char **remote = NULL;
    int dashdash = -1;

    /* Everything after "--" is the remote command, untouched by option parsing. */
    for (int i = 1; i < argc; i++) {
        if (g_strcmp0(argv[i], "--") == 0) {
            dashdash = i;
            break;
        }
    }
    if (dashdash > 0) {
        remote = argv + dashdash + 1;
        argc = dashdash;
    }
    if (!vs_cli_parse(cli, cmd, &o, &argc, &argv, &error))
        return vs_cli_fail(cli, command, error), EXIT_NOT_RUN;
    if (exec_mode && (!remote || !remote[0])) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                    "exec: give the command after --, as in `exec NAME -- uname -a`");
        return vs_cli_fail(cli, command, error), EXIT_NOT_RUN;
    }
    const char *name = NULL;
    if (!vs_target_name(command, argc, argv, &name, &error) ||
        !vs_target_open(cli, name, FALSE, &t, &error)) {
        int status = vs_cli_fail(cli, command, error);
        return exec_mode ? EXIT_NOT_RUN : status;
    }
    if (virDomainIsActive(t.dom) != 1) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_FAILED,
                    "%s is not running; `virt-station start %s` starts it", name, name);
        return vs_cli_fail(cli, command, error), exec_mode ? EXIT_NOT_RUN : VS_EXIT_ERROR;
    }
    address = t.station->ssh_port ? NULL : vs_ready_address(t.dom, t.station);
    if (!t.station->ssh_port && !address) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_FAILED,
                    "%s has no address yet (no DHCP lease, no guest agent answer)", name);
        return vs_cli_fail(cli, command, error), exec_mode ? EXIT_NOT_RUN : VS_EXIT_ERROR;
    }
    if (!vs_target_identities(&t, o.identity, &identities, &error)) {
        int status = vs_cli_fail(cli, command, error);
        return exec_mode ? EXIT_NOT_RUN : status;
    }
    ssh =
        vs_ssh_target_new(t.uri, name, t.station, address, (const char *const *)identities, &error);
    if (!ssh)
        return vs_cli_fail(cli, command, error), exec_mode ? EXIT_NOT_RUN : VS_EXIT_ERROR;
    args = vs_ssh_argv(ssh, exec_mode && !o.tty, o.tty || (!exec_mode && !remote), remote);
    fflush(stdout);
    fflush(stderr);
    execvp("ssh", (char **)args->pdata);
    fprintf(stderr, "virt-station: running ssh: %s (install openssh-client)\n", g_strerror(errno));
    return EXIT_NOT_RUN;
}

static int
run_ssh(VsCli *cli, int argc, char **argv)
{
    return ssh_like(cli, &vs_command_ssh, argc, argv, FALSE);
}

static int
run_exec(VsCli *cli, int argc, char **argv)
{
    return ssh_like(cli, &vs_command_exec, argc, argv, TRUE);
}
