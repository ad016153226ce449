/* Domain XML test cases: tests/data/domains/<case>.yaml holds a spec (the user's format), then
 * a line "---" and the host facts with a hand-built GPU plan. */
#include "tests/bed/domcase.h"

#include <string.h>
#include <yaml.h>

#include "tests/bed/golden.h"
#include "domains/xml.h"

/* ---- host facts, the second YAML document of a case ---- */

static const char *
scalar(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        if (strcmp((char *)k->data.scalar.value, key) == 0 && v->type == YAML_SCALAR_NODE)
            return (char *)v->data.scalar.value;
    }
    return NULL;
}

static yaml_node_t *
child(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (strcmp((char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

static void
strings(yaml_document_t *doc, yaml_node_t *seq, GPtrArray *out)
{
    if (!seq)
        return;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++)
        g_ptr_array_add(out, g_strdup((char *)yaml_document_get_node(doc, *it)->data.scalar.value));
}

VsPlanInputs *
vs_domcase_parse_facts(const char *text)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    VsPlanInputs *f = vs_plan_inputs_new();
    yaml_node_t *root, *gpu;

    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    g_assert_true(yaml_parser_load(&parser, &doc));
    root = yaml_document_get_root_node(&doc);
    g_assert_nonnull(root);
    f->kvm = g_strcmp0(scalar(&doc, root, "kvm"), "true") == 0;
    f->arch = vs_arch_from_string(scalar(&doc, root, "arch"));
    f->passt = g_strcmp0(scalar(&doc, root, "passt"), "true") == 0;
    f->session = g_strcmp0(scalar(&doc, root, "session"), "true") == 0;
    if (scalar(&doc, root, "libvirt-version"))
        f->libvirt_version =
            (unsigned long)g_ascii_strtoull(scalar(&doc, root, "libvirt-version"), NULL, 10);
    f->console_log_dir = g_strdup(scalar(&doc, root, "console-log-dir"));
    f->image_alias = g_strdup(scalar(&doc, root, "image-alias"));
    f->base_pool = g_strdup(scalar(&doc, root, "base-pool"));
    f->base_volume = g_strdup(scalar(&doc, root, "base-volume"));
    f->mac = g_strdup(scalar(&doc, root, "mac"));
    f->uuid = g_strdup(scalar(&doc, root, "uuid"));
    f->ssh_port = (guint16)g_ascii_strtoull(scalar(&doc, root, "ssh-port"), NULL, 10);
    f->default_user = g_strdup(scalar(&doc, root, "default-user"));
    strings(&doc, child(&doc, root, "host-keys"), f->host_keys);
    gpu = child(&doc, root, "gpu");
    g_assert_nonnull(gpu);
    f->gpu = vs_gpu_plan_new(vs_gpu_mode_from_string(scalar(&doc, gpu, "mode")));
    f->gpu->device = g_strdup(scalar(&doc, gpu, "device"));
    f->gpu->vgpu_type = g_strdup(scalar(&doc, gpu, "vgpu-type"));
    if (scalar(&doc, gpu, "vgpu-kind"))
        f->gpu->vgpu_kind = vs_vgpu_kind_from_string(scalar(&doc, gpu, "vgpu-kind"));
    f->gpu->render_node = g_strdup(scalar(&doc, gpu, "render-node"));
    f->gpu->egl_headless = g_strcmp0(scalar(&doc, gpu, "egl-headless"), "true") == 0;
    f->gpu->mdev_uuid = g_strdup(scalar(&doc, gpu, "mdev-uuid"));
    if (scalar(&doc, gpu, "mmio64-bytes"))
        f->gpu->mmio64_bytes = g_ascii_strtoull(scalar(&doc, gpu, "mmio64-bytes"), NULL, 10);
    strings(&doc, child(&doc, gpu, "functions"), f->gpu->functions);
    strings(&doc, child(&doc, gpu, "reasons"), f->gpu->reasons);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return f;
}

char *
vs_domcase_xml_with(const char *rel, void (*adjust)(VsPlanInputs *facts), GError **error)
{
    g_autoptr(GBytes) data = vs_golden_read(rel);
    g_autofree char *text = g_strndup(g_bytes_get_data(data, NULL), g_bytes_get_size(data));
    char *facts_text = strstr(text, "\n---\n");
    g_autoptr(VsSpec) spec = vs_spec_new();
    g_autoptr(VsPlanInputs) facts = NULL;
    g_autoptr(VsDomainConfig) config = NULL;

    g_assert_nonnull(facts_text);
    *facts_text = '\0';
    facts = vs_domcase_parse_facts(facts_text + 5);
    if (adjust)
        adjust(facts);
    if (!vs_spec_load_data(spec, text, strlen(text), rel, "/specs", error))
        return NULL;
    config = vs_request_config(spec, facts, error);
    if (!config)
        return NULL;
    return vs_domain_xml(config, error);
}

char *
vs_domcase_xml(const char *rel, GError **error)
{
    return vs_domcase_xml_with(rel, NULL, error);
}
