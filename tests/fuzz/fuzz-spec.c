/* Fuzz target: spec files (provisioner/spec.c). */
#include <stddef.h>
#include <stdint.h>

#include "provisioner/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(VsSpec) spec = vs_spec_new();
    g_autoptr(GError) error = NULL;

    vs_spec_load_data(spec, (const char *)data, size, "fuzz.yaml", "/fuzz", &error);
    return 0;
}
