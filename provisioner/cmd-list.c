/* virt-station list / info: workstations and their details, as text or JSON (every object with
 * "version": 1, absent values null; the README's Commands section). */
#include <stdio.h>
#include <string.h>

#include "domains/listing.h"
#include "provisioner/cmd-snapshot.h"
#include "provisioner/commands.h"
#include "provisioner/run.h"
#include "provisioner/cli-progress.h"
#include "provisioner/json.h"
#include "provisioner/ready.h"
#include "provisioner/target.h"
#include "domains/snapshot.h"

/* Returns why @dom, which carries virt-station metadata written for another domain, is not a
 * workstation ("cloned from orig1"); NULL when it carries none. */
static char *
foreign_reason(virDomainPtr dom)
{
    g_autoptr(VsMetadata) copied = vs_lifecycle_metadata(dom, NULL);

    return copied ? vs_lifecycle_clone_reason(dom, copied) : NULL;
}

static const char *
state_of(const VsListed *e)
{
    return e->state_known ? vs_lifecycle_state_name(e->state) : "unknown";
}

static void
write_workstation(VsJson *j, const char *key, const VsListed *e)
{
    virDomainPtr dom = e->dom;
    const VsMetadata *s = e->station;

    vs_json_begin_object(j, key);
    vs_json_string(j, "name", virDomainGetName(dom));
    vs_json_bool(j, "owned", s != NULL);
    vs_json_string(j, "state", state_of(e));
    vs_json_int(j, "vcpus", e->vcpus);
    vs_json_int(j, "memory_mib", (gint64)(e->max_kib / 1024));
    if (!s) {
        vs_json_end_object(j);
        return;
    }
    /* What the domain has now (virt-xml --memory, the balloon); memory_mib is the maximum. */
    vs_json_int(j, "current_memory_mib", (gint64)(e->current_kib / 1024));
    vs_json_string(j, "image", s->image_alias);
    vs_json_begin_object(j, "network");
    vs_json_string(j, "mode", s->net_mode);
    vs_json_string(j, "mac", s->mac);
    vs_json_begin_array(j, "addresses");
    if (e->state_known && e->state != VIR_DOMAIN_SHUTOFF && e->state != VIR_DOMAIN_CRASHED) {
        g_autofree char *addr = vs_ready_address(dom, s);
        if (addr && !s->ssh_host)
            vs_json_string(j, NULL, addr);
    }
    vs_json_end_array(j);
    vs_json_string(j, "ssh_host", s->ssh_host);
    if (s->ssh_port)
        vs_json_int(j, "ssh_port", s->ssh_port);
    else
        vs_json_null(j, "ssh_port");
    vs_json_end_object(j);
    vs_json_string(j, "ssh_user", s->ssh_user);
    vs_json_begin_object(j, "gpu");
    vs_json_string(j, "mode", vs_metadata_gpu_mode(s));
    vs_json_string(j, "device", s->gpu_device);
    vs_json_string(j, "vgpu_type", s->gpu_vgpu_type);
    vs_json_string(j, "render_node", s->gpu_render_node);
    /* What was allocated: the vGPU's kind and mediated device, the passed-through functions. */
    vs_json_string(j, "vgpu_kind",
                   s->gpu_mode == VS_GPU_MODE_VGPU && s->gpu_vgpu_kind < VS_VGPU_KIND_LAST
                       ? vs_vgpu_kind_to_string(s->gpu_vgpu_kind)
                       : NULL);
    vs_json_string(j, "mdev_uuid", s->gpu_mdev_uuid);
    vs_json_begin_array(j, "functions");
    for (guint i = 0; s->gpu_functions && i < s->gpu_functions->len; i++)
        vs_json_string(j, NULL, s->gpu_functions->pdata[i]);
    vs_json_end_array(j);
    vs_json_begin_array(j, "reasons");
    for (guint i = 0; i < s->gpu_reasons->len; i++)
        vs_json_string(j, NULL, s->gpu_reasons->pdata[i]);
    vs_json_end_array(j);
    vs_json_end_object(j);
    vs_json_begin_array(j, "volumes");
    for (guint i = 0; i < s->volumes->len; i++) {
        const VsOwnedVolume *v = s->volumes->pdata[i];
        const VsListedSize *size = e->sizes ? &e->sizes[i] : NULL;
        vs_json_begin_object(j, NULL);
        vs_json_string(j, "pool", v->pool);
        vs_json_string(j, "name", v->name);
        if (size && size->known) {
            vs_json_int(j, "capacity_bytes", (gint64)size->capacity);
            vs_json_int(j, "allocation_bytes", (gint64)size->allocation);
        } else {
            vs_json_null(j, "capacity_bytes");
            vs_json_null(j, "allocation_bytes");
        }
        vs_json_end_object(j);
    }
    vs_json_end_array(j);
    vs_snapshot_write_json_list(j, "snapshots", e->snapshots);
    vs_json_end_object(j);
}

