/* Readiness.
 *
 * Theory of operation: a workstation is ready when (1) libvirt says the domain runs, (2) its
 * network is up: the forwarded port on 127.0.0.1 accepts connections (user networking) or the
 * guest has an address (DHCP lease, or the guest agent), (3) sshd lets us in with the host key we
 * generated, (4) cloud-init has finished: its result file, waited for over SSH. Each step shares
 * one deadline; a step that runs out of time names itself in the error. All along, the domain is
 * watched (domains/watch.c: lifecycle events, and a poll each second): when it shuts off, crashes
 * or pauses on an error, the wait stops at once (exit 1) with libvirt's state and reason, the
 * tails of the serial console and QEMU's logs where they are local, and a hint. sshd refusing
 * every key offered three times in a row over at least 10 s also stops it (exit 1): a wrong key
 * never starts working, but sshd may answer a moment before cloud-init has written the keys.
 * cloud-init finishing with errors is reported with its own words and exit status 5. In every
 * case, Ctrl-C included, the workstation is kept for the user to look at.
 *
 * libvirtd may exit or restart during the wait (an upgrade, a crash, `systemctl restart`): QEMU
 * lives on, but the connection is lost (domains/reconnect.c says when). Every libvirt call of
 * the wait goes through the watch, so the check that runs it (going()) is the one place that
 * notices: it says so through the progress callback, opens the same URI again once a second
 * until the deadline, finds the domain by UUID, watches it on the new connection and goes on
 * with the step it was at. A domain that is gone by then fails the wait (exit 1); a daemon that
 * does not come back before the deadline is a timeout (exit 4) naming the URI. */
#include "provisioner/ready.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "provisioner/identity.h"
#include "provisioner/interrupt.h"
#include "domains/lifecycle.h"
#include "domains/reconnect.h"
#include "provisioner/sshcmd.h"
#include "domains/uri.h"

#define CONSOLE_LINES  20
#define QEMU_LOG_LINES 10
#define TAIL_BYTES     (64 * 1024)

typedef struct {
    const VsProgress *progress;
    gint64 start;
    gint64 deadline;
    guint timeout_s;
    char *name;
    const char *uri;
    char uuid[VIR_UUID_STRING_BUFLEN];
    virDomainPtr dom; /* our reference; replaced on a reconnect */
    VsWatch *watch;
    VsWatchStop stop; /* set when the watch said the domain stopped */
    gboolean was_running;
    const char *step; /* what is being waited for, for the messages */
    GError *failure;  /* why the wait cannot go on, set by a failed reconnect */
} Wait;

/* Returns FALSE after setting a timeout error naming @step. */
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

/* Returns TRUE (with @error set) when Ctrl-C was pressed. */
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

/* Reports that @step is done, with the seconds since the wait began. */
static void
done(const Wait *w, const char *step)
{
    vs_progress_step(w->progress, "  %-24s ready after %lld s", step,
                     (long long)((g_get_monotonic_time() - w->start) / G_USEC_PER_SEC));
}

/* Sleeps up to @usec, ending early on Ctrl-C. Returns nothing. */
static void
doze(gint64 usec)
{
    gint64 until = g_get_monotonic_time() + usec;

    while (g_get_monotonic_time() < until && !vs_interrupted())
        g_usleep(MIN(G_USEC_PER_SEC / 10, MAX(until - g_get_monotonic_time(), 1)));
}

/* Opens the URI again after the connection was lost (@why), once a second until the deadline,
 * and watches the domain on the new connection. Returns TRUE when it did; FALSE with
 * @w->failure set when the domain is gone, the deadline passed or Ctrl-C came. */
