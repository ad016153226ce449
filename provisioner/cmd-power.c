/* virt-station start / stop / restart / wait. */
#include <stdio.h>
#include <unistd.h>

#include "provisioner/cli-progress.h"
#include "provisioner/commands.h"
#include "provisioner/gpu-site.h"
#include "provisioner/interrupt.h"
#include "provisioner/ports.h"
#include "provisioner/ready.h"
#include "provisioner/target.h"
#include "domains/uri.h"

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

    if (!t->station->ssh_port || !vs_uri_is_local_qemu(t->uri))
        return TRUE;
    /* Checked under the lock, held until the domain runs and holds its port (start_and_wait):
     * no other virt-station takes the port in between. */
    lock = vs_lock_take(VS_LOCK_PORT, NULL, TRUE, error);
    if (!lock)
        return FALSE;
    if (vs_ports_is_free_loopback((guint16)t->station->ssh_port)) {
        t->port_lock = g_steal_pointer(&lock);
        return TRUE;
    }
    port = vs_target_free_port(t->conn, FALSE, 0, NULL, error);
    dom = port ? vs_lifecycle_set_port(t->dom, port, error) : NULL;
    if (!dom)
        return FALSE;
    vs_cli_progress(cli, "port %u is taken now; %s forwards SSH from port %u instead",
                    t->station->ssh_port, virDomainGetName(dom), port);
    virDomainFree(t->dom);
    t->dom = dom;
    t->station->ssh_port = port;
    t->port_lock = g_steal_pointer(&lock);
    return TRUE;
}

/* Starts @t, which is shut off: first makes sure it holds the GPU its metadata names (taken
 * again after `stop --release-gpu` or a host reboot), giving back what this start took when the
 * domain does not start. */
static gboolean
start_with_gpu(VsCli *cli, VsTarget *t, GError **error)
{
    g_autoptr(VsGpuPlan) plan = vs_gpu_site_plan_of(t->station);
    g_autoptr(VsGpuSite) site = NULL;
    VsProgress progress = vs_cli_progress_reporter(cli);
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    gboolean taken = FALSE;

    if (!plan)
        vs_gpu_site_tidy(t->conn, t->uri, &progress);
    if (plan) {
        if (!vs_interrupt_test_point("start-gpu", error))
            return FALSE;
        virDomainGetUUIDString(t->dom, uuid);
        site = vs_gpu_site_open(t->conn, t->uri, uuid, virDomainGetName(t->dom), &progress, error);
        if (!site || !vs_gpu_site_ensure(site, plan, &taken, error))
            return FALSE;
    }
    if (vs_interrupt_test_point("start-domain", error) && vs_lifecycle_start(t->dom, error))
        return TRUE;
    if (taken && !vs_gpu_give_back(plan, &site->host, NULL))
        vs_cli_warn("the GPU taken for %s could not be given back; `virt-station stop "
                    "--release-gpu %s` tries again",
                    virDomainGetName(t->dom), virDomainGetName(t->dom));
    return FALSE;
}

/* Starts @t unless it runs. An `up` defines its domain before it starts it, under the name
 * lock: a start in between waits for that `up` (and then finds the domain running, or gone)
 * instead of racing it; so it does for a `delete` or `snapshot` of it. */
static gboolean
start_unless_running(VsCli *cli, VsTarget *t, const VsProgress *progress, GError **error)
{
    if (virDomainIsActive(t->dom) == 1)
        return TRUE;
    if (!vs_target_lock(t, FALSE, progress, error))
        return FALSE;
    if (virDomainIsActive(t->dom) == 1)
        return TRUE; /* started by the command it waited for */
    if (!refresh_port(cli, t, error) || !start_with_gpu(cli, t, error))
        return FALSE;
    vs_cli_progress(cli, "%s started", virDomainGetName(t->dom));
    return TRUE;
}

/* Starts @t unless it runs, then waits until it is ready, logging in with @identities (NULL:
 * the defaults), remembered once they worked when @remember. Returns the exit status. */
