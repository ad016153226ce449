/* Spec files: one YAML mapping whose keys are the long flag names (README, "Spec files"). Unknown
 * keys, wrong types and malformed values are errors that name the key and its line. */
#include "provisioner/spec.h"

#include <errno.h>
#include <string.h>
#include <yaml.h>

#include "provisioner/base/bounded-read.h"
#include "provisioner/base/file-read.h"
#include "provisioner/base/yaml-load.h"

VsSpec *
vs_spec_new(void)
{
    VsSpec *spec = g_new0(VsSpec, 1);
    spec->ssh_keys = g_ptr_array_new_with_free_func(g_free);
    return spec;
}

void
vs_spec_free(VsSpec *s)
{
    if (!s)
        return;
    g_free(s->name);
    g_free(s->image);
    g_free(s->image_sha256);
    g_free(s->instance_type);
    g_free(s->network);
    g_free(s->gpu);
    g_free(s->display);
    g_free(s->user);
    g_ptr_array_unref(s->ssh_keys);
    g_free(s->user_data);
    g_free(s->network_config);
    g_free(s->seed_device);
    g_free(s->seed_from);
    g_free(s->arch);
    g_free(s->firmware);
    g_free(s->virt_type);
    g_free(s->mac);
    g_free(s->pool);
    g_free(s->osinfo);
    g_free(s);
}

gboolean
vs_spec_parse_size(const char *text, guint64 bare_unit, const char *what, guint64 *ret_bytes,
                   GError **error)
{
    static const struct {
        const char *suffix;
        guint64 unit;
    } units[] = {
        {"", 0},
        {"K", 1ULL << 10},
        {"KiB", 1ULL << 10},
        {"M", 1ULL << 20},
        {"MiB", 1ULL << 20},
        {"G", 1ULL << 30},
        {"GiB", 1ULL << 30},
        {"T", 1ULL << 40},
        {"TiB", 1ULL << 40},
    };
    char *end = NULL;
    guint64 n;

    if (!text || !g_ascii_isdigit(text[0]))
        return vs_spec_fail(error, "%s: '%s' is not a size (examples: 8G, 512M, 20)", what,
                            text ? text : "");
    errno = 0;
    n = g_ascii_strtoull(text, &end, 10);
    for (guint i = 0; i < G_N_ELEMENTS(units); i++) {
        guint64 unit = units[i].unit ? units[i].unit : bare_unit;
        if (strcmp(end, units[i].suffix) != 0)
            continue;
        if (errno != 0 || n == 0 || n > G_MAXUINT64 / unit)
            return vs_spec_fail(error, "%s: '%s' is out of range", what, text);
        *ret_bytes = n * unit;
        return TRUE;
    }
    return vs_spec_fail(error, "%s: '%s' has an unknown unit (use K, M, G or T)", what, text);
}

gboolean
vs_spec_parse_mib(const char *text, guint64 max_bytes, const char *what, guint64 *ret_mib,
                  GError **error)
{
    guint64 bytes;

    if (!vs_spec_parse_size(text, 1ULL << 20, what, &bytes, error))
        return FALSE;
    if (bytes < (1ULL << 20))
        return vs_spec_fail(error, "%s: '%s' is less than 1 MiB", what, text);
    if (bytes % (1ULL << 20) != 0)
        return vs_spec_fail(error, "%s: '%s' is not a whole number of MiB", what, text);
    if (bytes > max_bytes)
        return vs_spec_fail(error, "%s: '%s' is more than %" G_GUINT64_FORMAT " TiB, the limit",
                            what, text, max_bytes >> 40);
    *ret_mib = bytes >> 20;
    return TRUE;
}

