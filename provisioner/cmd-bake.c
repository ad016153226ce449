/* virt-station bake: a golden image, a standalone volume made from a cloud image plus user-data.
 *
 * Theory of operation: a bake is an `up` of a temporary workstation followed by a copy. The
 * volume lock of NAME (lock.h: the first kind, so it can be held across everything `up` takes)
 * is taken before anything is created, and NAME is checked free before and under it: a volume
 * NAME, or another bake of NAME, is exit 3 with nothing made. Then `up`'s own plan and apply
 * (up.h, up-apply.h) make the workstation "bake-NAME-<random>" (owned by virt-station like any,
 * so `list` shows it while it works), with no GPU and an overlay of exactly the base's virtual
 * size (so cloud-init's growpart has nothing to grow: the baked disk keeps the image's size),
 * and `up`'s wait lets cloud-init finish the user-data: errors there fail the bake (a golden
 * image whose user-data failed is not one). Over the same verified SSH the guest is cleaned for
 * reuse (cloud-init clean --logs --machine-id, SSH host keys, shell histories, DHCP leases, the
 * journal, the bake login's authorized_keys) and shut down; then, under NAME's base lock (which
 * `up --image vol:NAME` and `image prune` take too, so none reads a half-copied volume), the
 * overlay is copied into NAME with virStorageVolCreateXMLFrom (flat and sparse) and marked baked
 * ("NAME.baked", domains/storage.h) once whole. The temporary workstation and its volumes
 * (overlay, seed) go last. Every failure, Ctrl-C or SIGTERM after the apply removes the
 * workstation and its volumes and a NAME this bake made; the apply removes its own on failure. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "domains/connect.h"
#include "domains/lifecycle.h"
#include "domains/storage.h"
#include "provisioner/cli-progress.h"
#include "provisioner/commands.h"
#include "provisioner/defaults.h"
#include "provisioner/identity.h"
#include "provisioner/interrupt.h"
#include "provisioner/lock.h"
#include "provisioner/ready.h"
#include "provisioner/run.h"
#include "provisioner/sshcmd.h"
#include "provisioner/target.h"
#include "provisioner/up-apply.h"
#include "provisioner/up-options.h"

/* How long the guest may take to clean itself and to shut down. */
#define BAKE_CLEAN_TIMEOUT_S    300
#define BAKE_SHUTDOWN_TIMEOUT_S 300

typedef struct {
    char *image;
    char *user_data;
    char **ssh_keys;
    char *identity;
    char *pool;
    char *network;
    char *cpus;
    char *memory;
    char *user;
    char *virt_type;
    int timeout;
} BakeOptions;

static const char *const network_words[] = {"user", "bridge:", "network:", NULL};
static const char *const virt_type_words[] = {"auto", "kvm", "qemu", NULL};

static const VsOption bake_options[] = {
    {"image", 0, 0, VS_FILENAME(BakeOptions, image),
     "The cloud image to start from: a catalog alias, a qcow2 or raw file, a URL or "
     "vol:[POOL/]NAME",
     "IMAGE", VS_COMPLETE_IMAGE},
    {"user-data", 0, 0, VS_FILENAME(BakeOptions, user_data),
     "The user-data that makes the image (merged with virt-station's own)", "FILE",
     VS_COMPLETE_FILE},
    {"ssh-key", 0, 0, VS_FILENAMES(BakeOptions, ssh_keys),
     "Public key to log in with during the bake (repeatable; not kept in the baked image)",
     "FILE.pub", VS_COMPLETE_FILE},
    {"identity", 0, 0, VS_FILENAME(BakeOptions, identity),
     "The private key to log in with during the bake", "FILE", VS_COMPLETE_FILE},
    {"pool", 0, 0, VS_STRING(BakeOptions, pool),
     "Storage pool of the baked volume and the bake's own (default: default)", "POOL"},
    {"network", 0, 0, VS_STRING(BakeOptions, network),
     "user, bridge:BR or network:NAME for the bake (as up)", "NET", VS_COMPLETE_WORDS,
     network_words},
    {"cpus", 0, 0, VS_STRING(BakeOptions, cpus), "vCPUs of the bake (default 2)", "N"},
    {"memory", 0, 0, VS_STRING(BakeOptions, memory),
     "Memory of the bake; a bare number is MiB (4096)", "SIZE"},
    {"user", 0, 0, VS_STRING(BakeOptions, user),
     "The login to create for the bake (kept in the image, without its keys)", "NAME"},
    {"virt-type", 0, 0, VS_STRING(BakeOptions, virt_type), "auto, kvm or qemu (as up)", "TYPE",
     VS_COMPLETE_WORDS, virt_type_words},
    {"timeout", 0, 0, VS_INT(BakeOptions, timeout),
     "Seconds to wait for the guest and its user-data to be done (1800)", "S"},
    {NULL},
};
VS_OPTIONS_AUTO_CLEAR(BakeOptions, bake_options)