static int
start_and_wait(VsCli *cli, const char *command, VsTarget *t, gboolean no_wait, guint timeout_s,
               char **identities, gboolean remember)
{
    g_autoptr(GError) error = NULL;
    VsProgress progress = vs_cli_progress_reporter(cli);

    vs_interrupt_catch();
    if (!start_unless_running(cli, t, &progress, &error))
        return vs_cli_fail(cli, command, error);
    /* It runs: its port and its name are its own; the wait holds no lock, as `up`'s does not. */
    g_clear_pointer(&t->port_lock, vs_lock_release);
    g_clear_pointer(&t->name_lock, vs_lock_release);
    if (no_wait)
        return VS_EXIT_OK;
    if (!vs_ready_wait(&progress, &t->dom, t->station, t->uri, (const char *const *)identities,
                       timeout_s, &error))
        return vs_cli_fail(cli, command, error);
    if (remember &&
        !vs_target_remember_identities(t->uri, t->dom, (const char *const *)identities, &error))
        vs_cli_warn("%s", error->message);
    printf("%s is ready: virt-station ssh %s\n", virDomainGetName(t->dom),
           virDomainGetName(t->dom));
    return VS_EXIT_OK;
}

typedef struct {
    gboolean no_wait;
    int timeout;
    char *identity;
    gboolean force;
} StartOptions;

/* start and restart share their options; start accepts --force without showing it. */
// clang-format off
#define START_OPTIONS(force_flags)                                                                 \
    {"no-wait", 0, 0, VS_FLAG(StartOptions, no_wait), "Do not wait until it is ready"},            \
    {"timeout", 0, 0, VS_INT(StartOptions, timeout), "Seconds to wait for readiness (600)", "S"},  \
    {"identity", 0, 0, VS_FILENAME(StartOptions, identity),                                       \
     "The private key to log in with (remembered once it works)", "FILE", VS_COMPLETE_FILE},      \
    {"force", 0, force_flags, VS_FLAG(StartOptions, force),                                        \
     "Power off instead of shutting down (restart)"},                                              \
    {NULL}
// clang-format on

static const VsOption start_options[] = {START_OPTIONS(G_OPTION_FLAG_HIDDEN)};
static const VsOption restart_options[] = {START_OPTIONS(0)};
VS_OPTIONS_AUTO_CLEAR(StartOptions, start_options)

static int run_start(VsCli *cli, int argc, char **argv);
static int run_restart(VsCli *cli, int argc, char **argv);

const VsCommand vs_command_start = {
    .name = "start",
    .args = "NAME [--no-wait] [--timeout S] [--identity FILE]",
    .summary = "Start a workstation and wait until ready",
    .description = "Start a workstation and wait until it is ready.",
    .options = start_options,
    .operand = VS_COMPLETE_WORKSTATION,
    .run = run_start,
};

const VsCommand vs_command_restart = {
    .name = "restart",
    .args = "NAME [--no-wait] [--timeout S] [--identity FILE]",
    .summary = "Shut down, start and wait until ready",
    .description = "Shut a workstation down, start it and wait until ready.",
    .options = restart_options,
    .operand = VS_COMPLETE_WORKSTATION,
    .run = run_restart,
};

static int
start_like(VsCli *cli, const VsCommand *cmd, int argc, char **argv, gboolean restart)
{
    const char *command = cmd->name;
    g_auto(StartOptions) o = {.timeout = DEFAULT_WAIT_TIMEOUT};
    g_auto(GStrv) identities = NULL;
    g_auto(VsTarget) t = {0};
    g_autoptr(GError) error = NULL;
    const char *name;

    if (!vs_target_begin(cli, cmd, &o, &argc, &argv, FALSE, &t, &name, &error))
        return vs_cli_fail(cli, command, error);
    if (o.timeout < 1) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE, "%s: --timeout must be positive",
                    command);
        return vs_cli_fail(cli, command, error);
    }
    /* A bad --identity is refused before the workstation is touched. */
    if (!vs_target_identities(&t, o.identity, &identities, &error))
        return vs_cli_fail(cli, command, error);
    if (restart && !vs_lifecycle_stop(t.dom, o.force, DEFAULT_STOP_TIMEOUT, &error))
        return vs_cli_fail(cli, command, error);
    return start_and_wait(cli, command, &t, o.no_wait, (guint)o.timeout, identities,
                          o.identity != NULL);
}

static int
run_start(VsCli *cli, int argc, char **argv)
{
    return start_like(cli, &vs_command_start, argc, argv, FALSE);
}

static int
run_restart(VsCli *cli, int argc, char **argv)
{
    return start_like(cli, &vs_command_restart, argc, argv, TRUE);
}

typedef struct {
    gboolean force;
    int timeout;
    gboolean release_gpu;
} StopOptions;

