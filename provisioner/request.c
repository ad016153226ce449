#include "provisioner/request.h"

#include <string.h>

#include "provisioner/cloudinit.h"
#include "vs-config.h"

#define DEFAULT_CPUS       2
#define DEFAULT_MEMORY_MIB 4096
#define VS_OSINFO_MAX      200

VsPlanInputs *
vs_plan_inputs_new(void)
{
    VsPlanInputs *f = g_new0(VsPlanInputs, 1);
    f->host_keys = g_ptr_array_new_with_free_func(g_free);
    return f;
}

void
vs_plan_inputs_free(VsPlanInputs *f)
{
    if (!f)
        return;
    g_free(f->console_log_dir);
    g_free(f->image_alias);
    g_free(f->base_pool);
    g_free(f->base_volume);
    g_free(f->os_id);
    g_free(f->uuid);
    g_free(f->mac);
    g_free(f->default_user);
    vs_gpu_plan_free(f->gpu);
    g_ptr_array_unref(f->host_keys);
    g_free(f);
}

char *
vs_request_os_id(const char *alias)
{
    static const struct {
        const char *prefix, *url;
    } oses[] = {
        {"ubuntu:daily:", "http://ubuntu.com/ubuntu/"},
        {"ubuntu:", "http://ubuntu.com/ubuntu/"},
        {"debian:", "http://debian.org/debian/"},
        {"fedora:", "http://fedoraproject.org/fedora/"},
    };

    if (!alias)
        return NULL;
    for (guint i = 0; i < G_N_ELEMENTS(oses); i++) {
        if (g_str_has_prefix(alias, oses[i].prefix)) {
            const char *version = alias + strlen(oses[i].prefix);
            g_autofree char *v = g_strndup(version, strcspn(version, "-"));
            if (!g_regex_match_simple("^[0-9]+(\\.[0-9]+)?$", v, G_REGEX_DOLLAR_ENDONLY, 0))
                return NULL;
            return g_strconcat(oses[i].url, v, NULL);
        }
    }
    return NULL;
}

gboolean
vs_request_check_osinfo(const char *id, GError **error)
{
    /* libosinfo ids are URLs naming the vendor, the OS and its version; virt-install also takes
     * short names (debian12), which only libosinfo's database can turn into ids. */
    if (strlen(id) > VS_OSINFO_MAX ||
        !g_regex_match_simple("^https?://[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+(/[A-Za-z0-9._~+-]+)+$",
                              id, G_REGEX_DOLLAR_ENDONLY, 0))
        return vs_spec_fail(error,
                            "osinfo: '%.*s' is not a libosinfo id such as "
                            "http://debian.org/debian/12 (at most %d characters; `osinfo-query "
                            "os` lists them, the id column is the URL)",
                            VS_OSINFO_MAX, id, VS_OSINFO_MAX);
    return TRUE;
}

gboolean
vs_request_parse_network(const char *text, VsNetMode *ret_mode, char **ret_source, GError **error)
{
    const char *colon = strchr(text, ':');

    if (strcmp(text, "user") == 0) {
        *ret_mode = VS_NET_USER;
        *ret_source = NULL;
        return TRUE;
    }
    if (colon && colon[1] &&
        (g_str_has_prefix(text, "network:") || g_str_has_prefix(text, "bridge:"))) {
        if (!g_regex_match_simple("^[A-Za-z0-9_.:-]{1,64}$", colon + 1, G_REGEX_DOLLAR_ENDONLY, 0))
            return vs_spec_fail(error, "--network: '%s' is not a valid network or bridge name",
                                colon + 1);
        *ret_mode = text[0] == 'n' ? VS_NET_NETWORK : VS_NET_BRIDGE;
        *ret_source = g_strdup(colon + 1);
        return TRUE;
    }
    return vs_spec_fail(error, "--network: '%s' is not one of user, bridge:BR, network:NAME", text);
}

static gboolean
parse_enum(const char *text, int (*from_string)(const char *), const char *what,
           const char *choices, int *ret, GError **error)
{
    int v = from_string(text);

    if (v < 0)
        return vs_spec_fail(error, "%s: '%s' is not one of %s", what, text, choices);
    *ret = v;
    return TRUE;
}

