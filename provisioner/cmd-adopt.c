/* virt-station adopt: take over a copy of a workstation (virt-clone, virt-manager's Clone).
 *
 * A copy carries the original's <vs:station> metadata verbatim: it names the original's volumes
 * and MAC, and records the original's UUID, which is how the copy is recognised and why it is
 * left alone until adopted. Adopting rewrites its metadata for it: its own UUID, the volumes its
 * disks really use, its own MAC, and a forwarded port of its own when the copied one belongs to
 * another workstation. Decisions: a domain that is already a workstation is left as it is
 * (exit 0, "nothing changed"); a domain without virt-station metadata is refused (exit 3):
 * adopt takes over copies of workstations, it does not make workstations of other domains. */
#include <stdio.h>

#include "provisioner/cli-progress.h"
#include "provisioner/commands.h"
#include "provisioner/ports.h"
#include "provisioner/target.h"
#include "domains/uri.h"

static int run_adopt(VsCli *cli, int argc, char **argv);

const VsCommand vs_command_adopt = {
    .name = "adopt",
    .args = "NAME",
    .summary = "Take over a copy of a workstation (virt-clone, virt-manager's Clone)",
    .description = "Take over a copy of a workstation (made by virt-clone or virt-manager's "
                   "Clone): its metadata is rewritten to its own UUID, disks, MAC and forwarded "
                   "port.",
    .operand = VS_COMPLETE_DOMAIN,
    .run = run_adopt,
};

static int
run_adopt(VsCli *cli, int argc, char **argv)
{
    g_auto(VsTarget) t = {0};
    g_autoptr(GError) error = NULL;
    g_autoptr(VsMetadata) copied = NULL;
    g_autoptr(VsMetadata) adopted = NULL;
    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *reason = NULL;
    virDomainPtr dom;
    const char *name;
    guint port = 0, old_port;
    VsProgress progress = vs_cli_progress_reporter(cli);

    if (!vs_target_begin(cli, &vs_command_adopt, NULL, &argc, &argv, TRUE, &t, &name, &error) ||
        !vs_target_lock(&t, FALSE, &progress, &error))
        return vs_cli_fail(cli, "adopt", error);
    if (t.station) {
        vs_cli_progress(cli, "%s is a workstation already; nothing changed", name);
        return VS_EXIT_OK;
    }
    copied = vs_lifecycle_metadata(t.dom, &error);
    if (!copied) {
        g_prefix_error(&error, "%s: ", name);
        if (g_error_matches(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FOREIGN)) {
            g_clear_error(&error);
            g_set_error(&error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FOREIGN,
                        "%s carries no virt-station metadata: adopt takes over copies of "
                        "workstations only; it is left alone",
                        name);
        }
        return vs_cli_fail(cli, "adopt", error);
    }
    reason = vs_lifecycle_clone_reason(t.dom, copied);

    /* A copy made from our XML asks QEMU for the original's port: it gets one of its own. */
    old_port = vs_lifecycle_forwarded_port(t.dom);
    if (old_port) {
        g_autoptr(GHashTable) used = NULL;
        /* Under the port lock: no other command chooses a port meanwhile. */
        t.port_lock = vs_lock_take(VS_LOCK_PORT, NULL, TRUE, &error);
        used = t.port_lock ? vs_lifecycle_used_ports(t.conn, t.dom, &error) : NULL;
        if (!used)
            return vs_cli_fail(cli, "adopt", error);
        if (g_hash_table_contains(used, GUINT_TO_POINTER(old_port))) {
            port = vs_target_free_port(t.conn, !vs_uri_is_local_qemu(t.uri), 0, t.dom, &error);
            if (!port)
                return vs_cli_fail(cli, "adopt", error);
        }
    }
    dom = vs_lifecycle_adopt(t.dom, port, notes, &error);
    if (!dom)
        return vs_cli_fail(cli, "adopt", error);
    virDomainFree(t.dom);
    t.dom = dom;
    for (guint i = 0; i < notes->len; i++)
        vs_cli_warn("%s", (const char *)notes->pdata[i]);

    adopted = vs_lifecycle_owned(t.dom, &error);
    if (!adopted)
        return vs_cli_fail(cli, "adopt", error);
    printf("%s adopted (it was %s); it owns:", name, reason ? reason : "a copy");
    for (guint i = 0; i < adopted->volumes->len; i++) {
        const VsOwnedVolume *v = adopted->volumes->pdata[i];
        printf(" %s/%s (%s)", v->pool, v->name, v->role);
    }
    printf("%s\n", adopted->volumes->len ? "" : " no volume");
    return VS_EXIT_OK;
}
