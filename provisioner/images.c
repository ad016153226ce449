#include "images.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "imagehash.h"
#include "spec.h"

void
vs_image_free(VsImage *image)
{
    if (!image)
        return;
    g_free(image->ref);
    g_free(image->label);
    g_free(image->url);
    g_free(image->expect);
    vs_catalog_image_free(image->entry);
    g_free(image->path);
    g_free(image->sha256);
    g_free(image->volume);
    g_free(image->pool);
    g_free(image);
}

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

gboolean
vs_image_ready(const VsImage *image)
{
    return image->volume && (image->kind == VS_IMAGE_VOLUME || image->path);
}

char *
vs_url_basename(const char *url)
{
    g_autofree char *path = g_strndup(url, strcspn(url, "?#"));
    const char *slash = strrchr(path, '/');
    return g_strdup(slash && slash[1] ? slash + 1 : "image");
}

static gboolean
valid_sha256(const char *hex)
{
    return hex && strlen(hex) == 64 && strspn(hex, "0123456789abcdefABCDEF") == 64;
}

gboolean
vs_image_is_packed(const char *name)
{
    return g_str_has_suffix(name, ".xz") || g_str_has_suffix(name, ".gz") ||
           g_str_has_suffix(name, ".tar");
}

VsImage *
vs_image_parse(const char *ref, const char *sha256, const char *arch, GError **error)
{
    g_autoptr(VsImage) img = g_new0(VsImage, 1);

    img->ref = g_strdup(ref);
    if (sha256 && !valid_sha256(sha256)) {
        g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID,
                    "--image-sha256: '%s' is not a SHA-256 (64 hex digits)", sha256);
        return NULL;
    }
    if (g_str_has_prefix(ref, "vol:")) {
        const char *rest = ref + 4, *slash = strchr(rest, '/');
        img->kind = VS_IMAGE_VOLUME;
        if (slash) {
            img->pool = g_strndup(rest, slash - rest);
            rest = slash + 1;
        }
        if (!*rest || (img->pool && !*img->pool) || strchr(rest, '/')) {
            g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID,
                        "--image %s: a pool volume is vol:NAME or vol:POOL/NAME", ref);
            return NULL;
        }
        img->label = g_strdup(rest);
        img->volume = g_strdup(rest);
        return g_steal_pointer(&img);
    }
    if (strstr(ref, "://")) {
        if (!g_str_has_prefix(ref, "https://") && !g_str_has_prefix(ref, "http://")) {
            g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID,
                        "--image %s: only http:// and https:// URLs are fetched", ref);
            return NULL;
        }
        if (!sha256) {
            g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID,
                        "--image %s: a URL needs --image-sha256 HEX, the SHA-256 of the file "
                        "there (or add it to images.yaml with its checksum list)",
                        ref);
            return NULL;
        }
        img->kind = VS_IMAGE_URL;
        img->url = g_strdup(ref);
        img->label = vs_url_basename(ref);
        img->expect = g_strconcat("sha256:", sha256, NULL);
        for (char *p = img->expect; *p; p++)
            *p = g_ascii_tolower(*p);
        vs_image_from_cache(img);
        return g_steal_pointer(&img);
    }
    if (strchr(ref, ':') && !strchr(ref, '/')) {
        g_autoptr(VsCatalog) catalog = vs_catalog_load(error);
        const VsCatalogImage *entry;
        if (!catalog)
            return NULL;
        if (vs_catalog_has(catalog, ref) || !g_file_test(ref, G_FILE_TEST_EXISTS)) {
            if (!(entry = vs_catalog_lookup(catalog, ref, arch, error)))
                return NULL;
            if (sha256) {
                g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID,
                            "--image-sha256 is for URLs; %s is checked against its publisher's "
                            "checksum list",
                            ref);
                return NULL;
            }
            img->kind = VS_IMAGE_ALIAS;
            img->entry = vs_catalog_image_copy(entry);
            img->url = g_strdup(entry->url);
            img->label = g_strdup(ref);
            vs_image_from_cache(img);
            return g_steal_pointer(&img);
        }
    }
    if (!g_file_test(ref, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID,
                    "--image %s: not a file, an alias of the image catalog (`virt-station image "
                    "list --catalog`), an http(s) URL or vol:NAME",
                    ref);
        return NULL;
    }
    img->kind = VS_IMAGE_FILE;
    img->label = g_path_get_basename(ref);
    if (vs_image_is_packed(ref)) {
        /* Unpacked into the cache the first time (fetch.c), found there afterwards. */
        g_autofree char *packed = vs_imagehash_file(ref, error);
        if (!packed)
            return NULL;
        if (sha256 && g_ascii_strcasecmp(sha256, packed) != 0) {
            g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID,
                        "--image %s: its SHA-256 is %s, not %s as --image-sha256 says", ref, packed,
                        sha256);
            return NULL;
        }
        img->url = g_strdup(ref);
        img->expect = g_strconcat("sha256:", packed, NULL);
        vs_image_from_cache(img);
        return g_steal_pointer(&img);
    }
    img->path = g_strdup(ref);
    img->sha256 = vs_imagehash_file(ref, error);
    if (!img->sha256)
        return NULL;
    if (sha256 && g_ascii_strcasecmp(sha256, img->sha256) != 0) {
        g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID,
                    "--image %s: its SHA-256 is %s, not %s as --image-sha256 says", ref,
                    img->sha256, sha256);
        return NULL;
    }
    img->volume = vs_imagehash_volume_name(ref, img->sha256);
    return g_steal_pointer(&img);
}

