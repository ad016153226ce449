/* The wait's pure parts: which domain states stop it (every state and reason libvirt names),
 * libvirt's names for them, the "refused three times over 10 s" rule fed with timestamps, the
 * message when the domain stopped, the console tail; and the login keys: ssh's argv with and
 * without identities, the private halves of --ssh-key files, --identity checks, and the store
 * that remembers them per URI and UUID (under a temporary XDG_DATA_HOME). */
#define VIR_ENUM_SENTINELS /* the _LAST values, to walk every state and reason */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/bed/bed.h"
#include "provisioner/base/spec-error.h"
#include "provisioner/cli.h"
#include "provisioner/identity.h"
#include "provisioner/ready.h"
#include "provisioner/sshcmd.h"
#include "domains/watch.h"

static char *tmp; /* this run's temporary directory, XDG_DATA_HOME under it */

/* ---- the decision table ---- */

static void
test_decide_every_state(void)
{
    struct {
        int state, reason;
        VsWatchVerdict verdict;
    } cases[] = {
        /* Stops. */
        {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_UNKNOWN, VS_WATCH_STOPPED},
        {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SHUTDOWN, VS_WATCH_STOPPED},
        {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DESTROYED, VS_WATCH_STOPPED},
        {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED, VS_WATCH_STOPPED},
        {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_MIGRATED, VS_WATCH_STOPPED},
        {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SAVED, VS_WATCH_STOPPED},
        {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_FAILED, VS_WATCH_STOPPED},
        {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT, VS_WATCH_STOPPED},
        {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DAEMON, VS_WATCH_STOPPED},
        {VIR_DOMAIN_CRASHED, VIR_DOMAIN_CRASHED_UNKNOWN, VS_WATCH_STOPPED},
        {VIR_DOMAIN_CRASHED, VIR_DOMAIN_CRASHED_PANICKED, VS_WATCH_STOPPED},
        {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_UNKNOWN, VS_WATCH_STOPPED},
        {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_IOERROR, VS_WATCH_STOPPED},
        {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_WATCHDOG, VS_WATCH_STOPPED},
        {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_CRASHED, VS_WATCH_STOPPED},
        {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_POSTCOPY_FAILED, VS_WATCH_STOPPED},
        {-1, 0, VS_WATCH_STOPPED}, /* undefined */
        /* Keeps waiting. */
        {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER, VS_WATCH_GOING},
        {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_MIGRATION, VS_WATCH_GOING},
        {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_SAVE, VS_WATCH_GOING},
        {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_DUMP, VS_WATCH_GOING},
        {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_FROM_SNAPSHOT, VS_WATCH_GOING},
        {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_SHUTTING_DOWN, VS_WATCH_GOING},
        {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_SNAPSHOT, VS_WATCH_GOING},
        {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_STARTING_UP, VS_WATCH_GOING},
        {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_POSTCOPY, VS_WATCH_GOING},
        {VIR_DOMAIN_NOSTATE, 0, VS_WATCH_GOING},
        {VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_BOOTED, VS_WATCH_GOING},
        {VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_CRASHED, VS_WATCH_GOING},
        {VIR_DOMAIN_BLOCKED, VIR_DOMAIN_BLOCKED_UNKNOWN, VS_WATCH_GOING},
        {VIR_DOMAIN_SHUTDOWN, VIR_DOMAIN_SHUTDOWN_USER, VS_WATCH_GOING},
        {VIR_DOMAIN_PMSUSPENDED, 0, VS_WATCH_GOING},
    };
    guint paused = 0, shutoff = 0, crashed = 0;

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        VsWatchVerdict v = vs_watch_decide(cases[i].state, cases[i].reason);
        if (v != cases[i].verdict)
            g_error("state %s, reason %s: verdict %d, expected %d",
                    vs_watch_state_to_string(cases[i].state),
                    vs_watch_reason_to_string(cases[i].state, cases[i].reason), v,
                    cases[i].verdict);
        paused += cases[i].state == VIR_DOMAIN_PAUSED;
        shutoff += cases[i].state == VIR_DOMAIN_SHUTOFF;
        crashed += cases[i].state == VIR_DOMAIN_CRASHED;
    }
    /* Every reason this libvirt knows has its line above. */
    g_assert_cmpuint(paused, ==, VIR_DOMAIN_PAUSED_LAST);
    g_assert_cmpuint(shutoff, ==, VIR_DOMAIN_SHUTOFF_LAST);
    g_assert_cmpuint(crashed, ==, VIR_DOMAIN_CRASHED_LAST);
}

