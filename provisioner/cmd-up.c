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
#include "provisioner/cli-progress.h"
#include "provisioner/up.h"
#include "provisioner/up-options.h"
#include "domains/uri.h"
#include "provisioner/request.h"
#include "domains/xml.h"

typedef VsUpOptions UpOptions;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(UpOptions, vs_up_options_clear)

static const VsOption up_options[] = {
    VS_UP_OPTIONS(UpOptions, VS_UP_FIELD){"no-wait", 0, 0, VS_FLAG(UpOptions, no_wait),
                                          "Do not wait for the guest to be ready"},
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
    if (!vs_up_options_to_spec(&o, spec, &error))
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