static const VsOption stop_options[] = {
    {"force", 0, 0, VS_FLAG(StopOptions, force), "Power off at once"},
    {"timeout", 0, 0, VS_INT(StopOptions, timeout),
     "Seconds to wait for the guest to shut down before powering it off (60)", "S"},
    {"release-gpu", 0, 0, VS_FLAG(StopOptions, release_gpu),
     "Give its vGPU, VF or passed-through GPU back to the host (start takes one again)"},
    {NULL},
};

static int run_stop(VsCli *cli, int argc, char **argv);

const VsCommand vs_command_stop = {
    .name = "stop",
    .args = "NAME [--force] [--timeout S] [--release-gpu]",
    .summary = "Shut a workstation down",
    .description = "Shut a workstation down (guest agent, else ACPI), powering it off after the "
                   "timeout. A shut-off workstation keeps its vGPU, VF or passed-through GPU "
                   "until --release-gpu or delete.",
    .options = stop_options,
    .operand = VS_COMPLETE_WORKSTATION,
    .run = run_stop,
};

static int
run_stop(VsCli *cli, int argc, char **argv)
{
    StopOptions o = {.timeout = DEFAULT_STOP_TIMEOUT};
    g_auto(VsTarget) t = {0};
    g_autoptr(GError) error = NULL;
    const char *name;

    if (!vs_target_begin(cli, &vs_command_stop, &o, &argc, &argv, FALSE, &t, &name, &error))
        return vs_cli_fail(cli, "stop", error);
    if (o.timeout < 0) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                    "stop: --timeout must not be negative");
        return vs_cli_fail(cli, "stop", error);
    }
    if (virDomainIsActive(t.dom) != 1) {
        vs_cli_progress(cli, "%s is not running", name);
    } else {
        if (!vs_lifecycle_stop(t.dom, o.force, (guint)o.timeout, &error))
            return vs_cli_fail(cli, "stop", error);
        vs_cli_progress(cli, "%s stopped", name);
    }
    if (o.release_gpu) {
        VsProgress progress = vs_cli_progress_reporter(cli);
        char uuid[VIR_UUID_STRING_BUFLEN] = "";
        virDomainGetUUIDString(t.dom, uuid);
        if (!vs_gpu_site_release(t.conn, t.uri, uuid, name, t.station, &progress, &error))
            return vs_cli_fail(cli, "stop", error);
    }
    return VS_EXIT_OK;
}

typedef struct {
    int timeout;
    char *identity;
} WaitOptions;

static const VsOption wait_options[] = {
    {"timeout", 0, 0, VS_INT(WaitOptions, timeout), "Seconds to wait (600)", "S"},
    {"identity", 0, 0, VS_FILENAME(WaitOptions, identity),
     "The private key to log in with (remembered once it works)", "FILE", VS_COMPLETE_FILE},
    {NULL},
};
VS_OPTIONS_AUTO_CLEAR(WaitOptions, wait_options)

static int run_wait(VsCli *cli, int argc, char **argv);

const VsCommand vs_command_wait = {
    .name = "wait",
    .args = "NAME [--timeout S] [--identity FILE]",
    .summary = "Wait until a workstation is ready",
    .description = "Wait until a workstation is ready (running, network, sshd, cloud-init "
                   "finished).",
    .options = wait_options,
    .operand = VS_COMPLETE_WORKSTATION,
    .run = run_wait,
};

static int
run_wait(VsCli *cli, int argc, char **argv)
{
    g_auto(WaitOptions) o = {.timeout = DEFAULT_WAIT_TIMEOUT};
    g_auto(GStrv) identities = NULL;
    g_auto(VsTarget) t = {0};
    g_autoptr(GError) error = NULL;
    const char *name;

    if (!vs_target_begin(cli, &vs_command_wait, &o, &argc, &argv, FALSE, &t, &name, &error))
        return vs_cli_fail(cli, "wait", error);
    if (o.timeout < 1) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE, "wait: --timeout must be positive");
        return vs_cli_fail(cli, "wait", error);
    }
    if (!vs_target_identities(&t, o.identity, &identities, &error))
        return vs_cli_fail(cli, "wait", error);
    vs_interrupt_catch();
    VsProgress progress = vs_cli_progress_reporter(cli);
    if (!vs_ready_wait(&progress, &t.dom, t.station, t.uri, (const char *const *)identities,
                       (guint)o.timeout, &error))
        return vs_cli_fail(cli, "wait", error);
    if (o.identity &&
        !vs_target_remember_identities(t.uri, t.dom, (const char *const *)identities, &error))
        vs_cli_warn("%s", error->message);
    printf("%s is ready: virt-station ssh %s\n", name, name);
    return VS_EXIT_OK;
}