static void
test_names(void)
{
    /* As virsh prints them. */
    g_assert_cmpstr(vs_watch_state_to_string(VIR_DOMAIN_SHUTOFF), ==, "shut off");
    g_assert_cmpstr(vs_watch_state_to_string(VIR_DOMAIN_PAUSED), ==, "paused");
    g_assert_cmpstr(vs_watch_state_to_string(VIR_DOMAIN_SHUTDOWN), ==, "in shutdown");
    g_assert_cmpstr(vs_watch_state_to_string(-1), ==, "undefined");
    g_assert_cmpstr(vs_watch_state_to_string(99), ==, "unknown");
    g_assert_cmpstr(vs_watch_reason_to_string(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_IOERROR), ==,
                    "I/O error");
    g_assert_cmpstr(vs_watch_reason_to_string(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_UNKNOWN), ==,
                    "unknown");
    g_assert_cmpstr(vs_watch_reason_to_string(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED), ==,
                    "crashed");
    g_assert_cmpstr(vs_watch_reason_to_string(VIR_DOMAIN_CRASHED, VIR_DOMAIN_CRASHED_PANICKED), ==,
                    "panicked");
    g_assert_cmpstr(vs_watch_reason_to_string(VIR_DOMAIN_PAUSED, 99), ==, "unknown");
    /* Every value libvirt knows has a name of its own: only the UNKNOWN ones say "unknown". */
    for (int s = 0; s < VIR_DOMAIN_LAST; s++)
        g_assert_cmpstr(vs_watch_state_to_string(s), !=, "unknown");
    for (int r = 1; r < VIR_DOMAIN_PAUSED_LAST; r++)
        g_assert_cmpstr(vs_watch_reason_to_string(VIR_DOMAIN_PAUSED, r), !=, "unknown");
    for (int r = 1; r < VIR_DOMAIN_SHUTOFF_LAST; r++)
        g_assert_cmpstr(vs_watch_reason_to_string(VIR_DOMAIN_SHUTOFF, r), !=, "unknown");
    for (int r = 1; r < VIR_DOMAIN_CRASHED_LAST; r++)
        g_assert_cmpstr(vs_watch_reason_to_string(VIR_DOMAIN_CRASHED, r), !=, "unknown");
    for (int r = 1; r < VIR_DOMAIN_RUNNING_LAST; r++)
        g_assert_cmpstr(vs_watch_reason_to_string(VIR_DOMAIN_RUNNING, r), !=, "unknown");
}

/* ---- sshd refusing every key ---- */

#define S(x) ((gint64)((x)*G_USEC_PER_SEC))

static void
test_refusals_three_over_ten_seconds(void)
{
    VsReadyRefusals r = {0};

    /* Every 2 s from 100 s on: the third comes at 104 s, but the span reaches 10 s at 110 s. */
    g_assert_false(vs_ready_refusals_note(&r, TRUE, S(100)));
    g_assert_false(vs_ready_refusals_note(&r, TRUE, S(102)));
    g_assert_false(vs_ready_refusals_note(&r, TRUE, S(104)));
    g_assert_false(vs_ready_refusals_note(&r, TRUE, S(106)));
    g_assert_false(vs_ready_refusals_note(&r, TRUE, S(109.9)));
    g_assert_true(vs_ready_refusals_note(&r, TRUE, S(110)));
    g_assert_cmpuint(r.count, ==, 6);

    /* Two refusals 10 s apart are not enough: a third is needed. */
    r = (VsReadyRefusals){0};
    g_assert_false(vs_ready_refusals_note(&r, TRUE, S(0)));
    g_assert_false(vs_ready_refusals_note(&r, TRUE, S(30)));
    g_assert_true(vs_ready_refusals_note(&r, TRUE, S(30.5)));

    /* Anything else in between (no answer, a reset) starts the count again. */
    r = (VsReadyRefusals){0};
    g_assert_false(vs_ready_refusals_note(&r, TRUE, S(0)));
    g_assert_false(vs_ready_refusals_note(&r, TRUE, S(5)));
    g_assert_false(vs_ready_refusals_note(&r, FALSE, S(11)));
    g_assert_cmpuint(r.count, ==, 0);
    g_assert_false(vs_ready_refusals_note(&r, TRUE, S(12)));
    g_assert_false(vs_ready_refusals_note(&r, TRUE, S(14)));
    g_assert_false(vs_ready_refusals_note(&r, TRUE, S(21.9)));
    g_assert_true(vs_ready_refusals_note(&r, TRUE, S(22)));
}

static void
test_is_refusal(void)
{
    g_assert_true(vs_ready_is_refusal("station@127.0.0.1: Permission denied (publickey).\n"));
    g_assert_true(vs_ready_is_refusal("Permission denied (publickey,password)."));
    g_assert_false(vs_ready_is_refusal("ssh: connect to host 127.0.0.1 port 40022: Connection "
                                       "refused"));
    g_assert_false(vs_ready_is_refusal("kex_exchange_identification: read: Connection reset"));
    g_assert_false(vs_ready_is_refusal("Host key verification failed."));
    g_assert_false(vs_ready_is_refusal(NULL));
}

/* ---- the message when the domain stopped ---- */

