/* virt-station up: a workstation from a cloud image. This file gathers the request (spec file,
 * then flags over it, then config.yaml's defaults) and hands it to the libvirt module's half
 * (cmd-up-libvirt.c); a dry run on a host whose facts are cached is planned (up-plan.c) and
 * printed here without loading libvirt at all. */
#include <stdio.h>
#include <string.h>

#include "provisioner/commands.h"
#include "provisioner/defaults.h"
#include "provisioner/hostcache.h"
#include "provisioner/identity.h"
#include "provisioner/images/image.h"
#include "provisioner/module.h"
#include "gpu/nodedev.h"
#include "provisioner/cli-progress.h"
#include "provisioner/up.h"
#include "domains/uri.h"
#include "provisioner/request.h"
#include "domains/xml.h"

typedef struct {
    char *spec_file;
    char *name;
    char *image;
    char *image_sha256;
    char *cpus;
    char *memory;
    char *disk;
    char *instance_type;
    char *network;
    char *gpu;
    char *gpu_memory;
    char *display;
    char *user;
    char **ssh_keys;
    char *user_data;
    char *network_config;
    char *seed_device;
    char *seed_from;
    char *arch;
    char *firmware;
    char *virt_type;
    char *mac;
    char *pool;
    char *osinfo;
    char *identity;
    gboolean dry_run;
    gboolean print_xml;
    gboolean no_wait;
    gboolean require_signature;
    int timeout;
} UpOptions;

static void
up_options_clear(UpOptions *o)
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
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(UpOptions, up_options_clear)

/* Sets a spec value from a flag the user gave: flags win over the spec file. */
static gboolean
apply_flags(VsSpec *spec, UpOptions *o, GError **error)
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
    if (o->cpus) {
        guint64 n;
        if (!g_ascii_string_to_unsigned(o->cpus, 10, 1, 4096, &n, NULL)) {
            g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID,
                        "--cpus: '%s' is not a number of vCPUs (1 to 4096)", o->cpus);
            return FALSE;
        }
        spec->cpus = (guint)n;
    }
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

static const char *const gpu_words[] = {"auto",  "none",         "virgl", "vgpu",
                                        "vgpu:", "passthrough:", NULL};
static const char *const network_words[] = {"user", "bridge:", "network:", NULL};
static const char *const display_words[] = {"none", "vnc", "spice", NULL};
static const char *const seed_device_words[] = {"disk", "cdrom", NULL};
static const char *const arch_words[] = {"x86_64", "aarch64", NULL};
static const char *const firmware_words[] = {"bios", "efi", NULL};
static const char *const virt_type_words[] = {"auto", "kvm", "qemu", NULL};

