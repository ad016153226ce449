/* Hashing whole image files: the one read loop behind every checksum of a file, and the SHA-256
 * of a local image remembered per file identity (device, inode, size, modification and change
 * time) so that only the first use of a file reads it. */
#pragma once

#include <glib.h>

#include "provisioner/base/progress.h"

/* Hashes the file at @path with @type into @ret_sum (may be NULL) and, in the same pass, SHA-256
 * into @ret_sha256, stopping when @progress (may be NULL) says so. Returns FALSE with @error set
 * when it cannot be read or was stopped. */
gboolean vs_hash_file(const char *path, GChecksumType type, const VsProgress *progress,
                      char **ret_sum, char **ret_sha256, GError **error);

/* Returns the lower-case hex SHA-256 of the regular file at @path (remembered under
 * $XDG_CACHE_HOME/virt-station/sha256), or NULL with @error set. */
char *vs_hash_file_cached(const char *path, GError **error);

/* Copies the regular file @src to @dest, hashing exactly the bytes copied into @ret_sha256 (and
 * remembering it for @src when the file did not change during the copy), stopping when
 * @progress (may be NULL) says so. Returns FALSE with @error set (and no @dest). */
gboolean vs_hash_copy(const char *src, const char *dest, const VsProgress *progress,
                      char **ret_sha256, GError **error);
