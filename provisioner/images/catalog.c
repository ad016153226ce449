#include "provisioner/images/catalog.h"

#include <string.h>
#include <yaml.h>

#include "provisioner/base/file-read.h"
#include "provisioner/base/spec-error.h"
#include "provisioner/base/yaml-load.h"
#include "vs-config.h"

static const char *const arches[] = {"x86_64", "aarch64", NULL}; /* for g_strv_contains */

void
vs_catalog_image_free(VsCatalogImage *img)
{
    if (!img)
        return;
    g_free(img->alias);
    g_free(img->arch);
    g_free(img->url);
    g_free(img->checksums_url);
    g_free(img->signature_url);
    g_free(img->keyring);
    g_free(img->os);
    g_free(img);
}

VsCatalogImage *
vs_catalog_image_copy(const VsCatalogImage *img)
{
    VsCatalogImage *c = g_memdup2(img, sizeof *img);
    c->alias = g_strdup(img->alias);
    c->arch = g_strdup(img->arch);
    c->url = g_strdup(img->url);
    c->checksums_url = g_strdup(img->checksums_url);
    c->signature_url = g_strdup(img->signature_url);
    c->keyring = g_strdup(img->keyring);
    c->os = g_strdup(img->os);
    return c;
}

VsCatalog *
vs_catalog_new(void)
{
    VsCatalog *c = g_new0(VsCatalog, 1);
    c->images = g_ptr_array_new_with_free_func((GDestroyNotify)vs_catalog_image_free);
    return c;
}

void
vs_catalog_free(VsCatalog *catalog)
{
    if (!catalog)
        return;
    g_ptr_array_unref(catalog->images);
    g_free(catalog);
}

static const char *
scalar(yaml_node_t *node)
{
    return node && node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

static gboolean
is_url(const char *text)
{
    return g_str_has_prefix(text, "https://") || g_str_has_prefix(text, "http://") ||
           g_str_has_prefix(text, "file://");
}

/* The settings an alias shares across its architectures. */
typedef struct {
    VsSumsFormat format;
    gboolean format_given;
    VsSignatureKind signature;
    const char *suffix;
    const char *keyring;
    const char *os;
} Shared;

static gboolean
parse_arch(GPtrArray *out, const char *alias, const char *arch, yaml_document_t *doc,
           yaml_node_t *map, const Shared *shared, const char *what, GError **error)
{
    const char *url = NULL, *sums = NULL;

    if (map->type != YAML_MAPPING_NODE)
        return vs_spec_fail(error, "%s: line %zu: %s: %s is a mapping with 'url' and 'checksums'",
                            what, map->start_mark.line + 1, alias, arch);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        const char *key = scalar(k), *value = scalar(v);
        if (!key || !value || !is_url(value))
            return vs_spec_fail(error, "%s: line %zu: %s: %s: '%s' needs a URL (https://...)", what,
                                k->start_mark.line + 1, alias, arch, key ? key : "?");
        if (g_str_equal(key, "url"))
            url = value;
        else if (g_str_equal(key, "checksums"))
            sums = value;
        else
            return vs_spec_fail(error, "%s: line %zu: %s: %s: unknown key '%s' (url, checksums)",
                                what, k->start_mark.line + 1, alias, arch, key);
    }
    if (!url || !sums)
        return vs_spec_fail(error, "%s: line %zu: %s: %s needs both 'url' and 'checksums'", what,
                            map->start_mark.line + 1, alias, arch);
    VsCatalogImage *img = g_new0(VsCatalogImage, 1);
    img->alias = g_strdup(alias);
    img->arch = g_strdup(arch);
    img->url = g_strdup(url);
    img->checksums_url = g_strdup(sums);
    img->format = shared->format;
    img->signature = shared->signature;
    if (shared->signature == VS_SIGNATURE_DETACHED)
        img->signature_url = g_strconcat(sums, shared->suffix ? shared->suffix : ".gpg", NULL);
    img->keyring = g_strdup(shared->keyring);
    img->os = g_strdup(shared->os);
    g_ptr_array_add(out, img);
    return TRUE;
}

/* The spellings of the settings with a fixed set of values. */
typedef struct {
    const char *name;
    int value;
} Spelling;

static const Spelling formats[] = {
    {"sha256sums", VS_SUMS_SHA256SUMS},
    {"sha512sums", VS_SUMS_SHA512SUMS},
    {"fedora", VS_SUMS_FEDORA},
    {NULL, 0},
};