/* Sets @c's size, architecture, domain type and firmware. */
static gboolean
machine(VsDomainConfig *c, const VsSpec *spec, const VsPlanInputs *facts, GError **error)
{
    int v = 0;

    /* Size: the shorthand first, then explicit values over it. */
    c->vcpus = DEFAULT_CPUS;
    c->memory_mib = DEFAULT_MEMORY_MIB;
    if (spec->instance_type &&
        !vs_spec_parse_instance_type(spec->instance_type, &c->vcpus, &c->memory_mib, error))
        return FALSE;
    if (spec->cpus)
        c->vcpus = spec->cpus;
    if (spec->memory_mib)
        c->memory_mib = spec->memory_mib;

    c->kvm = facts->kvm;
    c->arch = facts->arch;
    if (spec->arch &&
        !parse_enum(spec->arch, vs_arch_from_string, "arch", "x86_64, aarch64", &v, error))
        return FALSE;
    if (spec->arch)
        c->arch = v;
    if (c->arch != facts->arch) {
        /* Another architecture is always emulated. */
        if (g_strcmp0(spec->virt_type, "kvm") == 0)
            return vs_spec_fail(error,
                                "virt-type: kvm runs only guests of the host's architecture (%s); "
                                "an %s guest needs qemu or auto",
                                vs_arch_to_string(facts->arch), vs_arch_to_string(c->arch));
        c->kvm = FALSE;
    }
    /* UEFI for a passed-through GPU (its BARs need the 64-bit window) and aarch64. */
    c->firmware = vs_firmware_default(c->arch, facts->gpu->mode);
    if (spec->firmware &&
        !parse_enum(spec->firmware, vs_firmware_from_string, "firmware", "bios, efi", &v, error))
        return FALSE;
    if (spec->firmware)
        c->firmware = v;
    if (c->arch == VS_ARCH_AARCH64 && c->firmware == VS_FIRMWARE_BIOS)
        return vs_spec_fail(error, "firmware: aarch64 machines boot with efi only");
    /* A pvpanic device, so that a guest kernel panic reaches libvirt (the wait stops at once)
     * rather than leaving a hung guest that only a timeout notices. */
    c->pvpanic = c->arch == VS_ARCH_X86_64 || facts->libvirt_version >= VS_PVPANIC_AARCH64_LIBVIRT;
    return TRUE;
}

/* Returns TRUE when @url is an http(s) URL ending in '/' for cloud-init's seedfrom; else FALSE
 * with @error set. */
static gboolean
check_seed_from(const char *url, GError **error)
{
    if (!g_regex_match_simple("^https?://[^\\s;]+/$", url, G_REGEX_DOLLAR_ENDONLY, 0))
        return vs_spec_fail(error,
                            "seed-from: '%s' must be an http:// or https:// URL ending in '/' "
                            "(cloud-init appends user-data, meta-data to it)",
                            url);
    return TRUE;
}

/* Returns TRUE when @mac is a unicast MAC address; else FALSE with @error set. */
static gboolean
check_mac(const char *mac, GError **error)
{
    if (!vs_cloudinit_check_mac(mac, NULL))
        return vs_spec_fail(error, "mac: '%s' is not a unicast MAC address like 52:54:00:12:34:56",
                            mac);
    return TRUE;
}

/* Returns TRUE when @user is a login name cloud-init may create; else FALSE with @error set. */
static gboolean
check_user(const char *user, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (!vs_cloudinit_check_user(user, &local))
        return vs_spec_fail(error, "user: %s", local->message);
    return TRUE;
}

/* Sets @c's volumes and seed. */
static gboolean
storage(VsDomainConfig *c, const VsSpec *spec, const VsPlanInputs *facts, GError **error)
{
    int v = 0;

    c->pool = g_strdup(spec->pool ? spec->pool : VS_DEFAULT_POOL);
    c->disk_volume = g_strdup_printf("%s.qcow2", c->name);
    if (spec->seed_from) {
        if (!check_seed_from(spec->seed_from, error))
            return FALSE;
        c->seed_from = g_strdup(spec->seed_from);
    } else {
        c->seed_volume = g_strdup_printf("%s-seed.iso", c->name);
    }
    if (spec->seed_device && !parse_enum(spec->seed_device, vs_seed_device_from_string,
                                         "seed-device", "disk, cdrom", &v, error))
        return FALSE;
    c->seed_device = spec->seed_device ? (VsSeedDevice)v : VS_SEED_DISK;
    c->base_pool = g_strdup(facts->base_pool);
    c->base_volume = g_strdup(facts->base_volume);
    return TRUE;
}

