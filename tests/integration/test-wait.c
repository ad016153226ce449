/* The wait on real libvirtd, with the Debian test image and a temporary storage pool:
 *   keys:  a key pair outside ~/.ssh given with --ssh-key is the one the wait, `exec` and `wait`
 *          log in with (and is remembered); a key the guest does not know stops the wait within
 *          a minute (exit 1) naming it; a missing --identity file is bad usage (exit 2).
 *   crash: user-data whose bootcmd crashes the kernel (sysrq c): the pvpanic device tells
 *          libvirt, `up` exits 1 within seconds naming the state, the domain is kept.
 *   poweroff: a bootcmd that powers the guest off: `up` exits 1 within seconds saying the guest
 *          shut itself down; `wait` then says at once that it is not running.
 * Each measures how long after QEMU's log records the end `up` returned. */
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>
#include <unistd.h>

#include "tests/bed/bed.h"
#include "provisioner/defaults.h"
#include "provisioner/identity.h"

#define URI "qemu:///system"

/* Runs virt-station on qemu:///system with the arguments up to NULL. */
#define vs(...) vs_bed_run_vsv(URI, __VA_ARGS__)

typedef VsBedWorld Bed;

static void
bed_setup(Bed *bed)
{
    vs_bed_world_setup(bed, "vs-wait", "vs-int-wait");
}

static void
bed_teardown(Bed *bed)
{
    vs_bed_world_teardown(bed);
}

/* Returns "absent", or the domain's state and reason as "STATE/REASON" in libvirt's numbers. */
static char *
domain_state(Bed *bed, const char *name)
{
    virDomainPtr dom = virDomainLookupByName(bed->conn, name);
    int state = -1, reason = -1;

    if (!dom)
        return g_strdup("absent");
    virDomainGetState(dom, &state, &reason, 0);
    virDomainFree(dom);
    return g_strdup_printf("%d/%d", state, reason);
}

/* Returns the domain's UUID. */
static char *
domain_uuid(Bed *bed, const char *name)
{
    virDomainPtr dom = virDomainLookupByName(bed->conn, name);
    char uuid[VIR_UUID_STRING_BUFLEN];

    g_assert_nonnull(dom);
    g_assert_cmpint(virDomainGetUUIDString(dom, uuid), ==, 0);
    virDomainFree(dom);
    return g_strdup(uuid);
}

/* Makes an unencrypted ed25519 key pair @dir/@name(.pub); returns the private key's path. */
static char *
keygen(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_auto(VsBedRun) r = vs_bed_run((const char *const[]){"ssh-keygen", "-q", "-t", "ed25519", "-N",
                                                          "", "-C", name, "-f", path, NULL});

    g_assert_cmpint(r.status, ==, 0);
    return g_steal_pointer(&path);
}

/* Returns the seconds since @start_us (monotonic). */
static double
since(gint64 start_us)
{
    return (double)(g_get_monotonic_time() - start_us) / G_USEC_PER_SEC;
}

