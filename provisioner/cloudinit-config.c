/* Our cloud-config: the login user, its SSH keys and the guest's host keys, written into a
 * cloud-config document of our own or merged into the user's. */
#include "provisioner/cloudinit-internal.h"

#include <string.h>

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

/* Returns the mapping node for our login user in @doc. */
static int
user_entry(yaml_document_t *doc, const VsCloudInitSpec *spec)
{
    int user = yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);

    vs_cloudinit_yaml_add_pair(doc, user, "name", vs_cloudinit_yaml_quoted(doc, spec->user));
    vs_cloudinit_yaml_add_pair(doc, user, "sudo",
                               vs_cloudinit_yaml_quoted(doc, "ALL=(ALL) NOPASSWD:ALL"));
    vs_cloudinit_yaml_add_pair(doc, user, "shell", vs_cloudinit_yaml_quoted(doc, "/bin/bash"));
    if (spec->ssh_keys && spec->ssh_keys->len > 0)
        vs_cloudinit_yaml_add_pair(doc, user, "ssh_authorized_keys",
                                   vs_cloudinit_yaml_key_list(doc, spec->ssh_keys));
    if (spec->password_hash) {
        vs_cloudinit_yaml_add_pair(doc, user, "lock_passwd", vs_cloudinit_yaml_plain(doc, "false"));
        vs_cloudinit_yaml_add_pair(doc, user, "hashed_passwd",
                                   vs_cloudinit_yaml_quoted(doc, spec->password_hash));
    }
    return user;
}

/* Returns the entry of the users list @users that creates @name (made the list's own: an
 * alias may share it), or 0. */
static int
find_user(yaml_document_t *doc, int users, const char *name)
{
    yaml_node_t *seq = yaml_document_get_node(doc, users);

    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        gsize index = (gsize)(it - seq->data.sequence.items.start);
        if (vs_cloudinit_yaml_node_type(doc, *it) == YAML_MAPPING_NODE) {
            int n = vs_cloudinit_yaml_map_get(doc, *it, "name");
            if (n && g_strcmp0(vs_cloudinit_yaml_scalar(doc, n), name) == 0)
                return vs_cloudinit_yaml_item_own(doc, users, index);
        } else if (g_strcmp0(vs_cloudinit_yaml_scalar(doc, *it), name) == 0) {
            return *it;
        }
    }
    return 0;
}

/* Returns FALSE with @error set when the mapping @map holds a YAML merge key ("<<"): its keys
 * would be merged in by cloud-init (PyYAML) under ours, unseen here. */
static gboolean
refuse_merge_key(yaml_document_t *doc, int map, const char *where, const char *what, GError **error)
{
    if (vs_cloudinit_yaml_map_get(doc, map, "<<"))
        return vs_cloudinit_invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                                    "%s: a YAML merge key ('<<') in %s is not supported: "
                                    "virt-station adds its user and keys there; write those keys "
                                    "out instead",
                                    what, where);
    return TRUE;
}

/* Appends the strings @keys, quoted, to the sequence @seq. */
static void
append_keys(yaml_document_t *doc, int seq, GPtrArray *keys)
{
    for (guint i = 0; i < keys->len; i++)
        yaml_document_append_sequence_item(doc, seq, vs_cloudinit_yaml_quoted(doc, keys->pdata[i]));
}

/* Appends a warning to @warnings for each top-level key of the mapping @root cloud-init does not
 * know. */
static void
warn_unknown_keys(yaml_document_t *doc, int root, const char *what, GPtrArray *warnings)
{
    yaml_node_t *node = yaml_document_get_node(doc, root);

    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        const char *key = vs_cloudinit_yaml_scalar(doc, p->key);
        if (key && !g_strv_contains(known_keys, key))
            g_ptr_array_add(warnings, g_strdup_printf("%s: unknown cloud-config key '%s' "
                                                      "(cloud-init will ignore it)",
                                                      what, key));
    }
}

/* Adds our user to the `users` list of the mapping @root (made, with the image's default user
 * first, when there is none). Their own entry for our user wins and gains our keys. Returns
 * FALSE with @error set when `users` or that entry's keys are not lists. */
