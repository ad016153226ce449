/* virt-station gpu probe: the host's GPUs and the plan `--gpu auto` would make. */
#include <stdio.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "provisioner/commands.h"
#include "provisioner/gpu-site.h"
#include "provisioner/target.h"
#include "domains/lifecycle.h"
#include "domains/caps.h"
#include "domains/config.h"
#include "domains/connect.h"
#include "provisioner/gpujson.h"
#include "gpu/select.h"
#include "provisioner/spec.h"
#include "provisioner/sshcmd.h"

/* Returns the state of the journal entry @c: its domain exists on @conn, an `up` is still
 * making it, or it is stale; "unknown" without a connection. */
static const char *
claim_state(virConnectPtr conn, const char *uri, const VsGpuClaim *c)
{
    g_autoptr(virDomain) dom = NULL;
    gboolean same = conn && g_strcmp0(c->uri, uri) == 0;

    dom = same ? virDomainLookupByUUIDString(conn, c->domain_uuid) : NULL;
    if (dom)
        return "held";
    if (c->pid > 0 && (kill((pid_t)c->pid, 0) == 0 || errno == EPERM))
        return "in progress";
    return same && virGetLastErrorCode() == VIR_ERR_NO_DOMAIN ? "stale" : "unknown";
}

/* Returns whether the domain @name of @conn is a workstation (virt-station's metadata, its own). */
static gboolean
owned_by_name(virConnectPtr conn, const char *name)
{
    g_autoptr(virDomain) dom = virDomainLookupByName(conn, name);
    g_autoptr(VsMetadata) station = dom ? vs_lifecycle_owned(dom, NULL) : NULL;

    return station != NULL;
}

/* Returns what is given to whom (VsGpuAllocation): the journal's entries, then the PCI
 * functions and mediated devices of @inv it does not name that a domain's definition uses (a
 * workstation's after a host reboot cleared the journal, or another tool's), with that domain.
 * Only reports: nothing is given back here. */
static GPtrArray *
allocations(virConnectPtr conn, const char *given_uri, const VsGpuInventory *inv, GError **error)
{
    g_autofree char *uri = conn ? vs_target_host_uri(conn, given_uri) : g_strdup(given_uri);
    g_autofree char *dir = vs_gpu_site_journal_dir(uri);
    g_autoptr(GPtrArray) claims = vs_gpu_journal_read(dir, error);
    g_autoptr(GHashTable) users =
        conn ? vs_lifecycle_gpu_users(conn, NULL, NULL, NULL, NULL) : NULL;
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    GPtrArray *ret = g_ptr_array_new_with_free_func((GDestroyNotify)vs_gpu_allocation_free);

    if (!claims)
        return g_ptr_array_unref(ret), NULL;
    for (guint i = 0; i < claims->len; i++) {
        const VsGpuClaim *c = claims->pdata[i];
        VsGpuAllocation *a = g_new0(VsGpuAllocation, 1);
        a->kind = g_strdup(vs_gpu_claim_kind_to_string(c->kind));
        a->id = g_strdup(c->id);
        a->device = g_strdup(c->kind == VS_GPU_CLAIM_MDEV ? c->parent : c->device);
        a->vgpu_type = g_strdup(c->vgpu_type);
        a->workstation = g_strdup(c->domain_name);
        a->state = g_strdup(claim_state(conn, uri, c));
        g_hash_table_add(seen, c->id);
        g_ptr_array_add(ret, a);
    }
    /* PCI functions of this inventory that a domain's definition uses (a VF, a passed-through
     * card) and the journal does not name. */
    for (guint i = 0; users && i < inv->devices->len; i++) {
        const VsGpuDevice *d = inv->devices->pdata[i];
        const char *user = g_hash_table_lookup(users, d->address);
        VsGpuAllocation *a;
        if (!user || g_hash_table_contains(seen, d->address))
            continue;
        a = g_new0(VsGpuAllocation, 1);
        a->kind = g_strdup(d->physfn ? "vf" : "passthrough");
        a->id = g_strdup(d->address);
        a->device = g_strdup(d->address);
        a->workstation = g_strdup(user);
        a->state = g_strdup(owned_by_name(conn, user) ? "held" : "not virt-station's");
        g_ptr_array_add(ret, a);
    }
    for (guint i = 0; i < inv->mdevs->len; i++) {
        const VsMdev *m = inv->mdevs->pdata[i];
        const char *user = users ? g_hash_table_lookup(users, m->uuid) : NULL;
        VsGpuAllocation *a;
        if (g_hash_table_contains(seen, m->uuid))
            continue;
        a = g_new0(VsGpuAllocation, 1);
        a->kind = g_strdup("mdev");
        a->id = g_strdup(m->uuid);
        a->device = g_strdup(m->parent);
        a->vgpu_type = g_strdup(m->type_id);
        a->workstation = g_strdup(user);
        a->state = g_strdup(!users                              ? "unknown"
                            : user && owned_by_name(conn, user) ? "held"
                                                                : "not virt-station's");
        g_ptr_array_add(ret, a);
    }
    return ret;
}

