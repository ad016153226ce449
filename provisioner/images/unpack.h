/* Unpacking downloaded disk images with libarchive: raw inside .xz or .gz, or the first file of
 * a tar archive (itself possibly compressed), written sparse. */
#pragma once

#include <glib.h>

#include "provisioner/base/progress.h"

/* The largest image unpacked: 256 GiB, eight times the largest disk of the clouds' own images
 * (which are 2 to 32 GiB once unpacked). A tar member declaring more is refused before anything
 * is written; a raw image (.xz, .gz) is stopped once it passes it. */
#define VS_UNPACK_MAX_BYTES ((guint64)256 << 30)

/* Unpacks the disk image in @src (with @tar, the first regular file of a tar archive) into
 * @dest, leaving holes for all-zero blocks, and stops when @progress says so (Ctrl-C). Returns
 * the SHA-256 of the image, or NULL with a VS_IMAGE_ERROR set (and no @dest). */
char *vs_unpack_image(const char *src, gboolean tar, const char *dest, const VsProgress *progress,
                      GError **error);
