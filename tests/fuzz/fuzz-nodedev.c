/* Fuzz target: libvirt node-device XML as a remote host reports it (gpu/nodedev.c). The input is
 * split at its NUL bytes into up to 16 documents, one device each, read as one host's inventory. */
#include <stddef.h>
#include <libxml/xmlerror.h>
#include <stdint.h>
#include <string.h>

#include "gpu/nodedev.h"

/* libxml2 prints through this only when a reader parses without XML_PARSE_NOERROR: library code
 * never prints, so that is a finding. */
static void
fuzz_libxml_printed(void *ctx, const char *msg, ...)
{
    (void)ctx;
    g_error("libxml2 printed a parse error (a reader without XML_PARSE_NOERROR): %s", msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GPtrArray) xmls = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    size_t at = 0;

    xmlSetGenericErrorFunc(NULL, fuzz_libxml_printed);
    while (at <= size && xmls->len < 16) {
        const uint8_t *nul = memchr(data + at, 0, size - at);
        size_t len = nul ? (size_t)(nul - (data + at)) : size - at;
        g_ptr_array_add(xmls, g_strndup((const char *)data + at, len));
        at += len + 1;
    }
    g_autoptr(VsGpuInventory) inv = vs_gpu_inventory_from_nodedevs(xmls, &error);
    /* Exactly one of the two: an inventory, or an error saying why not. */
    g_assert_true((inv == NULL) != (error == NULL));
    return 0;
}
