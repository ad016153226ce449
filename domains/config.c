#include "domains/config.h"

#include "common/vs-enum.h"

#include <string.h>
#include <sys/utsname.h>

VS_ENUM_IMPL(arch, VsArch, VS_ARCH_LAST, "x86_64", "aarch64")
VS_ENUM_IMPL(firmware, VsFirmware, VS_FIRMWARE_LAST, "bios", "efi")
VS_ENUM_IMPL(net_mode, VsNetMode, VS_NET_LAST, "network", "bridge", "user")
VS_ENUM_IMPL(display, VsDisplay, VS_DISPLAY_LAST, "none", "vnc", "spice")
VS_ENUM_IMPL(seed_device, VsSeedDevice, VS_SEED_LAST, "disk", "cdrom")

char *
vs_arch_local_name(void)
{
    struct utsname u;

    if (uname(&u) < 0)
        return g_strdup("x86_64");
    return g_strdup(g_str_equal(u.machine, "arm64") ? "aarch64" : u.machine);
}

VsFirmware
vs_firmware_default(VsArch arch, VsGpuMode gpu_mode)
{
    return arch == VS_ARCH_AARCH64 || gpu_mode == VS_GPU_MODE_PASSTHROUGH ? VS_FIRMWARE_EFI
                                                                          : VS_FIRMWARE_BIOS;
}

/* The window is the next power of two at least twice the BARs' sum, and never under 32 GiB.
 * Each BAR is naturally aligned (a 128 GiB BAR starts at a multiple of 128 GiB), so BARs of
 * different sizes leave gaps and a window of exactly their sum rarely fits them; twice the sum,
 * rounded up to a power of two, always does (sizes are powers of two: placed largest first,
 * each starts aligned right after the previous). OVMF's own default window (32 GiB on recent
 * builds, less on older ones) cannot hold the 128 GiB BAR1 of an H100-class card, whose
 * driver then finds no BAR1 in the guest. */
guint64
vs_domain_pcihole64_kib(guint64 mmio64_bytes)
{
    const guint64 largest = G_GUINT64_CONSTANT(1) << 62; /* 4 EiB: no overflow below */
    guint64 want = mmio64_bytes >= largest / 2 ? largest : mmio64_bytes * 2;
    guint64 size = G_GUINT64_CONSTANT(32) << 30;

    while (size < want)
        size <<= 1;
    return size >> 10;
}

gboolean
vs_domain_name_valid(const char *name)
{
    return name && g_regex_match_simple("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", name,
                                        G_REGEX_DOLLAR_ENDONLY, 0);
}

VsDomainConfig *
vs_domain_config_new(void)
{
    VsDomainConfig *config = g_new0(VsDomainConfig, 1);

    config->vcpus = 2;
    config->memory_mib = 4096;
    config->gpu = vs_gpu_plan_new(VS_GPU_MODE_NONE);
    config->host_keys = g_ptr_array_new_with_free_func(g_free);
    return config;
}

void
vs_domain_config_free(VsDomainConfig *c)
{
    if (!c)
        return;
    g_free(c->name);
    g_free(c->uuid);
    g_free(c->title);
    g_free(c->description);
    g_free(c->pool);
    g_free(c->disk_volume);
    g_free(c->seed_volume);
    g_free(c->seed_from);
    g_free(c->net_source);
    g_free(c->mac);
    g_free(c->console_log);
    vs_gpu_plan_free(c->gpu);
    g_free(c->os_id);
    g_free(c->image_alias);
    g_free(c->base_pool);
    g_free(c->base_volume);
    g_free(c->ssh_user);
    g_ptr_array_unref(c->host_keys);
    g_free(c);
}