static void
test_message_crash(void)
{
    VsReadyFailure f = {
        .name = "ws1",
        .step = "sshd to answer",
        .was_running = TRUE,
        .stop = {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED, TRUE},
        .console = "sysrq: Trigger a crash\nKernel panic - not syncing: sysrq triggered crash",
        .panic = NULL,
        .console_note = "/var/log/libvirt/qemu/ws1-console.log",
        .qemu_log = "2026-11-30 10:41:22.123+0000: shutting down, reason=crashed",
        .qemu_note = "/var/log/libvirt/qemu/ws1.log",
    };
    g_autofree char *m = vs_ready_failure_message(&f);

    g_assert_true(g_str_has_prefix(
        m, "ws1 stopped while waiting for sshd to answer: the guest crashed: its kernel panicked "
           "(reported through pvpanic) (libvirt: state shut off, reason crashed)\n"));
    g_assert_nonnull(strstr(m, "\nSerial console (last lines of "
                               "/var/log/libvirt/qemu/ws1-console.log):\n"
                               "  | sysrq: Trigger a crash\n"
                               "  | Kernel panic - not syncing: sysrq triggered crash\n"));
    g_assert_nonnull(strstr(m, "\nQEMU's log (last lines of /var/log/libvirt/qemu/ws1.log):\n"
                               "  | 2026-11-30 10:41:22.123+0000: shutting down, reason=crashed"));
    g_assert_nonnull(strstr(m, "\nHint: the serial console above shows why"));
    g_assert_true(g_str_has_suffix(m, "\nws1 is kept as it is, for inspection: `virt-station info "
                                      "ws1`, `virt-station start ws1` boots it again, "
                                      "`virt-station delete ws1` removes it."));
    g_assert_null(strstr(m, "--virt-type"));
    g_assert_null(strstr(m, "The guest's kernel said"));

    /* The panic line that the call trace pushed out of the last lines comes first. */
    f.panic = "[ 38.2] Kernel panic - not syncing: sysrq triggered crash";
    g_autofree char *with_panic = vs_ready_failure_message(&f);
    g_assert_nonnull(strstr(with_panic, "(libvirt: state shut off, reason crashed)\nThe guest's "
                                        "kernel said: [ 38.2] Kernel panic - not syncing: sysrq "
                                        "triggered crash\nSerial console (last lines of "));
}

static void
test_message_kvm_internal_error(void)
{
    VsReadyFailure f = {
        .name = "ws2",
        .step = "the guest's network",
        .was_running = TRUE,
        .stop = {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_UNKNOWN, FALSE},
        .kvm = TRUE,
        .console_note = "/var/log/libvirt/qemu/ws2-console.log is empty",
        .qemu_log = "KVM internal error. Suberror: 1\nemulation failure",
        .qemu_note = "/var/log/libvirt/qemu/ws2.log",
    };
    g_autofree char *m = vs_ready_failure_message(&f);

    g_assert_nonnull(strstr(m, "QEMU paused it without saying why (libvirt: state paused, "
                               "reason unknown)"));
    g_assert_nonnull(strstr(m, "\nSerial console: none (/var/log/libvirt/qemu/ws2-console.log is "
                               "empty)"));
    g_assert_nonnull(strstr(m, "Hint: this is how a KVM internal error shows (QEMU's log above "
                               "says so): this host cannot run KVM guests. Delete ws2 and try "
                               "again with `--virt-type qemu`"));

    /* Under TCG the same pause gets no KVM hint. */
    f.kvm = FALSE;
    f.qemu_log = "something else";
    g_autofree char *tcg = vs_ready_failure_message(&f);
    g_assert_null(strstr(tcg, "--virt-type"));
    g_assert_nonnull(strstr(tcg, "Hint: QEMU's log above may say why."));
}

static void
test_message_shutdown_remote_gone(void)
{
    VsReadyFailure f = {
        .name = "ws3",
        .step = "cloud-init to finish",
        .was_running = TRUE,
        .stop = {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SHUTDOWN, FALSE},
        .console_note = "its log /var/log/libvirt/qemu/ws3-console.log is on the libvirt host, "
                        "not available here; `virt-station console ws3` attaches to the console",
        .qemu_note = "QEMU's log is on the libvirt host, not available here",
    };
    g_autofree char *m = vs_ready_failure_message(&f);

    g_assert_true(g_str_has_prefix(m, "ws3 stopped while waiting for cloud-init to finish: the "
                                      "guest shut itself down (libvirt: state shut off, reason "
                                      "shutdown)\n"));
    g_assert_nonnull(strstr(m, "\nSerial console: none (its log "
                               "/var/log/libvirt/qemu/ws3-console.log is on the libvirt host, "
                               "not available here;"));
    g_assert_nonnull(strstr(m, "\nQEMU's log: none (QEMU's log is on the libvirt host, not "
                               "available here)"));
    g_assert_nonnull(strstr(m, "Hint: look for a poweroff or shutdown in its user-data"));
    g_assert_nonnull(strstr(m, "is kept as it is"));

    /* Down before the wait began. */
    f.was_running = FALSE;
    g_autofree char *before = vs_ready_failure_message(&f);
    g_assert_true(g_str_has_prefix(before, "ws3 is not running: the guest shut itself down "
                                           "(libvirt: state shut off, reason shutdown)"));

    /* Undefined from elsewhere: nothing is kept. */
    f.was_running = TRUE;
    f.stop = (VsWatchStop){-1, 0, FALSE};
    g_autofree char *gone = vs_ready_failure_message(&f);
    g_assert_nonnull(strstr(gone, "it was undefined (deleted) from elsewhere (libvirt: state "
                                  "undefined, reason unknown)"));
    g_assert_null(strstr(gone, "is kept"));

    /* An I/O error names the disk tool. */
    f.stop = (VsWatchStop){VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_IOERROR, FALSE};
    g_autofree char *io = vs_ready_failure_message(&f);
    g_assert_nonnull(strstr(io, "a disk I/O error paused it (libvirt: state paused, reason I/O "
                                "error)"));
    g_assert_nonnull(strstr(io, "`virsh domblkerror ws3`"));
}