typedef struct {
    gboolean all;
    gboolean names;
} ListOptions;

static const VsOption list_options[] = {
    {"all", 'a', 0, VS_FLAG(ListOptions, all),
     "Also list domains virt-station did not create (marked foreign)"},
    {"names", 0, 0, VS_FLAG(ListOptions, names),
     "Print only the names, one per line (for scripts and shell completion)"},
    {NULL},
};

static int run_list(VsCli *cli, int argc, char **argv);

const VsCommand vs_command_list = {
    .name = "list",
    .args = "[--all] [--json | --names]",
    .summary = "List workstations (--all: foreign domains too)",
    .description = "List workstations.",
    .options = list_options,
    .run = run_list,
    .json = TRUE,
};

/* Prints {"version":1,"workstations":[...]} for @rows. */
static int
print_json(const GPtrArray *rows)
{
    VsJson j;

    vs_json_init(&j);
    vs_json_begin_object(&j, NULL);
    vs_json_int(&j, "version", 1);
    vs_json_begin_array(&j, "workstations");
    for (guint i = 0; i < rows->len; i++) {
        write_workstation(&j, NULL, rows->pdata[i]);
    }
    vs_json_end_array(&j);
    vs_json_end_object(&j);
    g_autofree char *out = vs_json_finish(&j);
    fputs(out, stdout);
    return VS_EXIT_OK;
}

/* Prints the table of @rows. */
static int
print_table(const GPtrArray *rows)
{
    printf("%-24s %-12s %5s %8s  %s\n", "NAME", "STATE", "VCPUS", "MEMORY", "SSH");
    for (guint i = 0; i < rows->len; i++) {
        const VsListed *e = rows->pdata[i];
        g_autofree char *ssh = NULL;
        if (!e->station && e->reason)
            ssh = g_strdup_printf("(foreign: %s)", e->reason);
        else if (!e->station)
            ssh = g_strdup("(foreign: not virt-station's)");
        else if (e->station->ssh_port)
            ssh = g_strdup_printf("%s@%s:%u", e->station->ssh_user, e->station->ssh_host,
                                  e->station->ssh_port);
        else
            ssh = g_strdup_printf("%s@(%s)", e->station->ssh_user, e->station->net_mode);
        printf("%-24s %-12s %5u %6lluMi  %s\n", virDomainGetName(e->dom), state_of(e), e->vcpus,
               e->max_kib / 1024, ssh);
    }
    return VS_EXIT_OK;
}

/* Prints the names of @rows, one per line. */
static int
print_names(const GPtrArray *rows)
{
    for (guint i = 0; i < rows->len; i++)
        printf("%s\n", virDomainGetName(((VsListed *)rows->pdata[i])->dom));
    return VS_EXIT_OK;
}

static int
run_list(VsCli *cli, int argc, char **argv)
{
    ListOptions o = {0};
    g_auto(VsTarget) t = {0};
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) rows = NULL;
    VsListingFlags flags = 0;

    if (!vs_cli_parse(cli, &vs_command_list, &o, &argc, &argv, &error))
        return vs_cli_fail(cli, "list", error);
    if (argc > 1) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE, "list: unexpected argument '%s'",
                    argv[1]);
        return vs_cli_fail(cli, "list", error);
    }
    if (o.names && cli->json) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                    "list: --names and --json exclude each other");
        return vs_cli_fail(cli, "list", error);
    }
    if (!vs_target_connect(cli, &t, &error))
        return vs_cli_fail(cli, "list", error);
    if (!o.names) {
        /* What runs killed with SIGKILL left (run.h). Not for --names: shell completion runs
         * it on every Tab, where a deletion and its message have no place. */
        VsProgress progress = vs_cli_progress_reporter(cli);
        vs_run_sweep(t.conn, t.uri, &progress);
    }
    if (o.all)
        flags |= VS_LISTING_FOREIGN | (o.names ? 0 : VS_LISTING_FOREIGN_REASONS);
    if (cli->json)
        flags |= VS_LISTING_VOLUMES | VS_LISTING_SNAPSHOTS;
    rows = vs_listing_collect(t.conn, flags, &error);
    if (!rows)
        return vs_cli_fail(cli, "list", error);
    if (o.names)
        return print_names(rows);
    return cli->json ? print_json(rows) : print_table(rows);
}

