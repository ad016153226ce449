/* Fuzz target: virt-station's domain metadata as libvirt hands it back (domains/metadata.c). */
#include <stddef.h>
#include <stdint.h>

#include "domains/metadata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = g_strndup((const char *)data, size);
    g_autoptr(GError) error = NULL;
    g_autoptr(VsMetadata) station = vs_metadata_parse(text, &error);

    if (station) {
        g_autoptr(GPtrArray) volumes =
            g_ptr_array_new_with_free_func((GDestroyNotify)vs_owned_volume_free);
        g_ptr_array_add(volumes, vs_owned_volume_new("disk", "default", "vs-fuzz.qcow2"));
        g_free(vs_metadata_known_hosts(station, "vs-fuzz"));
        /* adopt's rewrite of whatever parsed. */
        g_free(vs_metadata_rewrite(text, "0b5e3c2a-7f1d-4e8a-9c6b-000000000001", volumes,
                                   "52:54:00:00:00:01", 40022, NULL));
    }
    return 0;
}
