/* The operations table's common part: freeing it, and the backend the environment asks for. */
#include <string.h>

#include "gpu/hostops.h"

void
vs_gpu_ops_free(VsGpuOps *ops)
{
    if (!ops)
        return;
    if (ops->free)
        ops->free(ops->data);
    g_free(ops);
}

VsGpuOps *
vs_gpu_ops_from_env(void)
{
    const char *fake = g_getenv("VIRT_STATION_FAKE_GPU");
    const char *root = g_getenv("VIRT_STATION_SYSFS_ROOT");

    if (!fake || strcmp(fake, "1") != 0 || !root || !*root)
        return NULL;
    return vs_gpu_ops_fake(root);
}
