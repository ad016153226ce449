/* Downloading images: the publisher's checksum list (its signature checked with gpgme when a
 * keyring is configured), the image itself with libcurl (progress, resume with HTTP Range,
 * retries), verification before use, unpacking of .xz and .tar.xz, and the cache. */
#pragma once

#include "cli.h"
#include "images.h"

/* Brings @image (ALIAS, URL or FILE) into the cache unless it is there, and fills its path,
 * sha256 and volume. An alias's checksum list is asked for again (a conditional request: an
 * unchanged list costs no transfer). Returns FALSE with @error set; a failed or mismatching
 * download leaves nothing in the cache but, for an interrupted transfer, the part to resume. */
gboolean vs_image_fetch(VsCli *cli, VsImage *image, GError **error);

/* Hashes the file at @path with @type into @ret_sum and, in the same pass, SHA-256 into
 * @ret_sha256. Returns FALSE with @error set when it cannot be read. */
gboolean vs_fetch_hash_file(const char *path, GChecksumType type, char **ret_sum, char **ret_sha256,
                            GError **error);

/* Verifies the OpenPGP @signature of @data with the keys in @keyring (a keyring file, binary or
 * armored). A NULL @signature means @data is clear-signed; @ret_plain then receives the signed
 * text, the only part to trust. Returns FALSE with @error saying why. */
gboolean vs_fetch_verify_signature(const char *keyring, GBytes *data, GBytes *signature,
                                   GBytes **ret_plain, GError **error);
