/* virt-station run: one command in a throwaway workstation.
 *
 * Theory of operation: the request is `up`'s (up-options.h), planned the same way (up.h) and
 * applied with the apply's transient form (up-apply.h): the domain is created with
 * VIR_DOMAIN_START_AUTODESTROY on a fresh overlay and seed, and the apply hands over the name
 * lock, which the run holds to its end (run.h says why). Then the wait of `up` (--timeout bounds
 * it), the copies in (run-copy.c), CMD over the same verified ssh as `exec`, its output going
 * straight to our stdout and stderr, the copies out; and at the end, whatever happened, the
 * domain is destroyed and its volumes deleted (vs_run_remove) — unless --keep-on-failure
 * keeps a failed run. Ctrl-C and SIGTERM only set a flag (interrupt.h) that every wait looks at,
 * so they end in the same removal; SIGKILL ends the connection, libvirt destroys the domain, and
 * the next run, up, list or image prune sweeps the volumes. */
#include <signal.h>
#include <stdio.h>

#include "domains/connect.h"
#include "domains/lifecycle.h"
#include "provisioner/cli-progress.h"
#include "provisioner/commands.h"
#include "provisioner/identity.h"
#include "provisioner/interrupt.h"
#include "provisioner/ready.h"
#include "provisioner/request.h"
#include "provisioner/run.h"
#include "provisioner/up-apply.h"
#include "provisioner/up-options.h"

typedef struct {
    VsUpOptions up; /* --name is up.name */
    int cmd_timeout;
    char **copy_in;
    char **copy_out;
    gboolean keep_on_failure;
} RunOptions;