static int run_info(VsCli *cli, int argc, char **argv);

const VsCommand vs_command_info = {
    .name = "info",
    .args = "NAME [--json]",
    .summary = "Show a workstation",
    .description = "Show a workstation.",
    .operand = VS_COMPLETE_DOMAIN,
    .run = run_info,
    .json = TRUE,
};

static int
run_info(VsCli *cli, int argc, char **argv)
{
    g_auto(VsTarget) t = {0};
    g_autoptr(GError) error = NULL;
    const char *name;

    if (!vs_target_begin(cli, &vs_command_info, NULL, &argc, &argv, TRUE, &t, &name, &error))
        return vs_cli_fail(cli, "info", error);
    if (cli->json) {
        VsJson j;
        vs_json_init(&j);
        vs_json_begin_object(&j, NULL);
        vs_json_int(&j, "version", 1);
        g_autoptr(VsListed) entry = vs_listing_one(t.dom, g_steal_pointer(&t.station),
                                                   VS_LISTING_VOLUMES | VS_LISTING_SNAPSHOTS);
        write_workstation(&j, "workstation", entry);
        vs_json_end_object(&j);
        g_autofree char *out = vs_json_finish(&j);
        fputs(out, stdout);
        return VS_EXIT_OK;
    }
    virDomainInfo info = {0};
    virDomainGetInfo(t.dom, &info);
    printf("name:     %s\nstate:    %s\nvcpus:    %u\n", name, vs_lifecycle_state(t.dom),
           info.nrVirtCpu);
    if (info.memory != info.maxMem)
        printf("memory:   %llu MiB (maximum %llu MiB)\n", (unsigned long long)(info.memory / 1024),
               (unsigned long long)(info.maxMem / 1024));
    else
        printf("memory:   %llu MiB\n", (unsigned long long)(info.maxMem / 1024));
    if (!t.station) {
        g_autofree char *reason = foreign_reason(t.dom);
        if (reason)
            printf("owner:    not virt-station's (foreign): %s; `virt-station adopt %s` takes "
                   "it over\n",
                   reason, name);
        else
            printf("owner:    not virt-station (foreign): it is left alone\n");
        return VS_EXIT_OK;
    }
    printf("image:    %s (volume %s/%s)\n", t.station->image_alias, t.station->base_pool,
           t.station->base_volume);
    printf("network:  %s%s%s, MAC %s\n", t.station->net_mode, t.station->net_source ? " " : "",
           t.station->net_source ? t.station->net_source : "", t.station->mac);
    if (t.station->ssh_port)
        printf("ssh:      %s@%s port %u\n", t.station->ssh_user, t.station->ssh_host,
               t.station->ssh_port);
    else
        printf("ssh:      %s\n", t.station->ssh_user);
    printf("gpu:      %s%s%s%s%s%s%s\n", vs_metadata_gpu_mode(t.station),
           t.station->gpu_vgpu_type ? " type " : "",
           t.station->gpu_vgpu_type ? t.station->gpu_vgpu_type : "",
           t.station->gpu_mdev_uuid ? " mdev " : "",
           t.station->gpu_mdev_uuid ? t.station->gpu_mdev_uuid : "",
           t.station->gpu_device ? " on " : "", t.station->gpu_device ? t.station->gpu_device : "");
    for (guint i = 0; t.station->gpu_functions && i < t.station->gpu_functions->len; i++)
        printf("function: %s\n", (char *)t.station->gpu_functions->pdata[i]);
    for (guint i = 0; i < t.station->volumes->len; i++) {
        const VsOwnedVolume *v = t.station->volumes->pdata[i];
        printf("volume:   %s/%s (%s)\n", v->pool, v->name, v->role);
    }
    g_autoptr(GPtrArray) snaps = vs_snapshot_list(t.dom, NULL);
    for (guint i = 0; snaps && i < snaps->len; i++) {
        const VsSnapshotInfo *s = snaps->pdata[i];
        g_autofree char *created = vs_snapshot_time_string(s->created);
        printf("snapshot: %s (%s, %s%s)\n", s->name, created, s->state,
               s->current ? ", current" : "");
    }
    return VS_EXIT_OK;
}