static void
test_tail(void)
{
    g_autofree char *path = g_build_filename(tmp, "console.log", NULL);
    GString *text = g_string_new(NULL);
    g_autoptr(GError) error = NULL;

    for (int i = 1; i <= 30; i++)
        g_string_append_printf(text, "\033[0;32mline %d\033[0m\r\n", i);
    g_string_append(text, "\n\n");
    g_assert_true(g_file_set_contents(path, text->str, (gssize)text->len, NULL));
    g_string_free(text, TRUE);
    g_autofree char *panic = NULL;
    g_autofree char *tail = vs_ready_tail(path, 20, &panic, &error);
    g_assert_no_error(error);
    g_assert_true(g_str_has_prefix(tail, "line 11\nline 12\n"));
    g_assert_true(g_str_has_suffix(tail, "\nline 30"));
    g_auto(GStrv) lines = g_strsplit(tail, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 20);
    g_assert_null(panic);

    /* A panic line above a long call trace is handed back on its own. */
    text = g_string_new("[   38.1] sysrq: Trigger a crash\n"
                        "[   38.2] Kernel panic - not syncing: sysrq triggered crash\n");
    for (int i = 1; i <= 25; i++)
        g_string_append_printf(text, "[   38.3]  frame_%d+0x16/0x20\n", i);
    g_assert_true(g_file_set_contents(path, text->str, (gssize)text->len, NULL));
    g_string_free(text, TRUE);
    g_autofree char *trace = vs_ready_tail(path, 20, &panic, &error);
    g_assert_true(g_str_has_prefix(trace, "[   38.3]  frame_6+0x16/0x20\n"));
    g_assert_cmpstr(panic, ==, "[   38.2] Kernel panic - not syncing: sysrq triggered crash");
    /* Within the last lines: not repeated. */
    g_clear_pointer(&panic, g_free);
    g_autofree char *short_trace = vs_ready_tail(path, 30, &panic, &error);
    g_assert_nonnull(strstr(short_trace, "Kernel panic"));
    g_assert_null(panic);

    /* Fewer lines than asked for: all of them. */
    g_assert_true(g_file_set_contents(path, "one\ntwo\n", -1, NULL));
    g_autofree char *two = vs_ready_tail(path, 20, NULL, &error);
    g_assert_cmpstr(two, ==, "one\ntwo");

    g_autofree char *missing = g_build_filename(tmp, "no-such.log", NULL);
    g_autofree char *none = vs_ready_tail(missing, 20, NULL, &error);
    g_assert_null(none);
    g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
    g_assert_nonnull(strstr(error->message, missing));
}

/* ---- login keys ---- */

/* Returns @argv (NULL-terminated) joined by spaces. */
static char *
joined(GPtrArray *argv)
{
    return g_strjoinv(" ", (char **)argv->pdata);
}

static void
test_ssh_argv_identities(void)
{
    VsSshTarget t = {.user = (char *)"station",
                     .host = (char *)"127.0.0.1",
                     .port = 40022,
                     .alias = (char *)"vs-ws",
                     .known_hosts = (char *)"/kh/ws",
                     .identity = NULL};
    char *keys[] = {(char *)"/keys/a", (char *)"/keys/b c", NULL};
    char *cmd[] = {(char *)"true", NULL};

    t.identities = keys;
    g_autoptr(GPtrArray) with = vs_ssh_argv(&t, TRUE, FALSE, cmd);
    g_autofree char *w = joined(with);
    g_assert_cmpstr(w, ==,
                    "ssh -p 40022 -o UserKnownHostsFile=/kh/ws -o StrictHostKeyChecking=yes -o "
                    "HostKeyAlias=vs-ws -o LogLevel=ERROR -o BatchMode=yes -o ConnectTimeout=10 "
                    "-i /keys/a -i /keys/b c -o IdentitiesOnly=yes -T -- station@127.0.0.1 'true'");
    /* The key path is one argument, spaces and all. */
    gboolean found = FALSE;
    for (guint i = 0; i + 1 < with->len && with->pdata[i + 1]; i++)
        if (g_str_equal(with->pdata[i], "-i") && g_str_equal(with->pdata[i + 1], "/keys/b c"))
            found = TRUE;
    g_assert_true(found);

    /* Without identities: virt-station's own key is added to ssh's defaults, not alone. */
    t.identities = NULL;
    t.identity = (char *)"/data/virt-station/id_ed25519";
    g_autoptr(GPtrArray) own = vs_ssh_argv(&t, FALSE, TRUE, NULL);
    g_autofree char *o = joined(own);
    g_assert_cmpstr(o, ==,
                    "ssh -p 40022 -o UserKnownHostsFile=/kh/ws -o StrictHostKeyChecking=yes -o "
                    "HostKeyAlias=vs-ws -o LogLevel=ERROR -i /data/virt-station/id_ed25519 -t -- "
                    "station@127.0.0.1");
    g_assert_null(strstr(o, "IdentitiesOnly"));
}