static gboolean
reconnect(Wait *w, const char *why)
{
    gint64 lost_at = g_get_monotonic_time();
    g_autoptr(GError) last = NULL;

    vs_progress_step(w->progress, "  lost the connection to libvirt at %s (%s); reconnecting",
                     w->uri, why);
    for (guint attempt = 1;; attempt++) {
        virDomainPtr dom;

        g_clear_error(&last);
        dom = vs_reconnect_domain(w->uri, w->uuid, &last);
        if (dom) {
            vs_watch_free(w->watch);
            virDomainFree(w->dom);
            w->dom = dom;
            w->watch = vs_watch_new(dom);
            vs_progress_step(w->progress, "  reconnected to %s after %.1f s (attempt %u); %s is %s",
                             w->uri, (double)(g_get_monotonic_time() - lost_at) / G_USEC_PER_SEC,
                             attempt, w->name, vs_lifecycle_state(dom));
            return TRUE;
        }
        if (g_error_matches(last, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_NOT_FOUND)) {
            g_set_error(&w->failure, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FAILED,
                        "lost the connection to libvirt at %s while waiting for %s (%s); once "
                        "it answered again, %s (UUID %s) was gone: it was undefined while the "
                        "connection was down. Nothing is left to wait for",
                        w->uri, w->step, why, w->name, w->uuid);
            return FALSE;
        }
        if (vs_interrupted()) {
            g_set_error(&w->failure, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_CANCELLED,
                        "interrupted while reconnecting to libvirt at %s; %s is kept and "
                        "`virt-station wait %s` resumes waiting once libvirtd runs",
                        w->uri, w->name, w->name);
            return FALSE;
        }
        if (g_get_monotonic_time() >= w->deadline) {
            g_set_error(&w->failure, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_TIMEOUT,
                        "timed out after %u s waiting for %s: lost the connection to libvirt "
                        "at %s (%s) %.0f s ago and could not connect again (%u attempts, the "
                        "last: %s). Is libvirtd running there? %s is kept as it was (QEMU "
                        "outlives libvirtd); `virt-station wait %s` waits again once it is",
                        w->timeout_s, w->step, w->uri, why,
                        (double)(g_get_monotonic_time() - lost_at) / G_USEC_PER_SEC, attempt,
                        last->message, w->name, w->name);
            return FALSE;
        }
        doze(MIN(G_USEC_PER_SEC, w->deadline - g_get_monotonic_time()));
    }
}

/* Returns TRUE while the domain may still become ready; FALSE once it will not (@w->stop) or
 * the wait cannot go on (@w->failure). Reconnects when the connection to libvirt was lost. */
static gboolean
going(Wait *w)
{
    g_autofree char *why = NULL;
    virError last = {0};
    gboolean lost, result;

    if (w->failure)
        return FALSE;
    result = vs_watch_check(w->watch, &w->stop);
    /* The watch's call, or the step's own call before it, left the thread's last error. */
    virCopyLastError(&last);
    lost = vs_reconnect_lost(virDomainGetConnect(w->dom), last.code ? &last : NULL, &why);
    virResetError(&last);
    if (!lost)
        return result;
    return reconnect(w, why) && vs_watch_check(w->watch, &w->stop);
}

/* Sleeps @usec, watching the domain. Returns FALSE as soon as it stopped. */
static gboolean
nap(Wait *w, gint64 usec)
{
    gint64 until = g_get_monotonic_time() + usec;

    while (g_get_monotonic_time() < until && !vs_interrupted()) {
        if (!going(w))
            return FALSE;
        g_usleep(G_USEC_PER_SEC / 10);
    }
    return going(w);
}

/* Returns TRUE when @host:@port accepts a TCP connection. */
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

typedef enum {
    RUN_DONE,    /* it exited: output and status are set */
    RUN_KILLED,  /* the deadline passed or Ctrl-C came: it was killed */
    RUN_STOPPED, /* the domain stopped: it was killed */
    RUN_FAILED,  /* it could not be started */
} RunResult;

/* Runs @argv until it exits, @deadline passes or the domain stops (then it is killed). Returns
 * how it ended; with RUN_DONE its output (stdout and stderr together) and exit status. */