static const VsOption up_options[] = {
    {"file", 'f', 0, VS_FILENAME(UpOptions, spec_file), "Read the request from a spec file",
     "SPEC.yaml", VS_COMPLETE_FILE},
    {"image", 0, 0, VS_FILENAME(UpOptions, image),
     "The cloud image: a catalog alias (ubuntu:24.04), a qcow2 or raw file, an http(s) URL, "
     "or a pool volume (vol:[POOL/]NAME)",
     "IMAGE", VS_COMPLETE_IMAGE},
    {"image-sha256", 0, 0, VS_STRING(UpOptions, image_sha256),
     "The SHA-256 of an image given by URL", "HEX"},
    {"cpus", 0, 0, VS_STRING(UpOptions, cpus), "vCPUs (default 2)", "N"},
    {"memory", 0, 0, VS_STRING(UpOptions, memory), "Memory; a bare number is MiB (4096)", "SIZE"},
    {"disk", 0, 0, VS_STRING(UpOptions, disk), "System disk; a bare number is GiB (20)", "SIZE"},
    {"instance-type", 't', 0, VS_STRING(UpOptions, instance_type),
     "vCPUs and MiB at once, like c4m8192", "cNmM"},
    {"network", 0, 0, VS_STRING(UpOptions, network),
     "user, bridge:BR or network:NAME (default network:default, user on session)", "NET",
     VS_COMPLETE_WORDS, network_words},
    {"gpu", 0, 0, VS_STRING(UpOptions, gpu), "auto, none, virgl, vgpu[:TYPE], passthrough:ADDR",
     "MODE", VS_COMPLETE_WORDS, gpu_words},
    {"gpu-memory", 0, 0, VS_STRING(UpOptions, gpu_memory), "Smallest vGPU framebuffer (4G)",
     "SIZE"},
    {"display", 0, 0, VS_STRING(UpOptions, display), "none, vnc or spice (default none)", "HOW",
     VS_COMPLETE_WORDS, display_words},
    {"user", 0, 0, VS_STRING(UpOptions, user), "The login to create in the guest", "NAME"},
    {"ssh-key", 0, 0, VS_FILENAMES(UpOptions, ssh_keys),
     "Public key to authorize (repeatable); its private half FILE, when beside it, is the "
     "key virt-station logs in with",
     "FILE.pub", VS_COMPLETE_FILE},
    {"identity", 0, 0, VS_FILENAME(UpOptions, identity),
     "The private key to log in with (remembered for the workstation)", "FILE", VS_COMPLETE_FILE},
    {"user-data", 0, 0, VS_FILENAME(UpOptions, user_data), "Your own user-data, merged", "FILE",
     VS_COMPLETE_FILE},
    {"network-config", 0, 0, VS_FILENAME(UpOptions, network_config), "Your own network-config",
     "FILE", VS_COMPLETE_FILE},
    {"seed-device", 0, 0, VS_STRING(UpOptions, seed_device), "disk or cdrom (default disk)", "DEV",
     VS_COMPLETE_WORDS, seed_device_words},
    {"seed-from", 0, 0, VS_STRING(UpOptions, seed_from),
     "Let cloud-init fetch its seed from this URL instead (needs --no-wait: no host key to check)",
     "URL"},
    {"arch", 0, 0, VS_STRING(UpOptions, arch), "x86_64 or aarch64 (default: the host's)", "ARCH",
     VS_COMPLETE_WORDS, arch_words},
    {"firmware", 0, 0, VS_STRING(UpOptions, firmware), "bios or efi", "FW", VS_COMPLETE_WORDS,
     firmware_words},
    {"virt-type", 0, 0, VS_STRING(UpOptions, virt_type),
     "auto (kvm where it can run a guest, else qemu), kvm or qemu (software emulation)", "TYPE",
     VS_COMPLETE_WORDS, virt_type_words},
    {"mac", 0, 0, VS_STRING(UpOptions, mac), "The NIC's MAC address (default: random)", "MAC"},
    {"pool", 0, 0, VS_STRING(UpOptions, pool), "Storage pool (default: default)", "POOL"},
    {"osinfo", 0, 0, VS_STRING(UpOptions, osinfo),
     "The libosinfo id for the domain's metadata, like http://debian.org/debian/12 (default: "
     "from a catalog alias)",
     "ID"},
    {"dry-run", 'n', 0, VS_FLAG(UpOptions, dry_run), "Change nothing; say what would be done"},
    {"print-xml", 0, 0, VS_FLAG(UpOptions, print_xml), "Print the domain XML"},
    {"no-wait", 0, 0, VS_FLAG(UpOptions, no_wait), "Do not wait for the guest to be ready"},
    {"require-signature", 0, 0, VS_FLAG(UpOptions, require_signature),
     "Refuse an image whose checksum list's signature was not checked"},
    {"timeout", 0, 0, VS_INT(UpOptions, timeout), "Seconds to wait for readiness (600)", "S"},
    {NULL},
};

static int run_up(VsCli *cli, int argc, char **argv);

const VsCommand vs_command_up = {
    .name = "up",
    .args = "NAME",
    .summary = "Create a workstation from a cloud image and wait until ready",
    .description = "Create and start a workstation from a cloud image, wait until it is ready, "
                   "and say how to reach it.",
    .options = up_options,
    .run = run_up,
};

