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

guint
vs_cloudinit_yaml_references(yaml_document_t *doc, int id)
{
    guint count = id == 1 ? 1 : 0; /* the root: the document refers to it */

    for (yaml_node_t *n = doc->nodes.start; n < doc->nodes.top; n++) {
        if (n->type == YAML_SEQUENCE_NODE) {
            for (yaml_node_item_t *it = n->data.sequence.items.start;
                 it < n->data.sequence.items.top; it++)
                count += *it == id;
        } else if (n->type == YAML_MAPPING_NODE) {
            for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
                 p++)
                count += (p->key == id) + (p->value == id);
        }
    }
    return count;
}

/* Returns @id itself, or a copy of it when it is a scalar (a leaf: cheap to copy, and then not
 * written as an alias). */
static int
copy_scalar(yaml_document_t *doc, int id)
{
    yaml_node_t *node = yaml_document_get_node(doc, id);
    g_autofree yaml_char_t *tag = NULL, *value = NULL;

    if (node->type != YAML_SCALAR_NODE)
        return id;
    tag = (yaml_char_t *)g_strdup((const char *)node->tag);
    value = g_memdup2(node->data.scalar.value, node->data.scalar.length + 1);
    return yaml_document_add_scalar(doc, tag, value, (int)node->data.scalar.length,
                                    node->data.scalar.style);
}

/* Returns a new node with @id's type, tag, style and children: scalars copied, sequences and
 * mappings shared (a deep copy of aliases could grow without bound). */
static int
shallow_copy(yaml_document_t *doc, int id)
{
    yaml_node_t *node = yaml_document_get_node(doc, id);
    g_autofree yaml_char_t *tag = (yaml_char_t *)g_strdup((const char *)node->tag);
    int copy;

    if (node->type == YAML_SEQUENCE_NODE) {
        copy = yaml_document_add_sequence(doc, tag, node->data.sequence.style);
        /* Adding a node may move the nodes: @node is looked up again for each child. */
        for (int i = 0;; i++) {
            node = yaml_document_get_node(doc, id);
            if (node->data.sequence.items.start + i >= node->data.sequence.items.top)
                break;
            int item = copy_scalar(doc, node->data.sequence.items.start[i]);
            yaml_document_append_sequence_item(doc, copy, item);
        }
    } else {
        copy = yaml_document_add_mapping(doc, tag, node->data.mapping.style);
        for (int i = 0;; i++) {
            node = yaml_document_get_node(doc, id);
            if (node->data.mapping.pairs.start + i >= node->data.mapping.pairs.top)
                break;
            yaml_node_pair_t pair = node->data.mapping.pairs.start[i];
            int key = copy_scalar(doc, pair.key);
            int value = copy_scalar(doc, pair.value);
            yaml_document_append_mapping_pair(doc, copy, key, value);
        }
    }
    return copy;
}

int
vs_cloudinit_yaml_map_get_own(yaml_document_t *doc, int map, const char *key)
{
    yaml_node_t *node = yaml_document_get_node(doc, map);

    for (gsize i = 0; node->data.mapping.pairs.start + i < node->data.mapping.pairs.top; i++) {
        yaml_node_pair_t *p = node->data.mapping.pairs.start + i;
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        int value = p->value;
        if (k->type != YAML_SCALAR_NODE || strcmp((char *)k->data.scalar.value, key) != 0)
            continue;
        if (vs_cloudinit_yaml_node_type(doc, value) == YAML_SCALAR_NODE ||
            vs_cloudinit_yaml_references(doc, value) < 2)
            return value;
        /* An alias shares it (`runcmd: *users`): this key gets a copy of its own. */
        value = shallow_copy(doc, value);
        node = yaml_document_get_node(doc, map);
        node->data.mapping.pairs.start[i].value = value;
        return value;
    }
    return 0;
}

int
vs_cloudinit_yaml_item_own(yaml_document_t *doc, int seq, gsize index)
{
    int item = yaml_document_get_node(doc, seq)->data.sequence.items.start[index];

    if (vs_cloudinit_yaml_node_type(doc, item) == YAML_SCALAR_NODE ||
        vs_cloudinit_yaml_references(doc, item) < 2)
        return item;
    item = shallow_copy(doc, item);
    yaml_document_get_node(doc, seq)->data.sequence.items.start[index] = item;
    return item;
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
