#include "provisioner/images/image.h"

#include <glib/gstdio.h>
#include <string.h>

#include "provisioner/base/spec-error.h"
#include "provisioner/images/hash.h"

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

gboolean
vs_image_ready(const VsImage *image)
{
    return image->volume && (image->kind == VS_IMAGE_VOLUME || image->path);
}

char *
vs_image_url_basename(const char *url)
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

/* vol:NAME or vol:POOL/NAME: a volume already in a pool. */
static gboolean
parse_volume(VsImage *img, const char *ref, GError **error)
{
    const char *rest = ref + 4, *slash = strchr(rest, '/');

    img->kind = VS_IMAGE_VOLUME;
    if (slash) {
        img->pool = g_strndup(rest, slash - rest);
        rest = slash + 1;
    }
    if (!*rest || (img->pool && !*img->pool) || strchr(rest, '/'))
        return vs_spec_fail(error, "--image %s: a pool volume is vol:NAME or vol:POOL/NAME", ref);
    img->label = g_strdup(rest);
    img->volume = g_strdup(rest);
    return TRUE;
}

/* An http(s) URL, checked against @sha256. */
static gboolean
parse_url(VsImage *img, const char *ref, const char *sha256, GError **error)
{
    if (!g_str_has_prefix(ref, "https://") && !g_str_has_prefix(ref, "http://"))
        return vs_spec_fail(error, "--image %s: only http:// and https:// URLs are fetched", ref);
    if (!sha256)
        return vs_spec_fail(error,
                            "--image %s: a URL needs --image-sha256 HEX, the SHA-256 of the file "
                            "there (or add it to images.yaml with its checksum list)",
                            ref);
    img->kind = VS_IMAGE_URL;
    img->url = g_strdup(ref);
    img->label = vs_image_url_basename(ref);
    img->expect = g_strconcat("sha256:", sha256, NULL);
    for (char *p = img->expect; *p; p++)
        *p = g_ascii_tolower(*p);
    vs_image_from_cache(img);
    return TRUE;
}

/* A catalog alias for @arch. *@ret_alias is FALSE (and nothing done) when @ref is no alias
 * but names an existing file. */
static gboolean
parse_alias(VsImage *img, const char *ref, const char *sha256, const char *arch,
            gboolean *ret_alias, GError **error)
{
    g_autoptr(VsCatalog) catalog = vs_catalog_load(error);
    const VsCatalogImage *entry;

    *ret_alias = FALSE;
    if (!catalog)
        return FALSE;
    if (!vs_catalog_has(catalog, ref) && g_file_test(ref, G_FILE_TEST_EXISTS))
        return TRUE;
    *ret_alias = TRUE;
    if (!(entry = vs_catalog_lookup(catalog, ref, arch, error)))
        return FALSE;
    if (sha256)
        return vs_spec_fail(error,
                            "--image-sha256 is for URLs; %s is checked against its publisher's "
                            "checksum list",
                            ref);
    img->kind = VS_IMAGE_ALIAS;
    img->entry = vs_catalog_image_copy(entry);
    img->url = g_strdup(entry->url);
    img->label = g_strdup(ref);
    vs_image_from_cache(img);
    return TRUE;
}

/* A local file: a packed one is found in the cache by its own sum, a plain one used as it is. */
static gboolean
parse_file(VsImage *img, const char *ref, const char *sha256, GError **error)
{
    g_autofree char *own = NULL;

    if (!g_file_test(ref, G_FILE_TEST_IS_REGULAR))
        return vs_spec_fail(error,
                            "--image %s: not a file, an alias of the image catalog (`virt-station "
                            "image list --catalog`), an http(s) URL or vol:NAME",
                            ref);
    img->kind = VS_IMAGE_FILE;
    img->label = g_path_get_basename(ref);
    if (!(own = vs_hash_file_cached(ref, error)))
        return FALSE;
    if (sha256 && g_ascii_strcasecmp(sha256, own) != 0)
        return vs_spec_fail(error, "--image %s: its SHA-256 is %s, not %s as --image-sha256 says",
                            ref, own, sha256);
    if (vs_image_is_packed(ref)) {
        /* Unpacked into the cache the first time (images/fetch.c), found there afterwards. */
        img->url = g_strdup(ref);
        img->expect = g_strconcat("sha256:", own, NULL);
        vs_image_from_cache(img);
        return TRUE;
    }
    img->path = g_strdup(ref);
    img->sha256 = g_steal_pointer(&own);
    img->volume = vs_image_volume_name(ref, img->sha256);
    return TRUE;
}

