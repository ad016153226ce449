/* virt-station up, the half that needs libvirt (in the libvirt module): connects, reads the
 * host's capabilities and GPUs, fetches the image, plans (up-plan.c), then prints the dry run or
 * applies the plan (up-apply.c) and waits until the workstation is ready. */
#include <stdio.h>

#include "domains/caps.h"
#include "provisioner/cli-progress.h"
#include "domains/connect.h"
#include "provisioner/hostcache.h"
#include "provisioner/identity.h"
#include "provisioner/images/fetch.h"
#include "provisioner/interrupt.h"
#include "domains/lifecycle.h"
#include "provisioner/module.h"
#include "provisioner/ready.h"
#include "provisioner/run.h"
#include "provisioner/up-apply.h"

/* Returns the keys to log in with: --identity, else the private halves of the --ssh-key files
 * that sit beside them; NULL for neither (the agent, ssh's defaults, virt-station's own key). */
char **
vs_up_login_identities(const VsSpec *spec, const VsUpFlags *flags)
{
    g_autoptr(GPtrArray) pubs = g_ptr_array_new();
    g_auto(GStrv) halves = NULL;

    if (flags->identity) {
        g_autoptr(GError) error = NULL;
        char **one = NULL;
        /* Checked by the program already: this cannot fail but for a race. */
        if (!vs_identity_resolve(flags->identity, NULL, NULL, &one, &error))
            vs_cli_warn("%s", error->message);
        return one;
    }
    for (guint i = 0; i < spec->ssh_keys->len; i++)
        g_ptr_array_add(pubs, spec->ssh_keys->pdata[i]);
    g_ptr_array_add(pubs, NULL);
    halves = vs_identity_from_public((const char *const *)pubs->pdata);
    return halves[0] ? g_steal_pointer(&halves) : NULL;
}

static void
print_how_to_connect(const VsDomainConfig *config)
{
    printf("%s is ready. Log in with:\n  virt-station ssh %s\n", config->name, config->name);
    if (config->net_mode == VS_NET_USER)
        printf("(SSH goes to 127.0.0.1 port %u on the libvirt host, as %s; virt-station checks "
               "the guest's host key)\n",
               config->ssh_port, config->ssh_user);
    fflush(stdout);
}

/* A failed download leaves nothing. */
VsUpPlan *
vs_up_plan_on(virConnectPtr conn, const char *uri, const VsSpec *spec, gboolean dry_run,
              const VsProgress *progress, GError **error)
{
    VsCaps caps = {.arch = VS_ARCH_X86_64};
    const VsUpHost host = {vs_caps_gpu_inventory, conn, dry_run ? NULL : vs_image_fetch};

    if (conn) {
        if (!vs_caps_probe(conn, &caps, error))
            return NULL;
        vs_hostcache_store(uri, &caps);
    }
    return vs_up_prepare(spec, &caps, conn != NULL, &host, progress, error);
}

int
vs_module_up(VsCli *cli, VsSpec *spec, const VsUpFlags *flags)
{
    g_autoptr(GError) error = NULL, conn_error = NULL;
    g_autofree char *uri = vs_cli_uri(cli, &error);
    g_autoptr(virConnect) conn = uri ? vs_connect_open(uri, &conn_error) : NULL;
    VsProgress progress = vs_cli_progress_reporter(cli);
    g_autoptr(VsUpPlan) plan = NULL;
    g_autoptr(virDomain) dom = NULL;
    g_autoptr(VsMetadata) station = NULL;
    g_auto(GStrv) logins = NULL;

    if (!uri)
        return vs_cli_fail(cli, "up", error);
    if (!conn && !flags->dry_run)
        return vs_cli_fail(cli, "up", conn_error);
    if (!conn)
        vs_cli_warn("%s; assuming an x86_64 host without KVM (domain type qemu) and libvirt "
                    "older than 9.2 for this dry run",
                    conn_error->message);
    vs_interrupt_catch();
    if (!flags->dry_run)
        vs_run_sweep(conn, uri, &progress); /* what runs killed with SIGKILL left (run.h) */
    plan = vs_up_plan_on(conn, uri, spec, flags->dry_run, &progress, &error);
    if (!plan)
        return vs_cli_fail(cli, "up", error);
    if (flags->dry_run)
        return vs_up_print_dry_run(cli, plan, flags);

    logins = vs_up_login_identities(spec, flags);
    {
        const VsUpApply ctx = {conn,     uri, plan->remote, spec, (const char *const *)logins,
                               &progress};
        dom = vs_up_apply(plan, &ctx, &error);
    }
    if (!dom)
        return vs_cli_fail(cli, "up", error);
    vs_cli_progress(cli, "  %s started (%u vCPUs, %" G_GUINT64_FORMAT " MiB, GPU %s)",
                    plan->config->name, plan->config->vcpus, plan->config->memory_mib,
                    vs_gpu_mode_to_string(plan->config->gpu->mode));

    /* From here on the workstation is kept, whatever happens. */
    if (flags->no_wait) {
        printf("%s started; `virt-station wait %s` waits until it is ready\n", plan->config->name,
               plan->config->name);
        return VS_EXIT_OK;
    }
    station = vs_lifecycle_owned(dom, &error);
    if (!station || !vs_ready_wait(&progress, &dom, station, uri, (const char *const *)logins,
                                   flags->timeout_s, &error))
        return vs_cli_fail(cli, "up", error);
    print_how_to_connect(plan->config);
    return VS_EXIT_OK;
}
