/* The test bed's own helpers: the loopback rule and the reachability wait that must fail, with
 * a reason, when no guest answers. */
#include <glib/gstdio.h>
#include <string.h>

#include "bed.h"

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

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/bed/loopback", test_loopback);
    g_test_add_func("/bed/unreachable-guest-fails-with-reason",
                    test_unreachable_guest_fails_with_reason);
    return g_test_run();
}
