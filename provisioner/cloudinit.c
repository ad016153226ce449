/* cloud-init composition.
 *
 * Theory of operation: our part of the configuration (the login user with sudo and SSH keys,
 * SSH host keys, optionally a password) is built as a libyaml document. When the user brings
 * user-data of their own, its first line says what it is:
 *   - "#cloud-config": parsed into a libyaml document, and our keys added to it in place: their
 *     `users` list gains our user, their `ssh_authorized_keys` gains our keys, nothing of theirs
 *     is removed or reordered. The document is emitted again (comments are lost, values are not).
 *   - "#cloud-config-archive": a YAML list of parts; it gains one part with our cloud-config.
 *   - scripts, includes, boothooks, part handlers, jinja templates and MIME documents: combined
 *     with our cloud-config into a MIME multipart document, theirs kept byte for byte.
 * Anything else (cloud-init would ignore it) is refused. Values from users are always emitted
 * by libyaml with quoting, so no hostname or key can change the structure of the document. */
#include "cloudinit.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>
#include <yaml.h>

#include "base/yaml-load.h"

G_DEFINE_QUARK(vs - cloudinit - error - quark, vs_cloudinit_error)

/* Top-level cloud-config keys cloud-init 22.4 knows (its schema plus base configuration keys). */
static const char *const known_keys[] = {
    "allow_public_ssh_keys",
    "ansible",
    "apk_repos",
    "apt",
    "apt_pipelining",
    "apt_reboot_if_required",
    "apt_update",
    "apt_upgrade",
    "apt_sources",
    "apt_preserve_sources_list",
    "apt_mirror",
    "apt_mirror_search",
    "apt_mirror_search_dns",
    "apt_proxy",
    "apt_http_proxy",
    "apt_https_proxy",
    "apt_ftp_proxy",
    "authkey_hash",
    "autoinstall",
    "bootcmd",
    "byobu_by_default",
    "ca-certs",
    "ca_certs",
    "chef",
    "chpasswd",
    "cloud_config_modules",
    "cloud_final_modules",
    "cloud_init_modules",
    "datasource",
    "datasource_list",
    "debconf_selections",
    "device_aliases",
    "disable_ec2_metadata",
    "disable_root",
    "disable_root_opts",
    "disk_setup",
    "drivers",
    "fan",
    "final_message",
    "fqdn",
    "fs_setup",
    "groups",
    "growpart",
    "grub-dpkg",
    "grub_dpkg",
    "hostname",
    "keyboard",
    "landscape",
    "launch-index",
    "locale",
    "locale_configfile",
    "log_cfg",
    "lxd",
    "manage_etc_hosts",
    "manage_resolv_conf",
    "manual_cache_clean",
    "mcollective",
    "merge_how",
    "merge_type",
    "migrate",
    "mount_default_fields",
    "mounts",
    "network",
    "no_ssh_fingerprints",
    "ntp",
    "output",
    "package_reboot_if_required",
    "package_update",
    "package_upgrade",
    "packages",
    "password",
    "phone_home",
    "power_state",
    "prefer_fqdn_over_hostname",
    "preserve_hostname",
    "puppet",
    "random_seed",
    "reporting",
    "resize_rootfs",
    "resolv_conf",
    "rh_subscription",
    "rsyslog",
    "runcmd",
    "salt_minion",
    "snap",
    "spacewalk",
    "ssh",
    "ssh_authorized_keys",
    "ssh_deletekeys",
    "ssh_fp_console_blacklist",
    "ssh_genkeytypes",
    "ssh_import_id",
    "ssh_key_console_blacklist",
    "ssh_keys",
    "ssh_publish_hostkeys",
    "ssh_pwauth",
    "ssh_quiet_keygen",
    "swap",
    "syslog_fix_perms",
    "system_info",
    "timezone",
    "ubuntu_advantage",
    "ubuntu_pro",
    "updates",
    "user",
    "users",
    "vendor_data",
    "wireguard",
    "write_files",
    "yum_repo_dir",
    "yum_repos",
    "zypper",
    NULL,
};

/* First lines cloud-init recognises, and the MIME type of each. Longest prefix first. */
typedef struct {
    const char *header;
    const char *mime_type;
    gboolean prefix; /* the header may be followed by more on its line */
} VsUserDataKind;