static void
test_keys(void)
{
    Bed bed = {0};
    g_autofree char *name = g_strdup_printf("vs-int-keys-%d", (int)getpid());
    g_autofree char *keys = NULL, *key = NULL, *other = NULL, *pub = NULL, *missing = NULL;
    g_autofree char *user = vs_defaults_user();

    bed_setup(&bed);
    keys = g_build_filename(bed.dir, "keys", NULL);
    g_mkdir_with_parents(keys, 0700);
    key = keygen(keys, "k");
    other = keygen(keys, "other");
    pub = g_strconcat(key, ".pub", NULL);
    missing = g_build_filename(keys, "missing", NULL);

    /* Only k.pub goes into the guest (not virt-station's own key, not ~/.ssh's): the wait gets
     * in only by offering k itself, which ssh does not find on its own outside ~/.ssh. */
    gint64 t0 = g_get_monotonic_time();
    g_auto(VsBedRun) up =
        vs("up", name, "--image", bed.image, "--pool", bed.pool, "--network", "user", "--memory",
           "1024", "--ssh-key", pub, "--timeout", "420", NULL);
    if (up.status != 0)
        g_error("up exited %d:\n%s", up.status, up.err);
    g_test_message("up --ssh-key: ready after %.0f s", since(t0));
    g_assert_nonnull(strstr(up.err, "cloud-init finished"));

    /* Remembered on this client, under the URI and the domain's UUID. */
    g_autofree char *uuid = domain_uuid(&bed, name);
    g_auto(GStrv) remembered = vs_identity_recall(URI, uuid);
    g_assert_nonnull(remembered);
    g_assert_cmpstr(remembered[0], ==, key);
    g_assert_null(remembered[1]);

    g_auto(VsBedRun) t = vs("exec", name, "--", "true", NULL);
    g_assert_cmpint(t.status, ==, 0);
    g_auto(VsBedRun) id = vs("exec", name, "--", "id", "-un", NULL);
    g_assert_cmpint(id.status, ==, 0);
    g_assert_cmpstr(g_strstrip(id.out), ==, user);

    /* A key the guest does not know: refused three times over 10 s, then exit 1 naming it. */
    t0 = g_get_monotonic_time();
    g_auto(VsBedRun) wrong = vs("wait", name, "--identity", other, "--timeout", "300", NULL);
    double wrong_s = since(t0);
    g_test_message("wait --identity with an unknown key: exit %d after %.1f s", wrong.status,
                   wrong_s);
    g_assert_cmpint(wrong.status, ==, 1);
    g_assert_cmpfloat(wrong_s, <, 60);
    g_assert_cmpfloat(wrong_s, >=, 10);
    g_assert_nonnull(strstr(wrong.err, "refused every key offered"));
    g_assert_nonnull(strstr(wrong.err, other));
    g_assert_nonnull(strstr(wrong.err, "--identity FILE"));
    g_assert_null(strstr(wrong.err, "timed out"));

    /* What failed is not remembered: the right key still works without naming it. */
    g_auto(GStrv) still = vs_identity_recall(URI, uuid);
    g_assert_cmpstr(still[0], ==, key);
    g_auto(VsBedRun) again = vs("exec", name, "--", "true", NULL);
    g_assert_cmpint(again.status, ==, 0);
    /* The right key named explicitly works too. */
    g_auto(VsBedRun) named = vs("wait", name, "--identity", key, "--timeout", "60", NULL);
    g_assert_cmpint(named.status, ==, 0);

    /* A file that is not there is bad usage, before anything is tried. */
    g_auto(VsBedRun) bad = vs("wait", name, "--identity", missing, NULL);
    g_assert_cmpint(bad.status, ==, 2);
    g_assert_nonnull(strstr(bad.err, missing));
    g_auto(VsBedRun) bad_dir = vs("ssh", name, "--identity", keys, "--", "true", NULL);
    g_assert_cmpint(bad_dir.status, ==, 2);
    g_assert_nonnull(strstr(bad_dir.err, "not a regular file"));

    g_auto(VsBedRun) del = vs("delete", name, NULL);
    g_assert_cmpint(del.status, ==, 0);
    g_autofree char *gone = domain_state(&bed, name);
    g_assert_cmpstr(gone, ==, "absent");
    bed_teardown(&bed);
}

/* Returns the time (Unix seconds) of the last line of the QEMU log of @name that holds
 * @needle, or -1. libvirt starts such lines with "2026-11-30 10:41:22.123+0000: ". */
static double
qemu_log_time(const char *name, const char *needle)
{
    g_autofree char *path = g_strdup_printf("/var/log/libvirt/qemu/%s.log", name);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    double found = -1;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return -1;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_autofree char *stamp = NULL;
        g_autoptr(GDateTime) dt = NULL;
        const char *colon = strstr(lines[i], ": ");
        if (!strstr(lines[i], needle) || !colon)
            continue;
        stamp = g_strndup(lines[i], (gsize)(colon - lines[i]));
        dt = g_date_time_new_from_iso8601(stamp, NULL);
        if (dt)
            found = (double)g_date_time_to_unix(dt) + g_date_time_get_microsecond(dt) / 1e6;
    }
    return found;
}

/* Creates @name from the test image with a user-data whose bootcmd is @bootcmd, and returns
 * how `up` ended and after how many seconds (@ret_s). */
static VsBedRun
up_with_bootcmd(Bed *bed, const char *name, const char *bootcmd, double *ret_s)
{
    g_autofree char *user_data = g_build_filename(bed->dir, "user-data", NULL);
    g_autofree char *text = g_strdup_printf("#cloud-config\nbootcmd:\n  - %s\n", bootcmd);
    gint64 t0;
    VsBedRun up;

    g_assert_true(g_file_set_contents(user_data, text, -1, NULL));
    t0 = g_get_monotonic_time();
    up = vs("up", name, "--image", bed->image, "--pool", bed->pool, "--network", "user", "--memory",
            "1024", "--user-data", user_data, "--timeout", "600", NULL);
    *ret_s = since(t0);
    return up;
}