/* Sets @c's network, MAC, forwarded port and console log. */
static gboolean
network(VsDomainConfig *c, const VsSpec *spec, const VsPlanInputs *facts, GError **error)
{
    if (spec->network) {
        if (!vs_request_parse_network(spec->network, &c->net_mode, &c->net_source, error))
            return FALSE;
    } else if (facts->session) {
        c->net_mode = VS_NET_USER;
    } else {
        c->net_mode = VS_NET_NETWORK;
        c->net_source = g_strdup("default");
    }
    c->passt = facts->passt;
    c->ssh_port = facts->ssh_port;
    c->mac = g_ascii_strdown(spec->mac ? spec->mac : facts->mac, -1);
    if (!check_mac(c->mac, error))
        return FALSE;
    if (facts->console_log_dir)
        c->console_log = g_strdup_printf("%s/%s-console.log", facts->console_log_dir, c->name);
    return TRUE;
}

/* Sets @c's display, GPU plan, login user and what only the metadata holds. */
static gboolean
guest(VsDomainConfig *c, const VsSpec *spec, const VsPlanInputs *facts, GError **error)
{
    int v = 0;

    if (spec->display && !parse_enum(spec->display, vs_display_from_string, "display",
                                     "none, vnc, spice", &v, error))
        return FALSE;
    c->display = spec->display ? (VsDisplay)v : VS_DISPLAY_NONE;
    vs_gpu_plan_free(c->gpu);
    c->gpu = vs_gpu_plan_copy(facts->gpu);
    c->ssh_user = g_strdup(spec->user ? spec->user : facts->default_user);
    if (c->ssh_user && !check_user(c->ssh_user, error))
        return FALSE;
    c->image_alias = g_strdup(facts->image_alias);
    if (spec->osinfo && !vs_request_check_osinfo(spec->osinfo, error))
        return FALSE;
    if (spec->osinfo)
        c->os_id = g_strdup(spec->osinfo);
    else if (facts->os_id)
        c->os_id = g_strdup(facts->os_id);
    else
        c->os_id = vs_request_os_id(facts->image_alias);
    for (guint i = 0; i < facts->host_keys->len; i++)
        g_ptr_array_add(c->host_keys, g_strdup(facts->host_keys->pdata[i]));
    c->title = g_strdup_printf("%s (virt-station)", c->name);
    c->description = g_strdup_printf("Workstation made by virt-station %s from %s", VS_VERSION,
                                     facts->image_alias ? facts->image_alias : "an image");
    return TRUE;
}

gboolean
vs_request_check_name(const char *name, GError **error)
{
    if (vs_domain_name_valid(name))
        return TRUE;
    /* Escaped: a newline or a control character in NAME shows as such. */
    g_autofree char *shown = g_strescape(name, NULL);
    return vs_spec_fail(error,
                        "invalid name '%s': use 1 to 63 lower-case letters, digits and '-', not "
                        "starting or ending with '-'",
                        shown);
}

gboolean
vs_request_check(const VsSpec *spec, GError **error)
{
    guint cpus;
    guint64 mib;
    VsNetMode mode;
    g_autofree char *source = NULL;
    int v;

    return (!spec->name || vs_request_check_name(spec->name, error)) &&
           (!spec->instance_type ||
            vs_spec_parse_instance_type(spec->instance_type, &cpus, &mib, error)) &&
           (!spec->arch ||
            parse_enum(spec->arch, vs_arch_from_string, "arch", "x86_64, aarch64", &v, error)) &&
           (!spec->firmware || parse_enum(spec->firmware, vs_firmware_from_string, "firmware",
                                          "bios, efi", &v, error)) &&
           (!spec->seed_from || check_seed_from(spec->seed_from, error)) &&
           (!spec->seed_device || parse_enum(spec->seed_device, vs_seed_device_from_string,
                                             "seed-device", "disk, cdrom", &v, error)) &&
           (!spec->network || vs_request_parse_network(spec->network, &mode, &source, error)) &&
           (!spec->mac || check_mac(spec->mac, error)) &&
           (!spec->display || parse_enum(spec->display, vs_display_from_string, "display",
                                         "none, vnc, spice", &v, error)) &&
           (!spec->user || check_user(spec->user, error)) &&
           (!spec->osinfo || vs_request_check_osinfo(spec->osinfo, error));
}

VsDomainConfig *
vs_request_config(const VsSpec *spec, const VsPlanInputs *facts, GError **error)
{
    g_autoptr(VsDomainConfig) c = vs_domain_config_new();

    g_return_val_if_fail(facts->gpu != NULL, NULL);
    if (!spec->name)
        return vs_spec_fail(error, "a workstation NAME is needed"), NULL;
    if (!vs_request_check_name(spec->name, error))
        return NULL;
    c->name = g_strdup(spec->name);
    c->uuid = g_strdup(facts->uuid);
    if (!machine(c, spec, facts, error) || !storage(c, spec, facts, error) ||
        !network(c, spec, facts, error) || !guest(c, spec, facts, error))
        return NULL;
    return g_steal_pointer(&c);
}