static RunResult
run_until(Wait *w, char **argv, gint64 deadline, char **ret_output, int *ret_status)
{
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("vs-ready-XXXXXX", &path, NULL);
    GPid pid;
    int status = 0;
    RunResult result = RUN_DONE;

    if (fd < 0)
        return RUN_FAILED;
    if (!g_spawn_async_with_fds(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                NULL, NULL, &pid, -1, fd, fd, NULL)) {
        close(fd);
        unlink(path);
        return RUN_FAILED;
    }
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (g_get_monotonic_time() >= deadline || vs_interrupted())
            result = RUN_KILLED;
        else if (!going(w))
            result = RUN_STOPPED;
        if (result != RUN_DONE) {
            kill(pid, SIGTERM);
            waitpid(pid, &status, 0);
            break;
        }
        g_usleep(G_USEC_PER_SEC / 10);
    }
    close(fd);
    if (ret_output)
        g_file_get_contents(path, ret_output, NULL, NULL);
    unlink(path);
    g_spawn_close_pid(pid);
    *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
    return result;
}

/* Returns @path's last @lines lines; NULL when there are none, with @ret_note saying why. Else
 * @ret_note is the path. @ret_panic as for vs_ready_tail(). */
static char *
tail_or_note(const char *path, guint lines, char **ret_panic, char **ret_note)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tail = vs_ready_tail(path, lines, ret_panic, &error);

    if (!tail) {
        *ret_note = g_strdup(error->message);
        return NULL;
    }
    if (!*tail) {
        *ret_note = g_strdup_printf("%s is empty", path);
        return NULL;
    }
    *ret_note = g_strdup(path);
    return g_steal_pointer(&tail);
}

/* Returns FALSE after setting the error for a domain that stopped while @step was awaited. */
static gboolean
stopped(Wait *w, const char *step, GError **error)
{
    g_autofree char *console_log = NULL, *console = NULL, *console_note = NULL, *panic = NULL;
    g_autofree char *qemu_path = NULL, *qemu_log = NULL, *qemu_note = NULL;
    g_autofree char *message = NULL;
    gboolean kvm = FALSE, local = vs_uri_is_local_qemu(w->uri);
    VsReadyFailure f = {
        .name = w->name, .step = step, .was_running = w->was_running, .stop = w->stop};

    if (w->failure) { /* not stopped: the connection was lost for good */
        g_propagate_error(error, g_steal_pointer(&w->failure));
        return FALSE;
    }
    /* A domain that is gone has no XML left to name its console log. */
    if (w->stop.state >= 0)
        vs_watch_domain_facts(w->dom, &console_log, &kvm);
    if (!console_log)
        console_note = g_strdup("the domain writes no serial console log");
    else if (!local)
        console_note = g_strdup_printf("its log %s is on the libvirt host, not available here; "
                                       "`virt-station console %s` attaches to the console",
                                       console_log, w->name);
    else
        console = tail_or_note(console_log, CONSOLE_LINES, &panic, &console_note);
    if (local) {
        /* Where libvirt's QEMU driver writes each domain's log. */
        g_autofree char *file = g_strdup_printf("%s.log", w->name);
        qemu_path =
            strstr(w->uri, "/session")
                ? g_build_filename(g_get_user_cache_dir(), "libvirt", "qemu", "log", file, NULL)
                : g_build_filename("/var/log/libvirt/qemu", file, NULL);
        qemu_log = tail_or_note(qemu_path, QEMU_LOG_LINES, NULL, &qemu_note);
    } else {
        qemu_note = g_strdup("QEMU's log is on the libvirt host, not available here");
    }
    f.kvm = kvm;
    f.console = console;
    f.panic = panic;
    f.console_note = console_note;
    f.qemu_log = qemu_log;
    f.qemu_note = qemu_note;
    message = vs_ready_failure_message(&f);
    g_set_error_literal(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_STOPPED, message);
    return FALSE;
}