static int run_bake(VsCli *cli, int argc, char **argv);

const VsCommand vs_command_bake = {
    .name = "bake",
    .args = "NAME --image IMAGE [--user-data FILE] [--ssh-key FILE.pub]... [--pool POOL]",
    .summary = "Make a golden image volume from a cloud image and user-data",
    .description =
        "Make the standalone volume NAME in the pool from a cloud image and user-data: a "
        "temporary workstation boots the image, cloud-init runs the user-data, the guest is "
        "cleaned for reuse (cloud-init state and logs, machine-id, SSH host keys, shell "
        "histories, DHCP leases) and shut down, and its disk is copied into NAME, flat and "
        "sparse, of the image's virtual size. Use it with `up --image vol:NAME`. NAME already "
        "in the pool: exit 3. A failed or interrupted bake leaves nothing behind.",
    .options = bake_options,
    .run = run_bake,
};

typedef struct {
    VsCli *cli;
    const char *name; /* the volume NAME */
    char *uri;
    virConnectPtr conn;
    VsProgress progress;
    VsLock *volume_lock; /* NAME's volume lock, held to the end */
    VsLock *base_lock;   /* NAME's base lock, held while it is written */
    virDomainPtr dom;    /* the temporary workstation */
    VsMetadata *station;
    virStorageVolPtr made; /* NAME, once the copy made it */
    char *pool;            /* the pool of the temporary workstation's volumes */
    char *own[2];          /* their names: the overlay and the seed (NULL: none) */
} Bake;

static void
bake_clear(Bake *b)
{
    g_clear_pointer(&b->made, virStorageVolFree);
    g_clear_pointer(&b->station, vs_metadata_free);
    g_clear_pointer(&b->dom, virDomainFree);
    g_clear_pointer(&b->base_lock, vs_lock_release);
    g_clear_pointer(&b->volume_lock, vs_lock_release);
    g_clear_pointer(&b->conn, virConnectClose);
    g_clear_pointer(&b->uri, g_free);
    g_clear_pointer(&b->pool, g_free);
    g_clear_pointer(&b->own[0], g_free);
    g_clear_pointer(&b->own[1], g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Bake, bake_clear)

/* Returns the temporary workstation's name for NAME: "bake-NAME-<6 hex>", NAME cut so that it
 * stays a valid name (63 characters at most, no '-' before the random part doubled). */
static char *
temporary_name(const char *name)
{
    g_autofree char *part = g_strndup(name, 50);
    gsize n = strlen(part);

    while (n > 0 && part[n - 1] == '-')
        part[--n] = '\0';
    return g_strdup_printf("bake-%s-%06x", part, g_random_int_range(0, 0x1000000));
}

/* Returns TRUE when the volume @name is not in the pool @pool_name (a missing or inactive pool
 * has none), else FALSE with an EXISTS error (exit 3). */
static gboolean
check_free(virConnectPtr conn, const char *pool_name, const char *name, GError **error)
{
    g_autoptr(virStoragePool) pool = virStoragePoolLookupByName(conn, pool_name);
    g_autoptr(virStorageVol) vol = NULL;

    if (!pool || virStoragePoolIsActive(pool) != 1)
        return TRUE;
    virStoragePoolRefresh(pool, 0);
    vol = virStorageVolLookupByName(pool, name);
    if (!vol)
        return TRUE;
    g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_EXISTS,
                "the volume %s exists in storage pool %s; choose another NAME, or delete it "
                "first (`virsh vol-delete --pool %s %s`)",
                name, pool_name, pool_name, name);
    return FALSE;
}