static const VsUserDataKind user_data_kinds[] = {
    {"#cloud-config-archive", "text/cloud-config-archive", FALSE},
    {"#cloud-config-jsonp", "text/cloud-config-jsonp", FALSE},
    {"#cloud-config", "text/cloud-config", FALSE},
    {"#include-once", "text/x-include-once-url", FALSE},
    {"#include", "text/x-include-url", FALSE},
    {"#cloud-boothook", "text/cloud-boothook", FALSE},
    {"#part-handler", "text/part-handler", FALSE},
    {"#upstart-job", "text/upstart-job", FALSE},
    {"## template: jinja", "text/jinja2", FALSE},
    {"#!", "text/x-shellscript", TRUE},
};

void
vs_host_key_free(VsHostKey *key)
{
    if (!key)
        return;
    g_free(key->type);
    if (key->private_key)
        memset(key->private_key, 0, strlen(key->private_key));
    g_free(key->private_key);
    g_free(key->public_key);
    g_free(key);
}

void
vs_cloudinit_spec_clear(VsCloudInitSpec *spec)
{
    g_clear_pointer(&spec->instance_id, g_free);
    g_clear_pointer(&spec->hostname, g_free);
    g_clear_pointer(&spec->user, g_free);
    g_clear_pointer(&spec->ssh_keys, g_ptr_array_unref);
    g_clear_pointer(&spec->password_hash, g_free);
    g_clear_pointer(&spec->mac, g_free);
    g_clear_pointer(&spec->network_config, g_bytes_unref);
    g_clear_pointer(&spec->user_data, g_bytes_unref);
    g_clear_pointer(&spec->user_data_name, g_free);
    g_clear_pointer(&spec->vendor_data, g_bytes_unref);
    g_clear_pointer(&spec->host_keys, g_ptr_array_unref);
}

static gboolean invalid(GError **error, int code, const char *format, ...) G_GNUC_PRINTF(3, 4);

static gboolean
invalid(GError **error, int code, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_set_error_literal(error, VS_CLOUDINIT_ERROR, code, msg);
    return FALSE;
}

gboolean
vs_cloudinit_check_user(const char *name, GError **error)
{
    if (!g_regex_match_simple("^[a-z_][a-z0-9_-]{0,30}$", name, 0, 0))
        return invalid(error, VS_CLOUDINIT_ERROR_USAGE,
                       "invalid user name '%s': use up to 31 lower-case letters, digits, '_' or "
                       "'-', starting with a letter or '_'",
                       name);
    if (strcmp(name, "root") == 0)
        return invalid(error, VS_CLOUDINIT_ERROR_USAGE,
                       "the user may not be 'root': virt-station creates an ordinary login with "
                       "sudo");
    return TRUE;
}

gboolean
vs_cloudinit_check_hostname(const char *name, GError **error)
{
    if (strlen(name) > 253 ||
        !g_regex_match_simple("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}"
                              "[a-z0-9])?)*$",
                              name, G_REGEX_CASELESS, 0))
        return invalid(error, VS_CLOUDINIT_ERROR_USAGE,
                       "invalid hostname '%s': use dot-separated labels of letters, digits and "
                       "'-' (at most 63 characters each, no '-' at either end)",
                       name);
    return TRUE;
}

gboolean
vs_cloudinit_check_mac(const char *mac, GError **error)
{
    if (!g_regex_match_simple("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$", mac, G_REGEX_CASELESS, 0))
        return invalid(error, VS_CLOUDINIT_ERROR_USAGE,
                       "invalid MAC address '%s': expected six hex pairs like 52:54:00:12:34:56",
                       mac);
    if (g_ascii_xdigit_value(mac[1]) & 1)
        return invalid(error, VS_CLOUDINIT_ERROR_USAGE,
                       "invalid MAC address '%s': it is a multicast address", mac);
    return TRUE;
}

