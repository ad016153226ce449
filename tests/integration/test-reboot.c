/* One guest booted three times on real libvirtd (Debian test image, temporary pool, user
 * networking), its NoCloud seed on a cdrom (--seed-device cdrom):
 *   interrupt-then-wait: SIGINT to `up`'s process group (what Ctrl-C sends) once the domain
 *          runs and the wait is at sshd: `up` stops within seconds, exit 1, saying
 *          `virt-station wait NAME`; nothing is rolled back (domain running, overlay and seed in
 *          the pool); `wait NAME` then finishes, and the seed was read from the cdrom.
 *   restart: `restart` takes the ready guest down and waits for it again: a new boot id.
 *   crash-then-start: a kernel crash (sysrq c as root) shuts the domain off, reason crashed
 *          (on_crash destroy), still defined; `start` boots it again to ready: a new boot id.
 * The subtests share the guest and run in this order; each reports its boot's seconds. */
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/bed/bed.h"

#define URI "qemu:///system"

/* Runs virt-station on qemu:///system with the arguments up to NULL. */
#define vs(...) vs_bed_run_vsv(URI, __VA_ARGS__)

/* The guest the subtests share. */
static VsBedWorld bed;
static char *name;
static char *boot_id; /* the boot id the last subtest saw */

/* Returns the seconds since @start_us (monotonic). */
static double
since(gint64 start_us)
{
    return (double)(g_get_monotonic_time() - start_us) / G_USEC_PER_SEC;
}

/* Returns the domain's state and reason as "STATE/REASON" in libvirt's numbers, or "absent". */
static char *
domain_state(void)
{
    virDomainPtr dom = virDomainLookupByName(bed.conn, name);
    int state = -1, reason = -1;

    if (!dom)
        return g_strdup("absent");
    virDomainGetState(dom, &state, &reason, 0);
    virDomainFree(dom);
    return g_strdup_printf("%d/%d", state, reason);
}

/* Returns TRUE when the domain's state is @state (any reason). */
static gboolean
in_state(int state)
{
    g_autofree char *now = domain_state();
    g_autofree char *prefix = g_strdup_printf("%d/", state);

    return g_str_has_prefix(now, prefix);
}

/* Returns the guest's /proc/sys/kernel/random/boot_id, read through `exec`. */
static char *
guest_boot_id(void)
{
    g_auto(VsBedRun) r = vs("exec", name, "--", "cat", "/proc/sys/kernel/random/boot_id", NULL);

    g_assert_cmpint(r.status, ==, 0);
    g_strstrip(r.out);
    /* A UUID: 36 characters, dashes at 8, 13, 18, 23. */
    g_assert_cmpuint(strlen(r.out), ==, 36);
    g_assert_cmpint(r.out[8], ==, '-');
    g_assert_cmpint(r.out[23], ==, '-');
    return g_steal_pointer(&r.out);
}

/* Puts the child in a process group of its own, as a shell does for a job, so that the signal
 * reaches it and its ssh children as Ctrl-C on a terminal would. */
static void
own_process_group(gpointer data)
{
    setpgid(0, 0);
}