static void
run_options_clear(RunOptions *o)
{
    vs_up_options_clear(&o->up);
    g_strfreev(o->copy_in);
    g_strfreev(o->copy_out);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(RunOptions, run_options_clear)

#define RUN_UP_FIELD(field) up.field
static const VsOption run_options[] = {
    {"name", 0, 0, VS_STRING(RunOptions, up.name), "The run's name (default: run-RANDOM)", "NAME"},
    VS_UP_OPTIONS(RunOptions, RUN_UP_FIELD){
        "cmd-timeout", 0, 0, VS_INT(RunOptions, cmd_timeout),
        "Seconds CMD may run; then it is killed and run exits 124 (default 0: no limit)", "S"},
    {"copy-in", 0, 0, VS_FILENAMES(RunOptions, copy_in),
     "Before CMD, copy the local file or folder SRC to DST in the guest (repeatable)", "SRC:DST",
     VS_COMPLETE_FILE},
    {"copy-out", 0, 0, VS_FILENAMES(RunOptions, copy_out),
     "After CMD, copy the guest's file or folder SRC to the local path DST (repeatable)", "SRC:DST",
     VS_COMPLETE_FILE},
    {"keep-on-failure", 0, 0, VS_FLAG(RunOptions, keep_on_failure),
     "When the run fails, keep the workstation (made persistent) and say how to reach it"},
    {NULL},
};

static int run_run(VsCli *cli, int argc, char **argv);

const VsCommand vs_command_run = {
    .name = "run",
    .args = "[--name NAME] -- CMD [ARGS...]",
    .summary = "Run a command in a throwaway workstation; exit with its status",
    .description =
        "Create a transient workstation on a fresh overlay, wait until it is ready, copy files "
        "in, run CMD over SSH with its output streamed, copy results out, and remove the "
        "workstation and its volumes whatever happens. Exits with CMD's status; 124 when "
        "--cmd-timeout expired, 125 when the run failed before CMD ran, 255 when SSH failed.",
    .options = run_options,
    .run = run_run,
};

/* Everything a run holds once its domain exists. */
typedef struct {
    VsCli *cli;
    VsProgress progress;
    const char *uri;
    const char *name;
    virDomainPtr dom;
    VsMetadata *station;
    char **logins;
    gint64 start_us;
} Run;

/* Prints @error and returns the exit status: 2 for bad usage, else 125 (CMD never ran). */
static int
fail(VsCli *cli, const GError *error)
{
    int status = vs_cli_fail(cli, "run", error);

    return status == VS_EXIT_USAGE ? status : VS_RUN_EXIT_NOT_RUN;
}

/* Returns the seconds since @start_us. */
static double
since(gint64 start_us)
{
    return (double)(g_get_monotonic_time() - start_us) / G_USEC_PER_SEC;
}

/* Copies each "SRC:DST" of @copies in (@in) or out over @ssh; stops at the first failure,
 * reported. Returns TRUE when all went well. */
static gboolean
copy_all(Run *r, const VsSshTarget *ssh, char **copies, gboolean in)
{
    for (guint i = 0; copies && copies[i]; i++) {
        g_autofree char *src = NULL, *dst = NULL;
        g_autoptr(GError) error = NULL;
        /* Checked before anything was made: this cannot fail. */
        if (!vs_run_split_copy(in ? "--copy-in" : "--copy-out", copies[i], &src, &dst, &error))
            g_assert_not_reached();
        vs_cli_progress(r->cli, "copying %s %s to %s", src, in ? "in" : "out", dst);
        if (!(in ? vs_run_copy_in : vs_run_copy_out)(ssh, src, dst, &error)) {
            vs_cli_fail(r->cli, "run", error);
            return FALSE;
        }
    }
    return TRUE;
}

/* Runs the part of the run that needs the domain running: the wait, the copies, CMD. Returns
 * how it ended. */
static VsRunOutcome
run_in(Run *r, const RunOptions *o, char **command)
{
    VsRunOutcome out = {0};
    g_autoptr(GError) error = NULL;
    g_autoptr(VsSshTarget) ssh = NULL;
    g_autoptr(GPtrArray) argv = NULL;
    g_autofree char *address = NULL;
    gint64 cmd_start;
    GPid pid;

    if (!vs_ready_wait(&r->progress, &r->dom, r->station, r->uri, (const char *const *)r->logins,
                       (guint)o->up.timeout, &error)) {
        /* The wait's messages are `up`'s, which keeps the workstation: a run does not. */
        if (g_error_matches(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_CANCELLED))
            vs_cli_warn("run: interrupted while waiting for %s", r->name);
        else
            vs_cli_warn("run: %s is not ready: %s\n(%s)", r->name, error->message,
                        o->keep_on_failure
                            ? "--keep-on-failure keeps it, as said below"
                            : "run removes it now; --keep-on-failure keeps a failed run");
        return out;
    }
    vs_cli_progress(r->cli, "%s ready after %.0f s", r->name, since(r->start_us));
    address = r->station->ssh_port ? NULL : vs_ready_address(r->dom, r->station);
    ssh = vs_ssh_target_new(r->uri, r->name, r->station, address, (const char *const *)r->logins,
                            &error);
    if (!ssh) {
        vs_cli_fail(r->cli, "run", error);
        return out;
    }
    if (!copy_all(r, ssh, o->copy_in, TRUE) || vs_interrupted())
        return out;
    argv = vs_ssh_argv(ssh, TRUE, FALSE, command);
    fflush(stdout);
    fflush(stderr);
    cmd_start = g_get_monotonic_time();
    if (!g_spawn_async(NULL, (char **)argv->pdata, NULL,
                       G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, &error)) {
        g_prefix_error(&error, "running ssh (install openssh-client): ");
        vs_cli_fail(r->cli, "run", error);
        return out;
    }
    out.cmd_ran = TRUE;
    out.cmd_status = vs_run_wait_child(
        pid, o->cmd_timeout > 0 ? cmd_start + (gint64)o->cmd_timeout * G_USEC_PER_SEC : 0,
        &out.cmd_timed_out, &out.interrupted);
    if (out.cmd_timed_out)
        vs_cli_warn("run: CMD ran longer than --cmd-timeout %d s and was killed", o->cmd_timeout);
    else if (out.interrupted)
        vs_cli_warn("run: interrupted while CMD ran");
    else
        vs_cli_progress(r->cli, "CMD exited %d after %.1f s", out.cmd_status, since(cmd_start));
    if (!out.interrupted)
        out.copy_out_failed = !copy_all(r, ssh, o->copy_out, FALSE);
    return out;
}

/* Keeps the failed run @r (@status): persistent and marked kept. Returns FALSE when it could
 * not be kept (it is removed then). */
static gboolean
keep(Run *r, int status)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *reason = status == VS_RUN_EXIT_NOT_RUN
                                  ? g_strdup("the run failed before CMD ran")
                                  : g_strdup_printf("the run exited %d", status);
    g_autoptr(virDomain) kept = vs_run_keep(r->dom, reason, &error);

    if (!kept) {
        vs_cli_warn("run: could not keep %s: %s; removing it", r->name, error->message);
        return FALSE;
    }
    vs_cli_warn("run: kept %s (%s) as a persistent workstation. libvirt stops it when this "
                "process ends (it was created to go with the run's connection): "
                "`virt-station start %s` starts it again, `virt-station ssh %s` logs in, "
                "`virt-station delete %s` deletes it and its volumes",
                r->name, reason, r->name, r->name, r->name);
    return TRUE;
}

