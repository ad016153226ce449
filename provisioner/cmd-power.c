/* virt-station start / stop / restart / wait. */
#include <stdio.h>
#include <unistd.h>

#include "cli-progress.h"
#include "commands.h"
#include "interrupt.h"
#include "ports.h"
#include "ready.h"
#include "station.h"
#include "uri.h"

#define DEFAULT_STOP_TIMEOUT 60
#define DEFAULT_WAIT_TIMEOUT 600

/* Gives a user-networking workstation a new forwarded port when its old one is taken by now
 * (only checked for a local libvirt: a remote host's loopback is not ours to probe). */
static gboolean
refresh_port(VsCli *cli, VsTarget *t, GError **error)
{
    g_autoptr(VsLock) lock = NULL;
    guint16 port;
    virDomainPtr dom;

    if (!t->station->ssh_port || !vs_uri_is_local_qemu(t->uri) ||
        vs_ports_is_free_loopback((guint16)t->station->ssh_port))
        return TRUE;
    lock = vs_lock_take(VS_LOCK_PORT, NULL, TRUE, error);
    if (!lock)
        return FALSE;
    port = vs_target_free_port(t->conn, FALSE, 0, NULL, error);
    dom = port ? vs_lifecycle_set_port(t->dom, port, error) : NULL;
    if (!dom)
        return FALSE;
    vs_cli_progress(cli, "port %u is taken now; %s forwards SSH from port %u instead",
                    t->station->ssh_port, virDomainGetName(dom), port);
    virDomainFree(t->dom);
    t->dom = dom;
    t->station->ssh_port = port;
    /* The lock is held until the domain runs and holds its port (see start_and_wait). */
    t->port_lock = g_steal_pointer(&lock);
    return TRUE;
}

/* Starts @t unless it runs, then waits until it is ready, logging in with @identities (NULL:
 * the defaults), remembered once they worked when @remember. Returns the exit status. */
static int
start_and_wait(VsCli *cli, const char *command, VsTarget *t, gboolean no_wait, guint timeout_s,
               char **identities, gboolean remember)
{
    g_autoptr(GError) error = NULL;

    vs_interrupt_catch();
    if (virDomainIsActive(t->dom) != 1) {
        if (!refresh_port(cli, t, &error) || !vs_lifecycle_start(t->dom, &error))
            return vs_cli_fail(cli, command, error);
        vs_cli_progress(cli, "%s started", virDomainGetName(t->dom));
    }
    g_clear_pointer(&t->port_lock, vs_lock_release);
    if (no_wait)
        return VS_EXIT_OK;
    VsProgress progress = vs_cli_progress_reporter(cli);
    if (!vs_ready_wait(&progress, t->dom, t->station, t->uri, (const char *const *)identities,
                       timeout_s, &error))
        return vs_cli_fail(cli, command, error);
    if (remember &&
        !vs_target_remember_identities(t->uri, t->dom, (const char *const *)identities, &error))
        vs_cli_warn("%s", error->message);
    printf("%s is ready: virt-station ssh %s\n", virDomainGetName(t->dom),
           virDomainGetName(t->dom));
    return VS_EXIT_OK;
}

static int
start_like(VsCli *cli, const char *command, int argc, char **argv, gboolean restart)
{
    gboolean no_wait = FALSE, force = FALSE;
    int timeout = DEFAULT_WAIT_TIMEOUT;
    g_autofree char *identity = NULL;
    g_auto(GStrv) identities = NULL;
    const GOptionEntry entries[] = {
        {"no-wait", 0, 0, G_OPTION_ARG_NONE, &no_wait, "Do not wait until it is ready", NULL},
        {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Seconds to wait for readiness (600)", "S"},
        {"identity", 0, 0, G_OPTION_ARG_FILENAME, &identity,
         "The private key to log in with (remembered once it works)", "FILE"},
        {"force", 0, restart ? 0 : G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &force,
         "Power off instead of shutting down (restart)", NULL},
        G_OPTION_ENTRY_NULL,
    };
    const VsCommand self = {command,
                            "NAME [--no-wait] [--timeout S] [--identity FILE]",
                            restart ? "Shut a workstation down, start it and wait until ready."
                                    : "Start a workstation and wait until it is ready.",
                            NULL,
                            FALSE,
                            NULL};
    g_auto(VsTarget) t = {0};
    g_autoptr(GError) error = NULL;
    const char *name;

    if (!vs_target_begin(cli, &self, entries, &argc, &argv, FALSE, &t, &name, &error))
        return vs_cli_fail(cli, command, error);
    if (timeout < 1) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE, "%s: --timeout must be positive",
                    command);
        return vs_cli_fail(cli, command, error);
    }
    /* A bad --identity is refused before the workstation is touched. */
    if (!vs_target_identities(&t, identity, &identities, &error))
        return vs_cli_fail(cli, command, error);
    if (restart && !vs_lifecycle_stop(t.dom, force, DEFAULT_STOP_TIMEOUT, &error))
        return vs_cli_fail(cli, command, error);
    return start_and_wait(cli, command, &t, no_wait, (guint)timeout, identities, identity != NULL);
}

