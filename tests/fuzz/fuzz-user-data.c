/* Fuzz target: user-data merging and combining (provisioner/cloudinit.c). */
#include <stddef.h>
#include <stdint.h>

#include "provisioner/cloudinit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_auto(VsCloudInitSpec) spec = {0};
    g_auto(VsSeedFiles) files = {0};
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;

    spec.instance_id = g_strdup("iid-fuzz");
    spec.hostname = g_strdup("fuzz");
    spec.user = g_strdup("tester");
    spec.mac = g_strdup("52:54:00:00:00:01");
    spec.ssh_keys = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(spec.ssh_keys, g_strdup("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFUZZ fuzz"));
    spec.user_data = g_bytes_new(data, size);
    vs_cloudinit_compose(&spec, &files, warnings, &error);
    return 0;
}