/* Returns the index of @arg in @argv (NULL-terminated), or -1. */
static int
index_of(GPtrArray *argv, const char *arg)
{
    for (guint i = 0; i < argv->len && argv->pdata[i]; i++)
        if (g_str_equal(argv->pdata[i], arg))
            return (int)i;
    return -1;
}

/* "--" ends the options before the destination, with and without a command and a jump host;
 * the ProxyCommand's ssh ends its options before the jump host too. */
static void
test_ssh_argv_dashdash(void)
{
    VsSshTarget t = {.user = (char *)"station",
                     .host = (char *)"192.0.2.7",
                     .port = 22,
                     .alias = (char *)"vs-ws",
                     .known_hosts = (char *)"/kh/ws",
                     .jump = (char *)"root@jump.example:2222",
                     .jump_key = (char *)"/k/jump"};
    char *cmd[] = {(char *)"-oProxyCommand=touch /tmp/x", (char *)"b", NULL};

    for (int with_cmd = 0; with_cmd < 2; with_cmd++) {
        g_autoptr(GPtrArray) argv = vs_ssh_argv(&t, TRUE, FALSE, with_cmd ? cmd : NULL);
        int dashdash = index_of(argv, "--");
        int dest = index_of(argv, "station@192.0.2.7");
        g_assert_cmpint(dashdash, >, 0);
        g_assert_cmpint(dest, ==, dashdash + 1);
        /* Nothing but the command after the destination, and only one "--". */
        g_assert_cmpint(index_of(argv, "--"), ==, dashdash);
        if (with_cmd) {
            g_assert_cmpstr(argv->pdata[dest + 1], ==, "'-oProxyCommand=touch /tmp/x' 'b'");
            g_assert_null(argv->pdata[dest + 2]);
        } else {
            g_assert_null(argv->pdata[dest + 1]);
        }
        g_autofree char *proxy = g_strdup(argv->pdata[dashdash - 2]);
        g_assert_cmpstr(argv->pdata[dashdash - 3], ==, "-o");
        g_assert_cmpstr(proxy, ==,
                        "ProxyCommand=ssh -W %h:%p -p 2222 -i '/k/jump' -o BatchMode=yes -l "
                        "'root' -- 'jump.example'");
    }
    /* An IPv6 guest address goes in brackets for -W. */
    t.host = (char *)"fd00::7";
    g_autoptr(GPtrArray) v6 = vs_ssh_argv(&t, FALSE, FALSE, NULL);
    g_autofree char *j = joined(v6);
    g_assert_nonnull(strstr(j, "ProxyCommand=ssh -W [%h]:%p -p 2222"));
    g_assert_nonnull(strstr(j, " -T -- station@fd00::7"));
}