/* Returns FALSE after setting the error for sshd refusing every key offered. */
static gboolean
refused(const Wait *w, const VsSshTarget *target, const VsReadyRefusals *r, GError **error)
{
    g_autofree char *own = target->identity
                               ? g_strdup_printf(" and virt-station's own key %s", target->identity)
                               : g_strdup("");
    g_autofree char *defaults = g_strdup_printf("the SSH agent's keys, ssh's default keys "
                                                "(~/.ssh/id_*)%s",
                                                own);
    g_autofree char *offered =
        vs_identity_describe((const char *const *)target->identities, defaults);

    g_set_error(error, VS_READY_ERROR, VS_READY_ERROR_REFUSED,
                "sshd on %s refused every key offered, %u times over %lld s (\"Permission denied "
                "(publickey)\"). Keys offered: %s. Give the private key whose public half %s was "
                "given: `virt-station wait %s --identity FILE` (also on start, restart, ssh, exec; "
                "`up --ssh-key FILE.pub` offers FILE by itself). %s is kept",
                w->name, r->count,
                (long long)((g_get_monotonic_time() - r->first_us) / G_USEC_PER_SEC), offered,
                w->name, w->name, w->name);
    return FALSE;
}

char *
vs_ready_address(virDomainPtr dom, const VsMetadata *station)
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

/* 1. The domain runs. */
static gboolean
wait_running(Wait *w, GError **error)
{
    w->step = "the domain to run";
    while (virDomainIsActive(w->dom) != 1) {
        if (cancelled(w, error))
            return FALSE;
        if (!going(w))
            return stopped(w, "the domain to run", error);
        if (g_get_monotonic_time() >= w->deadline)
            return timed_out(w, "the domain to run", vs_lifecycle_state(w->dom), error);
        g_usleep(G_USEC_PER_SEC / 4);
    }
    w->was_running = TRUE;
    done(w, "domain running");
    return TRUE;
}

/* 2. The network. Returns the guest's address for SSH. A forwarded port on a remote host's
 * loopback is checked by SSH only. */
static char *
wait_network(Wait *w, const VsMetadata *station, GError **error)
{
    g_autofree char *remote = vs_ssh_jump_from_uri(w->uri);

    w->step = "the guest's network";
    for (;;) {
        g_autofree char *address = NULL;
        if (cancelled(w, error))
            return NULL;
        if (!going(w))
            return stopped(w, "the guest's network", error), NULL;
        address = vs_ready_address(w->dom, station);
        /* What the guest (or the metadata) says is checked before it goes anywhere. */
        if (address && !vs_ssh_check_host(address,
                                          station->ssh_host ? "the metadata's SSH host"
                                                            : "the guest's address",
                                          error))
            return NULL;
        if (address && (!station->ssh_port || remote || port_open(address, station->ssh_port))) {
            done(w, station->ssh_port ? "forwarded SSH port open" : "guest address known");
            return g_steal_pointer(&address);
        }
        if (g_get_monotonic_time() >= w->deadline)
            return timed_out(w, "the guest's network",
                             station->ssh_port ? "the forwarded port does not accept connections"
                                               : "no DHCP lease or guest agent address",
                             error),
                   NULL;
        if (!nap(w, G_USEC_PER_SEC / 2))
            return stopped(w, "the guest's network", error), NULL;
    }
}

/* 3. sshd lets us in, with the host key we gave the guest. */
static gboolean
wait_sshd(Wait *w, const VsSshTarget *target, GError **error)
{
    g_autofree char *last = NULL;
    VsReadyRefusals refusals = {0};

    w->step = "sshd to answer";
    for (;;) {
        char *cmd[] = {(char *)"true", NULL};
        g_autoptr(GPtrArray) argv = vs_ssh_argv(target, TRUE, FALSE, cmd);
        g_autofree char *out = NULL;
        int status = 255;
        gint64 attempt = MIN(w->deadline, g_get_monotonic_time() + 20 * G_USEC_PER_SEC);
        RunResult r = run_until(w, (char **)argv->pdata, attempt, &out, &status);
        if (r == RUN_DONE && status == 0)
            break;
        if (r == RUN_STOPPED)
            return stopped(w, "sshd to answer", error);
        g_free(last);
        last = g_strdup(out ? g_strstrip(out) : "no answer");
        if (vs_ready_refusals_note(&refusals, r == RUN_DONE && vs_ready_is_refusal(out),
                                   g_get_monotonic_time()))
            return refused(w, target, &refusals, error);
        if (cancelled(w, error))
            return FALSE;
        if (g_get_monotonic_time() >= w->deadline)
            return timed_out(w, "sshd to answer", last, error);
        if (!nap(w, 2 * G_USEC_PER_SEC))
            return stopped(w, "sshd to answer", error);
    }
    done(w, "sshd answering");
    return TRUE;
}

