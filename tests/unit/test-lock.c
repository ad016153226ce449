/* The lock module: locks exclude other processes, a busy lock is reported when not waiting and
 * waited for otherwise, and the order name → base → port → GPU is enforced. */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "provisioner/lock.h"

static void
test_order_kept(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VsLock) name = vs_lock_take(VS_LOCK_NAME, "qemu:///system ws1", TRUE, &error);
    g_autoptr(VsLock) base_a = vs_lock_take(VS_LOCK_BASE, "default/a", TRUE, &error);
    g_autoptr(VsLock) base_b = vs_lock_take(VS_LOCK_BASE, "default/b", TRUE, &error);
    g_autoptr(VsLock) port = vs_lock_take(VS_LOCK_PORT, NULL, TRUE, &error);
    g_autoptr(VsLock) gpu = vs_lock_take(VS_LOCK_GPU, NULL, TRUE, &error);

    g_assert_no_error(error);
    g_assert_nonnull(name);
    g_assert_nonnull(base_a);
    g_assert_nonnull(base_b);
    g_assert_nonnull(port);
    g_assert_nonnull(gpu);
    /* After a release an earlier kind may be taken again. */
    g_clear_pointer(&gpu, vs_lock_release);
    g_clear_pointer(&port, vs_lock_release);
    g_clear_pointer(&base_b, vs_lock_release);
    g_clear_pointer(&base_a, vs_lock_release);
    g_clear_pointer(&name, vs_lock_release);
    g_autoptr(VsLock) again = vs_lock_take(VS_LOCK_NAME, "qemu:///system ws0", TRUE, &error);
    g_assert_no_error(error);
    g_assert_nonnull(again);
}

/* Several locks of one kind given in any order are taken in ascending order: no abort. */
static void
test_take_all_sorts(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) locks = NULL;

    g_ptr_array_add(keys, g_strdup("pool/c"));
    g_ptr_array_add(keys, g_strdup("pool/a"));
    g_ptr_array_add(keys, g_strdup("pool/b"));
    locks = vs_lock_take_all(VS_LOCK_BASE, keys, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(locks->len, ==, 3);
    g_assert_cmpstr(keys->pdata[0], ==, "pool/a");
    g_assert_cmpstr(keys->pdata[2], ==, "pool/c");
}

static void
test_order_broken_aborts(void)
{
    if (g_test_subprocess()) {
        g_autoptr(VsLock) port = vs_lock_take(VS_LOCK_PORT, NULL, TRUE, NULL);
        g_autoptr(VsLock) name = vs_lock_take(VS_LOCK_NAME, "ws1", TRUE, NULL);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*lock order broken: name lock 'ws1' taken while holding port "
                              "lock ''*");
}

static void
test_same_kind_descending_aborts(void)
{
    if (g_test_subprocess()) {
        g_autoptr(VsLock) b = vs_lock_take(VS_LOCK_BASE, "pool/b", TRUE, NULL);
        g_autoptr(VsLock) a = vs_lock_take(VS_LOCK_BASE, "pool/a", TRUE, NULL);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*lock order broken: base lock 'pool/a'*holding base lock "
                              "'pool/b'*");
}

/* Another process holds the lock: not waiting gives BUSY; waiting returns once it lets go. */
static void
test_excludes_other_processes(void)
{
    int to_parent[2], to_child[2];
    char byte = 0;
    pid_t child;
    int status;

    g_assert_cmpint(pipe(to_parent), ==, 0);
    g_assert_cmpint(pipe(to_child), ==, 0);
    child = fork();
    g_assert_cmpint(child, >=, 0);
    if (child == 0) {
        close(to_parent[0]);
        close(to_child[1]);
        VsLock *held = vs_lock_take(VS_LOCK_BASE, "default/debian", TRUE, NULL);
        if (!held || write(to_parent[1], "x", 1) != 1)
            _exit(1);
        /* Hold it until the parent closes its end. */
        if (read(to_child[0], &byte, 1) < 0)
            _exit(1);
        _exit(0);
    }
    close(to_parent[1]);
    close(to_child[0]);
    g_assert_cmpint(read(to_parent[0], &byte, 1), ==, 1);
    {
        g_autoptr(GError) error = NULL;
        g_autoptr(VsLock) busy = vs_lock_take(VS_LOCK_BASE, "default/debian", FALSE, &error);
        g_assert_null(busy);
        g_assert_error(error, VS_LOCK_ERROR, VS_LOCK_ERROR_BUSY);
        g_assert_cmpstr(error->message, ==,
                        "another virt-station holds the base lock of default/debian");
        g_clear_error(&error);
        /* Another key of the same kind is free. */
        g_autoptr(VsLock) other = vs_lock_take(VS_LOCK_BASE, "default/fedora", FALSE, &error);
        g_assert_no_error(error);
        g_assert_nonnull(other);
    }
    close(to_child[1]);
    {
        g_autoptr(GError) error = NULL;
        g_autoptr(VsLock) mine = vs_lock_take(VS_LOCK_BASE, "default/debian", TRUE, &error);
        g_assert_no_error(error);
        g_assert_nonnull(mine);
    }
    g_assert_cmpint(waitpid(child, &status, 0), ==, child);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(to_parent[0]);
}

int
main(int argc, char **argv)
{
    g_autofree char *dir = g_dir_make_tmp("vs-lock-XXXXXX", NULL);
    int status;

    g_setenv("VIRT_STATION_LOCK_DIR", dir, TRUE);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/lock/order-kept", test_order_kept);
    g_test_add_func("/lock/take-all-sorts", test_take_all_sorts);
    g_test_add_func("/lock/order-broken-aborts", test_order_broken_aborts);
    g_test_add_func("/lock/same-kind-descending-aborts", test_same_kind_descending_aborts);
    g_test_add_func("/lock/excludes-other-processes", test_excludes_other_processes);
    status = g_test_run();
    {
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;
        while (d && (name = g_dir_read_name(d))) {
            g_autofree char *path = g_build_filename(dir, name, NULL);
            g_remove(path);
        }
    }
    g_rmdir(dir);
    return status;
}