/* Takes NAME's volume lock without waiting (another bake of NAME holds it: exit 3) and checks,
 * under it, that NAME is still free. */
static gboolean
lock_name(Bake *b, const char *pool, GError **error)
{
    g_autofree char *host = vs_target_host_uri(b->conn, b->uri);
    g_autofree char *key = vs_lock_key_base(host, pool, b->name);
    g_autoptr(GError) lock_error = NULL;

    b->volume_lock = vs_lock_take(VS_LOCK_VOLUME, key, FALSE, &lock_error);
    if (!b->volume_lock) {
        if (g_error_matches(lock_error, VS_LOCK_ERROR, VS_LOCK_ERROR_BUSY))
            g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_EXISTS,
                        "another virt-station is baking %s in storage pool %s now", b->name, pool);
        else
            g_propagate_error(error, g_steal_pointer(&lock_error));
        return FALSE;
    }
    return check_free(b->conn, pool, b->name, error);
}

/* Removes what the bake made: NAME when this bake created it, and the temporary workstation with
 * its overlay and seed; says what through @b's progress. */
static void
discard(Bake *b)
{
    g_autoptr(GError) error = NULL;

    if (b->made) {
        g_autoptr(virStoragePool) pool = virStoragePoolLookupByVolume(b->made);
        g_autofree char *marker = vs_storage_baked_marker_name(b->name);
        g_autoptr(virStorageVol) mark = pool ? virStorageVolLookupByName(pool, marker) : NULL;
        if (mark)
            virStorageVolDelete(mark, 0);
        if (virStorageVolDelete(b->made, 0) < 0)
            vs_progress_warn(&b->progress, "could not remove the partial volume %s: %s", b->name,
                             virGetLastErrorMessage());
        else
            vs_progress_warn(&b->progress, "removed the volume %s", b->name);
        g_clear_pointer(&b->made, virStorageVolFree);
    }
    if (b->dom) {
        g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *name = g_strdup(virDomainGetName(b->dom));
        char uuid[VIR_UUID_STRING_BUFLEN] = "";
        virDomainGetUUIDString(b->dom, uuid);
        if (!b->station)
            b->station = vs_lifecycle_owned(b->dom, NULL);
        /* Throwaway as a run's: removed by the same rule (a pool that cannot be read does not
         * keep its overlay and seed, which `delete`'s rule would; run.h). */
        if (!b->station || !vs_run_remove(b->dom, b->station, kept, &error)) {
            vs_progress_warn(&b->progress,
                             "could not remove the temporary workstation %s: %s; `virt-station "
                             "delete %s` removes it",
                             name, error ? error->message : "its metadata cannot be read", name);
            return;
        }
        for (guint i = 0; i < kept->len; i++)
            vs_progress_warn(&b->progress, "%s", (char *)kept->pdata[i]);
        if (uuid[0])
            vs_identity_forget(b->uri, uuid);
        vs_progress_step(&b->progress, "removed the temporary workstation %s and its volumes",
                         name);
        g_clear_pointer(&b->dom, virDomainFree);
    }
}

/* The guest's cleaning, run as root with the bake login as $1. Prints the machine-id it
 * removed and, once everything is done and synced, "cleaned"; then powers the guest off (the
 * bake also asks libvirt to shut it down, and powers it off after a while). Every step is there
 * in a standard cloud image; the ones that may have nothing to do do not fail. cloud-init older
 * than 22.3 lacks --machine-id: the same is then done by hand ("uninitialized": systemd makes a
 * new one at the next boot). The file must stay: cloud-init 22.4 deletes it, and systemd then
 * cannot mount the transient machine-id over it while / is read-only early in the next boot,
 * so systemd-networkd (whose DHCP client identifier comes from it) configures no address. */
