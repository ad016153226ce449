/* Base images are named after their content: the SHA-256 of a local image file, cached per
 * file identity (device, inode, size, modification time) so that only the first use reads it. */
#pragma once

#include <glib.h>

/* Returns the lower-case hex SHA-256 of the file at @path, or NULL with @error set. */
char *vs_imagehash_file(const char *path, GError **error);

/* Returns the base volume name for an image called @label with content hash @sha256:
 * "<label>-<first 12 hex digits>", the label reduced to letters, digits, '-', '_' and '.'. */
char *vs_imagehash_volume_name(const char *label, const char *sha256);