/* The user and host checks: what metadata and guests say before it reaches ssh. */
static void
test_ssh_checks(void)
{
    static const char *const good_users[] = {"station", "_x", "a-b_9",
                                             "abcdefghijklmnopqrstuvwxyz01234", NULL};
    static const char *const bad_users[] = {
        "-oProxyCommand=touch /tmp/x",      "station\n", "Station", "9lives", "", "a b",
        "abcdefghijklmnopqrstuvwxyz012345", "x@y",       NULL};
    static const char *const good_hosts[] = {"127.0.0.1",  "198.51.100.5", "::1", "fd00::7",
                                             "ws.example", "host-1",       NULL};
    static const char *const bad_hosts[] = {"127.0.0.1;touch /tmp/y",
                                            "-oFoo",
                                            "127.0.0.1\n",
                                            "",
                                            "a..b",
                                            "fe80::1%eth0",
                                            "host name",
                                            "$(reboot)",
                                            "-host",
                                            "[::1]",
                                            NULL};
    g_autoptr(GError) error = NULL;

    for (guint i = 0; good_users[i]; i++) {
        if (!vs_ssh_check_user(good_users[i], "user", &error))
            g_error("user '%s' refused: %s", good_users[i], error->message);
    }
    for (guint i = 0; bad_users[i]; i++) {
        g_autofree char *u = g_strcompress(bad_users[i]);
        if (vs_ssh_check_user(u, "the metadata's SSH user", &error))
            g_error("user '%s' accepted", bad_users[i]);
        g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
        g_assert_true(g_str_has_prefix(error->message, "refusing the metadata's SSH user '"));
        g_clear_error(&error);
    }
    g_assert_false(vs_ssh_check_user(NULL, "user", &error));
    g_clear_error(&error);
    for (guint i = 0; good_hosts[i]; i++) {
        if (!vs_ssh_check_host(good_hosts[i], "host", &error))
            g_error("host '%s' refused: %s", good_hosts[i], error->message);
    }
    for (guint i = 0; bad_hosts[i]; i++) {
        g_autofree char *h = g_strcompress(bad_hosts[i]);
        if (vs_ssh_check_host(h, "the guest's address", &error))
            g_error("host '%s' accepted", bad_hosts[i]);
        g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
        g_clear_error(&error);
    }
    /* The message shows a newline escaped, and says what the value was. */
    g_assert_false(vs_ssh_check_host("127.0.0.1\n", "the guest's address", &error));
    g_assert_nonnull(strstr(error->message, "refusing the guest's address '127.0.0.1\\n'"));
}

/* vs_ssh_target_new refuses a metadata user, host or port, and a guest address, that ssh
 * could read as options or that are no address; it writes no known_hosts file then. */
static void
test_ssh_target_refuses(void)
{
    static const struct {
        const char *ssh;  /* the <vs:ssh> element */
        const char *host; /* the guest's address, or NULL */
        const char *said;
    } cases[] = {
        {"<vs:ssh user='-oProxyCommand=touch /tmp/x' host='127.0.0.1' port='40022'/>", NULL,
         "refusing the metadata's SSH user '-oProxyCommand=touch /tmp/x'"},
        {"<vs:ssh user='station' host='127.0.0.1;touch /tmp/y' port='40022'/>", NULL,
         "refusing the metadata's SSH host '127.0.0.1;touch /tmp/y'"},
        {"<vs:ssh user='station' host='-oFoo' port='40022'/>", NULL,
         "refusing the metadata's SSH host '-oFoo'"},
        {"<vs:ssh user='station' host='127.0.0.1' port='0'/>", NULL,
         "refusing the metadata's SSH port 0"},
        {"<vs:ssh user='station'/>", "127.0.0.1;touch /tmp/y",
         "refusing the guest's address '127.0.0.1;touch /tmp/y'"},
        {"<vs:ssh user='station'/>", "-oFoo", "refusing the guest's address '-oFoo'"},
    };
    /* A workstation name of its own: its known_hosts file must not appear. */
    g_autofree char *known =
        g_build_filename(g_get_user_cache_dir(), "virt-station", "known_hosts", "ws-refused", NULL);

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *full = g_strdup_printf(
            "<vs:station xmlns:vs='urn:virt-station:domain:1' version='1'>%s"
            "<vs:host-key>ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey root@ws</vs:host-key>"
            "</vs:station>",
            cases[i].ssh);
        g_autoptr(VsMetadata) station = vs_metadata_parse(full, &error);
        g_assert_no_error(error);
        g_autoptr(VsSshTarget) t =
            vs_ssh_target_new(NULL, "ws-refused", station, cases[i].host, NULL, &error);
        g_assert_null(t);
        g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
        if (!g_str_has_prefix(error->message, cases[i].said))
            g_error("case %u: %s", i, error->message);
        g_assert_false(g_file_test(known, G_FILE_TEST_EXISTS));
    }
}

static void
test_ssh_target_takes_identities(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VsMetadata) station = vs_metadata_parse(
        "<vs:station xmlns:vs='urn:virt-station:domain:1' version='1'>"
        "<vs:ssh user='station' host='127.0.0.1' port='40022'/>"
        "<vs:host-key>ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey root@ws</vs:host-key>"
        "</vs:station>",
        &error);
    const char *const keys[] = {"/keys/k", NULL};

    g_assert_no_error(error);
    g_autoptr(VsSshTarget) t = vs_ssh_target_new(NULL, "ws", station, NULL, keys, &error);
    g_assert_no_error(error);
    g_assert_nonnull(t->identities);
    g_assert_cmpstr(t->identities[0], ==, "/keys/k");
    g_assert_null(t->identities[1]);
    g_assert_null(t->identity);
    g_autoptr(GPtrArray) argv = vs_ssh_argv(t, TRUE, FALSE, NULL);
    g_autofree char *a = joined(argv);
    g_assert_nonnull(strstr(a, " -i /keys/k -o IdentitiesOnly=yes "));
}