gboolean
vs_spec_parse_disk(const char *text, const char *what, guint64 *ret_bytes, GError **error)
{
    guint64 bytes;

    if (!vs_spec_parse_size(text, 1ULL << 30, what, &bytes, error))
        return FALSE;
    if (bytes > VS_SPEC_DISK_MAX)
        return vs_spec_fail(error, "%s: '%s' is more than %" G_GUINT64_FORMAT " TiB, the limit",
                            what, text, VS_SPEC_DISK_MAX >> 40);
    *ret_bytes = bytes;
    return TRUE;
}

gboolean
vs_spec_parse_instance_type(const char *text, guint *ret_cpus, guint64 *ret_mib, GError **error)
{
    g_autoptr(GMatchInfo) match = NULL;
    g_autoptr(GRegex) re =
        g_regex_new("^c([1-9][0-9]{0,3})m([1-9][0-9]{1,8})$", G_REGEX_DOLLAR_ENDONLY, 0, NULL);

    if (!g_regex_match(re, text, 0, &match))
        return vs_spec_fail(
            error, "instance-type: '%s' is not of the form cNmM (N vCPUs, M MiB: c4m8192)", text);
    g_autofree char *cpus = g_match_info_fetch(match, 1);
    g_autofree char *mib = g_match_info_fetch(match, 2);
    if (g_ascii_strtoull(mib, NULL, 10) > VS_SPEC_MEMORY_MAX >> 20)
        return vs_spec_fail(error,
                            "instance-type: '%s' asks for more than %" G_GUINT64_FORMAT
                            " TiB of memory, the limit",
                            text, VS_SPEC_MEMORY_MAX >> 40);
    *ret_cpus = (guint)g_ascii_strtoull(cpus, NULL, 10);
    *ret_mib = g_ascii_strtoull(mib, NULL, 10);
    return TRUE;
}

typedef enum {
    KEY_STRING,
    KEY_PATH,
    KEY_CPUS,
    KEY_MEMORY,
    KEY_DISK,
    KEY_GPU_MEMORY,
    KEY_KEYS,
    KEY_FLAG
} KeyKind;

static const struct {
    const char *key;
    KeyKind kind;
    gsize offset;
} spec_keys[] = {
    {"name", KEY_STRING, G_STRUCT_OFFSET(VsSpec, name)},
    {"image", KEY_STRING, G_STRUCT_OFFSET(VsSpec, image)},
    {"image-sha256", KEY_STRING, G_STRUCT_OFFSET(VsSpec, image_sha256)},
    {"cpus", KEY_CPUS, 0},
    {"memory", KEY_MEMORY, 0},
    {"disk", KEY_DISK, 0},
    {"instance-type", KEY_STRING, G_STRUCT_OFFSET(VsSpec, instance_type)},
    {"network", KEY_STRING, G_STRUCT_OFFSET(VsSpec, network)},
    {"gpu", KEY_STRING, G_STRUCT_OFFSET(VsSpec, gpu)},
    {"gpu-memory", KEY_GPU_MEMORY, 0},
    {"display", KEY_STRING, G_STRUCT_OFFSET(VsSpec, display)},
    {"user", KEY_STRING, G_STRUCT_OFFSET(VsSpec, user)},
    {"ssh-key", KEY_KEYS, 0},
    {"user-data", KEY_PATH, G_STRUCT_OFFSET(VsSpec, user_data)},
    {"network-config", KEY_PATH, G_STRUCT_OFFSET(VsSpec, network_config)},
    {"seed-device", KEY_STRING, G_STRUCT_OFFSET(VsSpec, seed_device)},
    {"seed-from", KEY_STRING, G_STRUCT_OFFSET(VsSpec, seed_from)},
    {"arch", KEY_STRING, G_STRUCT_OFFSET(VsSpec, arch)},
    {"firmware", KEY_STRING, G_STRUCT_OFFSET(VsSpec, firmware)},
    {"virt-type", KEY_STRING, G_STRUCT_OFFSET(VsSpec, virt_type)},
    {"mac", KEY_STRING, G_STRUCT_OFFSET(VsSpec, mac)},
    {"pool", KEY_STRING, G_STRUCT_OFFSET(VsSpec, pool)},
    {"osinfo", KEY_STRING, G_STRUCT_OFFSET(VsSpec, osinfo)},
    {"require-signature", KEY_FLAG, G_STRUCT_OFFSET(VsSpec, require_signature)},
};