typedef struct {
    char *sysfs_root;
    char *from;
    char *gpu_memory;
} GpuOptions;

static const char *const from_words[] = {"sysfs", "libvirt", NULL};

static const VsOption gpu_options[] = {
    {"sysfs-root", 0, 0, VS_FILENAME(GpuOptions, sysfs_root),
     "Read sysfs from DIR instead of /sys ($VIRT_STATION_SYSFS_ROOT)", "DIR",
     VS_COMPLETE_DIRECTORY},
    {"from", 0, 0, VS_STRING(GpuOptions, from),
     "Where the inventory comes from: sysfs (default for a local libvirt) or libvirt (its "
     "node devices; default for a remote one)",
     "SOURCE", VS_COMPLETE_WORDS, from_words},
    {"gpu-memory", 0, 0, VS_STRING(GpuOptions, gpu_memory),
     "Smallest vGPU framebuffer to plan for (4G)", "SIZE"},
    {NULL},
};
VS_OPTIONS_AUTO_CLEAR(GpuOptions, gpu_options)

static const char *const gpu_subcommands[] = {"probe", NULL};

static int run_gpu(VsCli *cli, int argc, char **argv);

const VsCommand vs_command_gpu = {
    .name = "gpu",
    .args = "probe [--json] [--sysfs-root DIR]",
    .summary = "Show the host's GPUs and the plan --gpu auto would make",
    .description = "Show the host's GPUs and the plan --gpu auto would make.",
    .options = gpu_options,
    .subcommands = gpu_subcommands,
    .run = run_gpu,
    .json = TRUE,
};

