/* The request flags `up` and `run` share (up-options.h). */
#include "provisioner/up-options.h"

#include "provisioner/up.h"

void
vs_up_options_clear(VsUpOptions *o)
{
    g_free(o->spec_file);
    g_free(o->name);
    g_free(o->image);
    g_free(o->image_sha256);
    g_free(o->cpus);
    g_free(o->memory);
    g_free(o->disk);
    g_free(o->instance_type);
    g_free(o->network);
    g_free(o->gpu);
    g_free(o->gpu_memory);
    g_free(o->display);
    g_free(o->user);
    g_strfreev(o->ssh_keys);
    g_free(o->user_data);
    g_free(o->network_config);
    g_free(o->seed_device);
    g_free(o->seed_from);
    g_free(o->arch);
    g_free(o->firmware);
    g_free(o->virt_type);
    g_free(o->mac);
    g_free(o->pool);
    g_free(o->osinfo);
    g_free(o->identity);
}

/* Sets a spec value from a flag the user gave: flags win over the spec file. */
static gboolean
apply_flags(VsSpec *spec, VsUpOptions *o, GError **error)
{
#define TAKE(field)                                                                                \
    if (o->field) {                                                                                \
        g_free(spec->field);                                                                       \
        spec->field = g_steal_pointer(&o->field);                                                  \
    }
    TAKE(name);
    TAKE(image);
    TAKE(image_sha256);
    TAKE(instance_type);
    TAKE(network);
    TAKE(gpu);
    TAKE(display);
    TAKE(user);
    TAKE(user_data);
    TAKE(network_config);
    TAKE(seed_device);
    TAKE(seed_from);
    TAKE(arch);
    TAKE(firmware);
    TAKE(virt_type);
    TAKE(mac);
    TAKE(pool);
    TAKE(osinfo);
#undef TAKE
    if (o->cpus && !vs_up_parse_cpus(o->cpus, &spec->cpus, error))
        return FALSE;
    /* The same rules as the spec file's keys (spec.c). */
    if (o->memory &&
        !vs_spec_parse_mib(o->memory, VS_SPEC_MEMORY_MAX, "--memory", &spec->memory_mib, error))
        return FALSE;
    if (o->disk && !vs_spec_parse_disk(o->disk, "--disk", &spec->disk_bytes, error))
        return FALSE;
    if (o->gpu_memory) {
        guint64 mib;
        if (!vs_spec_parse_mib(o->gpu_memory, VS_SPEC_GPU_MEMORY_MAX, "--gpu-memory", &mib, error))
            return FALSE;
        spec->gpu_memory_bytes = mib << 20;
    }
    spec->require_signature = spec->require_signature || o->require_signature;
    if (o->ssh_keys) {
        g_ptr_array_set_size(spec->ssh_keys, 0);
        for (guint i = 0; o->ssh_keys[i]; i++)
            g_ptr_array_add(spec->ssh_keys, g_strdup(o->ssh_keys[i]));
    }
    return TRUE;
}

gboolean
vs_up_parse_cpus(const char *text, guint *ret_cpus, GError **error)
{
    guint64 n;

    if (!g_ascii_string_to_unsigned(text, 10, 1, 4096, &n, NULL)) {
        g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID,
                    "--cpus: '%s' is not a number of vCPUs (1 to 4096)", text);
        return FALSE;
    }
    *ret_cpus = (guint)n;
    return TRUE;
}

gboolean
vs_up_spec_defaults(VsSpec *spec, GError **error)
{
    g_autoptr(VsSpec) config = vs_spec_new();

    if (!vs_spec_load_config(config, NULL, error))
        return FALSE;
    if (!spec->pool)
        spec->pool = g_steal_pointer(&config->pool);
    if (!spec->network)
        spec->network = g_steal_pointer(&config->network);
    if (!spec->user)
        spec->user = g_steal_pointer(&config->user);
    if (!spec->virt_type)
        spec->virt_type = g_steal_pointer(&config->virt_type);
    spec->require_signature = spec->require_signature || config->require_signature;
    if (spec->ssh_keys->len == 0)
        for (guint i = 0; i < config->ssh_keys->len; i++)
            g_ptr_array_add(spec->ssh_keys, g_strdup(config->ssh_keys->pdata[i]));
    return TRUE;
}

/* Loads the spec file, then the flags, then config.yaml. */
gboolean
vs_up_options_to_spec(VsUpOptions *o, VsSpec *spec, GError **error)
{
    if (o->spec_file && !vs_spec_load_file(spec, o->spec_file, error))
        return FALSE;
    return apply_flags(spec, o, error) && vs_up_spec_defaults(spec, error);
}

const char *const vs_up_gpu_words[] = {"auto",  "none",         "virgl", "vgpu",
                                       "vgpu:", "passthrough:", NULL};
const char *const vs_up_network_words[] = {"user", "bridge:", "network:", NULL};
const char *const vs_up_display_words[] = {"none", "vnc", "spice", NULL};
const char *const vs_up_seed_device_words[] = {"disk", "cdrom", NULL};
const char *const vs_up_arch_words[] = {"x86_64", "aarch64", NULL};
const char *const vs_up_firmware_words[] = {"bios", "efi", NULL};
const char *const vs_up_virt_type_words[] = {"auto", "kvm", "qemu", NULL};
