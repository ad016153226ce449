/* Building and emitting cloud-init's YAML documents with libyaml. */
#include "provisioner/cloudinit-internal.h"

#include <string.h>

#include "provisioner/base/spec-error.h"

/* Returns a new plain scalar node (for our own keys and fixed values). */
int
vs_cloudinit_yaml_plain(yaml_document_t *doc, const char *value)
{
    return yaml_document_add_scalar(doc, NULL, (yaml_char_t *)value, -1, YAML_PLAIN_SCALAR_STYLE);
}

/* Returns a new quoted string node: values from users never become YAML syntax, and strings
 * such as a MAC address (sexagesimal in YAML 1.1) or "yes" stay strings. */
int
vs_cloudinit_yaml_quoted(yaml_document_t *doc, const char *value)
{
    yaml_scalar_style_t style =
        strchr(value, '\n') ? YAML_LITERAL_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    return yaml_document_add_scalar(doc, NULL, (yaml_char_t *)value, -1, style);
}

int
vs_cloudinit_yaml_add_pair(yaml_document_t *doc, int map, const char *key, int value)
{
    return yaml_document_append_mapping_pair(doc, map, vs_cloudinit_yaml_plain(doc, key), value);
}

/* Returns the value node of @key in the mapping @map, or 0. */
int
vs_cloudinit_yaml_map_get(yaml_document_t *doc, int map, const char *key)
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

yaml_node_type_t
vs_cloudinit_yaml_node_type(yaml_document_t *doc, int id)
{
    return yaml_document_get_node(doc, id)->type;
}

const char *
vs_cloudinit_yaml_scalar(yaml_document_t *doc, int id)
{
    yaml_node_t *node = yaml_document_get_node(doc, id);
    return node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

int
vs_cloudinit_yaml_key_list(yaml_document_t *doc, GPtrArray *keys)
{
    int seq = yaml_document_add_sequence(doc, NULL, YAML_BLOCK_SEQUENCE_STYLE);
    for (guint i = 0; i < keys->len; i++)
        yaml_document_append_sequence_item(doc, seq, vs_cloudinit_yaml_quoted(doc, keys->pdata[i]));
    return seq;
}

static int
emit_to_string(void *opaque, unsigned char *buffer, size_t size)
{
    g_string_append_len(opaque, (const char *)buffer, (gssize)size);
    return 1;
}

/* Appends @doc as YAML to @out, and deletes @doc (libyaml's dumper consumes it). */
gboolean
vs_cloudinit_yaml_emit(yaml_document_t *doc, GString *out, GError **error)
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
        vs_cloudinit_invalid(error, VS_CLOUDINIT_ERROR_INVALID, "writing YAML: %s",
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
yaml_document_t *
vs_cloudinit_yaml_new_mapping(void)
{
    yaml_document_t *doc = g_new0(yaml_document_t, 1);
    yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1);
    yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);
    return doc;
}

/* Parses @text (@len bytes, at most @max_bytes) as one YAML document (a second one is ignored, as
 * it always was). An empty document gets an empty mapping. Returns NULL with a
 * VS_CLOUDINIT_ERROR_INVALID naming @what, the line and the column on a syntax error, and a
 * VS_CLOUDINIT_ERROR_USAGE (exit status 2) naming the line and the limit when the document is
 * too large or nested too deep (base/yaml-load.h). */
yaml_document_t *
vs_cloudinit_yaml_parse_bounded(const char *text, gsize len, const char *what, gsize max_bytes,
                                GError **error)
{
    g_autoptr(yaml_document_t) doc = g_new0(yaml_document_t, 1);
    g_autoptr(GError) syntax = NULL;

    if (!vs_yaml_load_bounded(text, len, what, VS_YAML_CONTEXT, max_bytes, doc, &syntax)) {
        vs_cloudinit_invalid(error,
                             g_error_matches(syntax, VS_SPEC_ERROR, VS_SPEC_ERROR_LIMIT)
                                 ? VS_CLOUDINIT_ERROR_USAGE
                                 : VS_CLOUDINIT_ERROR_INVALID,
                             "%s", syntax->message);
        return NULL;
    }
    if (!yaml_document_get_root_node(doc)) {
        yaml_document_delete(doc);
        g_free(g_steal_pointer(&doc));
        return vs_cloudinit_yaml_new_mapping();
    }
    return g_steal_pointer(&doc);
}

yaml_document_t *
vs_cloudinit_yaml_parse(const char *text, gsize len, const char *what, GError **error)
{
    return vs_cloudinit_yaml_parse_bounded(text, len, what, VS_YAML_USER_DATA_MAX_BYTES, error);
}