/* Returns TRUE when @line is "TYPE BASE64 [COMMENT]" with a base64 blob that names TYPE. */
static gboolean
is_public_key_line(const char *line)
{
    static const char *const types[] = {
        "ssh-ed25519",
        "ssh-rsa",
        "ssh-dss",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
        NULL,
    };
    g_auto(GStrv) fields = g_regex_split_simple("[ \t]+", line, 0, 0);
    g_autofree guchar *blob = NULL;
    gsize len = 0;
    guint32 name_len;

    if (g_strv_length(fields) < 2 || !g_strv_contains(types, fields[0]))
        return FALSE;
    if (!g_regex_match_simple("^[A-Za-z0-9+/]+={0,2}$", fields[1], 0, 0))
        return FALSE;
    blob = g_base64_decode(fields[1], &len);
    if (len < 4)
        return FALSE;
    name_len = GUINT32_FROM_BE(*(guint32 *)blob);
    return name_len == strlen(fields[0]) && len >= 4 + name_len &&
           memcmp(blob + 4, fields[0], name_len) == 0;
}

gboolean
vs_cloudinit_read_ssh_keys(const char *path, GPtrArray *keys, GError **error)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    guint found = 0;

    if (!g_file_get_contents(path, &text, NULL, error)) {
        g_prefix_error(error, "reading SSH public key: ");
        return FALSE;
    }
    if (strstr(text, "PRIVATE KEY-----"))
        return invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                       "%s is a private key; give the public key (the .pub file) instead", path);
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        char *line = g_strstrip(lines[i]);
        if (*line == '\0' || *line == '#')
            continue;
        if (!is_public_key_line(line))
            return invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                           "%s line %u is not an SSH public key (expected a line like "
                           "'ssh-ed25519 AAAA... comment')",
                           path, i + 1);
        g_ptr_array_add(keys, g_strdup(line));
        found++;
    }
    if (found == 0)
        return invalid(error, VS_CLOUDINIT_ERROR_INVALID, "%s holds no SSH public key", path);
    return TRUE;
}

/* ---- libyaml document helpers ---- */

/* Returns a new plain scalar node (for our own keys and fixed values). */
static int
plain(yaml_document_t *doc, const char *value)
{
    return yaml_document_add_scalar(doc, NULL, (yaml_char_t *)value, -1, YAML_PLAIN_SCALAR_STYLE);
}

/* Returns a new quoted string node: values from users never become YAML syntax, and strings
 * such as a MAC address (sexagesimal in YAML 1.1) or "yes" stay strings. */
static int
quoted(yaml_document_t *doc, const char *value)
{
    yaml_scalar_style_t style =
        strchr(value, '\n') ? YAML_LITERAL_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    return yaml_document_add_scalar(doc, NULL, (yaml_char_t *)value, -1, style);
}

static int
add_pair(yaml_document_t *doc, int map, const char *key, int value)
{
    return yaml_document_append_mapping_pair(doc, map, plain(doc, key), value);
}

/* Returns the value node of @key in the mapping @map, or 0. */
static int
map_get(yaml_document_t *doc, int map, const char *key)
{
    yaml_node_t *node = yaml_document_get_node(doc, map);

    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
            return p->value;
    }
    return 0;
}

static yaml_node_type_t
node_type(yaml_document_t *doc, int id)
{
    return yaml_document_get_node(doc, id)->type;
}

static const char *
scalar_value(yaml_document_t *doc, int id)
{
    yaml_node_t *node = yaml_document_get_node(doc, id);
    return node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

static int
key_list(yaml_document_t *doc, GPtrArray *keys)
{
    int seq = yaml_document_add_sequence(doc, NULL, YAML_BLOCK_SEQUENCE_STYLE);
    for (guint i = 0; i < keys->len; i++)
        yaml_document_append_sequence_item(doc, seq, quoted(doc, keys->pdata[i]));
    return seq;
}

static int
emit_to_string(void *opaque, unsigned char *buffer, size_t size)
{
    g_string_append_len(opaque, (const char *)buffer, (gssize)size);
    return 1;
}

/* Appends @doc as YAML to @out, and deletes @doc (libyaml's dumper consumes it). */
static gboolean
emit_document(yaml_document_t *doc, GString *out, GError **error)
{
    yaml_emitter_t emitter;
    gboolean ok;

    yaml_emitter_initialize(&emitter);
    yaml_emitter_set_output(&emitter, emit_to_string, out);
    yaml_emitter_set_unicode(&emitter, 1);
    yaml_emitter_set_width(&emitter, -1);
    yaml_emitter_set_indent(&emitter, 2);
    ok = yaml_emitter_open(&emitter) && yaml_emitter_dump(&emitter, doc) &&
         yaml_emitter_close(&emitter) && yaml_emitter_flush(&emitter);
    if (!ok)
        invalid(error, VS_CLOUDINIT_ERROR_INVALID, "writing YAML: %s",
                emitter.problem ? emitter.problem : "unknown error");
    yaml_emitter_delete(&emitter);
    yaml_document_delete(doc);
    memset(doc, 0, sizeof(*doc));
    /* libyaml starts every stream with "---" only when needed; drop a trailing "...". */
    if (ok && g_str_has_suffix(out->str, "...\n"))
        g_string_truncate(out, out->len - 4);
    return ok;
}

/* Returns a new empty document whose root is a block mapping (node 1). */
static yaml_document_t *
new_mapping_document(void)
{
    yaml_document_t *doc = g_new0(yaml_document_t, 1);
    yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1);
    yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);
    return doc;
}