static const char clean_script[] =
    "set -e\n"
    "echo \"machine-id: $(cat /etc/machine-id 2>/dev/null)\"\n"
    "cloud-init clean --logs --machine-id 2>/dev/null ||\n"
    "  { cloud-init clean --logs && printf 'uninitialized\\n' >/etc/machine-id; }\n"
    "[ -s /etc/machine-id ] || printf 'uninitialized\\n' >/etc/machine-id\n"
    "rm -f /etc/ssh/ssh_host_*\n"
    "rm -f /root/.bash_history /root/.lesshst /root/.viminfo /root/.python_history\n"
    "rm -f /home/*/.bash_history /home/*/.lesshst /home/*/.viminfo /home/*/.python_history\n"
    "home=$(getent passwd \"$1\" | cut -d: -f6)\n"
    "[ -z \"$home\" ] || rm -f \"$home/.ssh/authorized_keys\"\n"
    "rm -f /var/lib/dhcp/*.leases /var/lib/dhclient/*.leases /var/lib/NetworkManager/*.lease\n"
    "rm -rf /var/lib/systemd/network/*\n"
    "journalctl --rotate >/dev/null 2>&1 && journalctl --vacuum-time=1s >/dev/null 2>&1 || true\n"
    "sync\n"
    "echo cleaned\n"
    "systemctl --no-block poweroff >/dev/null 2>&1 || true\n";

/* Cleans the guest for reuse over SSH (as the bake's login, through sudo). */
static gboolean
clean_guest(Bake *b, const char *const *identities, GError **error)
{
    g_autofree char *address = b->station->ssh_port ? NULL : vs_ready_address(b->dom, b->station);
    g_autoptr(VsSshTarget) ssh = NULL;
    g_autofree char *timeout = g_strdup_printf("%d", BAKE_CLEAN_TIMEOUT_S);
    /* Each word reaches the guest as it is (sshcmd.h quotes them for the remote shell). */
    char *command[] = {(char *)"sudo",       (char *)"-n",      (char *)"sh",         (char *)"-c",
                       (char *)clean_script, (char *)"vs-bake", b->station->ssh_user, NULL};
    g_autoptr(GPtrArray) args = NULL;
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;

    ssh =
        vs_ssh_target_new(b->uri, virDomainGetName(b->dom), b->station, address, identities, error);
    if (!ssh)
        return FALSE;
    args = vs_ssh_argv(ssh, TRUE, FALSE, command);
    /* Bounded: timeout(1) in front of ssh. */
    g_ptr_array_insert(args, 0, g_strdup("timeout"));
    g_ptr_array_insert(args, 1, g_strdup(timeout));
    if (!g_spawn_sync(NULL, (char **)args->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                      &status, error))
        return FALSE;
    /* The guest powers itself off at the end: ssh may then fail (255) after "cleaned". */
    if (!(out && strstr(out, "\ncleaned\n")) && !g_spawn_check_wait_status(status, NULL)) {
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FAILED,
                    "cleaning the guest failed (%s): %s",
                    WIFEXITED(status) && WEXITSTATUS(status) == 124 ? "timed out after "
                                                                      "the limit"
                                                                    : "exit status not 0",
                    err && *err ? g_strstrip(err) : "no message");
        return FALSE;
    }
    if (!(out && strstr(out, "\ncleaned\n"))) {
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FAILED,
                    "cleaning the guest stopped before its end: %s",
                    err && *err ? g_strstrip(err) : "no message");
        return FALSE;
    }
    *strstr(out, "\ncleaned\n") = '\0';
    vs_progress_step(&b->progress, "cleaned the guest for reuse (it had %s); it powers off",
                     g_strstrip(out));
    return TRUE;
}

/* Returns FALSE with a CANCELLED error once Ctrl-C or SIGTERM arrived, saying @before what. */
static gboolean
not_interrupted(const char *before, GError **error)
{
    if (!vs_interrupted())
        return TRUE;
    g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_CANCELLED, "interrupted before %s",
                before);
    return FALSE;
}

/* Copies the shut-off workstation's overlay into NAME under NAME's base lock, checking again
 * that NAME is free, and marks it baked. */