/* Destroys the run's domain and deletes its volumes, saying what could not be. */
static void
remove_run(Run *r)
{
    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    char uuid[VIR_UUID_STRING_BUFLEN];

    if (virDomainGetUUIDString(r->dom, uuid) == 0)
        vs_identity_forget(r->uri, uuid);
    if (!r->station) {
        /* No metadata to name the volumes: the sweep takes them once the lock is free. */
        virDomainDestroy(r->dom);
        vs_cli_warn("run: destroyed %s; its volumes go with the next run, up or list", r->name);
        return;
    }
    if (!vs_run_remove(r->dom, r->station, notes, &error))
        vs_cli_warn("run: removing %s: %s; the next run, up or list removes what is left", r->name,
                    error->message);
    for (guint i = 0; i < notes->len; i++)
        vs_cli_warn("run: %s", (const char *)notes->pdata[i]);
    if (!error && notes->len == 0)
        vs_cli_progress(r->cli, "removed %s and its volumes (%.0f s in all)", r->name,
                        since(r->start_us));
}

/* Checks what can be checked before anything is made. Returns FALSE with @error set. */
static gboolean
check_options(RunOptions *o, GError **error)
{
    guint in = o->copy_in ? g_strv_length(o->copy_in) : 0;
    guint out = o->copy_out ? g_strv_length(o->copy_out) : 0;

    if (in + out > VS_RUN_COPIES_MAX) {
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE, "run: more than %d copies",
                    VS_RUN_COPIES_MAX);
        return FALSE;
    }
    for (guint i = 0; i < in + out; i++) {
        g_autofree char *src = NULL, *dst = NULL;
        gboolean is_in = i < in;
        if (!vs_run_split_copy(is_in ? "run: --copy-in" : "run: --copy-out",
                               is_in ? o->copy_in[i] : o->copy_out[i - in], &src, &dst, error))
            return FALSE;
        if (is_in && !g_file_test(src, G_FILE_TEST_EXISTS)) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                        "run: --copy-in: %s does not exist", src);
            return FALSE;
        }
    }
    if (o->cmd_timeout < 0) {
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                    "run: --cmd-timeout must be 0 (no limit) or positive");
        return FALSE;
    }
    if (o->up.print_xml && !o->up.dry_run) {
        /* Else it would be ignored and the run made: the XML is only printed by a dry run. */
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                    "run: --print-xml goes with --dry-run (run --dry-run --print-xml -- CMD)");
        return FALSE;
    }
    if (o->up.timeout < 1) {
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE, "run: --timeout must be positive");
        return FALSE;
    }
    return TRUE;
}