static int
run_up(VsCli *cli, int argc, char **argv)
{
    g_auto(UpOptions) o = {.timeout = 600};
    g_autoptr(VsSpec) spec = vs_spec_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *uri = NULL;
    VsUpFlags flags = {0};
    VsCaps caps;
    const VsModuleTable *module;

    if (!vs_cli_parse(cli, &vs_command_up, &o, &argc, &argv, &error))
        return vs_cli_fail(cli, "up", error);
    if (argc > 2) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE, "up: unexpected argument '%s'",
                    argv[2]);
        return vs_cli_fail(cli, "up", error);
    }
    if (argc == 2)
        o.name = g_strdup(argv[1]);
    if (o.spec_file && !vs_spec_load_file(spec, o.spec_file, &error))
        return vs_cli_fail(cli, "up", error);
    if (!apply_flags(spec, &o, &error) || !vs_up_spec_defaults(spec, &error))
        return vs_cli_fail(cli, "up", error);
    if (!spec->name) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE, "up: a workstation NAME is needed");
        return vs_cli_fail(cli, "up", error);
    }
    /* Before libvirt is asked anything and anything is fetched (vs_up_prepare checks again). */
    if (!vs_request_check(spec, &error))
        return vs_cli_fail(cli, "up", error);
    if (o.timeout < 1) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE, "up: --timeout must be positive");
        return vs_cli_fail(cli, "up", error);
    }
    /* --seed-from: cloud-init fetches the seed from the user's server, so the host key
     * virt-station generates never reaches the guest, and nothing could verify its sshd. The
     * decision (README, "The seed"): no host key is recorded, the user says --no-wait, and
     * wait, ssh and exec refuse such a workstation; the seed server owns its host key. */
    if (spec->seed_from && !o.no_wait) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                    "up: --seed-from needs --no-wait: the guest then gets its SSH host key from "
                    "your seed server, not from virt-station, so virt-station cannot verify its "
                    "sshd and will not wait for it, nor `ssh`/`exec` into it (use your own ssh "
                    "with the host key your server gives)");
        return vs_cli_fail(cli, "up", error);
    }
    flags.dry_run = o.dry_run;
    flags.print_xml = o.print_xml;
    flags.no_wait = o.no_wait;
    flags.timeout_s = (guint)o.timeout;
    if (o.identity && !vs_identity_check(o.identity, &error))
        return vs_cli_fail(cli, "up", error);
    flags.identity = o.identity;

    /* A dry run on a host whose facts are known needs no libvirt at all. */
    uri = vs_cli_uri(cli, &error);
    if (!uri)
        return vs_cli_fail(cli, "up", error);
    if (o.dry_run && vs_hostcache_load(uri, &caps)) {
        VsProgress progress = vs_cli_progress_reporter(cli);
        const VsUpHost host = {NULL, NULL, NULL}; /* a local host, and nothing is fetched */
        g_autoptr(VsUpPlan) plan = NULL;
        if (cli->debug)
            vs_cli_progress(cli, "host facts for %s from the cache", uri);
        plan = vs_up_prepare(spec, &caps, TRUE, &host, &progress, &error);
        if (!plan)
            return vs_cli_fail(cli, "up", error);
        return vs_up_print_dry_run(cli, plan, &flags);
    }
    module = vs_module_load(&error);
    if (!module)
        return vs_cli_fail(cli, "up", error);
    return module->up(cli, spec, &flags);
}

int
vs_up_print_dry_run(VsCli *cli, const VsUpPlan *plan, const VsUpFlags *flags)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vs_domain_xml(plan->config, &error);
    const VsDomainConfig *c = plan->config;

    if (!xml)
        return vs_cli_fail(cli, "up", error);
    if (flags->print_xml) {
        fputs(xml, stdout);
        return VS_EXIT_OK;
    }
    vs_cli_progress(cli,
                    "dry run: would define %s (%u vCPUs, %" G_GUINT64_FORMAT
                    " MiB, GPU %s, network %s); --print-xml shows the XML",
                    c->name, c->vcpus, c->memory_mib, vs_gpu_mode_to_string(c->gpu->mode),
                    vs_net_mode_to_string(c->net_mode));
    for (guint i = 0; i < plan->steps->len; i++)
        vs_cli_progress(cli, "  would %s", ((const VsUpStep *)plan->steps->pdata[i])->what);
    if (c->seed_from)
        vs_cli_progress(cli,
                        "  no seed volume: cloud-init fetches user-data and meta-data from %s; "
                        "no SSH host key is recorded (wait, ssh and exec refuse %s)",
                        c->seed_from, c->name);
    return VS_EXIT_OK;
}
