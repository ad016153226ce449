/* What the cloud-init files share among themselves (not for callers: they use cloudinit.h).
 * provisioner/cloudinit.c says which file holds which part. */
#pragma once

#include <glib.h>
#include <yaml.h>

#include "provisioner/base/yaml-load.h"
#include "provisioner/cloudinit.h"

/* Sets @error to VS_CLOUDINIT_ERROR @code with the formatted message. Returns FALSE. */
gboolean vs_cloudinit_invalid(GError **error, int code, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

/* ---- cloudinit-check.c ---- */

/* Returns TRUE when @hash looks like a crypt(3) hash; else FALSE with @error set. */
gboolean vs_cloudinit_check_password_hash(const char *hash, GError **error);

/* ---- cloudinit-yaml.c: libyaml documents ---- */

/* Returns a new plain scalar node (for our own keys and fixed values). */
int vs_cloudinit_yaml_plain(yaml_document_t *doc, const char *value);
/* Returns a new quoted string node (for every value that comes from users). */
int vs_cloudinit_yaml_quoted(yaml_document_t *doc, const char *value);
/* Appends @key (plain) with the node @value to the mapping @map. Returns libyaml's result. */
int vs_cloudinit_yaml_add_pair(yaml_document_t *doc, int map, const char *key, int value);
/* Returns the value node of @key in the mapping @map, or 0. */
int vs_cloudinit_yaml_map_get(yaml_document_t *doc, int map, const char *key);
/* Returns how many places of @doc refer to the node @id (the root counts the document): more
 * than one when YAML anchors and aliases share it. */
guint vs_cloudinit_yaml_references(yaml_document_t *doc, int id);
/* Returns the value node of @key in the mapping @map (0 when absent), made @map's own first: a
 * sequence or mapping an alias shares with other places is replaced, under @key only, by a
 * copy (its children still shared), so that what is added to it appears nowhere else. */
int vs_cloudinit_yaml_map_get_own(yaml_document_t *doc, int map, const char *key);
/* Returns the item @index of the sequence @seq, made the sequence's own as above. */
int vs_cloudinit_yaml_item_own(yaml_document_t *doc, int seq, gsize index);
/* Returns the type of the node @id. */
yaml_node_type_t vs_cloudinit_yaml_node_type(yaml_document_t *doc, int id);
/* Returns the value of the scalar node @id, or NULL when it is no scalar. */
const char *vs_cloudinit_yaml_scalar(yaml_document_t *doc, int id);
/* Returns a new sequence of the strings @keys, quoted. */
int vs_cloudinit_yaml_key_list(yaml_document_t *doc, GPtrArray *keys);
/* Appends @doc as YAML to @out, and deletes @doc. Returns FALSE with @error set on failure. */
gboolean vs_cloudinit_yaml_emit(yaml_document_t *doc, GString *out, GError **error);
/* Returns a new empty document whose root is a block mapping (node 1). */
yaml_document_t *vs_cloudinit_yaml_new_mapping(void);
/* Returns @text (@len bytes) parsed as one YAML document (an empty one: an empty mapping), or
 * NULL with @error naming @what, the line and the column; user-data's limits apply
 * (VS_YAML_USER_DATA_MAX_BYTES, VS_YAML_MAX_DEPTH: exit status 2). */
yaml_document_t *vs_cloudinit_yaml_parse(const char *text, gsize len, const char *what,
                                         GError **error);
/* The same with a size limit of @max_bytes. */
yaml_document_t *vs_cloudinit_yaml_parse_bounded(const char *text, gsize len, const char *what,
                                                 gsize max_bytes, GError **error);

/* ---- cloudinit-config.c: our cloud-config ---- */

/* Adds our keys to the cloud-config mapping at the root of @doc, keeping all of theirs; unknown
 * top-level keys are reported in @warnings when it is not NULL. @what names the document in
 * errors. Returns FALSE with @error set when @doc cannot take our keys. */
gboolean vs_cloudinit_config_merge(yaml_document_t *doc, const VsCloudInitSpec *spec,
                                   const char *what, GPtrArray *warnings, GError **error);
/* Returns our own cloud-config ("#cloud-config" and YAML), with nothing of the user's. */
char *vs_cloudinit_config_ours(const VsCloudInitSpec *spec, GError **error);

/* ---- cloudinit-mime.c ---- */

/* Returns the MIME multipart user-data holding our cloud-config @ours then @theirs, a part of
 * type @mime_type; with @mime_type NULL @theirs is a MIME document of its own and goes in as it
 * is (its headers become the part's headers). */
GBytes *vs_cloudinit_mime_combine(const char *ours, GBytes *theirs, const char *mime_type);

/* ---- cloudinit-userdata.c ---- */

/* Returns the final user-data: ours, or ours merged with or combined with the user's. */
GBytes *vs_cloudinit_userdata_compose(const VsCloudInitSpec *spec, GPtrArray *warnings,
                                      GError **error);

/* ---- cloudinit-network.c ---- */

/* Returns the network-config: the user's own after checking its version, else ours for the MAC,
 * else NULL (without @error set when there is neither). */
GBytes *vs_cloudinit_network_compose(const VsCloudInitSpec *spec, GError **error);
