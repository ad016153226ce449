/* virt-station snapshot create|list|revert|delete NAME [SNAP]: libvirt's internal snapshots of a
 * workstation (domains/snapshot.c says what they hold and what is refused). */
#include "provisioner/cmd-snapshot.h"

#include <stdio.h>
#include <string.h>

#include "domains/snapshot.h"
#include "provisioner/cli-progress.h"
#include "provisioner/commands.h"
#include "provisioner/request.h"
#include "provisioner/target.h"

static const char *const snapshot_subcommands[] = {"create", "list", "revert", "delete", NULL};

static int run_snapshot(VsCli *cli, int argc, char **argv);

const VsCommand vs_command_snapshot = {
    .name = "snapshot",
    .args = "create NAME [SNAP] | list NAME [--json] | revert NAME SNAP | delete NAME SNAP",
    .summary = "Save a workstation's state and go back to it",
    .description = "Snapshots of a workstation, kept inside its disk: `create` saves the disk "
                   "and, when it runs, the memory (SNAP defaults to snap-YYYYMMDD-HHMMSS, UTC); "
                   "`list` shows them; `revert` goes back to one (a snapshot of the running "
                   "workstation resumes it running); `delete` removes one. Refused, with the "
                   "reason and nothing changed: a running workstation with a vGPU or "
                   "passed-through device (stop it first), and UEFI firmware where the host's "
                   "libvirt cannot snapshot it (before 10.10.0).",
    .subcommands = snapshot_subcommands,
    .operand = VS_COMPLETE_WORKSTATION,
    .run = run_snapshot,
    .json = TRUE,
};

char *
vs_snapshot_time_string(gint64 unix_s)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(unix_s);

    return t ? g_date_time_format(t, "%Y-%m-%d %H:%M:%S +0000") : g_strdup("-");
}

/* Returns @unix_s as "2026-11-30T16:25:30Z". */
static char *
iso_time(gint64 unix_s)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(unix_s);

    return t ? g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ") : NULL;
}

void
vs_snapshot_write_json(VsJson *j, const char *key, virDomainPtr dom)
{
    g_autoptr(GPtrArray) snaps = vs_snapshot_list(dom, NULL);

    vs_snapshot_write_json_list(j, key, snaps);
}

void
vs_snapshot_write_json_list(VsJson *j, const char *key, const GPtrArray *snaps)
{
    if (!snaps) {
        vs_json_null(j, key);
        return;
    }
    vs_json_begin_array(j, key);
    for (guint i = 0; i < snaps->len; i++) {
        const VsSnapshotInfo *s = snaps->pdata[i];
        g_autofree char *created = iso_time(s->created);
        vs_json_begin_object(j, NULL);
        vs_json_string(j, "name", s->name);
        vs_json_string(j, "created", created);
        vs_json_string(j, "state", s->state);
        vs_json_bool(j, "memory", s->memory);
        vs_json_bool(j, "current", s->current);
        vs_json_end_object(j);
    }
    vs_json_end_array(j);
}

/* Prints @t's snapshots as a table, or {"version":1,"name":NAME,"snapshots":[...]}. */
static int
list(VsCli *cli, VsTarget *t)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) snaps = NULL;

    /* Read first, for the JSON too: a listing that fails is exit 1, never "snapshots": null. */
    snaps = vs_snapshot_list(t->dom, &error);
    if (!snaps)
        return vs_cli_fail(cli, "snapshot", error);
    if (cli->json) {
        VsJson j;
        vs_json_init(&j);
        vs_json_begin_object(&j, NULL);
        vs_json_int(&j, "version", 1);
        vs_json_string(&j, "name", virDomainGetName(t->dom));
        vs_snapshot_write_json_list(&j, "snapshots", snaps);
        vs_json_end_object(&j);
        g_autofree char *out = vs_json_finish(&j);
        fputs(out, stdout);
        return VS_EXIT_OK;
    }
    printf("%-24s %-25s  %-10s %s\n", "SNAPSHOT", "CREATED", "STATE", "CURRENT");
    for (guint i = 0; i < snaps->len; i++) {
        const VsSnapshotInfo *s = snaps->pdata[i];
        g_autofree char *created = vs_snapshot_time_string(s->created);
        printf("%-24s %-25s  %-10s %s\n", s->name, created, s->state, s->current ? "yes" : "");
    }
    return VS_EXIT_OK;
}