char *
vs_cache_dir(void)
{
    return g_build_filename(g_get_user_cache_dir(), "virt-station", "images", NULL);
}

char *
vs_cache_list_path(const char *url)
{
    g_autofree char *dir = vs_cache_dir();
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, url, -1);
    g_autofree char *name = g_strdup_printf("%.16s", sum);
    return g_build_filename(dir, "lists", name, NULL);
}

static VsCacheEntry *
read_entry(const char *dir, const char *info_name)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *info = g_build_filename(dir, info_name, NULL);
    g_autoptr(VsCacheEntry) e = g_new0(VsCacheEntry, 1);
    GStatBuf st;

    if (!g_key_file_load_from_file(kf, info, G_KEY_FILE_NONE, NULL))
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
    g_autofree char *name = vs_imagehash_volume_name(label, sha256);
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

void
vs_image_take_entry(VsImage *image, const VsCacheEntry *entry)
{
    g_free(image->path);
    g_free(image->sha256);
    g_free(image->volume);
    image->path = g_strdup(entry->path);
    image->sha256 = g_strdup(entry->sha256);
    image->volume = g_strdup(entry->name);
}

gboolean
vs_image_from_cache(VsImage *image)
{
    g_autoptr(VsCacheEntry) hit = NULL;

    if (image->kind == VS_IMAGE_URL || (image->kind == VS_IMAGE_FILE && image->expect)) {
        hit = vs_cache_find(image->expect);
    } else if (image->kind == VS_IMAGE_ALIAS) {
        g_autofree char *list_path = vs_cache_list_path(image->entry->checksums_url);
        g_autofree char *list = NULL, *hex = NULL, *source = NULL;
        g_autofree char *file = vs_url_basename(image->entry->url);
        GChecksumType type;
        gsize len;
        if (!g_file_get_contents(list_path, &list, &len, NULL) ||
            !vs_checksums_find(list, len, image->entry->format, file, &type, &hex, NULL))
            return FALSE;
        source = g_strconcat(vs_checksum_type_name(type), ":", hex, NULL);
        hit = vs_cache_find(source);
    }
    if (!hit)
        return FALSE;
    vs_image_take_entry(image, hit);
    return TRUE;
}
