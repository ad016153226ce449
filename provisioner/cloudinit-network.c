/* network-config: the user's own (checked, then passed on as it is) or ours for the MAC. */
#include "provisioner/cloudinit-internal.h"

GBytes *
vs_cloudinit_network_compose(const VsCloudInitSpec *spec, GError **error)
{
    g_autoptr(yaml_document_t) doc = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    int ethernets, nic, match;

    if (spec->network_config) {
        gsize len;
        const char *data = g_bytes_get_data(spec->network_config, &len);
        const char *what = spec->network_config_name ? spec->network_config_name : "network-config";
        g_autoptr(yaml_document_t) theirs =
            vs_cloudinit_yaml_parse_bounded(data, len, what, VS_YAML_MAX_BYTES, error);
        int version;
        if (!theirs)
            return NULL;
        if (vs_cloudinit_yaml_node_type(theirs, 1) != YAML_MAPPING_NODE)
            return vs_cloudinit_invalid(
                       error, VS_CLOUDINIT_ERROR_INVALID,
                       "network-config: must be a mapping with 'version: 1' or 'version: 2'"),
                   NULL;
        /* cloud-init also accepts the whole thing under a top-level 'network' key. */
        int inner = vs_cloudinit_yaml_map_get(theirs, 1, "network");
        int top =
            inner && vs_cloudinit_yaml_node_type(theirs, inner) == YAML_MAPPING_NODE ? inner : 1;
        version = vs_cloudinit_yaml_map_get(theirs, top, "version");
        if (!version || (g_strcmp0(vs_cloudinit_yaml_scalar(theirs, version), "1") != 0 &&
                         g_strcmp0(vs_cloudinit_yaml_scalar(theirs, version), "2") != 0))
            return vs_cloudinit_invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                                        "network-config: 'version' must be 1 or 2"),
                   NULL;
        return g_bytes_ref(spec->network_config);
    }
    if (!spec->mac)
        return NULL;
    doc = vs_cloudinit_yaml_new_mapping();
    vs_cloudinit_yaml_add_pair(doc, 1, "version", vs_cloudinit_yaml_plain(doc, "2"));
    ethernets = yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);
    nic = yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);
    match = yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);
    g_autofree char *mac = g_ascii_strdown(spec->mac, -1);
    vs_cloudinit_yaml_add_pair(doc, match, "macaddress", vs_cloudinit_yaml_quoted(doc, mac));
    vs_cloudinit_yaml_add_pair(doc, nic, "match", match);
    vs_cloudinit_yaml_add_pair(doc, nic, "set-name", vs_cloudinit_yaml_plain(doc, "eth0"));
    vs_cloudinit_yaml_add_pair(doc, nic, "dhcp4", vs_cloudinit_yaml_plain(doc, "true"));
    vs_cloudinit_yaml_add_pair(doc, ethernets, "eth0", nic);
    vs_cloudinit_yaml_add_pair(doc, 1, "ethernets", ethernets);
    if (!vs_cloudinit_yaml_emit(doc, out, error))
        return NULL;
    return g_string_free_to_bytes(g_steal_pointer(&out));
}