static const Spelling signatures[] = {
    {"none", VS_SIGNATURE_NONE},
    {"detached", VS_SIGNATURE_DETACHED},
    {"inline", VS_SIGNATURE_INLINE},
    {NULL, 0},
};

/* Returns the value spelled @name in @table, or -1. */
static int
spelled(const Spelling *table, const char *name)
{
    for (; table->name; table++)
        if (g_str_equal(table->name, name))
            return table->value;
    return -1;
}

/* Sets the shared setting @key of @alias (at @line) to @value. */
static gboolean
set_shared(Shared *shared, const char *key, const char *value, const char *alias, gsize line,
           const char *what, GError **error)
{
    int v;

    if (g_str_equal(key, "checksums-format")) {
        shared->format_given = TRUE;
        if ((v = spelled(formats, value)) < 0)
            return vs_spec_fail(error,
                                "%s: line %zu: %s: checksums-format is sha256sums, "
                                "sha512sums or fedora, not '%s'",
                                what, line, alias, value);
        shared->format = v;
    } else if (g_str_equal(key, "signature")) {
        if ((v = spelled(signatures, value)) < 0)
            return vs_spec_fail(error,
                                "%s: line %zu: %s: signature is none, detached or inline, "
                                "not '%s'",
                                what, line, alias, value);
        shared->signature = v;
    } else if (g_str_equal(key, "signature-suffix")) {
        shared->suffix = value;
    } else if (g_str_equal(key, "keyring")) {
        shared->keyring = value;
    } else if (g_str_equal(key, "os")) {
        shared->os = value;
    } else {
        return vs_spec_fail(error,
                            "%s: line %zu: %s: unknown key '%s' (checksums-format, signature, "
                            "signature-suffix, keyring, os, x86_64, aarch64)",
                            what, line, alias, key);
    }
    return TRUE;
}

static gboolean
parse_alias(GPtrArray *out, const char *alias, yaml_document_t *doc, yaml_node_t *map,
            const char *what, GError **error)
{
    Shared shared = {.signature = VS_SIGNATURE_NONE};
    guint first = out->len;

    if (!g_regex_match_simple("^[a-z0-9][a-z0-9._-]*(:[a-z0-9._-]+)*$", alias,
                              G_REGEX_DOLLAR_ENDONLY, 0))
        return vs_spec_fail(error,
                            "%s: line %zu: '%s' is not an alias (lower-case words joined by ':', "
                            "like ubuntu:24.04)",
                            what, map->start_mark.line + 1, alias);
    if (map->type != YAML_MAPPING_NODE)
        return vs_spec_fail(error, "%s: line %zu: %s is a mapping (checksums-format, x86_64, ...)",
                            what, map->start_mark.line + 1, alias);
    /* The shared keys first, wherever they are written. */
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        const char *key = scalar(k), *value = scalar(v);
        gsize line = k->start_mark.line + 1;
        if (!key)
            return vs_spec_fail(error, "%s: line %zu: %s: keys are plain words", what, line, alias);
        if (g_strv_contains(arches, key))
            continue;
        if (!value)
            return vs_spec_fail(error, "%s: line %zu: %s: '%s' takes a single value", what, line,
                                alias, key);
        if (!set_shared(&shared, key, value, alias, line, what, error))
            return FALSE;
    }
    if (!shared.format_given)
        return vs_spec_fail(error, "%s: line %zu: %s needs checksums-format", what,
                            map->start_mark.line + 1, alias);
    /* A signature nobody could check would be skipped silently: refuse the entry instead. */
    if (shared.signature != VS_SIGNATURE_NONE && !shared.keyring)
        return vs_spec_fail(error,
                            "%s: line %zu: %s: signature: %s needs a keyring (the file with the "
                            "publisher's OpenPGP keys) to check it against; write signature: none "
                            "for a list that is not signed",
                            what, map->start_mark.line + 1, alias,
                            shared.signature == VS_SIGNATURE_DETACHED ? "detached" : "inline");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const char *key = scalar(yaml_document_get_node(doc, p->key));
        if (g_strv_contains(arches, key) &&
            !parse_arch(out, alias, key, doc, yaml_document_get_node(doc, p->value), &shared, what,
                        error))
            return FALSE;
    }
    if (out->len == first)
        return vs_spec_fail(error, "%s: line %zu: %s names no image (add x86_64: or aarch64:)",
                            what, map->start_mark.line + 1, alias);
    return TRUE;
}