static void
test_crash(void)
{
    Bed bed = {0};
    g_autofree char *name = g_strdup_printf("vs-int-crash-%d", (int)getpid());
    double up_s = 0;

    bed_setup(&bed);
    g_auto(VsBedRun) up = up_with_bootcmd(&bed, name, "echo c > /proc/sysrq-trigger", &up_s);
    double returned = (double)g_get_real_time() / G_USEC_PER_SEC;
    double crashed_at = qemu_log_time(name, "shutting down, reason=crashed");
    g_test_message("crash: up exited %d after %.0f s, %.1f s after QEMU's log says it crashed",
                   up.status, up_s, crashed_at > 0 ? returned - crashed_at : -1.0);
    g_test_message("crash: up said:\n%s", up.err);
    g_assert_cmpint(up.status, ==, 1);
    g_assert_cmpfloat(up_s, <, 240);
    g_assert_cmpfloat(crashed_at, >, 0);
    g_assert_cmpfloat(returned - crashed_at, <, 10);
    g_assert_nonnull(strstr(up.err, "stopped while waiting for"));
    g_assert_nonnull(strstr(up.err, "kernel panicked"));
    g_assert_nonnull(strstr(up.err, "state shut off, reason crashed"));
    g_assert_null(strstr(up.err, "timed out"));
    /* The console's tail shows the panic; QEMU's log tail is there. */
    g_assert_nonnull(strstr(up.err, "Serial console (last lines of"));
    g_assert_nonnull(strstr(up.err, "Kernel panic - not syncing: sysrq triggered crash"));
    g_assert_nonnull(strstr(up.err, "\n  | [ "));
    g_assert_nonnull(strstr(up.err, "QEMU's log (last lines of /var/log/libvirt/qemu/"));
    g_assert_nonnull(strstr(up.err, "is kept as it is, for inspection"));
    /* Kept for inspection, shut off because it crashed (on_crash destroy). */
    g_autofree char *kept = domain_state(&bed, name);
    g_autofree char *crashed =
        g_strdup_printf("%d/%d", VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED);
    g_assert_cmpstr(kept, ==, crashed);

    g_auto(VsBedRun) del = vs("delete", name, NULL);
    g_assert_cmpint(del.status, ==, 0);
    g_autofree char *gone = domain_state(&bed, name);
    g_assert_cmpstr(gone, ==, "absent");
    bed_teardown(&bed);
}

static void
test_poweroff(void)
{
    Bed bed = {0};
    g_autofree char *name = g_strdup_printf("vs-int-off-%d", (int)getpid());
    double up_s = 0;

    bed_setup(&bed);
    g_auto(VsBedRun) up = up_with_bootcmd(&bed, name, "systemctl poweroff --force", &up_s);
    double returned = (double)g_get_real_time() / G_USEC_PER_SEC;
    double off_at = qemu_log_time(name, "shutting down, reason=shutdown");
    g_test_message("poweroff: up exited %d after %.0f s, %.1f s after QEMU's log says it shut "
                   "down",
                   up.status, up_s, off_at > 0 ? returned - off_at : -1.0);
    g_test_message("poweroff: up said:\n%s", up.err);
    g_assert_cmpint(up.status, ==, 1);
    g_assert_cmpfloat(up_s, <, 240);
    g_assert_cmpfloat(off_at, >, 0);
    g_assert_cmpfloat(returned - off_at, <, 10);
    g_assert_nonnull(strstr(up.err, "the guest shut itself down"));
    g_assert_nonnull(strstr(up.err, "state shut off, reason shutdown"));
    g_assert_null(strstr(up.err, "timed out"));
    g_autofree char *off = domain_state(&bed, name);
    g_autofree char *shutdown =
        g_strdup_printf("%d/%d", VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SHUTDOWN);
    g_assert_cmpstr(off, ==, shutdown);

    /* `wait` on it now: not running, said at once rather than after the timeout. */
    gint64 t0 = g_get_monotonic_time();
    g_auto(VsBedRun) wait = vs("wait", name, "--timeout", "600", NULL);
    g_assert_cmpint(wait.status, ==, 1);
    g_assert_cmpfloat(since(t0), <, 10);
    g_assert_nonnull(strstr(wait.err, "is not running"));

    g_auto(VsBedRun) del = vs("delete", name, NULL);
    g_assert_cmpint(del.status, ==, 0);
    g_autofree char *gone = domain_state(&bed, name);
    g_assert_cmpstr(gone, ==, "absent");
    bed_teardown(&bed);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/integration/wait/keys", test_keys);
    g_test_add_func("/integration/wait/crash", test_crash);
    g_test_add_func("/integration/wait/poweroff", test_poweroff);
    return g_test_run();
}