static void
test_interrupt_then_wait(void)
{
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GSubprocess) up = NULL;
    g_autoptr(GDataInputStream) err = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) said = g_string_new(NULL);
    gboolean at_sshd = FALSE;
    char *line;

    /* `up` with its stderr read line by line, until the wait says the SSH port is open: the
     * domain runs and the wait is now at sshd (about 50 s of boot still to go under TCG). */
    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_PIPE |
                                         G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                         G_SUBPROCESS_FLAGS_STDIN_INHERIT);
    g_subprocess_launcher_set_child_setup(launcher, own_process_group, NULL, NULL);
    const char *args[] = {
        "virt-station", "-c",        URI,         "up",   name,       "--image", bed.image,
        "--pool",       bed.pool,    "--network", "user", "--memory", "1024",    "--seed-device",
        "cdrom",        "--timeout", "600",       NULL};
    g_auto(GStrv) argv = vs_bed_argv_with_virt_type(args);
    gint64 t0 = g_get_monotonic_time();
    up = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv, &error);
    g_assert_no_error(error);
    err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(up));
    while (!at_sshd && (line = g_data_input_stream_read_line(err, NULL, NULL, NULL))) {
        g_string_append_printf(said, "%s\n", line);
        at_sshd = strstr(line, "forwarded SSH port open") && strstr(line, "ready after");
        g_free(line);
    }
    if (!at_sshd)
        g_error("up never reached the sshd step:\n%s", said->str);
    g_assert_true(in_state(VIR_DOMAIN_RUNNING));
    g_test_message("interrupt: the domain ran and the port was open after %.0f s", since(t0));

    /* Ctrl-C: the signal to the whole group, `up` and whatever ssh it runs. */
    gint64 t1 = g_get_monotonic_time();
    pid_t pid = (pid_t)atoi(g_subprocess_get_identifier(up));
    g_assert_cmpint(pid, >, 1);
    g_assert_cmpint(kill(-pid, SIGINT), ==, 0);
    while ((line = g_data_input_stream_read_line(err, NULL, NULL, NULL))) {
        g_string_append_printf(said, "%s\n", line);
        g_free(line);
    }
    g_assert_true(g_subprocess_wait(up, NULL, &error));
    double stopped_s = since(t1);
    g_test_message("interrupt: up exited %d %.1f s after SIGINT; it said:\n%s",
                   g_subprocess_get_if_exited(up) ? g_subprocess_get_exit_status(up) : -1,
                   stopped_s, said->str);
    g_assert_true(g_subprocess_get_if_exited(up));
    g_assert_cmpint(g_subprocess_get_exit_status(up), ==, 1);
    g_assert_cmpfloat(stopped_s, <, 5);
    g_autofree char *hint = g_strdup_printf(
        "virt-station: interrupted; %s is kept and `virt-station wait %s` resumes waiting", name,
        name);
    g_assert_nonnull(strstr(said->str, hint));
    g_assert_null(strstr(said->str, "timed out"));
    g_assert_null(strstr(said->str, "removed what was created"));

    /* Nothing rolled back: the domain still runs, its overlay and seed are in the pool. */
    g_assert_true(in_state(VIR_DOMAIN_RUNNING));
    g_autofree char *vols = vs_bed_pool_volumes(bed.conn, bed.pool);
    g_autofree char *overlay = g_strdup_printf("%s.qcow2", name);
    g_autofree char *seed = g_strdup_printf("%s-seed.iso", name);
    g_assert_nonnull(strstr(vols, overlay));
    g_assert_nonnull(strstr(vols, seed));

    /* `wait` takes it from there. */
    gint64 t2 = g_get_monotonic_time();
    g_auto(VsBedRun) wait = vs("wait", name, "--timeout", "600", NULL);
    g_test_message("interrupt: wait exited %d after %.0f s (%.0f s since up started)", wait.status,
                   since(t2), since(t0));
    if (wait.status != 0)
        g_error("wait exited %d:\n%s", wait.status, wait.err);
    g_assert_nonnull(strstr(wait.err, "cloud-init finished"));
    g_autofree char *ready = g_strdup_printf("%s is ready", name);
    g_assert_nonnull(strstr(wait.out, ready));

    /* The seed is the domain's cdrom, read-only on virtio-scsi (this image's cloud kernel has
     * no AHCI driver for a SATA one), and the guest found its NoCloud label there: the user
     * and keys the wait logged in with, and the hostname, came from that disc. */
    g_auto(VsBedRun) xml = vs("xml", name, NULL);
    g_assert_cmpint(xml.status, ==, 0);
    const char *cdrom = strstr(xml.out, "device='cdrom'");
    g_assert_nonnull(cdrom);
    const char *cdrom_end = strstr(cdrom, "</disk>");
    g_assert_nonnull(cdrom_end);
    g_autofree char *cdrom_disk = g_strndup(cdrom, (gsize)(cdrom_end - cdrom));
    g_autofree char *seed_source = g_strdup_printf("volume='%s'", seed);
    g_assert_nonnull(strstr(cdrom_disk, seed_source));
    g_assert_nonnull(strstr(cdrom_disk, "bus='scsi'"));
    g_assert_nonnull(strstr(xml.out, "<controller type='scsi' index='0' model='virtio-scsi'>"));
    g_assert_nonnull(strstr(cdrom_disk, "<readonly/>"));
    g_auto(VsBedRun) label = vs("exec", name, "--", "sudo", "-n", "blkid", "-o", "value", "-s",
                                "LABEL", "/dev/sr0", NULL);
    g_assert_cmpint(label.status, ==, 0);
    g_assert_cmpstr(g_strstrip(label.out), ==, "cidata");
    g_auto(VsBedRun) host = vs("exec", name, "--", "hostname", NULL);
    g_assert_cmpint(host.status, ==, 0);
    g_assert_cmpstr(g_strstrip(host.out), ==, name);
    boot_id = guest_boot_id();
}

