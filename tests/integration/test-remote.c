/* The remote path: up / exec / delete through qemu+ssh://root@127.0.0.1:PORT/system, with an
 * sshd this test starts on a loopback port (its own host key and authorized key, nothing of the
 * machine's SSH setup touched). SSH to the user-networking guest jumps through that sshd with
 * the URI's keyfile, as libvirt's own connection does. */
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/bed/bed.h"

/* Runs virt-station through @uri; returns its exit status, its output in @ret_out. */
#define vs(uri, ret_out, ...)                                                                      \
    ({                                                                                             \
        g_auto(VsBedRun) r_ = vs_bed_run_vsv(uri, __VA_ARGS__);                                    \
        char **out_ = (ret_out);                                                                   \
        if (out_)                                                                                  \
            *out_ = g_steal_pointer(&r_.out);                                                      \
        r_.status;                                                                                 \
    })

static void
ignore_error(void *opaque, virErrorPtr err)
{
}

/* One scenario on one booted guest (a local sshd as the "remote" host, up, exec, list, delete):
 * longer than a function should be, because each step needs what the ones before made. */
static void
test_remote_up_exec_delete(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *image = vs_bed_image(&error);
    g_autofree char *dir = vs_bed_tmpdir("vs-remote");
    g_autofree char *pool_dir = vs_bed_tmpdir("vs-rpool");
    g_autofree char *pool = g_strdup_printf("vs-remote-%d", (int)getpid());
    g_autofree char *name = g_strdup_printf("vs-remote-%d", (int)getpid());
    g_autofree char *config = g_build_filename(dir, "sshd_config", NULL);
    g_autofree char *host_key = g_build_filename(dir, "host", NULL);
    g_autofree char *client_key = NULL, *client_pub = NULL, *pub_text = NULL, *uri = NULL;
    g_autofree char *authorized = g_build_filename(dir, "authorized_keys", NULL);
    g_autofree char *out = NULL;
    guint16 port = vs_bed_free_port();
    GPid sshd;

    g_assert_no_error(error);
    g_chmod(dir, 0700);
    client_key = vs_bed_keypair(dir, &error);
    g_assert_no_error(error);
    client_pub = g_strconcat(client_key, ".pub", NULL);
    g_assert_true(g_file_get_contents(client_pub, &pub_text, NULL, NULL));
    g_assert_true(g_file_set_contents(authorized, pub_text, -1, NULL));
    {
        const char *keygen[] = {"ssh-keygen", "-q", "-t",     "ed25519", "-N",
                                "",           "-f", host_key, NULL};
        int status;
        g_assert_true(g_spawn_sync(NULL, (char **)keygen, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                                   NULL, NULL, &status, NULL));
        g_assert_cmpint(status, ==, 0);
    }
    g_autofree char *conf = g_strdup_printf(
        "Port %u\nListenAddress 127.0.0.1\nHostKey %s\nAuthorizedKeysFile %s\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPidFile %s/sshd.pid\n"
        "AllowTcpForwarding yes\nAllowStreamLocalForwarding yes\n",
        port, host_key, authorized, dir);
    g_assert_true(g_file_set_contents(config, conf, -1, NULL));
    g_mkdir_with_parents("/run/sshd", 0755);
    {
        const char *argv[] = {"/usr/sbin/sshd", "-D", "-e", "-f", config, NULL};
        g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                    NULL, &sshd, &error));
        g_assert_no_error(error);
    }
    /* The only host this test connects to is loopback. */
    vs_bed_assert_loopback("127.0.0.1");
    for (int i = 0; i < 100; i++) {
        g_autofree char *o = NULL, *e = NULL;
        int status = 255;
        g_autofree char *cmd = g_strdup("true");
        if (vs_bed_ssh("127.0.0.1", port, "root", client_key, cmd, &o, &e, &status, NULL) &&
            status == 0)
            break;
        g_usleep(G_USEC_PER_SEC / 10);
    }
    uri = g_strdup_printf("qemu+ssh://root@127.0.0.1:%u/system?keyfile=%s&no_verify=1", port,
                          client_key);

    virSetErrorFunc(NULL, ignore_error);
    {
        g_autoptr(GError) daemons_error = NULL;
        g_assert_true(vs_bed_daemons(&daemons_error));
    }
    virConnectPtr local = virConnectOpen("qemu:///system");
    g_autofree char *pool_xml = g_markup_printf_escaped(
        "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>", pool, pool_dir);
    virStoragePoolPtr p = virStoragePoolCreateXML(local, pool_xml, 0);
    g_assert_nonnull(p);
    g_autofree char *xdg = g_build_filename(dir, "xdg", NULL);
    g_mkdir_with_parents(xdg, 0700);
    g_setenv("XDG_DATA_HOME", xdg, TRUE);
    g_setenv("XDG_CACHE_HOME", xdg, TRUE);
    g_setenv("XDG_RUNTIME_DIR", xdg, TRUE);

    int up = vs(uri, NULL, "up", name, "--image", image, "--pool", pool, "--network", "user",
                "--memory", "1024", "--timeout", "420", NULL);
    int exec = vs(uri, &out, "exec", name, "--", "hostname", NULL);
    g_autofree char *listed = NULL;
    int list = vs(uri, &listed, "list", NULL);
    int del = vs(uri, NULL, "delete", name, NULL);

    virDomainPtr dom = virDomainLookupByName(local, name);
    virStoragePoolRefresh(p, 0);
    int volumes = virStoragePoolNumOfVolumes(p);
    if (dom) {
        virDomainDestroy(dom);
        virDomainUndefine(dom);
        virDomainFree(dom);
    }
    {
        virStorageVolPtr *vols = NULL;
        int n = virStoragePoolListAllVolumes(p, &vols, 0);
        for (int i = 0; i < n; i++) {
            virStorageVolDelete(vols[i], 0);
            virStorageVolFree(vols[i]);
        }
        free(vols);
    }
    virStoragePoolDestroy(p);
    virStoragePoolFree(p);
    virConnectClose(local);
    kill(sshd, SIGTERM);
    waitpid(sshd, NULL, 0);
    vs_bed_rmtree(dir);
    vs_bed_rmtree(pool_dir);

    g_assert_cmpint(up, ==, 0);
    g_assert_cmpint(exec, ==, 0);
    g_assert_cmpstr(g_strstrip(out), ==, name);
    g_assert_cmpint(list, ==, 0);
    g_assert_nonnull(strstr(listed, name));
    g_assert_cmpint(del, ==, 0);
    g_assert_null(dom);
    /* Only the shared base image (and its completion marker) is left in the pool. */
    g_assert_cmpint(volumes, ==, 2);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/integration/remote/up-exec-delete", test_remote_up_exec_delete);
    return g_test_run();
}