/* Sets @error (usage) and returns FALSE. */
static gboolean
usage(GError **error)
{
    g_set_error_literal(error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                        "snapshot: the commands are `snapshot create NAME [SNAP]`, `snapshot "
                        "list NAME`, `snapshot revert NAME SNAP` and `snapshot delete NAME SNAP`");
    return FALSE;
}

/* Checks the words after the options: SUB NAME [SNAP], SNAP required by revert and delete,
 * allowed by create, not by list; NAME and SNAP valid names. Sets @ret_snap (NULL when none). */
static gboolean
check_words(int argc, char **argv, const char **ret_sub, const char **ret_name,
            const char **ret_snap, GError **error)
{
    const char *sub = argc >= 2 ? argv[1] : NULL;
    gboolean known = FALSE;
    int want_min = 3, want_max = 4;

    for (guint i = 0; sub && snapshot_subcommands[i]; i++)
        known = known || strcmp(sub, snapshot_subcommands[i]) == 0;
    if (!known)
        return usage(error);
    if (strcmp(sub, "list") == 0)
        want_max = 3;
    else if (strcmp(sub, "revert") == 0 || strcmp(sub, "delete") == 0)
        want_min = 4;
    if (argc < want_min || argc > want_max)
        return usage(error);
    /* A name no workstation or snapshot can have is bad usage (exit 2), not "not found". */
    if (!vs_request_check_name(argv[2], error)) {
        g_prefix_error(error, "snapshot: ");
        return FALSE;
    }
    if (argc == 4 && !vs_snapshot_name_valid(argv[3])) {
        g_autofree char *shown = g_strescape(argv[3], NULL);
        if (strlen(shown) > 80)
            strcpy(shown + 72, "...");
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                    "snapshot: invalid snapshot name '%s': use 1 to %d lower-case letters, "
                    "digits and '-', not starting or ending with '-'",
                    shown, VS_SNAPSHOT_NAME_MAX);
        return FALSE;
    }
    *ret_sub = sub;
    *ret_name = argv[2];
    *ret_snap = argc == 4 ? argv[3] : NULL;
    return TRUE;
}

static int
run_snapshot(VsCli *cli, int argc, char **argv)
{
    g_auto(VsTarget) t = {0};
    g_autoptr(GError) error = NULL;
    g_autofree char *made_name = NULL;
    const char *sub, *name, *snap;
    gint64 t0;

    if (!vs_cli_parse(cli, &vs_command_snapshot, NULL, &argc, &argv, &error) ||
        !check_words(argc, argv, &sub, &name, &snap, &error))
        return vs_cli_fail(cli, "snapshot", error);
    if (cli->json && strcmp(sub, "list") != 0) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                    "snapshot: --json goes with `snapshot list` only");
        return vs_cli_fail(cli, "snapshot", error);
    }
    if (!vs_target_open(cli, name, FALSE, &t, &error))
        return vs_cli_fail(cli, "snapshot", error);
    if (strcmp(sub, "list") == 0)
        return list(cli, &t);
    /* The name lock: no up, delete, adopt, start of it shut off or other snapshot of it
     * meanwhile. */
    VsProgress progress = vs_cli_progress_reporter(cli);
    if (!vs_target_lock(&t, FALSE, &progress, &error))
        return vs_cli_fail(cli, "snapshot", error);
    t0 = g_get_monotonic_time();
    if (strcmp(sub, "create") == 0) {
        gboolean memory = FALSE;
        if (!snap) {
            g_autoptr(GDateTime) now = g_date_time_new_now_utc();
            snap = made_name = vs_snapshot_default_name(now);
        }
        if (!vs_snapshot_create(t.dom, snap, 0, &memory, &error))
            return vs_cli_fail(cli, "snapshot", error);
        vs_cli_progress(cli, "snapshot %s of %s created (%s) in %.1f s", snap, name,
                        memory ? "disk and memory" : "disk only: it is shut off",
                        (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
        printf("%s\n", snap);
    } else if (strcmp(sub, "revert") == 0) {
        if (!vs_snapshot_revert(t.dom, snap, 0, &error))
            return vs_cli_fail(cli, "snapshot", error);
        vs_cli_progress(cli, "%s reverted to snapshot %s in %.1f s; it is %s", name, snap,
                        (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC,
                        vs_lifecycle_state(t.dom));
    } else {
        if (!vs_snapshot_delete(t.dom, snap, &error))
            return vs_cli_fail(cli, "snapshot", error);
        vs_cli_progress(cli, "snapshot %s of %s deleted", snap, name);
    }
    return VS_EXIT_OK;
}