/* Runs `virt-station @command NAME`, which must wait until the guest is ready again after a new
 * boot (another boot id) and leave it running; the new boot id becomes the one to compare with. */
static void
booted_again(const char *command)
{
    gint64 t0 = g_get_monotonic_time();
    g_auto(VsBedRun) r = vs(command, name, "--timeout", "600", NULL);
    g_test_message("%s: exit %d after %.0f s", command, r.status, since(t0));
    if (r.status != 0)
        g_error("%s exited %d:\n%s", command, r.status, r.err);
    g_assert_nonnull(strstr(r.err, "cloud-init finished"));
    g_autofree char *after = guest_boot_id();
    g_assert_cmpstr(after, !=, boot_id);
    g_free(boot_id);
    boot_id = g_steal_pointer(&after);
    g_assert_true(in_state(VIR_DOMAIN_RUNNING));
}

static void
test_restart(void)
{
    g_assert_nonnull(boot_id);
    booted_again("restart");
}

static void
test_crash_then_start(void)
{
    g_assert_nonnull(boot_id);
    /* The connection dies with QEMU (on_crash destroy), so exec ends with ssh's 255. */
    gint64 t0 = g_get_monotonic_time();
    g_auto(VsBedRun) crash =
        vs("exec", name, "--", "sudo", "-n", "sh", "-c", "echo c > /proc/sysrq-trigger", NULL);
    g_test_message("crash: exec exited %d after %.1f s", crash.status, since(t0));
    g_assert_cmpint(crash.status, !=, 0);
    while (!in_state(VIR_DOMAIN_SHUTOFF) && since(t0) < 60)
        g_usleep(G_USEC_PER_SEC / 2);
    g_autofree char *crashed = domain_state();
    g_autofree char *expect =
        g_strdup_printf("%d/%d", VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED);
    g_assert_cmpstr(crashed, ==, expect);
    g_test_message("crash: shut off, reason crashed, %.1f s after the exec began", since(t0));

    booted_again("start");
}

int
main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    vs_bed_world_setup(&bed, "vs-reboot", "vs-int-reboot");
    name = g_strdup_printf("vs-int-reboot-%d", (int)getpid());
    g_test_add_func("/integration/reboot/interrupt-then-wait", test_interrupt_then_wait);
    g_test_add_func("/integration/reboot/restart", test_restart);
    g_test_add_func("/integration/reboot/crash-then-start", test_crash_then_start);
    ret = g_test_run();

    g_auto(VsBedRun) del = vs("delete", name, NULL);
    g_autofree char *gone = domain_state();
    if (strcmp(gone, "absent") != 0)
        g_printerr("delete %s exited %d: %s\n", name, del.status, del.err);
    vs_bed_world_teardown(&bed);
    g_free(boot_id);
    g_free(name);
    return ret;
}
