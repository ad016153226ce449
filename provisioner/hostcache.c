#include "provisioner/hostcache.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "domains/uri.h"

#define MAX_AGE_SECONDS (24 * 3600)

/* Returns a string that changes when anything the probe depends on changes. */
static char *
fingerprint(void)
{
    static const char *const paths[] = {
        "/usr/sbin/libvirtd",
        "/usr/sbin/virtqemud",
        "/usr/bin/qemu-system-x86_64",
        "/usr/bin/qemu-system-aarch64",
        "/usr/libexec/qemu-kvm",
        "/dev/kvm",
        "/var/cache/libvirt/qemu/capabilities",
    };
    GString *fp = g_string_new(NULL);

    for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
        GStatBuf st;
        if (g_stat(paths[i], &st) == 0)
            g_string_append_printf(fp, "%s:%lld:%lld:%o:%u:%u;", paths[i], (long long)st.st_mtime,
                                   (long long)st.st_size, (unsigned)st.st_mode, (unsigned)st.st_uid,
                                   (unsigned)st.st_gid);
    }
    g_autofree char *kvm_usable = g_strdup(access("/dev/kvm", R_OK | W_OK) == 0 ? "rw" : "-");
    g_string_append_printf(fp, "kvm:%s", kvm_usable);
    return g_string_free(fp, FALSE);
}

static char *
cache_path(const char *uri)
{
    g_autofree char *name = g_compute_checksum_for_string(G_CHECKSUM_SHA256, uri, -1);
    return g_build_filename(g_get_user_cache_dir(), "virt-station", "hosts", name, NULL);
}

gboolean
vs_hostcache_load(const char *uri, VsCaps *ret)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *path = NULL, *fp = NULL, *stored_fp = NULL, *arch = NULL;
    gint64 probed;
    int a;

    if (!vs_uri_is_local_qemu(uri))
        return FALSE;
    path = cache_path(uri);
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
        return FALSE;
    fp = fingerprint();
    stored_fp = g_key_file_get_string(kf, "host", "fingerprint", NULL);
    probed = g_key_file_get_int64(kf, "host", "probed", NULL);
    arch = g_key_file_get_string(kf, "host", "arch", NULL);
    a = vs_arch_from_string(arch);
    g_autofree char *stored_uri = g_key_file_get_string(kf, "host", "uri", NULL);
    if (g_strcmp0(fp, stored_fp) != 0 || a < 0 ||
        g_get_real_time() / G_USEC_PER_SEC - probed > MAX_AGE_SECONDS ||
        g_strcmp0(stored_uri, uri) != 0)
        return FALSE;
    ret->arch = a;
    ret->kvm = g_key_file_get_boolean(kf, "host", "kvm", NULL);
    ret->passt = g_key_file_get_boolean(kf, "host", "passt", NULL);
    ret->session = g_key_file_get_boolean(kf, "host", "session", NULL);
    ret->remote = FALSE;
    ret->libvirt_version = (unsigned long)g_key_file_get_uint64(kf, "host", "libvirt", NULL);
    ret->qemu_version = (unsigned long)g_key_file_get_uint64(kf, "host", "qemu", NULL);
    return TRUE;
}

void
vs_hostcache_store(const char *uri, const VsCaps *caps)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *path = NULL, *dir = NULL, *fp = NULL;

    if (!vs_uri_is_local_qemu(uri))
        return;
    path = cache_path(uri);
    dir = g_path_get_dirname(path);
    fp = fingerprint();
    g_key_file_set_string(kf, "host", "uri", uri);
    g_key_file_set_string(kf, "host", "fingerprint", fp);
    g_key_file_set_int64(kf, "host", "probed", g_get_real_time() / G_USEC_PER_SEC);
    g_key_file_set_string(kf, "host", "arch", vs_arch_to_string(caps->arch));
    g_key_file_set_boolean(kf, "host", "kvm", caps->kvm);
    g_key_file_set_boolean(kf, "host", "passt", caps->passt);
    g_key_file_set_boolean(kf, "host", "session", caps->session);
    g_key_file_set_uint64(kf, "host", "libvirt", caps->libvirt_version);
    g_key_file_set_uint64(kf, "host", "qemu", caps->qemu_version);
    if (g_mkdir_with_parents(dir, 0700) == 0)
        g_key_file_save_to_file(kf, path, NULL);
}