/* 4. cloud-init has finished. The guest itself waits for /run/cloud-init/result.json, which
 * cloud-init writes as the last thing of its final stage, looking every 0.2 s, and prints it: no
 * Python starts under emulation once cloud-init is done (`cloud-init status --wait` followed by
 * `cloud-init status --long` cost seconds there). Only when the result lists errors (or cannot be
 * read) is `cloud-init status --long` asked, for its own words. */
#define RESULT_WAIT                                                                                \
    "command -v cloud-init >/dev/null || { echo 'cloud-init is not installed'; exit 3; }; "        \
    "while [ ! -e /run/cloud-init/result.json ]; do "                                              \
    "[ -e /run/cloud-init/disabled ] || [ -e /etc/cloud/cloud-init.disabled ] && break; "          \
    "sleep 0.2; done; cat /run/cloud-init/result.json 2>/dev/null"
#define RESULT_ERRORS "cloud-init status --long"

gboolean
vs_ready_result_ok(const char *result)
{
    const char *p = result ? strstr(result, "\"errors\"") : NULL;

    if (!p)
        return FALSE;
    p += strlen("\"errors\"");
    p += strspn(p, " \t\r\n");
    if (*p++ != ':')
        return FALSE;
    p += strspn(p, " \t\r\n");
    if (*p++ != '[')
        return FALSE;
    p += strspn(p, " \t\r\n");
    return *p == ']';
}

/* Runs the shell command @script in the guest until it ends or the deadline; returns TRUE with
 * its output and status, FALSE with @error set when the domain stopped, Ctrl-C was pressed or
 * time ran out. */
static gboolean
run_in_guest(Wait *w, const VsSshTarget *target, const char *script, char **ret_output,
             int *ret_status, GError **error)
{
    char *cmd[] = {(char *)"sh", (char *)"-c", (char *)script, NULL};
    g_autoptr(GPtrArray) argv = vs_ssh_argv(target, TRUE, FALSE, cmd);
    RunResult r = run_until(w, (char **)argv->pdata, w->deadline, ret_output, ret_status);

    if (r == RUN_STOPPED)
        return stopped(w, w->step, error);
    if (r != RUN_DONE)
        return cancelled(w, error) ? FALSE : timed_out(w, w->step, NULL, error);
    return TRUE;
}

static gboolean
wait_cloud_init(Wait *w, const VsSshTarget *target, GError **error)
{
    g_autofree char *out = NULL;
    int status = 255;

    w->step = "cloud-init to finish";
    if (!run_in_guest(w, target, RESULT_WAIT, &out, &status, error))
        return FALSE;
    if (status == 0 && vs_ready_result_ok(out)) {
        done(w, "cloud-init finished");
        return TRUE;
    }
    /* Errors (or no result): cloud-init's own account of them. */
    if (status != 255 && status != 3) {
        g_clear_pointer(&out, g_free);
        if (!run_in_guest(w, target, RESULT_ERRORS, &out, &status, error))
            return FALSE;
    }
    /* The guest may have gone down meanwhile (a poweroff in runcmd): ssh then fails (255) a
     * moment before libvirt says so; give the watch that moment. */
    if (!(status == 255 ? nap(w, 5 * G_USEC_PER_SEC) : going(w)))
        return stopped(w, w->step, error);
    if (status == 3 || (out && strstr(out, "status: disabled")))
        g_set_error(error, VS_READY_ERROR, VS_READY_ERROR_CLOUD_INIT,
                    "%s runs, but cloud-init did not run in it: %s", w->name,
                    status == 3 ? "the guest has no cloud-init (is the image a cloud image?)"
                                : g_strstrip(out));
    else
        g_set_error(error, VS_READY_ERROR, VS_READY_ERROR_CLOUD_INIT,
                    "%s runs, but cloud-init finished with errors:\n%s", w->name,
                    out && *g_strstrip(out) ? out : "(no output from cloud-init status)");
    return FALSE;
}

