/* OpenPGP signatures of checksum lists, checked with gpgme (in the libvirt module only). */
#pragma once

#include <glib.h>

/* Verifies the OpenPGP @signature of @data with the keys in @keyring (a keyring file, binary or
 * armored) and no others. A NULL @signature means @data is clear-signed; @ret_plain then receives
 * the signed text, the only part to trust (else @data itself). Returns FALSE with a
 * VS_IMAGE_ERROR saying why. */
gboolean vs_verify_signature(const char *keyring, GBytes *data, GBytes *signature,
                             GBytes **ret_plain, GError **error);
