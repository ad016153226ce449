/* Loading one YAML document with libyaml: the one loader for spec files, config.yaml, the image
 * catalog and the cloud-init files users bring.
 *
 * Every document is first read as a stream of events, which costs memory and time in proportion
 * to its size, and refused when it is larger or nested deeper than the limits below; only then
 * does libyaml build the tree. A document nested 60,000 deep used to take libyaml's scanner time
 * quadratic in the depth and to overflow the stack of its emitter when the user-data was written
 * back; no real cloud-config, network-config, spec or catalog comes near 256 levels. */
#pragma once

#include <glib.h>
#include <yaml.h>

/* The deepest nesting of sequences and mappings accepted, counting the outermost as 1. */
#define VS_YAML_MAX_DEPTH 256
/* The size limit of spec files, config.yaml, the catalog and network-config. */
#define VS_YAML_MAX_BYTES ((gsize)1 << 20)
/* The size limit of user-data (after gunzip). */
#define VS_YAML_USER_DATA_MAX_BYTES ((gsize)16 << 20)

/* What a format makes of libyaml's corner cases. */
typedef enum {
    VS_YAML_DEFAULT = 0,
    VS_YAML_SINGLE = 1 << 0,  /* a second document in the stream is an error (else ignored) */
    VS_YAML_CONTEXT = 1 << 1, /* a syntax error also names libyaml's context ("while parsing") */
} VsYamlFlags;

/* Parses the first YAML document in @data into @ret_doc (freed by the caller with
 * yaml_document_delete; its root is NULL for an empty stream). Returns FALSE with a
 * VS_SPEC_ERROR naming @what, the line and the column on malformed YAML, and with
 * VS_YAML_SINGLE on a stream of more than one document; with VS_SPEC_ERROR_LIMIT naming @what,
 * the line and the limit when @data is larger than VS_YAML_MAX_BYTES or nested deeper than
 * VS_YAML_MAX_DEPTH. */
gboolean vs_yaml_load(const char *data, gsize len, const char *what, VsYamlFlags flags,
                      yaml_document_t *ret_doc, GError **error);

/* The same with a size limit of @max_bytes. */
gboolean vs_yaml_load_bounded(const char *data, gsize len, const char *what, VsYamlFlags flags,
                              gsize max_bytes, yaml_document_t *ret_doc, GError **error);

/* Deletes and frees a document allocated with g_new0 (for g_autoptr). */
void vs_yaml_document_free(yaml_document_t *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(yaml_document_t, vs_yaml_document_free)
