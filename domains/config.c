#include "config.h"

#include <string.h>

static const char *const arch_names[VS_ARCH_LAST] = {"x86_64", "aarch64"};
static const char *const firmware_names[VS_FIRMWARE_LAST] = {"bios", "efi"};
static const char *const net_names[VS_NET_LAST] = {"network", "bridge", "user"};
static const char *const display_names[VS_DISPLAY_LAST] = {"none", "vnc", "spice"};
static const char *const seed_names[VS_SEED_LAST] = {"disk", "cdrom"};

static int
lookup(const char *const *names, int n, const char *str)
{
    for (int i = 0; i < n; i++) {
        if (g_strcmp0(names[i], str) == 0)
            return i;
    }
    return -1;
}

const char *
vs_arch_to_string(VsArch arch)
{
    return arch_names[arch];
}

int
vs_arch_from_string(const char *str)
{
    return lookup(arch_names, VS_ARCH_LAST, str);
}

const char *
vs_firmware_to_string(VsFirmware firmware)
{
    return firmware_names[firmware];
}

int
vs_firmware_from_string(const char *str)
{
    return lookup(firmware_names, VS_FIRMWARE_LAST, str);
}

const char *
vs_net_mode_to_string(VsNetMode mode)
{
    return net_names[mode];
}

int
vs_net_mode_from_string(const char *str)
{
    return lookup(net_names, VS_NET_LAST, str);
}

const char *
vs_display_to_string(VsDisplay display)
{
    return display_names[display];
}

int
vs_display_from_string(const char *str)
{
    return lookup(display_names, VS_DISPLAY_LAST, str);
}

const char *
vs_seed_device_to_string(VsSeedDevice device)
{
    return seed_names[device];
}

int
vs_seed_device_from_string(const char *str)
{
    return lookup(seed_names, VS_SEED_LAST, str);
}

gboolean
vs_domain_name_valid(const char *name)
{
    return name && g_regex_match_simple("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", name, 0, 0);
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
