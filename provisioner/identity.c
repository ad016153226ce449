#include "provisioner/identity.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "provisioner/base/file-read.h"
#include "provisioner/base/spec-error.h"

#define GROUP "identity"

gboolean
vs_identity_check(const char *path, GError **error)
{
    GStatBuf st;

    if (g_stat(path, &st) < 0) {
        g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID, "--identity %s: %s", path,
                    g_strerror(errno));
        return FALSE;
    }
    if (!S_ISREG(st.st_mode)) {
        g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID,
                    "--identity %s: not a regular file (give the private key, as for ssh -i)",
                    path);
        return FALSE;
    }
    if (access(path, R_OK) < 0) {
        g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID, "--identity %s: %s", path,
                    g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

/* Returns @path made absolute against the current directory. */
static char *
absolute(const char *path)
{
    g_autofree char *cwd = NULL;

    if (g_path_is_absolute(path))
        return g_strdup(path);
    cwd = g_get_current_dir();
    return g_build_filename(cwd, path, NULL);
}

char **
vs_identity_from_public(const char *const *pub_paths)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; pub_paths && pub_paths[i]; i++) {
        g_autofree char *private = NULL;
        if (!g_str_has_suffix(pub_paths[i], ".pub"))
            continue;
        private = g_strndup(pub_paths[i], strlen(pub_paths[i]) - 4);
        if (g_file_test(private, G_FILE_TEST_IS_REGULAR))
            g_ptr_array_add(out, absolute(private));
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

char *
vs_identity_store_path(const char *uri, const char *uuid)
{
    g_autofree char *key = g_strdup_printf("%s\n%s", uri, uuid);
    g_autofree char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, key, -1);

    /* The UUID in clear for a person looking; the hash tells URIs apart. */
    return g_strdup_printf("%s/virt-station/identities/%s-%.16s", g_get_user_data_dir(), uuid,
                           hash);
}

gboolean
vs_identity_remember(const char *uri, const char *uuid, const char *const *identities,
                     GError **error)
{
    g_autofree char *path = vs_identity_store_path(uri, uuid);
    g_autofree char *dir = g_path_get_dirname(path);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *text = NULL;

    if (g_mkdir_with_parents(dir, 0700) < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "creating %s: %s", dir,
                    g_strerror(errno));
        return FALSE;
    }
    g_key_file_set_string(kf, GROUP, "uri", uri);
    g_key_file_set_string(kf, GROUP, "uuid", uuid);
    g_key_file_set_string_list(kf, GROUP, "keys", identities, g_strv_length((char **)identities));
    text = g_key_file_to_data(kf, NULL, NULL);
    if (!g_file_set_contents(path, text, -1, error)) {
        g_prefix_error(error, "remembering the login key: ");
        return FALSE;
    }
    return TRUE;
}

char **
vs_identity_recall(const char *uri, const char *uuid)
{
    g_autofree char *path = vs_identity_store_path(uri, uuid);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *stored_uri = NULL, *stored_uuid = NULL, *data = NULL;
    g_auto(GStrv) keys = NULL;
    gsize len;

    /* A record is a few lines: a larger file, a FIFO or a device is no record (not read). */
    if (!vs_file_read_bounded(path, 65536, "identity record", &data, &len, NULL) ||
        !g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, NULL))
        return NULL;
    /* The name is a hash: check that the record is the one asked for. */
    stored_uri = g_key_file_get_string(kf, GROUP, "uri", NULL);
    stored_uuid = g_key_file_get_string(kf, GROUP, "uuid", NULL);
    if (g_strcmp0(stored_uri, uri) != 0 || g_strcmp0(stored_uuid, uuid) != 0)
        return NULL;
    keys = g_key_file_get_string_list(kf, GROUP, "keys", NULL, NULL);
    if (!keys || !keys[0])
        return NULL;
    return g_steal_pointer(&keys);
}

void
vs_identity_forget(const char *uri, const char *uuid)
{
    g_autofree char *path = vs_identity_store_path(uri, uuid);

    g_unlink(path);
}

gboolean
vs_identity_resolve(const char *explicit_path, const char *uri, const char *uuid,
                    char ***ret_identities, GError **error)
{
    if (explicit_path) {
        char **one;
        if (!vs_identity_check(explicit_path, error))
            return FALSE;
        one = g_new0(char *, 2);
        one[0] = absolute(explicit_path);
        *ret_identities = one;
        return TRUE;
    }
    *ret_identities = uuid ? vs_identity_recall(uri, uuid) : NULL;
    return TRUE;
}

char *
vs_identity_describe(const char *const *identities, const char *none_text)
{
    GString *out;

    if (!identities || !identities[0])
        return g_strdup(none_text);
    out = g_string_new(NULL);
    for (guint i = 0; identities[i]; i++)
        g_string_append_printf(out, "%s%s", i ? ", " : "", identities[i]);
    return g_string_free(out, FALSE);
}