static gboolean
merge_user(yaml_document_t *doc, int root, const VsCloudInitSpec *spec, const char *what,
           GError **error)
{
    /* Made ours: with `runcmd: *users` (anchors and aliases), our user would join runcmd too. */
    int users = vs_cloudinit_yaml_map_get_own(doc, root, "users");

    if (users && vs_cloudinit_yaml_node_type(doc, users) != YAML_SEQUENCE_NODE)
        return vs_cloudinit_invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                                    "%s: 'users' must be a list to add the user '%s' to it", what,
                                    spec->user);
    if (!users) {
        users = yaml_document_add_sequence(doc, NULL, YAML_BLOCK_SEQUENCE_STYLE);
        yaml_document_append_sequence_item(doc, users, vs_cloudinit_yaml_plain(doc, "default"));
        vs_cloudinit_yaml_add_pair(doc, root, "users", users);
    }
    /* A merge key could hide the entry's name (and keys) from find_user(). */
    yaml_node_t *list = yaml_document_get_node(doc, users);
    for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top;
         it++)
        if (vs_cloudinit_yaml_node_type(doc, *it) == YAML_MAPPING_NODE &&
            !refuse_merge_key(doc, *it, "an entry of 'users'", what, error))
            return FALSE;
    int existing = find_user(doc, users, spec->user);
    if (!existing || vs_cloudinit_yaml_node_type(doc, existing) != YAML_MAPPING_NODE) {
        yaml_document_append_sequence_item(doc, users, user_entry(doc, spec));
        return TRUE;
    }
    if (!spec->ssh_keys || spec->ssh_keys->len == 0)
        return TRUE;
    int theirs = vs_cloudinit_yaml_map_get_own(doc, existing, "ssh_authorized_keys");
    if (!theirs)
        vs_cloudinit_yaml_add_pair(doc, existing, "ssh_authorized_keys",
                                   vs_cloudinit_yaml_key_list(doc, spec->ssh_keys));
    else if (vs_cloudinit_yaml_node_type(doc, theirs) == YAML_SEQUENCE_NODE)
        append_keys(doc, theirs, spec->ssh_keys);
    else
        return vs_cloudinit_invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                                    "%s: ssh_authorized_keys of user '%s' must be a list", what,
                                    spec->user);
    return TRUE;
}

/* Adds the guest's host keys as `ssh_keys` to the mapping @root. Returns FALSE with @error set
 * when the user's document sets `ssh_keys` itself. */
static gboolean
add_host_keys(yaml_document_t *doc, int root, const VsCloudInitSpec *spec, const char *what,
              GError **error)
{
    int host_keys;

    if (vs_cloudinit_yaml_map_get(doc, root, "ssh_keys"))
        return vs_cloudinit_invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                                    "%s: 'ssh_keys' is set by virt-station (it generates the "
                                    "guest's host keys so that it can verify them); remove it",
                                    what);
    host_keys = yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);
    for (guint i = 0; i < spec->host_keys->len; i++) {
        VsHostKey *k = spec->host_keys->pdata[i];
        g_autofree char *priv = g_strdup_printf("%s_private", k->type);
        g_autofree char *pub = g_strdup_printf("%s_public", k->type);
        vs_cloudinit_yaml_add_pair(doc, host_keys, priv,
                                   vs_cloudinit_yaml_quoted(doc, k->private_key));
        vs_cloudinit_yaml_add_pair(doc, host_keys, pub,
                                   vs_cloudinit_yaml_quoted(doc, k->public_key));
    }
    vs_cloudinit_yaml_add_pair(doc, root, "ssh_keys", host_keys);
    return TRUE;
}

gboolean
vs_cloudinit_config_merge(yaml_document_t *doc, const VsCloudInitSpec *spec, const char *what,
                          GPtrArray *warnings, GError **error)
{
    int root = 1;
    int keys;

    if (vs_cloudinit_yaml_node_type(doc, root) != YAML_MAPPING_NODE)
        return vs_cloudinit_invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                                    "%s: a cloud-config must be a mapping of keys at its top level",
                                    what);
    /* Anchors and aliases: every node we add to must be ours alone (the _own lookups); the
     * root, referred to from inside itself, cannot be. */
    if (vs_cloudinit_yaml_references(doc, root) > 1)
        return vs_cloudinit_invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                                    "%s: an alias refers to the whole document from inside it; "
                                    "virt-station cannot add its keys to it",
                                    what);
    if (!refuse_merge_key(doc, root, "the top level", what, error))
        return FALSE;
    if (warnings)
        warn_unknown_keys(doc, root, what, warnings);
    if (!merge_user(doc, root, spec, what, error))
        return FALSE;

    /* An existing top-level ssh_authorized_keys (the image's default user) gains ours too. */
    keys = vs_cloudinit_yaml_map_get_own(doc, root, "ssh_authorized_keys");
    if (keys && spec->ssh_keys && spec->ssh_keys->len > 0) {
        if (vs_cloudinit_yaml_node_type(doc, keys) != YAML_SEQUENCE_NODE)
            return vs_cloudinit_invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                                        "%s: 'ssh_authorized_keys' must be a list", what);
        append_keys(doc, keys, spec->ssh_keys);
    }
    if (spec->host_keys && spec->host_keys->len > 0)
        return add_host_keys(doc, root, spec, what, error);
    return TRUE;
}

char *
vs_cloudinit_config_ours(const VsCloudInitSpec *spec, GError **error)
{
    g_autoptr(yaml_document_t) doc = vs_cloudinit_yaml_new_mapping();
    g_autoptr(GString) out = g_string_new("#cloud-config\n");

    if (!vs_cloudinit_config_merge(doc, spec, "virt-station", NULL, error) ||
        !vs_cloudinit_yaml_emit(doc, out, error))
        return NULL;
    return g_string_free(g_steal_pointer(&out), FALSE);
}