static char *
resolve_path(const char *base_dir, const char *path)
{
    if (!base_dir || g_path_is_absolute(path))
        return g_strdup(path);
    /* ~/ is expanded as a shell would. */
    if (g_str_has_prefix(path, "~/"))
        return g_build_filename(g_get_home_dir(), path + 2, NULL);
    return g_build_filename(base_dir, path, NULL);
}

static gboolean
set_key(VsSpec *spec, yaml_document_t *doc, int key_index, yaml_node_t *value, const char *what,
        const char *base_dir, GError **error)
{
    const char *key = NULL;
    KeyKind kind = spec_keys[key_index].kind;
    gsize line = value->start_mark.line + 1;
    const char *text =
        value->type == YAML_SCALAR_NODE ? (const char *)value->data.scalar.value : NULL;
    char **field = (char **)G_STRUCT_MEMBER_P(spec, spec_keys[key_index].offset);
    guint64 mib;

    key = spec_keys[key_index].key;
    if (kind == KEY_KEYS) {
        g_ptr_array_set_size(spec->ssh_keys, 0);
        if (text) {
            g_ptr_array_add(spec->ssh_keys, resolve_path(base_dir, text));
            return TRUE;
        }
        if (value->type != YAML_SEQUENCE_NODE)
            return vs_spec_fail(error, "%s line %zu: 'ssh-key' must be a file or a list of files",
                                what, line);
        for (yaml_node_item_t *it = value->data.sequence.items.start;
             it < value->data.sequence.items.top; it++) {
            yaml_node_t *item = yaml_document_get_node(doc, *it);
            if (item->type != YAML_SCALAR_NODE)
                return vs_spec_fail(error, "%s line %zu: 'ssh-key' entries must be file names",
                                    what, item->start_mark.line + 1);
            g_ptr_array_add(spec->ssh_keys,
                            resolve_path(base_dir, (const char *)item->data.scalar.value));
        }
        return TRUE;
    }
    if (!text || !*text)
        return vs_spec_fail(error, "%s line %zu: '%s' needs a single value", what, line, key);
    g_autofree char *where = g_strdup_printf("%s line %zu: %s", what, line, key);
    switch (kind) {
    case KEY_STRING:
        g_free(*field);
        *field = g_strdup(text);
        return TRUE;
    case KEY_PATH:
        g_free(*field);
        *field = resolve_path(base_dir, text);
        return TRUE;
    case KEY_CPUS: {
        guint64 n;
        if (!g_ascii_string_to_unsigned(text, 10, 1, 4096, &n, NULL))
            return vs_spec_fail(error, "%s: '%s' is not a number of vCPUs (1 to 4096)", where,
                                text);
        spec->cpus = (guint)n;
        return TRUE;
    }
    case KEY_MEMORY:
        return vs_spec_parse_mib(text, VS_SPEC_MEMORY_MAX, where, &spec->memory_mib, error);
    case KEY_DISK:
        return vs_spec_parse_disk(text, where, &spec->disk_bytes, error);
    case KEY_GPU_MEMORY:
        if (!vs_spec_parse_mib(text, VS_SPEC_GPU_MEMORY_MAX, where, &mib, error))
            return FALSE;
        spec->gpu_memory_bytes = mib << 20;
        return TRUE;
    case KEY_FLAG:
        if (strcmp(text, "true") && strcmp(text, "false"))
            return vs_spec_fail(error, "%s: '%s' is not true or false", where, text);
        *(gboolean *)field = strcmp(text, "true") == 0;
        return TRUE;
    case KEY_KEYS:
        break;
    }
    return TRUE;
}