static void
test_identity_from_public(void)
{
    g_autofree char *dir = g_build_filename(tmp, "pub", NULL);
    g_autofree char *k = g_build_filename(dir, "k", NULL);
    g_autofree char *k_pub = g_build_filename(dir, "k.pub", NULL);
    g_autofree char *lone_pub = g_build_filename(dir, "lone.pub", NULL);
    g_autofree char *odd = g_build_filename(dir, "odd-name", NULL);
    g_autofree char *cwd = g_get_current_dir();

    g_mkdir_with_parents(dir, 0700);
    g_assert_true(g_file_set_contents(k, "private", -1, NULL));
    g_assert_true(g_file_set_contents(k_pub, "ssh-ed25519 AAAA k", -1, NULL));
    g_assert_true(g_file_set_contents(lone_pub, "ssh-ed25519 AAAA lone", -1, NULL));
    g_assert_true(g_file_set_contents(odd, "ssh-ed25519 AAAA odd", -1, NULL));

    const char *const pubs[] = {lone_pub, k_pub, odd, NULL};
    g_auto(GStrv) halves = vs_identity_from_public(pubs);
    g_assert_cmpuint(g_strv_length(halves), ==, 1);
    g_assert_cmpstr(halves[0], ==, k);

    /* A relative path comes back absolute: the record outlives the working directory. */
    g_assert_cmpint(g_chdir(dir), ==, 0);
    const char *const rel[] = {"k.pub", NULL};
    g_auto(GStrv) abs = vs_identity_from_public(rel);
    g_assert_cmpint(g_chdir(cwd), ==, 0);
    g_assert_cmpstr(abs[0], ==, k);

    g_auto(GStrv) none = vs_identity_from_public(NULL);
    g_assert_nonnull(none);
    g_assert_null(none[0]);
}

static void
test_identity_check(void)
{
    g_autofree char *key = g_build_filename(tmp, "check-key", NULL);
    g_autofree char *missing = g_build_filename(tmp, "check-missing", NULL);
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) ids = NULL;

    g_assert_true(g_file_set_contents(key, "private", -1, NULL));
    g_assert_true(vs_identity_check(key, &error));
    g_assert_no_error(error);

    g_assert_false(vs_identity_check(missing, &error));
    g_assert_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID);
    g_autofree char *expect = g_strdup_printf("--identity %s: No such file or directory", missing);
    g_assert_cmpstr(error->message, ==, expect);
    g_assert_cmpint(vs_cli_exit_status(error), ==, 2);
    g_clear_error(&error);

    g_assert_false(vs_identity_check(tmp, &error));
    g_assert_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "not a regular file"));
    g_clear_error(&error);

    /* Resolving: the explicit file wins over anything remembered, and is checked. */
    const char *const stored[] = {"/remembered/key", NULL};
    g_assert_true(vs_identity_remember("qemu:///system", "uuid-check", stored, &error));
    g_assert_true(vs_identity_resolve(key, "qemu:///system", "uuid-check", &ids, &error));
    g_assert_cmpstr(ids[0], ==, key);
    g_clear_pointer(&ids, g_strfreev);
    g_assert_true(vs_identity_resolve(NULL, "qemu:///system", "uuid-check", &ids, &error));
    g_assert_cmpstr(ids[0], ==, "/remembered/key");
    g_clear_pointer(&ids, g_strfreev);
    g_assert_true(vs_identity_resolve(NULL, "qemu:///system", "uuid-other", &ids, &error));
    g_assert_null(ids);
    g_assert_false(vs_identity_resolve(missing, "qemu:///system", "uuid-check", &ids, &error));
    g_assert_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID);
    g_assert_null(ids);
}