int
vs_cmd_start(VsCli *cli, int argc, char **argv)
{
    return start_like(cli, "start", argc, argv, FALSE);
}

int
vs_cmd_restart(VsCli *cli, int argc, char **argv)
{
    return start_like(cli, "restart", argc, argv, TRUE);
}

int
vs_cmd_stop(VsCli *cli, int argc, char **argv)
{
    gboolean force = FALSE;
    int timeout = DEFAULT_STOP_TIMEOUT;
    const GOptionEntry entries[] = {
        {"force", 0, 0, G_OPTION_ARG_NONE, &force, "Power off at once", NULL},
        {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
         "Seconds to wait for the guest to shut down before powering it off (60)", "S"},
        G_OPTION_ENTRY_NULL,
    };
    static const VsCommand self = {
        "stop",
        "NAME [--force] [--timeout S]",
        "Shut a workstation down (guest agent, else ACPI), powering it off after the "
        "timeout.",
        NULL,
        FALSE,
        NULL};
    g_auto(VsTarget) t = {0};
    g_autoptr(GError) error = NULL;
    const char *name;

    if (!vs_target_begin(cli, &self, entries, &argc, &argv, FALSE, &t, &name, &error))
        return vs_cli_fail(cli, "stop", error);
    if (timeout < 0) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                    "stop: --timeout must not be negative");
        return vs_cli_fail(cli, "stop", error);
    }
    if (virDomainIsActive(t.dom) != 1) {
        vs_cli_progress(cli, "%s is not running", name);
        return VS_EXIT_OK;
    }
    if (!vs_lifecycle_stop(t.dom, force, (guint)timeout, &error))
        return vs_cli_fail(cli, "stop", error);
    vs_cli_progress(cli, "%s stopped", name);
    return VS_EXIT_OK;
}

int
vs_cmd_wait(VsCli *cli, int argc, char **argv)
{
    int timeout = DEFAULT_WAIT_TIMEOUT;
    g_autofree char *identity = NULL;
    g_auto(GStrv) identities = NULL;
    const GOptionEntry entries[] = {
        {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Seconds to wait (600)", "S"},
        {"identity", 0, 0, G_OPTION_ARG_FILENAME, &identity,
         "The private key to log in with (remembered once it works)", "FILE"},
        G_OPTION_ENTRY_NULL,
    };
    static const VsCommand self = {"wait",
                                   "NAME [--timeout S] [--identity FILE]",
                                   "Wait until a workstation is ready (running, network, sshd, "
                                   "cloud-init finished).",
                                   NULL,
                                   FALSE,
                                   NULL};
    g_auto(VsTarget) t = {0};
    g_autoptr(GError) error = NULL;
    const char *name;

    if (!vs_target_begin(cli, &self, entries, &argc, &argv, FALSE, &t, &name, &error))
        return vs_cli_fail(cli, "wait", error);
    if (timeout < 1) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE, "wait: --timeout must be positive");
        return vs_cli_fail(cli, "wait", error);
    }
    if (!vs_target_identities(&t, identity, &identities, &error))
        return vs_cli_fail(cli, "wait", error);
    vs_interrupt_catch();
    VsProgress progress = vs_cli_progress_reporter(cli);
    if (!vs_ready_wait(&progress, t.dom, t.station, t.uri, (const char *const *)identities,
                       (guint)timeout, &error))
        return vs_cli_fail(cli, "wait", error);
    if (identity &&
        !vs_target_remember_identities(t.uri, t.dom, (const char *const *)identities, &error))
        vs_cli_warn("%s", error->message);
    printf("%s is ready: virt-station ssh %s\n", name, name);
    return VS_EXIT_OK;
}
