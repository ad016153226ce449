/* Storage through libvirt: pools, the base image, overlays and the seed. Everything goes through
 * the storage API (volumes created and filled by upload streams) so remote hosts work alike. */
#pragma once

#include "domains/vs-libvirt.h"

/* Returns the pool @name, started. The pool "default" is created when missing, as a directory
 * pool at libvirt's usual place for the connection. Returns NULL with @error set. */
virStoragePoolPtr vs_storage_pool_ensure(virConnectPtr conn, const char *name, GError **error);

/* What vs_storage_import found and did with the base volume. */
typedef enum {
    VS_BASE_REUSED,   /* marked complete already: used as it is, nothing read or sent */
    VS_BASE_IMPORTED, /* none was there: created, filled, verified, marked */
    VS_BASE_MARKED,   /* one without its mark held the image's content: verified, then marked */
    VS_BASE_REPLACED, /* one without its mark differed (a killed import): deleted, imported again */
} VsBaseState;

/* Returns the name of the empty marker volume that says the base volume @volume is complete:
 * "@volume.complete". */
char *vs_storage_base_marker_name(const char *volume);

/* Returns the base volume @volume in @pool holding the image file @path, whose SHA-256 is
 * @sha256 (NULL: computed here). The caller holds the volume's base lock, so a volume without
 * its marker is not being imported by anyone: it is stale, and read back through libvirt: the
 * image's content is marked and used, anything else deleted and imported again — unless a
 * volume is built on it, then refused. A missing volume is created, filled by an upload stream,
 * read back and compared (size and SHA-256), and only then marked. @ret_state says which;
 * @ret_created is TRUE when the volume was (re)created here. @cancelled, when it returns TRUE,
 * stops the transfers. NULL with @error set; an import that fails leaves no volume behind. */
virStorageVolPtr vs_storage_import(virStoragePoolPtr pool, const char *volume, const char *path,
                                   const char *sha256, gboolean (*cancelled)(void),
                                   VsBaseState *ret_state, gboolean *ret_created, GError **error);

/* Deletes the base volume @vol and its marker (the marker first: a base left without it is
 * stale, never taken for complete). FALSE with @error set. */
gboolean vs_storage_base_delete(virStorageVolPtr vol, GError **error);

/* Returns a new qcow2 volume @name backed by @base, of @capacity bytes (at least the base's
 * size). NULL with @error set. */
virStorageVolPtr vs_storage_overlay(virStoragePoolPtr pool, const char *name, virStorageVolPtr base,
                                    guint64 capacity, GError **error);

/* Returns a new raw volume @name holding @data, readable by its owner only when @secret.
 * NULL with @error set; nothing is left behind on failure. */
virStorageVolPtr vs_storage_upload_bytes(virStoragePoolPtr pool, const char *name, GBytes *data,
                                         gboolean secret, GError **error);

/* Deletes the volume @name of the pool @pool_name, if it exists. Returns FALSE with @error set
 * when it exists and cannot be deleted. */
gboolean vs_storage_delete_volume(virConnectPtr conn, const char *pool_name, const char *name,
                                  GError **error);

/* Returns the existing volume @name of the pool @pool_name, or NULL with a
 * VS_DOMAINS_ERROR_NOT_FOUND error. */
virStorageVolPtr vs_storage_volume(virConnectPtr conn, const char *pool_name, const char *name,
                                   GError **error);

/* Returns the set of paths that volumes in every pool of the host use as their backing file.
 * An inactive pool's volumes cannot be read through libvirt: the set then records the pool, and
 * every volume counts as a backing file (vs_storage_volume_is_backing) until it is started. A
 * pool that disappears while it is read (a transient pool destroyed) is skipped. NULL with
 * @error set when the pools cannot be listed. */
GHashTable *vs_storage_backing_paths(virConnectPtr conn, GError **error);

/* Returns TRUE when the volume @vol may be the backing file of another volume: its path is in
 * @backing (from vs_storage_backing_paths), or a pool could not be read. */
gboolean vs_storage_volume_is_backing(GHashTable *backing, virStorageVolPtr vol);

/* Returns the name of a pool of @backing whose volumes could not be read (an inactive pool),
 * or NULL when every pool was read. */
const char *vs_storage_backing_unread_pool(GHashTable *backing);

/* Returns why @vol counts as a backing file, for a "kept volume X: ..." message (newly
 * allocated), or NULL when it does not. */
char *vs_storage_backing_reason(GHashTable *backing, virStorageVolPtr vol);

/* Copies the content of @vol into the local file @path through a download stream (so a remote
 * host's volume comes too). Nothing is left at @path on failure. */
gboolean vs_storage_download(virStorageVolPtr vol, const char *path, GError **error);

/* Baked volumes (`virt-station bake`): a standalone qcow2 volume NAME, recognised by an empty
 * marker volume "NAME.baked" beside it in its pool, made once the copy is whole (the way a base
 * is marked complete). A marker cannot be taken for a workstation's or a base's volume: NAME
 * is a hostname label, without a dot. */

/* Returns the name of the marker volume of the baked volume @volume: "@volume.baked". */
char *vs_storage_baked_marker_name(const char *volume);

/* Returns a new qcow2 volume @name in @pool holding the content of @from read through its whole
 * backing chain (virStorageVolCreateXMLFrom): standalone, of @from's virtual size, sparse. NULL
 * with @error set; libvirt removes a copy that failed. */
virStorageVolPtr vs_storage_copy(virStoragePoolPtr pool, const char *name, virStorageVolPtr from,
                                 GError **error);

/* Creates the marker saying that @volume of @pool is a baked volume. FALSE with @error set. */
gboolean vs_storage_mark_baked(virStoragePoolPtr pool, const char *volume, GError **error);

/* Returns TRUE when @vol has its baked marker beside it. */
gboolean vs_storage_is_baked(virStorageVolPtr vol);

/* Returns the baked volumes of @pool (refreshed first), in libvirt's order, as a GPtrArray
 * that frees them; NULL with @error set. */
GPtrArray *vs_storage_baked_list(virStoragePoolPtr pool, GError **error);