/* Parses @text (@len bytes) as one YAML document (a second one is ignored, as it always was). An
 * empty document gets an empty mapping. Returns NULL with a VS_CLOUDINIT_ERROR_INVALID naming
 * @what, the line and the column on a syntax error. */
static yaml_document_t *
parse_document(const char *text, gsize len, const char *what, GError **error)
{
    g_autoptr(yaml_document_t) doc = g_new0(yaml_document_t, 1);
    g_autoptr(GError) syntax = NULL;

    if (!vs_yaml_load(text, len, what, VS_YAML_CONTEXT, doc, &syntax)) {
        invalid(error, VS_CLOUDINIT_ERROR_INVALID, "%s", syntax->message);
        return NULL;
    }
    if (!yaml_document_get_root_node(doc)) {
        yaml_document_delete(doc);
        g_free(g_steal_pointer(&doc));
        return new_mapping_document();
    }
    return g_steal_pointer(&doc);
}

/* ---- our cloud-config ---- */

/* Returns the mapping node for our login user in @doc. */
static int
user_entry(yaml_document_t *doc, const VsCloudInitSpec *spec)
{
    int user = yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);

    add_pair(doc, user, "name", quoted(doc, spec->user));
    add_pair(doc, user, "sudo", quoted(doc, "ALL=(ALL) NOPASSWD:ALL"));
    add_pair(doc, user, "shell", quoted(doc, "/bin/bash"));
    if (spec->ssh_keys && spec->ssh_keys->len > 0)
        add_pair(doc, user, "ssh_authorized_keys", key_list(doc, spec->ssh_keys));
    if (spec->password_hash) {
        add_pair(doc, user, "lock_passwd", plain(doc, "false"));
        add_pair(doc, user, "hashed_passwd", quoted(doc, spec->password_hash));
    }
    return user;
}

/* Returns the entry of the users list @users that creates @name, or 0. */
static int
find_user(yaml_document_t *doc, int users, const char *name)
{
    yaml_node_t *seq = yaml_document_get_node(doc, users);

    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        if (node_type(doc, *it) == YAML_MAPPING_NODE) {
            int n = map_get(doc, *it, "name");
            if (n && g_strcmp0(scalar_value(doc, n), name) == 0)
                return *it;
        } else if (g_strcmp0(scalar_value(doc, *it), name) == 0) {
            return *it;
        }
    }
    return 0;
}

/* Adds our keys to the cloud-config mapping at the root of @doc, keeping all of theirs.
 * @what names the document in errors. */
