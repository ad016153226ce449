/* Fuzz target: the capabilities XML libvirt hands back (domains/caps.c): the host capabilities
 * (virConnectGetCapabilities, read for the host's architecture) and the domain capabilities
 * (read for passt). Both readers get the whole input. The host reader is static and asks a
 * connection for its document, so this file compiles caps.c itself with
 * virConnectGetCapabilities replaced by one that returns the input; the copy of caps.c in
 * libvirt's static library is then never linked in (every symbol it has is defined here). */
#include <stddef.h>
#include <libxml/xmlerror.h>
#include <stdint.h>

#include "domains/vs-libvirt.h"

static const uint8_t *fuzz_data;
static size_t fuzz_size;

/* Returns a copy of the current input, as libvirt would return the capabilities document. */
static char *
fuzz_get_capabilities(virConnectPtr conn)
{
    (void)conn;
    return g_strndup((const char *)fuzz_data, fuzz_size);
}

#define virConnectGetCapabilities fuzz_get_capabilities
#include "domains/caps.c"
#undef virConnectGetCapabilities

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
    g_autofree char *text = g_strndup((const char *)data, size);
    VsArch arch;
    int passt;

    xmlSetGenericErrorFunc(NULL, fuzz_libxml_printed);
    fuzz_data = data;
    fuzz_size = size;
    arch = host_arch(NULL);
    g_assert_nonnull(vs_arch_to_string(arch));
    passt = vs_caps_domcaps_passt(text);
    g_assert_true(passt >= -1 && passt <= 1);
    return 0;
}
