/* Readiness.
 *
 * Theory of operation: a workstation is ready when (1) libvirt says the domain runs, (2) its
 * network is up: the forwarded port on 127.0.0.1 accepts connections (user networking) or the
 * guest has an address (DHCP lease, or the guest agent), (3) sshd answers to our key with the
 * host key we generated, (4) cloud-init has finished: `cloud-init status --wait` over SSH. Each
 * step shares one deadline; a step that runs out of time names itself in the error, and the
 * workstation is kept for the user to look at. cloud-init finishing with errors is reported
 * with its own words and exit status 5. Ctrl-C stops the wait and keeps the workstation. */
#include "ready.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "interrupt.h"
#include "lifecycle.h"
#include "sshcmd.h"

typedef struct {
    VsCli *cli;
    gint64 start;
    gint64 deadline;
    guint timeout_s;
    const char *name;
} Wait;

static gboolean
timed_out(const Wait *w, const char *step, const char *detail, GError **error)
{
    g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_TIMEOUT,
                "timed out after %u s waiting for %s%s%s; %s is kept: look at its serial console "
                "with `virt-station console %s` (or its log under /var/log/libvirt/qemu), and "
                "`virt-station wait %s` waits again",
                w->timeout_s, step, detail ? ": " : "", detail ? detail : "", w->name, w->name,
                w->name);
    return FALSE;
}

static gboolean
cancelled(const Wait *w, GError **error)
{
    if (!vs_interrupted())
        return FALSE;
    g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_CANCELLED,
                "interrupted; %s is kept and `virt-station wait %s` resumes waiting", w->name,
                w->name);
    return TRUE;
}

static void
done(const Wait *w, const char *step)
{
    vs_cli_progress(w->cli, "  %-24s ready after %lld s", step,
                    (long long)((g_get_monotonic_time() - w->start) / G_USEC_PER_SEC));
}

static gboolean
port_open(const char *host, guint port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((guint16)port)};
    int fd, rc;

    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
        return FALSE;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return FALSE;
    rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
    close(fd);
    return rc == 0;
}

/* Runs @argv until it exits or @deadline passes (then it is killed). Returns FALSE when it could
 * not run or was killed; else its output (stdout and stderr together) and exit status. */
static gboolean
run_until(char **argv, gint64 deadline, char **ret_output, int *ret_status)
{
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("vs-ready-XXXXXX", &path, NULL);
    GPid pid;
    int status = 0;
    gboolean finished = FALSE;

    if (fd < 0)
        return FALSE;
    if (!g_spawn_async_with_fds(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                NULL, NULL, &pid, -1, fd, fd, NULL)) {
        close(fd);
        unlink(path);
        return FALSE;
    }
    while (!finished) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            finished = TRUE;
        } else if (g_get_monotonic_time() >= deadline || vs_interrupted()) {
            kill(pid, SIGTERM);
            waitpid(pid, &status, 0);
            break;
        } else {
            g_usleep(G_USEC_PER_SEC / 10);
        }
    }
    close(fd);
    if (ret_output)
        g_file_get_contents(path, ret_output, NULL, NULL);
    unlink(path);
    g_spawn_close_pid(pid);
    *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
    return finished;
}

char *
vs_ready_address(virDomainPtr dom, const VsStation *station)
{
    static const unsigned int sources[] = {VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE,
                                           VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT};

    if (station->ssh_host)
        return g_strdup(station->ssh_host);
    for (guint s = 0; s < G_N_ELEMENTS(sources); s++) {
        virDomainInterfacePtr *ifaces = NULL;
        int n = virDomainInterfaceAddresses(dom, &ifaces, sources[s], 0);
        char *found = NULL;
        for (int i = 0; i < n; i++) {
            for (unsigned int a = 0; !found && a < ifaces[i]->naddrs; a++)
                if (ifaces[i]->addrs[a].type == VIR_IP_ADDR_TYPE_IPV4 &&
                    g_ascii_strcasecmp(ifaces[i]->hwaddr ? ifaces[i]->hwaddr : "",
                                       station->mac ? station->mac : "") == 0)
                    found = g_strdup(ifaces[i]->addrs[a].addr);
            virDomainInterfaceFree(ifaces[i]);
        }
        free(ifaces);
        if (found)
            return found;
    }
    return NULL;
}