gboolean
vs_catalog_add_data(VsCatalog *catalog, const char *data, gsize len, const char *what,
                    GError **error)
{
    yaml_document_t doc;
    yaml_node_t *root;
    g_autoptr(GPtrArray) added =
        g_ptr_array_new_with_free_func((GDestroyNotify)vs_catalog_image_free);
    gboolean ok = TRUE;

    if (!vs_yaml_load(data, len, what, VS_YAML_SINGLE, &doc, error))
        return FALSE;
    root = yaml_document_get_root_node(&doc);
    if (root && root->type != YAML_MAPPING_NODE) {
        ok = vs_spec_fail(error, "%s: a catalog is a mapping of aliases (like ubuntu:24.04)", what);
    } else if (root) {
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
             ok && p < root->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(&doc, p->key);
            const char *alias = scalar(k);
            if (!alias) {
                ok = vs_spec_fail(error, "%s: line %zu: an alias is a plain word", what,
                                  k->start_mark.line + 1);
                break;
            }
            for (guint i = 0; i < added->len; i++)
                if (g_str_equal(((VsCatalogImage *)added->pdata[i])->alias, alias))
                    ok = vs_spec_fail(error, "%s: line %zu: %s is defined twice", what,
                                      k->start_mark.line + 1, alias);
            ok = ok && parse_alias(added, alias, &doc, yaml_document_get_node(&doc, p->value), what,
                                   error);
        }
    }
    yaml_document_delete(&doc);
    if (!ok)
        return FALSE;
    /* Replace whole aliases. */
    for (guint i = 0; i < added->len; i++) {
        const char *alias = ((VsCatalogImage *)added->pdata[i])->alias;
        for (guint j = catalog->images->len; j-- > 0;) {
            VsCatalogImage *old = catalog->images->pdata[j];
            if (g_str_equal(old->alias, alias) && !g_ptr_array_find(added, old, NULL))
                g_ptr_array_remove_index(catalog->images, j);
        }
    }
    while (added->len)
        g_ptr_array_add(catalog->images, g_ptr_array_steal_index(added, 0));
    return TRUE;
}

static gboolean
add_file(VsCatalog *catalog, const char *path, gboolean required, GError **error)
{
    g_autofree char *data = NULL;
    g_autoptr(GError) read_error = NULL;
    gsize len;

    if (!vs_file_read_bounded(path, VS_FILE_CAP_YAML, "image catalog", &data, &len, &read_error)) {
        if (!required && g_error_matches(read_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return TRUE;
        g_propagate_error(error, g_steal_pointer(&read_error));
        return FALSE;
    }
    return vs_catalog_add_data(catalog, data, len, path, error);
}

VsCatalog *
vs_catalog_load(GError **error)
{
    g_autoptr(VsCatalog) catalog = vs_catalog_new();
    g_autofree char *installed = g_build_filename(VS_DATA_DIR, "images.yaml", NULL);
    g_autofree char *source = g_build_filename(VS_SOURCE_DIR, "data", "images.yaml", NULL);
    g_autofree char *user =
        g_build_filename(g_get_user_config_dir(), "virt-station", "images.yaml", NULL);
    /* An installed program reads its installed catalog; one run from its build tree, the
     * source tree's. */
    const char *shipped = g_file_test(installed, G_FILE_TEST_EXISTS) ? installed : source;

    if (!add_file(catalog, shipped, FALSE, error) || !add_file(catalog, user, FALSE, error))
        return NULL;
    return g_steal_pointer(&catalog);
}

gboolean
vs_catalog_has(const VsCatalog *catalog, const char *alias)
{
    for (guint i = 0; i < catalog->images->len; i++)
        if (g_str_equal(((VsCatalogImage *)catalog->images->pdata[i])->alias, alias))
            return TRUE;
    return FALSE;
}

const VsCatalogImage *
vs_catalog_lookup(const VsCatalog *catalog, const char *alias, const char *arch, GError **error)
{
    for (guint i = 0; i < catalog->images->len; i++) {
        const VsCatalogImage *img = catalog->images->pdata[i];
        if (g_str_equal(img->alias, alias) && g_str_equal(img->arch, arch))
            return img;
    }
    if (vs_catalog_has(catalog, alias))
        g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID,
                    "the image catalog has no %s image for %s", arch, alias);
    else
        g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID,
                    "'%s' is not in the image catalog (`virt-station image list --catalog` "
                    "lists the aliases)",
                    alias);
    return NULL;
}
