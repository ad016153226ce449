/* Fuzz target: the checksum lists image publishers write (provisioner/images/checksums.c), read
 * in all three formats. The input is split at its first NUL byte: the file name looked for before
 * (at most 255 bytes), the list after; without a NUL, the whole input is a list searched for
 * "disk.img". */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "provisioner/images/checksums.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    g_autofree char *filename = NULL;
    const char *list = (const char *)data;
    size_t list_len = size;

    if (nul && nul - data < 256) {
        filename = g_strndup((const char *)data, (size_t)(nul - data));
        list = (const char *)nul + 1;
        list_len = size - (size_t)(nul - data) - 1;
    } else {
        filename = g_strdup("disk.img");
    }
    for (VsSumsFormat f = VS_SUMS_SHA256SUMS; f <= VS_SUMS_FEDORA; f++) {
        g_autofree char *hex = NULL;
        g_autoptr(GError) error = NULL;
        GChecksumType type;
        if (vs_checksums_find(list, list_len, f, filename, &type, &hex, &error)) {
            /* A sum found is a whole one, in lowercase or uppercase hex. */
            gsize want = type == G_CHECKSUM_SHA512 ? 128 : 64;
            g_assert_nonnull(vs_checksums_type_name(type));
            g_assert_cmpuint(strlen(hex), ==, want);
            g_assert_cmpuint(strspn(hex, "0123456789abcdefABCDEF"), ==, want);
        } else {
            g_assert_nonnull(error);
        }
    }
    return 0;
}
