/* SHA-256 and SHA-512 digests of image-sized data, with nettle.
 *
 * GLib's GChecksum hashes SHA-256 at about 450 MB/s on this project's test machines; nettle's
 * x86-64 code uses the processor's SHA extensions where it has them and reaches about 1.5 GB/s
 * there. SHA-512 has no such instructions: nettle's reaches 400-500 MB/s there against GLib's
 * 270-310 MB/s. For SHA-256 that is the difference between hashing an image costing more than
 * downloading it from a fast mirror and costing less. nettle is the library GnuTLS itself is built
 * on: every machine with libvirt or libcurl-gnutls has it already, and loading it adds no
 * measurable start-up time. */
#pragma once

#include <glib.h>

typedef struct VsDigest VsDigest;

/* Returns a new digest of @type, which must be G_CHECKSUM_SHA256 or G_CHECKSUM_SHA512. */
VsDigest *vs_digest_new(GChecksumType type);

/* Adds @len bytes at @data. */
void vs_digest_update(VsDigest *digest, const void *data, gsize len);

/* Returns the lower-case hex digest of everything added; @digest starts again empty. */
char *vs_digest_finish(VsDigest *digest);

/* Returns the lower-case hex digest of everything added so far; @digest goes on unchanged. */
char *vs_digest_peek(const VsDigest *digest);

void vs_digest_free(VsDigest *digest);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsDigest, vs_digest_free)