static int
run_run(VsCli *cli, int argc, char **argv)
{
    g_auto(RunOptions) o = {.up.timeout = 600};
    g_autoptr(VsSpec) spec = vs_spec_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *uri = NULL;
    g_autoptr(virConnect) conn = NULL;
    g_autoptr(VsUpPlan) plan = NULL;
    g_autoptr(VsLock) name_lock = NULL;
    g_autoptr(virDomain) dom = NULL;
    g_autoptr(VsMetadata) station = NULL;
    g_auto(GStrv) logins = NULL;
    VsUpFlags flags = {0};
    VsRunOutcome outcome;
    char **command = NULL;
    int status;
    Run r = {.cli = cli, .start_us = g_get_monotonic_time()};

    /* Everything after "--" is CMD, untouched by option parsing. */
    for (int i = 1; i < argc; i++) {
        if (g_strcmp0(argv[i], "--") == 0) {
            command = argv + i + 1;
            argc = i;
            break;
        }
    }
    if (!vs_cli_parse(cli, &vs_command_run, &o, &argc, &argv, &error))
        return fail(cli, error);
    if (argc > 1)
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                    "run: unexpected argument '%s' (the command goes after --; --name NAME "
                    "names the run)",
                    argv[1]);
    else if (!command || !command[0])
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                    "run: give the command after --, as in `run --image IMAGE -- make check`");
    if (error || !check_options(&o, &error))
        return fail(cli, error);
    if (!o.up.name)
        o.up.name = vs_run_random_name();
    if (!vs_up_options_to_spec(&o.up, spec, &error) || !vs_request_check(spec, &error))
        return fail(cli, error);
    if (spec->seed_from) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                    "run: --seed-from cannot be used: run verifies the guest's sshd with the host "
                    "key of the seed it makes");
        return fail(cli, error);
    }
    if (o.up.identity && !vs_identity_check(o.up.identity, &error))
        return fail(cli, error);
    flags.dry_run = o.up.dry_run;
    flags.print_xml = o.up.print_xml;
    flags.timeout_s = (guint)o.up.timeout;
    flags.identity = o.up.identity;

    uri = vs_cli_uri(cli, &error);
    conn = uri ? vs_connect_open(uri, &error) : NULL;
    if (!conn)
        return fail(cli, error);
    r.uri = uri;
    r.name = spec->name;
    r.progress = vs_cli_progress_reporter(cli);
    vs_interrupt_catch();
    signal(SIGPIPE, SIG_IGN); /* a copy's ssh that ends early is an error, not our death */
    if (!flags.dry_run)
        vs_run_sweep(conn, uri, &r.progress);
    plan = vs_up_plan_on(conn, uri, spec, flags.dry_run, &r.progress, &error);
    if (!plan)
        return fail(cli, error);
    if (flags.dry_run)
        return vs_up_print_dry_run(cli, plan, &flags);

    logins = vs_up_login_identities(spec, &flags);
    {
        const VsUpApply ctx = {.conn = conn,
                               .uri = uri,
                               .remote = plan->remote,
                               .spec = spec,
                               .logins = (const char *const *)logins,
                               .progress = &r.progress,
                               .transient = TRUE,
                               .ret_name_lock = &name_lock};
        dom = vs_up_apply(plan, &ctx, &error);
    }
    if (!dom)
        return fail(cli, error);
    vs_cli_progress(cli, "  %s started (transient: %u vCPUs, %" G_GUINT64_FORMAT " MiB)",
                    spec->name, plan->config->vcpus, plan->config->memory_mib);
    station = vs_lifecycle_owned(dom, &error);
    r.dom = dom;
    r.station = station;
    r.logins = logins;
    if (station) {
        outcome = run_in(&r, &o, command);
    } else {
        vs_cli_fail(cli, "run", error);
        outcome = (VsRunOutcome){0};
    }
    status = vs_run_exit_status(&outcome);
    if (!(status != 0 && o.keep_on_failure && !outcome.interrupted && !vs_interrupted() &&
          keep(&r, status)))
        remove_run(&r);
    /* The name lock goes last, with the volumes gone (or the domain kept). */
    return status;
}
