/* The checksum lists image publishers write beside their images (SHA256SUMS, SHA512SUMS,
 * Fedora's CHECKSUM). Pure parsing: no network, no libvirt. */
#pragma once

#include <glib.h>

typedef enum {
    VS_SUMS_SHA256SUMS, /* "HEX  FILE" lines, SHA-256 (Ubuntu) */
    VS_SUMS_SHA512SUMS, /* the same with SHA-512 (Debian) */
    VS_SUMS_FEDORA,     /* "SHA256 (FILE) = HEX" lines (Fedora's CHECKSUM) */
} VsSumsFormat;

/* Finds the checksum of the file called @filename in the checksum list @text of @format. Returns
 * FALSE with @error set when the list does not name it or names it with a malformed sum. */
gboolean vs_checksums_find(const char *text, gsize len, VsSumsFormat format, const char *filename,
                           GChecksumType *ret_type, char **ret_hex, GError **error);

/* "sha256" or "sha512". */
const char *vs_checksums_type_name(GChecksumType type);