static gboolean
merge_into(yaml_document_t *doc, const VsCloudInitSpec *spec, const char *what, GPtrArray *warnings,
           GError **error)
{
    int root = 1;
    int users, keys, host_keys;

    if (node_type(doc, root) != YAML_MAPPING_NODE)
        return invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                       "%s: a cloud-config must be a mapping of keys at its top level", what);

    if (warnings) {
        yaml_node_t *node = yaml_document_get_node(doc, root);
        for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
             p++) {
            const char *key = scalar_value(doc, p->key);
            if (key && !g_strv_contains(known_keys, key))
                g_ptr_array_add(warnings, g_strdup_printf("%s: unknown cloud-config key '%s' "
                                                          "(cloud-init will ignore it)",
                                                          what, key));
        }
    }

    users = map_get(doc, root, "users");
    if (users && node_type(doc, users) != YAML_SEQUENCE_NODE)
        return invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                       "%s: 'users' must be a list to add the user '%s' to it", what, spec->user);
    if (!users) {
        users = yaml_document_add_sequence(doc, NULL, YAML_BLOCK_SEQUENCE_STYLE);
        yaml_document_append_sequence_item(doc, users, plain(doc, "default"));
        add_pair(doc, root, "users", users);
    }
    int existing = find_user(doc, users, spec->user);
    if (existing && node_type(doc, existing) == YAML_MAPPING_NODE) {
        /* Their entry for our user wins; it gains our keys. */
        if (spec->ssh_keys && spec->ssh_keys->len > 0) {
            int theirs = map_get(doc, existing, "ssh_authorized_keys");
            if (!theirs)
                add_pair(doc, existing, "ssh_authorized_keys", key_list(doc, spec->ssh_keys));
            else if (node_type(doc, theirs) == YAML_SEQUENCE_NODE)
                for (guint i = 0; i < spec->ssh_keys->len; i++)
                    yaml_document_append_sequence_item(doc, theirs,
                                                       quoted(doc, spec->ssh_keys->pdata[i]));
            else
                return invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                               "%s: ssh_authorized_keys of user '%s' must be a list", what,
                               spec->user);
        }
    } else {
        yaml_document_append_sequence_item(doc, users, user_entry(doc, spec));
    }

    /* An existing top-level ssh_authorized_keys (the image's default user) gains ours too. */
    keys = map_get(doc, root, "ssh_authorized_keys");
    if (keys && spec->ssh_keys && spec->ssh_keys->len > 0) {
        if (node_type(doc, keys) != YAML_SEQUENCE_NODE)
            return invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                           "%s: 'ssh_authorized_keys' must be a list", what);
        for (guint i = 0; i < spec->ssh_keys->len; i++)
            yaml_document_append_sequence_item(doc, keys, quoted(doc, spec->ssh_keys->pdata[i]));
    }

    if (spec->host_keys && spec->host_keys->len > 0) {
        host_keys = map_get(doc, root, "ssh_keys");
        if (host_keys)
            return invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                           "%s: 'ssh_keys' is set by virt-station (it generates the guest's host "
                           "keys so that it can verify them); remove it",
                           what);
        host_keys = yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);
        for (guint i = 0; i < spec->host_keys->len; i++) {
            VsHostKey *k = spec->host_keys->pdata[i];
            g_autofree char *priv = g_strdup_printf("%s_private", k->type);
            g_autofree char *pub = g_strdup_printf("%s_public", k->type);
            add_pair(doc, host_keys, priv, quoted(doc, k->private_key));
            add_pair(doc, host_keys, pub, quoted(doc, k->public_key));
        }
        add_pair(doc, root, "ssh_keys", host_keys);
    }
    return TRUE;
}

