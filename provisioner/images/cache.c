#include "provisioner/images/cache.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "common/vs-fault.h"
#include "provisioner/base/file-read.h"
#include "provisioner/images/image.h"

void
vs_cache_entry_free(VsCacheEntry *entry)
{
    if (!entry)
        return;
    g_free(entry->name);
    g_free(entry->path);
    g_free(entry->alias);
    g_free(entry->url);
    g_free(entry->sha256);
    g_free(entry->source);
    g_free(entry->pulled);
    g_free(entry);
}

char *
vs_cache_dir(void)
{
    return g_build_filename(g_get_user_cache_dir(), "virt-station", "images", NULL);
}

char *
vs_cache_partial_dir(void)
{
    g_autofree char *dir = vs_cache_dir();
    return g_build_filename(dir, "partial", NULL);
}

char *
vs_cache_list_path(const char *url)
{
    g_autofree char *dir = vs_cache_dir();
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, url, -1);
    g_autofree char *name = g_strdup_printf("%.16s", sum);
    return g_build_filename(dir, "lists", name, NULL);
}

static const char *const trust_names[] = {
    [VS_LIST_UNCHECKED] = "unchecked",
    [VS_LIST_UNSIGNED] = "unsigned",
    [VS_LIST_VERIFIED] = "verified",
};

/* Returns the path of the record beside the kept list of @url. */
static char *
list_record_path(const char *url)
{
    g_autofree char *path = vs_cache_list_path(url);
    return g_strconcat(path, ".info", NULL);
}

gboolean
vs_cache_list_set_trust(const char *url, VsListTrust trust, GError **error)
{
    g_autofree char *info = list_record_path(url);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *data = NULL;

    g_key_file_set_string(kf, "list", "url", url);
    g_key_file_set_string(kf, "list", "signature", trust_names[trust]);
    data = g_key_file_to_data(kf, NULL, NULL);
    return g_file_set_contents(info, data, -1, error);
}

VsListTrust
vs_cache_list_trust(const char *url)
{
    g_autofree char *info = list_record_path(url);
    g_autofree char *data = NULL, *value = NULL;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    gsize len;

    if (!vs_file_read_bounded(info, 4096, "list record", &data, &len, NULL) ||
        !g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, NULL))
        return VS_LIST_UNCHECKED;
    g_autofree char *recorded_url = g_key_file_get_string(kf, "list", "url", NULL);
    if (g_strcmp0(recorded_url, url) != 0)
        return VS_LIST_UNCHECKED;
    value = g_key_file_get_string(kf, "list", "signature", NULL);
    for (guint i = 0; i < G_N_ELEMENTS(trust_names); i++)
        if (g_strcmp0(value, trust_names[i]) == 0)
            return (VsListTrust)i;
    return VS_LIST_UNCHECKED;
}

char *
vs_cache_list_read(const char *url, gsize *ret_len)
{
    g_autofree char *path = vs_cache_list_path(url);
    char *text = NULL;

    if (!vs_file_read_bounded(path, VS_FILE_CAP_LIST, "checksum list", &text, ret_len, NULL))
        return NULL;
    return text;
}

static VsCacheEntry *
read_entry(const char *dir, const char *info_name)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *info = g_build_filename(dir, info_name, NULL);
    g_autoptr(VsCacheEntry) e = g_new0(VsCacheEntry, 1);
    g_autofree char *data = NULL;
    GStatBuf st;
    gsize len;

    /* A record is a few lines: anything larger is no record of ours. */
    if (!vs_file_read_bounded(info, 65536, "cache record", &data, &len, NULL) ||
        !g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, NULL))
        return NULL;
    e->name = g_strndup(info_name, strlen(info_name) - strlen(".info"));
    e->path = g_strconcat(dir, "/", e->name, ".img", NULL);
    e->alias = g_key_file_get_string(kf, "image", "alias", NULL);
    e->url = g_key_file_get_string(kf, "image", "url", NULL);
    e->sha256 = g_key_file_get_string(kf, "image", "sha256", NULL);
    e->source = g_key_file_get_string(kf, "image", "source", NULL);
    e->pulled = g_key_file_get_string(kf, "image", "pulled", NULL);
    /* A record without its image (or with a different one) is no entry. */
    if (!e->sha256 || g_stat(e->path, &st) != 0 ||
        (guint64)st.st_size != g_key_file_get_uint64(kf, "image", "size", NULL))
        return NULL;
    e->size = st.st_size;
    return g_steal_pointer(&e);
}

