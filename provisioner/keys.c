#include "provisioner/keys.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

static gboolean
keygen(const char *path, const char *comment, GError **error)
{
    const char *argv[] = {"ssh-keygen", "-q",    "-t", "ed25519", "-N", "",
                          "-C",         comment, "-f", path,      NULL};
    g_autofree char *err = NULL;
    int status;

    if (!g_spawn_sync(NULL, (char **)argv, NULL,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL |
                          G_SPAWN_STDOUT_TO_DEV_NULL,
                      NULL, NULL, NULL, &err, &status, error)) {
        g_prefix_error(error, "running ssh-keygen (install openssh-client): ");
        return FALSE;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_set_error(error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "ssh-keygen failed: %s", err);
        return FALSE;
    }
    return TRUE;
}

VsHostKey *
vs_keys_host_key(const char *name, GError **error)
{
    g_autofree char *dir = g_dir_make_tmp("vs-hostkey-XXXXXX", error);
    g_autofree char *path = NULL, *pub = NULL, *comment = NULL;
    g_autoptr(VsHostKey) key = g_new0(VsHostKey, 1);
    gboolean ok;

    if (!dir)
        return NULL;
    path = g_build_filename(dir, "key", NULL);
    pub = g_strconcat(path, ".pub", NULL);
    comment = g_strdup_printf("root@%s", name);
    key->type = g_strdup("ed25519");
    ok = keygen(path, comment, error) &&
         g_file_get_contents(path, &key->private_key, NULL, error) &&
         g_file_get_contents(pub, &key->public_key, NULL, error);
    /* The private key lives on only in the seed. */
    g_unlink(path);
    g_unlink(pub);
    g_rmdir(dir);
    if (!ok)
        return NULL;
    g_strstrip(key->public_key);
    return g_steal_pointer(&key);
}

char *
vs_keys_own_key(gboolean create, GError **error)
{
    g_autofree char *dir = g_build_filename(g_get_user_data_dir(), "virt-station", NULL);
    g_autofree char *path = g_build_filename(dir, "id_ed25519", NULL);

    if (g_file_test(path, G_FILE_TEST_EXISTS))
        return g_steal_pointer(&path);
    if (!create)
        return NULL;
    if (g_mkdir_with_parents(dir, 0700) < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "creating %s: %s", dir,
                    g_strerror(errno));
        return NULL;
    }
    if (!keygen(path, "virt-station", error))
        return NULL;
    return g_steal_pointer(&path);
}