/* Returns the result of the steps after @w's domain is known and watched. */
static gboolean
wait_steps(Wait *w, const VsMetadata *station, const char *const *identities, GError **error)
{
    g_autofree char *address = NULL;
    g_autoptr(VsSshTarget) target = NULL;

    if (!wait_running(w, error) || !(address = wait_network(w, station, error)))
        return FALSE;
    target = vs_ssh_target_new(w->uri, w->name, station, station->ssh_port ? NULL : address,
                               identities, error);
    return target && wait_sshd(w, target, error) && wait_cloud_init(w, target, error);
}

gboolean
vs_ready_wait(const VsProgress *progress, virDomainPtr *dom, const VsMetadata *station,
              const char *uri, const char *const *identities, guint timeout_s, GError **error)
{
    Wait w = {.progress = progress,
              .start = g_get_monotonic_time(),
              .timeout_s = timeout_s,
              .name = g_strdup(virDomainGetName(*dom)),
              .uri = uri,
              .dom = *dom,
              .step = "the domain to run"};
    gboolean ok;

    w.deadline = w.start + (gint64)timeout_s * G_USEC_PER_SEC;
    /* Without a host key (a workstation seeded --seed-from) sshd cannot be verified: refused
     * before waiting rather than after the timeout. */
    if (station->host_keys->len == 0) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "%s's metadata holds no SSH host key, so its sshd cannot be verified and "
                    "virt-station does not log in to it (a workstation made with --seed-from: "
                    "its seed server gives the guest its host key)",
                    w.name);
        g_free(w.name);
        return FALSE;
    }
    virDomainGetUUIDString(*dom, w.uuid);
    virDomainRef(w.dom);
    w.watch = vs_watch_new(w.dom);
    vs_progress_step(progress, "waiting for %s (at most %u s):", w.name, timeout_s);
    ok = wait_steps(&w, station, identities, error);
    /* A failure noticed outside stopped() (a step that timed out meanwhile) still says why. */
    if (!ok && w.failure && error && !*error)
        g_propagate_error(error, g_steal_pointer(&w.failure));
    g_clear_error(&w.failure);
    vs_watch_free(w.watch);
    /* The caller's domain follows a reconnect. */
    virDomainFree(*dom);
    *dom = w.dom;
    g_free(w.name);
    return ok;
}

/* ---- the pure parts ---- */

gboolean
vs_ready_refusals_note(VsReadyRefusals *r, gboolean refused_now, gint64 now_us)
{
    if (!refused_now) {
        r->count = 0;
        return FALSE;
    }
    if (r->count == 0)
        r->first_us = now_us;
    r->count++;
    return r->count >= VS_READY_REFUSALS && now_us - r->first_us >= VS_READY_REFUSAL_SPAN_US;
}

gboolean
vs_ready_is_refusal(const char *ssh_output)
{
    return ssh_output && strstr(ssh_output, "Permission denied (publickey") != NULL;
}

