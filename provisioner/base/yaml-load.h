/* Loading one YAML document with libyaml: the one loader for spec files, config.yaml, the image
 * catalog and the cloud-init files users bring. */
#pragma once

#include <glib.h>
#include <yaml.h>

/* What a format makes of libyaml's corner cases. */
typedef enum {
    VS_YAML_DEFAULT = 0,
    VS_YAML_SINGLE = 1 << 0,  /* a second document in the stream is an error (else ignored) */
    VS_YAML_CONTEXT = 1 << 1, /* a syntax error also names libyaml's context ("while parsing") */
} VsYamlFlags;

/* Parses the first YAML document in @data into @ret_doc (freed by the caller with
 * yaml_document_delete; its root is NULL for an empty stream). Returns FALSE with a
 * VS_SPEC_ERROR naming @what, the line and the column on malformed YAML, and with
 * VS_YAML_SINGLE on a stream of more than one document. */
gboolean vs_yaml_load(const char *data, gsize len, const char *what, VsYamlFlags flags,
                      yaml_document_t *ret_doc, GError **error);

/* Deletes and frees a document allocated with g_new0 (for g_autoptr). */
void vs_yaml_document_free(yaml_document_t *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(yaml_document_t, vs_yaml_document_free)