static gboolean
copy_out(Bake *b, const VsDomainConfig *c, GError **error)
{
    g_autofree char *host = vs_target_host_uri(b->conn, b->uri);
    g_autofree char *key = vs_lock_key_base(host, c->pool, b->name);
    g_autoptr(virStorageVol) overlay = NULL;
    g_autoptr(virStoragePool) pool = NULL;

    b->base_lock = vs_lock_take(VS_LOCK_BASE, key, TRUE, error);
    if (!b->base_lock || !check_free(b->conn, c->pool, b->name, error))
        return FALSE;
    overlay = vs_storage_volume(b->conn, c->pool, c->disk_volume, error);
    if (!overlay)
        return FALSE;
    pool = virStoragePoolLookupByVolume(overlay);
    if (!pool)
        return vs_libvirt_error(error, "looking up the bake's pool");
    vs_progress_step(&b->progress, "copying %s into the volume %s (flattened, sparse)",
                     c->disk_volume, b->name);
    b->made = vs_storage_copy(pool, b->name, overlay, error);
    if (!b->made)
        return FALSE;
    /* The copy cannot be stopped half-way: a Ctrl-C during it is honoured now. */
    if (!not_interrupted("marking the copy baked", error) ||
        !vs_storage_mark_baked(pool, b->name, error))
        return FALSE;
    g_clear_pointer(&b->base_lock, vs_lock_release);
    return TRUE;
}

/* Waits for the cleaned guest to power itself off (its script asked for it), then asks libvirt
 * (guest agent, else ACPI) and powers it off after BAKE_SHUTDOWN_TIMEOUT_S: the disk was synced
 * before. A request that fails because the guest went down meanwhile is no error. */
static gboolean
shut_down(Bake *b, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
    g_autoptr(GError) stop_error = NULL;

    while (g_get_monotonic_time() < deadline && !vs_interrupted()) {
        if (virDomainIsActive(b->dom) == 0)
            return TRUE;
        g_usleep(G_USEC_PER_SEC / 2);
    }
    if (!not_interrupted("the guest had shut down", error))
        return FALSE;
    vs_progress_step(&b->progress, "%s did not power off by itself: asking libvirt",
                     virDomainGetName(b->dom));
    if (vs_lifecycle_stop(b->dom, FALSE, BAKE_SHUTDOWN_TIMEOUT_S, &stop_error) ||
        virDomainIsActive(b->dom) == 0)
        return TRUE;
    g_propagate_error(error, g_steal_pointer(&stop_error));
    return FALSE;
}

/* Fills @spec from the bake's flags, then config.yaml's defaults. */
static gboolean
bake_spec(VsSpec *spec, BakeOptions *o, const char *name, GError **error)
{
    spec->name = temporary_name(name);
    spec->image = g_steal_pointer(&o->image);
    spec->user_data = g_steal_pointer(&o->user_data);
    spec->pool = g_steal_pointer(&o->pool);
    spec->network = g_steal_pointer(&o->network);
    spec->user = g_steal_pointer(&o->user);
    spec->virt_type = g_steal_pointer(&o->virt_type);
    spec->gpu = g_strdup("none");
    for (guint i = 0; o->ssh_keys && o->ssh_keys[i]; i++)
        g_ptr_array_add(spec->ssh_keys, g_strdup(o->ssh_keys[i]));
    if (o->cpus && !vs_up_parse_cpus(o->cpus, &spec->cpus, error))
        return FALSE;
    if (o->memory &&
        !vs_spec_parse_mib(o->memory, VS_SPEC_MEMORY_MAX, "--memory", &spec->memory_mib, error))
        return FALSE;
    if (!spec->image) {
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                    "bake: --image is needed: the cloud image to start from");
        return FALSE;
    }
    if (!vs_up_spec_defaults(spec, error))
        return FALSE;
    if (!spec->pool)
        spec->pool = g_strdup(VS_DEFAULT_POOL);
    return vs_request_check(spec, error);
}

/* Boots, waits, cleans, shuts down and copies: everything after the checks. Leaves @b->dom set
 * while the temporary workstation exists. */