/* Returns what happened to the domain, in words, for @f. */
static const char *
what_happened(const VsReadyFailure *f)
{
    const VsWatchStop *s = &f->stop;

    if (s->state < 0)
        return "it was undefined (deleted) from elsewhere";
    if (s->panicked)
        return "the guest crashed: its kernel panicked (reported through pvpanic)";
    switch (s->state) {
    case VIR_DOMAIN_SHUTOFF:
        switch (s->reason) {
        case VIR_DOMAIN_SHUTOFF_SHUTDOWN:
            return "the guest shut itself down";
        case VIR_DOMAIN_SHUTOFF_DESTROYED:
            return "it was powered off from the host (virsh destroy, `virt-station stop --force`)";
        case VIR_DOMAIN_SHUTOFF_CRASHED:
            return "the guest crashed";
        case VIR_DOMAIN_SHUTOFF_FAILED:
            return "QEMU failed";
        case VIR_DOMAIN_SHUTOFF_SAVED:
            return "it was saved to a file (virsh save)";
        case VIR_DOMAIN_SHUTOFF_MIGRATED:
            return "it was migrated to another host";
        default:
            return "it is shut off";
        }
    case VIR_DOMAIN_CRASHED:
        return "the guest crashed";
    case VIR_DOMAIN_PAUSED:
        switch (s->reason) {
        case VIR_DOMAIN_PAUSED_CRASHED:
            return "the guest crashed and QEMU paused it";
        case VIR_DOMAIN_PAUSED_IOERROR:
            return "a disk I/O error paused it";
        case VIR_DOMAIN_PAUSED_WATCHDOG:
            return "the guest's watchdog fired and paused it";
        case VIR_DOMAIN_PAUSED_POSTCOPY_FAILED:
            return "a post-copy migration failed and left it paused";
        default:
            return "QEMU paused it without saying why";
        }
    default:
        return "it stopped";
    }
}

/* Returns a hint that fits @f, or NULL. */
static char *
hint(const VsReadyFailure *f)
{
    const VsWatchStop *s = &f->stop;
    gboolean kvm_error = f->qemu_log && strstr(f->qemu_log, "KVM internal error");

    if (s->state == VIR_DOMAIN_PAUSED && s->reason == VIR_DOMAIN_PAUSED_UNKNOWN &&
        (f->kvm || kvm_error))
        return g_strdup_printf(
            "this is how a KVM internal error shows%s: this host cannot run KVM guests. Delete "
            "%s and try again with `--virt-type qemu` (software emulation)",
            kvm_error ? " (QEMU's log above says so)" : "", f->name);
    if (s->state == VIR_DOMAIN_PAUSED && s->reason == VIR_DOMAIN_PAUSED_IOERROR)
        return g_strdup_printf("is the storage pool's disk full? `virsh domblkerror %s` names the "
                               "disk; `virsh resume %s` continues once it is fixed",
                               f->name, f->name);
    if (s->panicked ||
        (s->state == VIR_DOMAIN_SHUTOFF && s->reason == VIR_DOMAIN_SHUTOFF_CRASHED) ||
        s->state == VIR_DOMAIN_CRASHED ||
        (s->state == VIR_DOMAIN_PAUSED && s->reason == VIR_DOMAIN_PAUSED_CRASHED))
        return g_strdup("the serial console above shows why (a kernel panic, a failing bootcmd "
                        "in the user-data)");
    if (s->state == VIR_DOMAIN_SHUTOFF && s->reason == VIR_DOMAIN_SHUTOFF_SHUTDOWN)
        return g_strdup_printf("look for a poweroff or shutdown in its user-data, or on the serial "
                               "console above; `virt-station start %s` boots it again",
                               f->name);
    if (s->state == VIR_DOMAIN_SHUTOFF && s->reason == VIR_DOMAIN_SHUTOFF_FAILED)
        return g_strdup("QEMU's log above says why");
    if (s->state == VIR_DOMAIN_PAUSED && s->reason == VIR_DOMAIN_PAUSED_UNKNOWN)
        return g_strdup("QEMU's log above may say why");
    return NULL;
}

/* Appends @lines indented under @title, or @title with @note when there are none. */
static void
append_tail(GString *out, const char *title, const char *lines, const char *note)
{
    if (!lines) {
        g_string_append_printf(out, "\n%s: none (%s)", title, note);
        return;
    }
    g_string_append_printf(out, "\n%s (last lines of %s):", title, note);
    g_auto(GStrv) split = g_strsplit(lines, "\n", -1);
    for (guint i = 0; split[i]; i++)
        if (split[i][0] || split[i + 1])
            g_string_append_printf(out, "\n  | %s", split[i]);
}