static int
run_gpu(VsCli *cli, int argc, char **argv)
{
    g_auto(GpuOptions) o = {0};
    g_autoptr(GError) error = NULL;
    g_autoptr(VsGpuInventory) inv = NULL;
    g_autoptr(VsGpuPlan) plan = NULL;
    g_autofree char *uri = NULL, *jump = NULL;
    g_autoptr(GPtrArray) given = NULL;
    unsigned long qemu = 0;
    guint64 bytes = 4096ULL << 20;
    VsGpuWhere where;

    if (!vs_cli_parse(cli, &vs_command_gpu, &o, &argc, &argv, &error))
        return vs_cli_fail(cli, "gpu", error);
    if (argc != 2 || strcmp(argv[1], "probe") != 0) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE, "gpu: the command is `gpu probe`");
        return vs_cli_fail(cli, "gpu", error);
    }
    if (o.gpu_memory) {
        /* The rules of `up --gpu-memory`: whole MiB, at most VS_SPEC_GPU_MEMORY_MAX. */
        guint64 mib;
        if (!vs_spec_parse_mib(o.gpu_memory, VS_SPEC_GPU_MEMORY_MAX, "--gpu-memory", &mib, &error))
            return vs_cli_fail(cli, "gpu", error);
        bytes = mib << 20;
    }
    uri = vs_cli_uri(cli, &error);
    if (!uri)
        return vs_cli_fail(cli, "gpu", error);
    jump = vs_ssh_jump_from_uri(uri);
    /* What the connection allows decides the plan as for `up`. */
    where = (jump ? VS_GPU_WHERE_REMOTE : 0) |
            (g_str_has_suffix(uri, "/session") ? VS_GPU_WHERE_SESSION : 0);
    if (o.from && strcmp(o.from, "sysfs") != 0 && strcmp(o.from, "libvirt") != 0) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                    "gpu probe: --from is sysfs or libvirt, not '%s'", o.from);
        return vs_cli_fail(cli, "gpu", error);
    }
    {
        /* The hypervisor's version decides virgl; without libvirt it is taken as new enough. */
        g_autoptr(GError) conn_error = NULL;
        g_autoptr(virConnect) conn = vs_connect_open(uri, &conn_error);
        gboolean use_libvirt = o.from ? strcmp(o.from, "libvirt") == 0 : (jump && !o.sysfs_root);
        unsigned long libvirt = 0;
        if (conn) {
            virConnectGetVersion(conn, &qemu);
            virConnectGetLibVersion(conn, &libvirt);
        } else if (use_libvirt) {
            return vs_cli_fail(cli, "gpu", conn_error);
        } else if (cli->debug) {
            vs_cli_warn("%s: QEMU's version is unknown", conn_error->message);
        }
        if (libvirt && libvirt < VS_VENDOR_VF_LIBVIRT)
            where |= VS_GPU_WHERE_OLD_LIBVIRT;
        inv = vs_gpu_host_inventory(use_libvirt, o.sysfs_root, vs_caps_gpu_inventory, conn, &error);
        if (inv)
            given = allocations(conn, uri, inv, &error);
    }
    if (!inv || !given)
        return vs_cli_fail(cli, "gpu", error);
    for (guint i = 0; i < inv->warnings->len; i++)
        vs_cli_warn("%s", (char *)inv->warnings->pdata[i]);
    /* Exactly the plan `up --gpu auto` makes. */
    plan = vs_gpu_plan_request("auto", bytes >> 20, inv, NULL, qemu, where, &error);
    if (!plan)
        return vs_cli_fail(cli, "gpu", error);
    if (cli->json) {
        g_autofree char *json = vs_gpujson_probe(inv, plan, given);
        fputs(json, stdout);
        return VS_EXIT_OK;
    }
    if (inv->devices->len == 0)
        printf("no GPU found\n");
    for (guint i = 0; i < inv->devices->len; i++) {
        const VsGpuDevice *d = inv->devices->pdata[i];
        printf("%s  %04x:%04x  %s %s  driver %s%s%s\n", d->address, d->vendor_id, d->device_id,
               d->vendor ? d->vendor : "?", d->name ? d->name : "?", d->driver ? d->driver : "none",
               d->render_node ? "  " : "", d->render_node ? d->render_node : "");
        for (guint k = 0; k < d->vgpu_types->len; k++) {
            const VsVgpuType *t = d->vgpu_types->pdata[k];
            printf("    vGPU %-12s %-20s %3" G_GINT64_FORMAT " available  %" G_GUINT64_FORMAT
                   " MiB  (%s)\n",
                   t->id, t->name, t->available, t->framebuffer_mib,
                   vs_vgpu_kind_to_string(t->kind));
        }
    }
    printf("plan for --gpu auto: %s%s%s\n", vs_gpu_mode_to_string(plan->mode),
           plan->device ? " on " : "", plan->device ? plan->device : "");
    for (guint i = 0; i < plan->reasons->len; i++)
        printf("  - %s\n", (char *)plan->reasons->pdata[i]);
    for (guint i = 0; i < given->len; i++) {
        const VsGpuAllocation *a = given->pdata[i];
        printf("%s %s%s%s on %s: %s%s%s\n", a->kind, a->id, a->vgpu_type ? " type " : "",
               a->vgpu_type ? a->vgpu_type : "", a->device ? a->device : "?", a->state,
               a->workstation ? ", " : "", a->workstation ? a->workstation : "");
    }
    return VS_EXIT_OK;
}
