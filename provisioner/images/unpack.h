/* Unpacking downloaded disk images with libarchive: raw inside .xz or .gz, or the first file of
 * a tar archive (itself possibly compressed), written sparse. */
#pragma once

#include <glib.h>

/* Unpacks the disk image in @src (with @tar, the first regular file of a tar archive) into
 * @dest, leaving holes for all-zero blocks. Returns the SHA-256 of the image, or NULL with
 * @error set (and no @dest). */
char *vs_unpack_image(const char *src, gboolean tar, const char *dest, GError **error);