/* Returns our own cloud-config ("#cloud-config" and YAML), with nothing of the user's. */
static char *
our_cloud_config(const VsCloudInitSpec *spec, GError **error)
{
    g_autoptr(yaml_document_t) doc = new_mapping_document();
    g_autoptr(GString) out = g_string_new("#cloud-config\n");

    if (!merge_into(doc, spec, "virt-station", NULL, error) || !emit_document(doc, out, error))
        return NULL;
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* ---- user-data kinds ---- */

/* Returns the kind of user-data @text starts with, or NULL when cloud-init would ignore it. */
static const VsUserDataKind *
detect_kind(const char *text, gsize len, gboolean *ret_mime)
{
    /* @text need not end in a NUL: the first line is found within @len bytes. */
    const char *newline = memchr(text, '\n', len);
    g_autofree char *first = g_strndup(text, newline ? (gsize)(newline - text) : len);

    g_strchomp(first);
    *ret_mime = g_ascii_strncasecmp(first, "Content-Type:", 13) == 0 ||
                g_ascii_strncasecmp(first, "MIME-Version:", 13) == 0;
    for (guint i = 0; i < G_N_ELEMENTS(user_data_kinds); i++) {
        const VsUserDataKind *k = &user_data_kinds[i];
        if (k->prefix ? g_str_has_prefix(first, k->header) : strcmp(first, k->header) == 0)
            return k;
    }
    return NULL;
}

/* Returns a MIME boundary that occurs in none of @parts. It is derived from their content, so
 * the same inputs give the same document. */
static char *
pick_boundary(GBytes **parts, guint n)
{
    for (guint attempt = 0;; attempt++) {
        g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
        g_checksum_update(sum, (const guchar *)&attempt, sizeof(attempt));
        for (guint i = 0; i < n; i++) {
            gsize len;
            const guchar *data = g_bytes_get_data(parts[i], &len);
            g_checksum_update(sum, data, (gssize)len);
        }
        g_autofree char *boundary =
            g_strdup_printf("==virt-station-%.32s==", g_checksum_get_string(sum));
        gboolean clash = FALSE;
        for (guint i = 0; i < n && !clash; i++) {
            gsize len;
            const char *data = g_bytes_get_data(parts[i], &len);
            clash = g_strstr_len(data, (gssize)len, boundary) != NULL;
        }
        if (!clash)
            return g_steal_pointer(&boundary);
    }
}

/* Returns the MIME multipart user-data holding our cloud-config then @theirs.
 * A MIME document of theirs goes in as it is (its headers become the part's headers). */
static GBytes *
combine_mime(const char *ours, GBytes *theirs, const VsUserDataKind *kind, gboolean mime)
{
    g_autoptr(GBytes) ours_bytes = g_bytes_new_static(ours, strlen(ours));
    GBytes *parts[] = {ours_bytes, theirs};
    g_autofree char *boundary = pick_boundary(parts, G_N_ELEMENTS(parts));
    g_autoptr(GString) out = g_string_new(NULL);
    gsize len;
    const char *data = g_bytes_get_data(theirs, &len);

    g_string_append_printf(out,
                           "Content-Type: multipart/mixed; boundary=\"%s\"\n"
                           "MIME-Version: 1.0\n\n",
                           boundary);
    g_string_append_printf(out,
                           "--%s\n"
                           "Content-Type: text/cloud-config; charset=\"utf-8\"\n"
                           "MIME-Version: 1.0\n"
                           "Content-Transfer-Encoding: 8bit\n"
                           "Content-Disposition: attachment; filename=\"virt-station.cfg\"\n\n"
                           "%s\n",
                           boundary, ours);
    g_string_append_printf(out, "--%s\n", boundary);
    if (!mime) {
        gboolean utf8 = g_utf8_validate(data, (gssize)len, NULL);
        g_string_append_printf(out, "Content-Type: %s; charset=\"utf-8\"\nMIME-Version: 1.0\n",
                               kind->mime_type);
        if (utf8) {
            g_string_append(out, "Content-Transfer-Encoding: 8bit\n"
                                 "Content-Disposition: attachment; filename=\"user-data\"\n\n");
            g_string_append_len(out, data, (gssize)len);
        } else {
            g_autofree char *b64 = g_base64_encode((const guchar *)data, len);
            g_string_append(out, "Content-Transfer-Encoding: base64\n"
                                 "Content-Disposition: attachment; filename=\"user-data\"\n\n");
            gsize b64_len = strlen(b64);
            for (gsize i = 0; i < b64_len; i += 76)
                g_string_append_printf(out, "%.76s\n", b64 + i);
        }
    } else {
        g_string_append_len(out, data, (gssize)len);
    }
    /* The line break before a boundary belongs to the boundary: the payload keeps its own. */
    g_string_append_printf(out, "\n--%s--\n", boundary);
    return g_string_free_to_bytes(g_steal_pointer(&out));
}

/* Returns the cloud-config-archive @theirs with a part holding our cloud-config appended. */
static GBytes *
extend_archive(const char *ours, GBytes *theirs, const char *what, GError **error)
{
    gsize len;
    const char *data = g_bytes_get_data(theirs, &len);
    g_autoptr(yaml_document_t) doc = parse_document(data, len, what, error);
    g_autoptr(GString) out = g_string_new("#cloud-config-archive\n");
    int part;

    if (!doc)
        return NULL;
    if (node_type(doc, 1) == YAML_MAPPING_NODE &&
        yaml_document_get_node(doc, 1)->data.mapping.pairs.start ==
            yaml_document_get_node(doc, 1)->data.mapping.pairs.top) {
        /* An empty archive: a list of nothing. */
        yaml_document_delete(doc);
        yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1);
        yaml_document_add_sequence(doc, NULL, YAML_BLOCK_SEQUENCE_STYLE);
    }
    if (node_type(doc, 1) != YAML_SEQUENCE_NODE)
        return invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                       "%s: a cloud-config-archive must be a list of parts", what),
               NULL;
    part = yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);
    add_pair(doc, part, "type", plain(doc, "text/cloud-config"));
    add_pair(doc, part, "filename", plain(doc, "virt-station.cfg"));
    add_pair(doc, part, "content", quoted(doc, ours));
    yaml_document_append_sequence_item(doc, 1, part);
    if (!emit_document(doc, out, error))
        return NULL;
    return g_string_free_to_bytes(g_steal_pointer(&out));
}