static gint
by_name(gconstpointer a, gconstpointer b)
{
    return g_strcmp0((*(VsCacheEntry *const *)a)->name, (*(VsCacheEntry *const *)b)->name);
}

GPtrArray *
vs_cache_list(GError **error)
{
    g_autofree char *dir = vs_cache_dir();
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)vs_cache_entry_free);
    g_autoptr(GError) open_error = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &open_error);
    const char *name;

    if (!d) {
        if (g_error_matches(open_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return g_steal_pointer(&out);
        g_propagate_error(error, g_steal_pointer(&open_error));
        return NULL;
    }
    while ((name = g_dir_read_name(d))) {
        VsCacheEntry *e;
        if (g_str_has_suffix(name, ".info") && (e = read_entry(dir, name)))
            g_ptr_array_add(out, e);
    }
    g_ptr_array_sort(out, by_name);
    return g_steal_pointer(&out);
}

VsCacheEntry *
vs_cache_find(const char *source)
{
    g_autoptr(GPtrArray) all = vs_cache_list(NULL);

    for (guint i = 0; all && i < all->len; i++) {
        VsCacheEntry *e = all->pdata[i];
        if (g_strcmp0(e->source, source) == 0)
            return g_ptr_array_steal_index(all, i);
    }
    return NULL;
}

VsCacheEntry *
vs_cache_add(const char *file, const char *label, const char *alias, const char *url,
             const char *sha256, const char *source, GError **error)
{
    g_autofree char *dir = vs_cache_dir();
    g_autofree char *name = vs_image_volume_name(label, sha256);
    g_autofree char *path = g_strconcat(dir, "/", name, ".img", NULL);
    g_autofree char *info = g_strconcat(dir, "/", name, ".info", NULL);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *pulled = g_date_time_format_iso8601(now);
    g_autofree char *data = NULL;
    GStatBuf st;

    if (g_mkdir_with_parents(dir, 0755) != 0 || g_stat(file, &st) != 0 ||
        g_rename(file, path) != 0) {
        int saved = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                    "cannot keep the image in the cache %s: %s", dir, g_strerror(saved));
        g_unlink(file);
        return NULL;
    }
    /* Test builds: a failure between the image and its record (common/vs-fault.h). */
    if (!vs_fault_point("pull-cache", error)) {
        g_unlink(path);
        return NULL;
    }
    g_key_file_set_string(kf, "image", "alias", alias);
    if (url)
        g_key_file_set_string(kf, "image", "url", url);
    g_key_file_set_string(kf, "image", "sha256", sha256);
    g_key_file_set_string(kf, "image", "source", source);
    g_key_file_set_uint64(kf, "image", "size", st.st_size);
    g_key_file_set_string(kf, "image", "pulled", pulled);
    data = g_key_file_to_data(kf, NULL, NULL);
    if (!g_file_set_contents(info, data, -1, error)) {
        g_unlink(path);
        return NULL;
    }
    g_autofree char *info_name = g_strconcat(name, ".info", NULL);
    VsCacheEntry *e = read_entry(dir, info_name);
    if (!e)
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "the cache entry %s vanished", info);
    return e;
}

gboolean
vs_cache_remove(const VsCacheEntry *entry, GError **error)
{
    g_autofree char *info = g_strndup(entry->path, strlen(entry->path) - strlen(".img"));
    g_autofree char *info_path = g_strconcat(info, ".info", NULL);

    if (g_unlink(info_path) != 0 || (g_unlink(entry->path) != 0 && errno != ENOENT)) {
        int saved = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "removing %s: %s",
                    entry->path, g_strerror(saved));
        return FALSE;
    }
    return TRUE;
}