char *
vs_ready_failure_message(const VsReadyFailure *f)
{
    GString *out = g_string_new(NULL);
    g_autofree char *h = hint(f);
    const char *state = vs_watch_state_to_string(f->stop.state);
    const char *reason = vs_watch_reason_to_string(f->stop.state, f->stop.reason);

    if (f->was_running)
        g_string_append_printf(out,
                               "%s stopped while waiting for %s: %s (libvirt: state %s, "
                               "reason %s)",
                               f->name, f->step, what_happened(f), state, reason);
    else
        g_string_append_printf(out, "%s is not running: %s (libvirt: state %s, reason %s)", f->name,
                               what_happened(f), state, reason);
    if (f->panic)
        g_string_append_printf(out, "\nThe guest's kernel said: %s", f->panic);
    append_tail(out, "Serial console", f->console, f->console_note);
    append_tail(out, "QEMU's log", f->qemu_log, f->qemu_note);
    if (h)
        g_string_append_printf(out, "\nHint: %s.", h);
    if (f->stop.state >= 0)
        g_string_append_printf(out,
                               "\n%s is kept as it is, for inspection: `virt-station info %s`, "
                               "`virt-station start %s` boots it again, `virt-station delete %s` "
                               "removes it.",
                               f->name, f->name, f->name, f->name);
    return g_string_free(out, FALSE);
}

char *
vs_ready_tail(const char *path, guint lines, char **ret_panic, GError **error)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    g_autofree char *buf = NULL;
    GString *clean;
    off_t size;
    ssize_t n;
    const char *p, *start;
    guint seen = 0;

    if (fd < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", path,
                    g_strerror(errno));
        return NULL;
    }
    size = lseek(fd, 0, SEEK_END);
    if (size > TAIL_BYTES)
        lseek(fd, size - TAIL_BYTES, SEEK_SET);
    else
        lseek(fd, 0, SEEK_SET);
    buf = g_malloc(TAIL_BYTES + 1);
    n = read(fd, buf, TAIL_BYTES);
    if (n < 0) {
        int saved = errno;
        close(fd);
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s: %s", path,
                    g_strerror(saved));
        return NULL;
    }
    close(fd);
    buf[n] = '\0';
    /* Terminal escapes (ESC [ ... final byte) and control characters go; \r\n becomes \n. */
    clean = g_string_sized_new((gsize)n);
    for (p = buf; p < buf + n; p++) {
        if (*p == '\033') {
            if (p + 1 < buf + n && p[1] == '[') {
                p += 2;
                while (p < buf + n && !(*p >= 0x40 && *p <= 0x7e))
                    p++;
            }
            continue;
        }
        if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t')
            continue;
        g_string_append_c(clean, *p);
    }
    while (clean->len > 0 && clean->str[clean->len - 1] == '\n')
        g_string_truncate(clean, clean->len - 1);
    /* Back from the end to the start of the @lines-th last line. */
    start = clean->str;
    for (p = clean->str + clean->len; p > clean->str; p--) {
        if (p[-1] == '\n' && ++seen == lines) {
            start = p;
            break;
        }
    }
    if (ret_panic) {
        /* The last panic line, when it lies before the lines returned. */
        const char *panic =
            g_strrstr_len(clean->str, (gssize)(start - clean->str), "Kernel panic - not syncing");
        *ret_panic = NULL;
        if (panic && !g_strstr_len(start, -1, "Kernel panic - not syncing")) {
            const char *end = strchr(panic, '\n');
            while (panic > clean->str && panic[-1] != '\n') /* the whole line */
                panic--;
            g_autofree char *line = end ? g_strndup(panic, (gsize)(end - panic)) : g_strdup(panic);
            *ret_panic = g_utf8_make_valid(line, -1);
        }
    }
    {
        g_autofree char *valid = g_utf8_make_valid(start, -1);
        g_string_free(clean, TRUE);
        return g_steal_pointer(&valid);
    }
}