/* Returns @data uncompressed when it is gzip (cloud-init accepts gzipped user-data). */
static GBytes *
maybe_gunzip(GBytes *data, const char *what, GError **error)
{
    gsize len;
    const guchar *buf = g_bytes_get_data(data, &len);
    struct archive *a;
    struct archive_entry *entry;
    g_autoptr(GByteArray) out = NULL;
    char chunk[16384];
    la_ssize_t n;

    if (len < 2 || buf[0] != 0x1f || buf[1] != 0x8b)
        return g_bytes_ref(data);
    a = archive_read_new();
    archive_read_support_filter_gzip(a);
    archive_read_support_format_raw(a);
    if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK ||
        archive_read_next_header(a, &entry) != ARCHIVE_OK ||
        archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP) {
        invalid(error, VS_CLOUDINIT_ERROR_INVALID, "%s: starts like gzip but is no valid gzip data",
                what);
        archive_read_free(a);
        return NULL;
    }
    out = g_byte_array_new();
    while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0)
        g_byte_array_append(out, (const guint8 *)chunk, (guint)n);
    if (n < 0) {
        invalid(error, VS_CLOUDINIT_ERROR_INVALID, "%s: gzip data: %s", what,
                archive_error_string(a));
        archive_read_free(a);
        return NULL;
    }
    archive_read_free(a);
    return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

/* Returns the final user-data: ours, or ours merged with or combined with the user's. */
static GBytes *
compose_user_data(const VsCloudInitSpec *spec, GPtrArray *warnings, GError **error)
{
    const char *what = spec->user_data_name ? spec->user_data_name : "user-data";
    g_autofree char *ours = NULL;
    g_autoptr(GBytes) theirs = NULL;
    const VsUserDataKind *kind;
    gboolean mime;
    gsize len;
    const char *data;

    if (!spec->user_data) {
        ours = our_cloud_config(spec, error);
        return ours ? g_bytes_new_take(g_steal_pointer(&ours), strlen(ours)) : NULL;
    }
    theirs = maybe_gunzip(spec->user_data, what, error);
    if (!theirs)
        return NULL;
    data = g_bytes_get_data(theirs, &len);
    if (len == 0)
        return invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                       "%s is empty; cloud-init would ignore it (leave --user-data out instead)",
                       what),
               NULL;
    if (memchr(data, '\0', len))
        return invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                       "%s: binary data is not user-data cloud-init understands", what),
               NULL;
    kind = detect_kind(data, len, &mime);
    if (!kind && !mime)
        return invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                       "%s: the first line is no cloud-init header, so cloud-init would ignore "
                       "the file; start it with '#cloud-config', '#!' (a script), '#include', "
                       "'#cloud-boothook', '#part-handler' or a MIME header",
                       what),
               NULL;
    if (kind && strcmp(kind->mime_type, "text/cloud-config") == 0) {
        g_autoptr(yaml_document_t) doc = parse_document(data, len, what, error);
        g_autoptr(GString) out = g_string_new("#cloud-config\n");
        if (!doc || !merge_into(doc, spec, what, warnings, error) ||
            !emit_document(doc, out, error))
            return NULL;
        return g_string_free_to_bytes(g_steal_pointer(&out));
    }
    ours = our_cloud_config(spec, error);
    if (!ours)
        return NULL;
    if (kind && strcmp(kind->mime_type, "text/cloud-config-archive") == 0)
        return extend_archive(ours, theirs, what, error);
    return combine_mime(ours, theirs, kind, mime);
}

