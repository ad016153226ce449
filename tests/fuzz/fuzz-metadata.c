/* Fuzz target: virt-station's domain metadata as libvirt hands it back (domains/metadata.c). */
#include <stddef.h>
#include <stdint.h>

#include "metadata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = g_strndup((const char *)data, size);
    g_autoptr(GError) error = NULL;
    g_autoptr(VsStation) station = vs_station_parse(text, &error);

    if (station)
        g_free(vs_station_known_hosts(station, "vs-fuzz"));
    return 0;
}
