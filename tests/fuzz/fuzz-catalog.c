/* Fuzz target: image catalogs and checksum lists (provisioner/images/catalog.c, checksums.c). The
 * input is split at its first NUL byte: a catalog before, a checksum list after (read in all three
 * formats). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "provisioner/images/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(VsCatalog) catalog = vs_catalog_new();
    const uint8_t *nul = memchr(data, 0, size);
    size_t catalog_len = nul ? (size_t)(nul - data) : size;
    const char *list = nul ? (const char *)nul + 1 : "";
    size_t list_len = nul ? size - catalog_len - 1 : 0;

    vs_catalog_add_data(catalog, (const char *)data, catalog_len, "fuzz.yaml", NULL);
    for (VsSumsFormat f = VS_SUMS_SHA256SUMS; f <= VS_SUMS_FEDORA; f++) {
        g_autofree char *hex = NULL;
        GChecksumType type;
        vs_checksums_find(list, list_len, f, "disk.img", &type, &hex, NULL);
    }
    return 0;
}
