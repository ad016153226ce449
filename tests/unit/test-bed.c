/* The test bed's own helpers: the loopback rule and the reachability wait that must fail, with
 * a reason, when no guest answers. */
#include <glib/gstdio.h>
#include <string.h>

#include "tests/bed/bed.h"

static void
test_loopback(void)
{
    g_assert_true(vs_bed_is_loopback("127.0.0.1"));
    g_assert_true(vs_bed_is_loopback("127.3.2.1"));
    g_assert_true(vs_bed_is_loopback("::1"));
    g_assert_false(vs_bed_is_loopback("10.0.2.15"));
    g_assert_false(vs_bed_is_loopback("192.0.2.1"));
    g_assert_false(vs_bed_is_loopback("2001:db8::1"));
}

static void
test_unreachable_guest_fails_with_reason(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vs-bed-XXXXXX", NULL);
    g_autofree char *log = g_build_filename(dir, "console.log", NULL);
    g_autofree char *key = g_build_filename(dir, "id", NULL);
    guint16 port = vs_bed_free_port();

    g_assert_true(g_file_set_contents(log,
                                      "[  OK  ] Reached target Basic System.\n"
                                      "boot stalled here\n",
                                      -1, NULL));
    g_assert_true(g_file_set_contents(key, "not used\n", -1, NULL));
    g_assert_false(vs_bed_wait_ssh("127.0.0.1", port, "tester", key, 3, log, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
    g_autofree char *expected =
        g_strdup_printf("guest never became reachable: SSH as tester to 127.0.0.1 port %u did "
                        "not succeed within 3 s (last attempt: ssh exit 255:",
                        port);
    g_assert_true(g_str_has_prefix(error->message, expected));
    g_assert_nonnull(strstr(error->message, "Connection refused"));
    g_assert_nonnull(strstr(error->message, "boot stalled here"));
    g_remove(log);
    g_remove(key);
    g_rmdir(dir);
}

/* The test bed's KVM decision, every branch through VS_TESTBED_KVM: the decision on stdout and
 * the reason on stderr, and nothing on the host changed (a denied device is only "would"). */
static void
test_kvm_decision_branches(void)
{
    static const struct {
        const char *state, *after_fix, *virt_type, *reason;
    } cases[] = {
        {"absent", NULL, "qemu", "guests run with --virt-type qemu: /dev/kvm does not exist"},
        {"denied", NULL, "qemu", " still cannot open /dev/kvm"},
        {"denied", "broken", "qemu", "guests run with --virt-type qemu: /dev/kvm opens for "},
        {"denied", "works", "kvm", "guests run with --virt-type kvm: a KVM guest ran as "},
        {"broken", NULL, "qemu", "guests run with --virt-type qemu: /dev/kvm opens for "},
        {"works", NULL, "kvm", "guests run with --virt-type kvm: a KVM guest ran as "},
    };
    g_autofree char *script =
        g_build_filename(g_getenv("VS_SOURCE_DIR"), "tests", "bed", "ensure-bed.sh", NULL);
    g_autofree char *cache = g_dir_make_tmp("vs-bed-cache-XXXXXX", NULL);

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *env_kvm = g_strdup_printf("VS_TESTBED_KVM=%s", cases[i].state);
        g_autofree char *env_cache = g_strdup_printf("VS_TESTBED_CACHE=%s", cache);
        g_autofree char *env_after = g_strdup_printf(
            "VS_TESTBED_KVM_AFTER_FIX=%s", cases[i].after_fix ? cases[i].after_fix : "denied");
        const char *argv[] = {"env", env_kvm, env_after, env_cache, script, "--kvm", NULL};
        g_auto(VsBedRun) r = vs_bed_run(argv);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_cmpstr(g_strstrip(r.out), ==, cases[i].virt_type);
        if (!strstr(r.err, cases[i].reason))
            g_error("%s/%s: '%s' does not say '%s'", cases[i].state,
                    cases[i].after_fix ? cases[i].after_fix : "-", r.err, cases[i].reason);
        g_assert_cmpint(strstr(r.err, "would set /dev/kvm to root:kvm 0660") != NULL, ==,
                        g_str_equal(cases[i].state, "denied"));
        g_assert_null(strstr(r.err, "restarting libvirtd"));
    }
    /* An override is not kept: the next real run probes. */
    g_autofree char *kept = g_build_filename(cache, "kvm-decision", NULL);
    g_assert_false(g_file_test(kept, G_FILE_TEST_EXISTS));

    g_autofree char *env_cache = g_strdup_printf("VS_TESTBED_CACHE=%s", cache);
    const char *bad[] = {"env", "VS_TESTBED_KVM=maybe", env_cache, script, "--kvm", NULL};
    g_auto(VsBedRun) r = vs_bed_run(bad);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "VS_TESTBED_KVM must be absent, denied, broken or works"));
    g_rmdir(cache);
}

/* Every `virt-station up` a test runs gets the decision after the command word, unless it names
 * a --virt-type itself; other commands and other programs are left alone. */
static void
test_argv_with_virt_type(void)
{
    g_autofree char *cache = g_dir_make_tmp("vs-bed-cache-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(cache, "kvm-decision", NULL);
    g_autofree char *saved = g_strdup(g_getenv("VS_TESTBED_CACHE"));

    g_assert_true(g_file_set_contents(file, "key=x\nvirt-type=qemu\nreason=test\n", -1, NULL));
    g_setenv("VS_TESTBED_CACHE", cache, TRUE);
    g_assert_cmpstr(vs_bed_virt_type(), ==, "qemu");
    {
        const char *in[] = {"virt-station", "-c", "qemu:///system", "up", "ws", "--no-wait", NULL};
        g_auto(GStrv) out = vs_bed_argv_with_virt_type(in);
        g_autofree char *joined = g_strjoinv(" ", out);
        g_assert_cmpstr(joined, ==,
                        "virt-station -c qemu:///system up --virt-type qemu ws --no-wait");
    }
    {
        /* "up" as the value of -c is no command. */
        const char *in[] = {"virt-station", "-c", "up", "list", NULL};
        g_auto(GStrv) out = vs_bed_argv_with_virt_type(in);
        g_autofree char *joined = g_strjoinv(" ", out);
        g_assert_cmpstr(joined, ==, "virt-station -c up list");
    }
    {
        const char *in[] = {"virt-station", "up", "ws", "--virt-type=kvm", NULL};
        g_auto(GStrv) out = vs_bed_argv_with_virt_type(in);
        g_autofree char *joined = g_strjoinv(" ", out);
        g_assert_cmpstr(joined, ==, "virt-station up ws --virt-type=kvm");
    }
    {
        const char *in[] = {"virsh", "up", NULL};
        g_auto(GStrv) out = vs_bed_argv_with_virt_type(in);
        g_autofree char *joined = g_strjoinv(" ", out);
        g_assert_cmpstr(joined, ==, "virsh up");
    }
    g_remove(file);
    g_rmdir(cache);
    if (saved)
        g_setenv("VS_TESTBED_CACHE", saved, TRUE);
    else
        g_unsetenv("VS_TESTBED_CACHE");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/bed/loopback", test_loopback);
    g_test_add_func("/bed/unreachable-guest-fails-with-reason",
                    test_unreachable_guest_fails_with_reason);
    g_test_add_func("/bed/kvm-decision-branches", test_kvm_decision_branches);
    g_test_add_func("/bed/argv-with-virt-type", test_argv_with_virt_type);
    return g_test_run();
}