static void
test_identity_store_round_trip(void)
{
    const char *uri = "qemu+ssh://root@host/system?keyfile=/k&no_verify=1";
    const char *uuid = "6f1d1b0a-7f4e-4c1e-9a8e-3b2b1d0c9e8f";
    const char *const keys[] = {"/home/u/keys/k", "/home/u/keys/with space", NULL};
    g_autoptr(GError) error = NULL;
    g_autofree char *path = vs_identity_store_path(uri, uuid);
    g_autofree char *expect_dir = g_build_filename(tmp, "data", "virt-station", "identities", NULL);
    g_autofree char *dir = g_path_get_dirname(path);
    GStatBuf st;

    /* Under XDG_DATA_HOME, named by the UUID (and a hash of the URI). */
    g_assert_cmpstr(dir, ==, expect_dir);
    g_autofree char *base = g_path_get_basename(path);
    g_assert_true(g_str_has_prefix(base, uuid));

    g_assert_null(vs_identity_recall(uri, uuid));
    g_assert_true(vs_identity_remember(uri, uuid, keys, &error));
    g_assert_no_error(error);
    g_assert_cmpint(g_stat(dir, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0700);

    g_auto(GStrv) back = vs_identity_recall(uri, uuid);
    g_assert_nonnull(back);
    g_assert_cmpuint(g_strv_length(back), ==, 2);
    g_assert_cmpstr(back[0], ==, keys[0]);
    g_assert_cmpstr(back[1], ==, keys[1]);
    /* Keyed by both: the same UUID on another host, or another domain, has nothing. */
    g_assert_null(vs_identity_recall("qemu:///system", uuid));
    g_assert_null(vs_identity_recall(uri, "00000000-0000-0000-0000-000000000000"));

    /* A second choice replaces the first. */
    const char *const other[] = {"/other", NULL};
    g_assert_true(vs_identity_remember(uri, uuid, other, &error));
    g_auto(GStrv) replaced = vs_identity_recall(uri, uuid);
    g_assert_cmpuint(g_strv_length(replaced), ==, 1);
    g_assert_cmpstr(replaced[0], ==, "/other");

    vs_identity_forget(uri, uuid);
    g_assert_null(vs_identity_recall(uri, uuid));
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

    /* A FIFO in the record's place is not read: opening it to read would block for ever. */
    g_assert_cmpint(mkfifo(path, 0600), ==, 0);
    g_assert_null(vs_identity_recall(uri, uuid));
    g_unlink(path);

    g_autofree char *described = vs_identity_describe(keys, "the defaults");
    g_assert_cmpstr(described, ==, "/home/u/keys/k, /home/u/keys/with space");
    g_autofree char *defaults = vs_identity_describe(NULL, "the defaults");
    g_assert_cmpstr(defaults, ==, "the defaults");
}

/* cloud-init's result.json as its final stage writes it (json.dumps, indent=1, sort_keys; the
 * texts below were made by Python's json module with those settings), and other shapes. */
static void
test_result_ok(void)
{
    g_assert_true(vs_ready_result_ok(
        "{\n \"v1\": {\n  \"datasource\": \"DataSourceNoCloud [seed=/dev/vdb][dsmode=net]\",\n  "
        "\"errors\": []\n }\n}\n"));
    g_assert_false(vs_ready_result_ok(
        "{\n \"v1\": {\n  \"datasource\": \"DataSourceNoCloud\",\n  \"errors\": [\n   "
        "\"(\\\"scripts_user\\\", RuntimeError(\\\"Runparts: 1 failures in 1 attempted "
        "commands\\\"))\"\n  ]\n }\n}\n"));
    g_assert_true(vs_ready_result_ok("{\"v1\":{\"datasource\":null,\"errors\":[]}}"));
    g_assert_true(vs_ready_result_ok("{\"v1\": {\"errors\" :\t[ \n ]}}"));
    g_assert_false(vs_ready_result_ok("{\"v1\": {\"errors\": [\"x\"]}}"));
    g_assert_false(vs_ready_result_ok("{\"v1\": {\"datasource\": null}}"));
    g_assert_false(vs_ready_result_ok("{\"v1\": {\"errors\": null}}"));
    g_assert_false(vs_ready_result_ok("{\"v1\": {\"errors\""));
    g_assert_false(vs_ready_result_ok(""));
    g_assert_false(vs_ready_result_ok(NULL));
}

int
main(int argc, char **argv)
{
    int rc;

    /* Before GLib reads (and caches) the user directories. */
    tmp = g_dir_make_tmp("vs-test-wait-XXXXXX", NULL);
    g_assert_nonnull(tmp);
    g_autofree char *data = g_build_filename(tmp, "data", NULL);
    g_autofree char *cache = g_build_filename(tmp, "cache", NULL);
    g_setenv("XDG_DATA_HOME", data, TRUE);
    g_setenv("XDG_CACHE_HOME", cache, TRUE);

    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/wait/decide/every-state-and-reason", test_decide_every_state);
    g_test_add_func("/wait/decide/names", test_names);
    g_test_add_func("/wait/refusals/three-over-ten-seconds", test_refusals_three_over_ten_seconds);
    g_test_add_func("/wait/refusals/recognised", test_is_refusal);
    g_test_add_func("/wait/message/crash", test_message_crash);
    g_test_add_func("/wait/message/kvm-internal-error", test_message_kvm_internal_error);
    g_test_add_func("/wait/message/shutdown-remote-gone", test_message_shutdown_remote_gone);
    g_test_add_func("/wait/tail", test_tail);
    g_test_add_func("/keys/ssh-argv-identities", test_ssh_argv_identities);
    g_test_add_func("/keys/ssh-target-takes-identities", test_ssh_target_takes_identities);
    g_test_add_func("/keys/ssh-argv-dashdash", test_ssh_argv_dashdash);
    g_test_add_func("/keys/ssh-checks", test_ssh_checks);
    g_test_add_func("/keys/ssh-target-refuses", test_ssh_target_refuses);
    g_test_add_func("/keys/from-public", test_identity_from_public);
    g_test_add_func("/keys/check-and-resolve", test_identity_check);
    g_test_add_func("/keys/store-round-trip", test_identity_store_round_trip);
    g_test_add_func("/wait/cloud-init-result", test_result_ok);
    rc = g_test_run();
    vs_bed_rmtree(tmp);
    g_free(tmp);
    return rc;
}