gboolean
vs_ready_wait(VsCli *cli, virDomainPtr dom, const VsStation *station, const char *uri,
              guint timeout_s, GError **error)
{
    Wait w = {cli, g_get_monotonic_time(), 0, timeout_s, virDomainGetName(dom)};
    g_autofree char *address = NULL;
    g_autofree char *last = NULL;
    g_autoptr(VsSshTarget) target = NULL;
    g_autofree char *remote = vs_ssh_jump_from_uri(uri);

    w.deadline = w.start + (gint64)timeout_s * G_USEC_PER_SEC;
    vs_cli_progress(cli, "waiting for %s (at most %u s):", w.name, timeout_s);

    /* 1. The domain runs. */
    while (virDomainIsActive(dom) != 1) {
        if (cancelled(&w, error))
            return FALSE;
        if (g_get_monotonic_time() >= w.deadline)
            return timed_out(&w, "the domain to run", vs_lifecycle_state(dom), error);
        g_usleep(G_USEC_PER_SEC / 4);
    }
    done(&w, "domain running");

    /* 2. The network. A forwarded port on a remote host's loopback is checked by SSH only. */
    for (;;) {
        if (cancelled(&w, error))
            return FALSE;
        address = vs_ready_address(dom, station);
        if (address && (!station->ssh_port || remote || port_open(address, station->ssh_port)))
            break;
        g_clear_pointer(&address, g_free);
        if (g_get_monotonic_time() >= w.deadline)
            return timed_out(&w, "the guest's network",
                             station->ssh_port ? "the forwarded port does not accept connections"
                                               : "no DHCP lease or guest agent address",
                             error);
        g_usleep(G_USEC_PER_SEC / 2);
    }
    done(&w, station->ssh_port ? "forwarded SSH port open" : "guest address known");

    /* 3. sshd answers, with the host key we gave the guest. */
    target = vs_ssh_target_new(uri, w.name, station, station->ssh_port ? NULL : address, error);
    if (!target)
        return FALSE;
    for (;;) {
        char *cmd[] = {(char *)"true", NULL};
        g_autoptr(GPtrArray) argv = vs_ssh_argv(target, TRUE, FALSE, cmd);
        g_autofree char *out = NULL;
        int status = 255;
        gint64 attempt = MIN(w.deadline, g_get_monotonic_time() + 20 * G_USEC_PER_SEC);
        if (run_until((char **)argv->pdata, attempt, &out, &status) && status == 0)
            break;
        g_free(last);
        last = g_strdup(out ? g_strstrip(out) : "no answer");
        if (cancelled(&w, error))
            return FALSE;
        if (g_get_monotonic_time() >= w.deadline)
            return timed_out(&w, "sshd to answer", last, error);
        g_usleep(2 * G_USEC_PER_SEC);
    }
    done(&w, "sshd answering");

    /* 4. cloud-init has finished. */
    {
        char *cmd[] = {(char *)"sh", (char *)"-c",
                       (char *)"cloud-init status --wait >/dev/null 2>&1; cloud-init status --long",
                       NULL};
        g_autoptr(GPtrArray) argv = vs_ssh_argv(target, TRUE, FALSE, cmd);
        g_autofree char *out = NULL;
        int status = 255;
        if (!run_until((char **)argv->pdata, w.deadline, &out, &status)) {
            if (cancelled(&w, error))
                return FALSE;
            return timed_out(&w, "cloud-init to finish", NULL, error);
        }
        if (out && strstr(out, "status: done")) {
            done(&w, "cloud-init finished");
            return TRUE;
        }
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_CLOUD_INIT,
                    "%s runs, but cloud-init finished with errors:\n%s", w.name,
                    out ? g_strstrip(out) : "(no output from cloud-init status)");
        return FALSE;
    }
}
