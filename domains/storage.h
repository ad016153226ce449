/* Storage through libvirt: pools, the base image, overlays and the seed. Everything goes through
 * the storage API (volumes created and filled by upload streams) so remote hosts work alike. */
#pragma once

#include "domains/vs-libvirt.h"

/* Returns the pool @name, started. The pool "default" is created when missing, as a directory
 * pool at libvirt's usual place for the connection. Returns NULL with @error set. */
virStoragePoolPtr vs_storage_pool_ensure(virConnectPtr conn, const char *name, GError **error);

/* Returns the volume @volume in @pool holding the image file @path: an existing volume of that
 * name is used as it is (names carry the content's hash); otherwise it is created and filled by
 * an upload stream (@ret_created says which). @cancelled, when it returns TRUE, stops the
 * upload. NULL with @error set. */
virStorageVolPtr vs_storage_import(virStoragePoolPtr pool, const char *volume, const char *path,
                                   gboolean (*cancelled)(void), gboolean *ret_created,
                                   GError **error);

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

/* Returns the set of paths that volumes in the active pools use as their backing file. */
GHashTable *vs_storage_backing_paths(virConnectPtr conn, GError **error);

/* Returns TRUE when the volume @vol is in @backing (from vs_storage_backing_paths). */
gboolean vs_storage_volume_is_backing(GHashTable *backing, virStorageVolPtr vol);

/* Copies the content of @vol into the local file @path through a download stream (so a remote
 * host's volume comes too). Nothing is left at @path on failure. */
gboolean vs_storage_download(virStorageVolPtr vol, const char *path, GError **error);