static GBytes *
compose_meta_data(const VsCloudInitSpec *spec, GError **error)
{
    g_autoptr(yaml_document_t) doc = new_mapping_document();
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *uuid = g_uuid_string_random();
    g_autofree char *iid =
        spec->instance_id ? g_strdup(spec->instance_id) : g_strdup_printf("iid-%s", uuid);

    add_pair(doc, 1, "instance-id", quoted(doc, iid));
    add_pair(doc, 1, "local-hostname", quoted(doc, spec->hostname));
    if (!emit_document(doc, out, error))
        return NULL;
    return g_string_free_to_bytes(g_steal_pointer(&out));
}

static GBytes *
compose_network_config(const VsCloudInitSpec *spec, GError **error)
{
    g_autoptr(yaml_document_t) doc = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    int ethernets, nic, match;

    if (spec->network_config) {
        gsize len;
        const char *data = g_bytes_get_data(spec->network_config, &len);
        g_autoptr(yaml_document_t) theirs = parse_document(data, len, "network-config", error);
        int version;
        if (!theirs)
            return NULL;
        if (node_type(theirs, 1) != YAML_MAPPING_NODE)
            return invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                           "network-config: must be a mapping with 'version: 1' or 'version: 2'"),
                   NULL;
        /* cloud-init also accepts the whole thing under a top-level 'network' key. */
        int inner = map_get(theirs, 1, "network");
        int top = inner && node_type(theirs, inner) == YAML_MAPPING_NODE ? inner : 1;
        version = map_get(theirs, top, "version");
        if (!version || (g_strcmp0(scalar_value(theirs, version), "1") != 0 &&
                         g_strcmp0(scalar_value(theirs, version), "2") != 0))
            return invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                           "network-config: 'version' must be 1 or 2"),
                   NULL;
        return g_bytes_ref(spec->network_config);
    }
    if (!spec->mac)
        return NULL;
    doc = new_mapping_document();
    add_pair(doc, 1, "version", plain(doc, "2"));
    ethernets = yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);
    nic = yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);
    match = yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);
    g_autofree char *mac = g_ascii_strdown(spec->mac, -1);
    add_pair(doc, match, "macaddress", quoted(doc, mac));
    add_pair(doc, nic, "match", match);
    add_pair(doc, nic, "set-name", plain(doc, "eth0"));
    add_pair(doc, nic, "dhcp4", plain(doc, "true"));
    add_pair(doc, ethernets, "eth0", nic);
    add_pair(doc, 1, "ethernets", ethernets);
    if (!emit_document(doc, out, error))
        return NULL;
    return g_string_free_to_bytes(g_steal_pointer(&out));
}

gboolean
vs_cloudinit_compose(const VsCloudInitSpec *spec, VsSeedFiles *ret_files, GPtrArray *ret_warnings,
                     GError **error)
{
    g_auto(VsSeedFiles) files = {0};

    g_return_val_if_fail(spec->hostname && spec->user, FALSE);
    if (!vs_cloudinit_check_hostname(spec->hostname, error) ||
        !vs_cloudinit_check_user(spec->user, error) ||
        (spec->mac && !vs_cloudinit_check_mac(spec->mac, error)))
        return FALSE;
    if (spec->password_hash &&
        !g_regex_match_simple("^\\$[0-9a-z]+\\$[./A-Za-z0-9$=,]+$", spec->password_hash, 0, 0))
        return invalid(error, VS_CLOUDINIT_ERROR_USAGE,
                       "the password hash does not look like a crypt(3) hash such as "
                       "`mkpasswd -m sha-512` prints ($6$...); a plain password is not accepted");

    files.user_data = compose_user_data(spec, ret_warnings, error);
    if (!files.user_data)
        return FALSE;
    files.meta_data = compose_meta_data(spec, error);
    if (!files.meta_data)
        return FALSE;
    if (spec->network_config || spec->mac) {
        files.network_config = compose_network_config(spec, error);
        if (!files.network_config)
            return FALSE;
    }
    if (spec->vendor_data)
        files.vendor_data = g_bytes_ref(spec->vendor_data);
    files.has_secrets = spec->password_hash != NULL ||
                        (spec->host_keys && spec->host_keys->len > 0) || spec->vendor_data != NULL;
    *ret_files = files;
    memset(&files, 0, sizeof(files));
    return TRUE;
}