VsImage *
vs_image_parse(const char *ref, const char *sha256, const char *arch, gboolean require_signature,
               GError **error)
{
    g_autoptr(VsImage) img = g_new0(VsImage, 1);
    gboolean alias = FALSE, ok;

    img->ref = g_strdup(ref);
    img->require_signature = require_signature;
    if (sha256 && !valid_sha256(sha256)) {
        vs_spec_fail(error, "--image-sha256: '%s' is not a SHA-256 (64 hex digits)", sha256);
        return NULL;
    }
    if (g_str_has_prefix(ref, "vol:"))
        ok = parse_volume(img, ref, error);
    else if (strstr(ref, "://"))
        ok = parse_url(img, ref, sha256, error);
    else if (strchr(ref, ':') && !strchr(ref, '/'))
        ok = parse_alias(img, ref, sha256, arch, &alias, error) &&
             (alias || parse_file(img, ref, sha256, error));
    else
        ok = parse_file(img, ref, sha256, error);
    return ok ? g_steal_pointer(&img) : NULL;
}

gboolean
vs_image_import_file(VsImage *image, const char *file, GError **error)
{
    g_autofree char *sha256 = NULL, *source = NULL;
    g_autoptr(VsCacheEntry) entry = NULL;

    if (!vs_hash_file(file, G_CHECKSUM_SHA256, NULL, NULL, &sha256, error)) {
        g_unlink(file);
        return FALSE;
    }
    source = g_strconcat("sha256:", sha256, NULL);
    entry = vs_cache_add(file, image->label, image->ref, NULL, sha256, source, error);
    if (!entry)
        return FALSE;
    vs_image_take_entry(image, entry);
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
        const char *url = image->entry->checksums_url;
        g_autofree char *list = NULL, *hex = NULL, *source = NULL;
        g_autofree char *file = vs_image_url_basename(image->entry->url);
        VsListTrust trust = image->entry->signature == VS_SIGNATURE_NONE ? VS_LIST_UNSIGNED
                                                                         : vs_cache_list_trust(url);
        GChecksumType type;
        gsize len;
        /* A list not verified is fetched again, which says so (or refuses it): never silent. */
        if (trust == VS_LIST_UNCHECKED || (image->require_signature && trust != VS_LIST_VERIFIED))
            return FALSE;
        if (!(list = vs_cache_list_read(url, &len)) ||
            !vs_checksums_find(list, len, image->entry->format, file, &type, &hex, NULL))
            return FALSE;
        source = g_strconcat(vs_checksums_type_name(type), ":", hex, NULL);
        hit = vs_cache_find(source);
    }
    if (!hit)
        return FALSE;
    vs_image_take_entry(image, hit);
    return TRUE;
}

char *
vs_image_volume_name(const char *label, const char *sha256)
{
    g_autofree char *base = g_path_get_basename(label);
    GString *name = g_string_new(NULL);

    /* Drop the usual image extensions: debian-12.qcow2 -> debian-12. */
    for (const char *ext = NULL; (ext = strrchr(base, '.'));) {
        if (g_strcmp0(ext, ".qcow2") && g_strcmp0(ext, ".img") && g_strcmp0(ext, ".raw") &&
            g_strcmp0(ext, ".xz") && g_strcmp0(ext, ".gz") && g_strcmp0(ext, ".tar"))
            break;
        *(char *)ext = '\0';
    }
    for (const char *p = base; *p; p++)
        g_string_append_c(name, g_ascii_isalnum(*p) || strchr("-_.", *p) ? *p : '-');
    if (name->len == 0)
        g_string_append(name, "image");
    g_string_append_printf(name, "-%.12s", sha256);
    return g_string_free(name, FALSE);
}