/* Keys config.yaml may hold: defaults for every workstation, and the connection. */
static const char *const config_keys[] = {"connect", "pool",      "network",           "user",
                                          "ssh-key", "virt-type", "require-signature", NULL};

static gboolean load(VsSpec *spec, const char *data, gsize len, const char *what,
                     const char *base_dir, gboolean config, char **ret_connect, GError **error);

gboolean
vs_spec_load_data(VsSpec *spec, const char *data, gsize len, const char *what, const char *base_dir,
                  GError **error)
{
    return load(spec, data, len, what, base_dir, FALSE, NULL, error);
}

gboolean
vs_spec_load_config(VsSpec *spec, char **ret_connect, GError **error)
{
    g_autofree char *dir = g_build_filename(g_get_user_config_dir(), "virt-station", NULL);
    g_autofree char *path = g_build_filename(dir, "config.yaml", NULL);
    g_autofree char *data = NULL;
    g_autoptr(GError) read_error = NULL;
    gsize len;

    if (!vs_file_check_regular(path, "config", &read_error) ||
        !vs_read_bounded_file(path, VS_YAML_MAX_BYTES, &data, &len, &read_error)) {
        if (g_error_matches(read_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return TRUE;
        g_propagate_error(error, g_steal_pointer(&read_error));
        return FALSE;
    }
    return load(spec, data, len, path, dir, TRUE, ret_connect, error);
}

static gboolean
load(VsSpec *spec, const char *data, gsize len, const char *what, const char *base_dir,
     gboolean config, char **ret_connect, GError **error)
{
    yaml_document_t doc;
    yaml_node_t *root;
    gboolean ok = TRUE;

    if (!vs_yaml_load(data, len, what, VS_YAML_SINGLE, &doc, error))
        return FALSE;
    root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE)
        ok = vs_spec_fail(error, "%s: a spec is a mapping of keys such as 'name', 'image', 'cpus'",
                          what);
    for (yaml_node_pair_t *p = ok ? root->data.mapping.pairs.start : NULL;
         ok && p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&doc, p->key);
        const char *key = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
        int found = -1;
        if (config && !g_strv_contains(config_keys, key)) {
            ok = vs_spec_fail(error,
                              "%s line %zu: unknown key '%s' (config.yaml holds connect, "
                              "pool, network, user, ssh-key, virt-type, require-signature)",
                              what, k->start_mark.line + 1, key);
            break;
        }
        if (config && strcmp(key, "connect") == 0) {
            yaml_node_t *v = yaml_document_get_node(&doc, p->value);
            if (v->type != YAML_SCALAR_NODE || !*(const char *)v->data.scalar.value) {
                ok = vs_spec_fail(error, "%s line %zu: 'connect' needs a libvirt URI", what,
                                  v->start_mark.line + 1);
                break;
            }
            if (ret_connect) {
                g_free(*ret_connect);
                *ret_connect = g_strdup((const char *)v->data.scalar.value);
            }
            continue;
        }
        for (guint i = 0; i < G_N_ELEMENTS(spec_keys); i++)
            if (strcmp(spec_keys[i].key, key) == 0)
                found = (int)i;
        if (found < 0) {
            ok = vs_spec_fail(error, "%s line %zu: unknown key '%s'", what, k->start_mark.line + 1,
                              key);
            break;
        }
        ok = set_key(spec, &doc, found, yaml_document_get_node(&doc, p->value), what, base_dir,
                     error);
    }
    yaml_document_delete(&doc);
    return ok;
}

gboolean
vs_spec_load_file(VsSpec *spec, const char *path, GError **error)
{
    g_autofree char *data = NULL;
    g_autofree char *dir = g_path_get_dirname(path);
    gsize len;

    if (!vs_file_check_regular(path, "spec file", error) ||
        !vs_read_bounded_file(path, VS_YAML_MAX_BYTES, &data, &len, error))
        return FALSE;
    return vs_spec_load_data(spec, data, len, path, dir, error);
}
