/* cloud-init composition: the seed's user-data, meta-data, network-config and vendor-data.
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
 * by libyaml with quoting, so no hostname or key can change the structure of the document.
 *
 * Where each part lives (cloudinit-internal.h declares what they share):
 *   - this file: the inputs checked, then each seed file composed in turn; meta-data here.
 *   - cloudinit-check.c: user names, hostnames, MAC addresses, SSH public keys, password hashes.
 *   - cloudinit-userdata.c: what kind the user's user-data is (gzip undone first), and which of
 *     the three ways above joins ours to it.
 *   - cloudinit-config.c: our cloud-config, alone or merged into the user's.
 *   - cloudinit-mime.c: the MIME multipart document.
 *   - cloudinit-network.c: network-config, the user's (checked) or ours for the MAC.
 *   - cloudinit-yaml.c: building, parsing and emitting libyaml documents. */
#include "provisioner/cloudinit-internal.h"

#include <string.h>

G_DEFINE_QUARK(vs - cloudinit - error - quark, vs_cloudinit_error)

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
    g_clear_pointer(&spec->network_config_name, g_free);
    g_clear_pointer(&spec->user_data, g_bytes_unref);
    g_clear_pointer(&spec->user_data_name, g_free);
    g_clear_pointer(&spec->vendor_data, g_bytes_unref);
    g_clear_pointer(&spec->host_keys, g_ptr_array_unref);
}

gboolean
vs_cloudinit_invalid(GError **error, int code, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_set_error_literal(error, VS_CLOUDINIT_ERROR, code, msg);
    return FALSE;
}

/* Returns the meta-data: the instance id (a fresh one unless given) and the hostname. */
static GBytes *
compose_meta_data(const VsCloudInitSpec *spec, GError **error)
{
    g_autoptr(yaml_document_t) doc = vs_cloudinit_yaml_new_mapping();
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *uuid = g_uuid_string_random();
    g_autofree char *iid =
        spec->instance_id ? g_strdup(spec->instance_id) : g_strdup_printf("iid-%s", uuid);

    vs_cloudinit_yaml_add_pair(doc, 1, "instance-id", vs_cloudinit_yaml_quoted(doc, iid));
    vs_cloudinit_yaml_add_pair(doc, 1, "local-hostname",
                               vs_cloudinit_yaml_quoted(doc, spec->hostname));
    if (!vs_cloudinit_yaml_emit(doc, out, error))
        return NULL;
    return g_string_free_to_bytes(g_steal_pointer(&out));
}

/* The inputs are checked before anything is composed, in the order of the spec's fields. */
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
    if (spec->password_hash && !vs_cloudinit_check_password_hash(spec->password_hash, error))
        return FALSE;

    files.user_data = vs_cloudinit_userdata_compose(spec, ret_warnings, error);
    if (!files.user_data)
        return FALSE;
    files.meta_data = compose_meta_data(spec, error);
    if (!files.meta_data)
        return FALSE;
    if (spec->network_config || spec->mac) {
        files.network_config = vs_cloudinit_network_compose(spec, error);
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