static gboolean
bake(Bake *b, VsSpec *spec, const VsUpFlags *flags, guint64 *ret_capacity, guint64 *ret_allocation,
     GError **error)
{
    g_autoptr(VsUpPlan) plan = NULL;
    g_auto(GStrv) logins = NULL;
    virStorageVolInfo info;

    plan = vs_up_plan_on(b->conn, b->uri, spec, FALSE, &b->progress, error);
    if (!plan || !not_interrupted("creating the bake's workstation", error))
        return FALSE;
    /* The overlay gets the base's own virtual size (vs_storage_overlay never makes one smaller):
     * growpart then has nothing to grow, and the baked disk keeps the image's size. */
    plan->disk_bytes = 0;
    logins = vs_up_login_identities(spec, flags);
    {
        const VsUpApply ctx = {b->conn,     b->uri, plan->remote, spec, (const char *const *)logins,
                               &b->progress};
        b->dom = vs_up_apply(plan, &ctx, error);
    }
    if (!b->dom)
        return FALSE;
    b->pool = g_strdup(plan->config->pool);
    b->own[0] = g_strdup(plan->config->disk_volume);
    b->own[1] = g_strdup(plan->config->seed_volume);
    vs_progress_step(&b->progress, "%s started; waiting for cloud-init to run the user-data",
                     plan->config->name);
    b->station = vs_lifecycle_owned(b->dom, error);
    if (!b->station ||
        !vs_ready_wait(&b->progress, &b->dom, b->station, b->uri, (const char *const *)logins,
                       flags->timeout_s, error) ||
        !not_interrupted("cleaning the guest", error) ||
        !clean_guest(b, (const char *const *)logins, error) ||
        !not_interrupted("shutting the guest down", error))
        return FALSE;
    vs_progress_step(&b->progress, "waiting for %s to shut down", plan->config->name);
    if (!shut_down(b, error) || !not_interrupted("copying the disk", error) ||
        !copy_out(b, plan->config, error))
        return FALSE;
    if (virStorageVolGetInfo(b->made, &info) < 0)
        return vs_libvirt_error(error, "reading the baked volume's size");
    *ret_capacity = info.capacity;
    *ret_allocation = info.allocation;
    return TRUE;
}

static int
run_bake(VsCli *cli, int argc, char **argv)
{
    g_auto(BakeOptions) o = {.timeout = 1800};
    g_auto(Bake) b = {.cli = cli};
    g_autoptr(VsSpec) spec = vs_spec_new();
    g_autoptr(GError) error = NULL;
    VsUpFlags flags = {0};
    guint64 capacity = 0, allocation = 0;
    gint64 start = g_get_monotonic_time();
    gboolean ok;

    if (!vs_cli_parse(cli, &vs_command_bake, &o, &argc, &argv, &error))
        return vs_cli_fail(cli, "bake", error);
    if (argc != 2) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                    argc < 2 ? "bake: the NAME of the volume to make is needed"
                             : "bake: unexpected argument '%s'",
                    argc < 2 ? "" : argv[2]);
        return vs_cli_fail(cli, "bake", error);
    }
    b.name = argv[1];
    if (o.timeout < 1) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE, "bake: --timeout must be positive");
        return vs_cli_fail(cli, "bake", error);
    }
    if (o.identity && !vs_identity_check(o.identity, &error))
        return vs_cli_fail(cli, "bake", error);
    if (!vs_request_check_name(b.name, &error) || !bake_spec(spec, &o, b.name, &error))
        return vs_cli_fail(cli, "bake", error);
    flags.timeout_s = (guint)o.timeout;
    flags.identity = o.identity;

    b.uri = vs_cli_uri(cli, &error);
    if (!b.uri || !(b.conn = vs_connect_open(b.uri, &error)))
        return vs_cli_fail(cli, "bake", error);
    b.progress = vs_cli_progress_reporter(cli);
    /* Before anything is created, and again under the lock. */
    if (!check_free(b.conn, spec->pool, b.name, &error) || !lock_name(&b, spec->pool, &error))
        return vs_cli_fail(cli, "bake", error);
    vs_interrupt_catch();
    ok = bake(&b, spec, &flags, &capacity, &allocation, &error);
    if (!ok) {
        g_autofree char *kept = g_strdup_printf("; %s is kept", spec->name);
        char *cut = strstr(error->message, kept);
        discard(&b);
        /* The wait's advice about a workstation it keeps does not hold: the bake removed it. */
        if (cut && !b.dom)
            *cut = '\0';
        g_prefix_error(&error, "baking %s: ", b.name);
        return vs_cli_fail(cli, "bake", error);
    }
    g_clear_pointer(&b.made, virStorageVolFree); /* kept: it is the result */
    discard(&b);
    printf("%s: baked into storage pool %s in %.0f s (virtual size %.1f GiB, %.0f MiB "
           "allocated); use it with --image vol:%s/%s\n",
           b.name, spec->pool, (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC,
           capacity / (1024.0 * 1024.0 * 1024.0), allocation / (1024.0 * 1024.0), spec->pool,
           b.name);
    return VS_EXIT_OK;
}
