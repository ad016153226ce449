/* Creating a workstation (the module's half of `up`).
 *
 * Theory of operation: everything that can be decided before touching the host is decided first
 * (facts, port, host key, the seed, the domain XML), so that a bad request changes nothing. Then
 * the steps run in order: pool, base image, overlay, seed volume, define, start. Each step
 * records what it created; a failure or Ctrl-C between steps removes exactly that, newest first,
 * and says so. Once the domain runs, nothing is removed any more: a timeout while waiting keeps
 * the workstation (exit 4), cloud-init errors keep it (exit 5), Ctrl-C keeps it. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "cloudinit.h"
#include "connect.h"
#include "defaults.h"
#include "hostcache.h"
#include "identity.h"
#include "interrupt.h"
#include "keys.h"
#include "lifecycle.h"
#include "module.h"
#include "ports.h"
#include "ready.h"
#include "seed.h"
#include "station.h"
#include "storage.h"
#include "nodedev.h"
#include "up.h"
#include "cli-progress.h"
#include "images/fetch.h"
#include "uri.h"
#include "xml.h"

#define DEFAULT_DISK_BYTES (20ULL << 30)

typedef struct {
    virConnectPtr conn;
    virStoragePoolPtr pool;
    virStorageVolPtr base;
    gboolean base_created;
    virStorageVolPtr overlay;
    virStorageVolPtr seed;
    virDomainPtr dom;
} Created;

/* Deletes the volume @vol that this run created, unless a domain in @users uses it as a disk
 * (one defined meanwhile from a copy of our XML, say); appends what happened to @what. */
static void
remove_volume(virStorageVolPtr vol, GHashTable *users, GString *what)
{
    const char *user = vs_lifecycle_volume_user(users, vol);

    if (user)
        vs_cli_warn("kept volume %s: %s uses it as a disk", virStorageVolGetName(vol), user);
    else if (virStorageVolDelete(vol, 0) == 0)
        g_string_append_printf(what, " volume %s,", virStorageVolGetName(vol));
}

/* Removes what @c records, newest first, and reports it. */
static void
rollback(VsCli *cli, Created *c)
{
    GString *what = g_string_new(NULL);
    g_autoptr(GHashTable) users = NULL;

    if (c->dom) {
        if (virDomainIsActive(c->dom) == 1)
            virDomainDestroy(c->dom);
        virDomainUndefineFlags(c->dom, VIR_DOMAIN_UNDEFINE_NVRAM);
        g_string_append_printf(what, " domain %s,", virDomainGetName(c->dom));
    }
    /* Only volumes no other domain's disks use: the same rule as `delete`. */
    if (c->seed || c->overlay || (c->base && c->base_created))
        users = vs_lifecycle_disk_users(c->conn, c->dom);
    if (c->seed)
        remove_volume(c->seed, users, what);
    if (c->overlay)
        remove_volume(c->overlay, users, what);
    if (c->base && c->base_created)
        remove_volume(c->base, users, what);
    if (what->len > 0) {
        g_string_truncate(what, what->len - 1);
        vs_cli_warn("removed what was created:%s", what->str);
    } else {
        vs_cli_warn("nothing had been created yet");
    }
    g_string_free(what, TRUE);
}

static void
created_clear(Created *c)
{
    if (c->dom)
        virDomainFree(c->dom);
    if (c->seed)
        virStorageVolFree(c->seed);
    if (c->overlay)
        virStorageVolFree(c->overlay);
    if (c->base)
        virStorageVolFree(c->base);
    if (c->pool)
        virStoragePoolFree(c->pool);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Created, created_clear)

static gboolean
not_interrupted(const char *step, GError **error)
{
    vs_interrupt_test_pause(step);
    if (!vs_interrupted())
        return TRUE;
    g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_CANCELLED, "interrupted before %s", step);
    return FALSE;
}

static gboolean
upload_cancelled(void)
{
    return vs_interrupted();
}

static gboolean
read_optional(const char *path, GBytes **ret, GError **error)
{
    g_autofree char *data = NULL;
    gsize len;

    if (!path)
        return TRUE;
    if (!g_file_get_contents(path, &data, &len, error))
        return FALSE;
    *ret = g_bytes_new_take(g_steal_pointer(&data), len);
    return TRUE;
}

/* Returns the seed ISO for @config: our user and keys, the user's own files, the host key. */
static GBytes *
make_seed(VsCli *cli, const VsSpec *spec, const VsDomainConfig *config, VsHostKey *host_key,
          gboolean *ret_secret, GError **error)
{
    g_auto(VsCloudInitSpec) ci = {0};
    g_auto(VsSeedFiles) files = {0};
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);

    ci.hostname = g_strdup(config->name);
    ci.user = g_strdup(config->ssh_user);
    ci.ssh_keys = g_ptr_array_new_with_free_func(g_free);
    if (spec->ssh_keys->len > 0) {
        for (guint i = 0; i < spec->ssh_keys->len; i++)
            if (!vs_cloudinit_read_ssh_keys(spec->ssh_keys->pdata[i], ci.ssh_keys, error))
                return NULL;
    } else {
        /* The user's usual key, and virt-station's own so that `ssh`/`exec` always work. */
        g_autofree char *key = vs_defaults_ssh_key();
        g_autofree char *own = vs_keys_own_key(TRUE, error);
        g_autofree char *own_pub = NULL;
        if (!own)
            return NULL;
        own_pub = g_strconcat(own, ".pub", NULL);
        if (key && !vs_cloudinit_read_ssh_keys(key, ci.ssh_keys, error))
            return NULL;
        if (!vs_cloudinit_read_ssh_keys(own_pub, ci.ssh_keys, error))
            return NULL;
    }
    if (!read_optional(spec->user_data, &ci.user_data, error) ||
        !read_optional(spec->network_config, &ci.network_config, error))
        return NULL;
    ci.user_data_name = g_strdup(spec->user_data);
    if (!spec->network_config)
        ci.mac = g_strdup(config->mac);
    ci.host_keys = g_ptr_array_new();
    g_ptr_array_add(ci.host_keys, host_key);
    if (!vs_cloudinit_compose(&ci, &files, warnings, error))
        return NULL;
    for (guint i = 0; i < warnings->len; i++)
        vs_cli_warn("%s", (char *)warnings->pdata[i]);
    *ret_secret = files.has_secrets;
    return vs_seed_build(&files, error);
}

/* Returns the keys to log in with: --identity, else the private halves of the --ssh-key files
 * that sit beside them; NULL for neither (the agent, ssh's defaults, virt-station's own key). */
static char **
login_identities(const VsSpec *spec, const VsUpFlags *flags)
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
print_how_to_connect(VsCli *cli, const VsDomainConfig *config)
{
    printf("%s is ready. Log in with:\n  virt-station ssh %s\n", config->name, config->name);
    if (config->net_mode == VS_NET_USER)
        printf("(SSH goes to 127.0.0.1 port %u on the libvirt host, as %s; virt-station checks "
               "the guest's host key)\n",
               config->ssh_port, config->ssh_user);
    fflush(stdout);
}

int
vs_module_up(VsCli *cli, VsSpec *spec, const VsUpFlags *flags)
{
    g_autoptr(GError) error = NULL, conn_error = NULL;
    g_autofree char *uri = vs_cli_uri(cli, &error);
    g_autoptr(virConnect) conn = uri ? vs_connect_open(uri, &conn_error) : NULL;
    g_autoptr(VsHostFacts) facts = vs_host_facts_new();
    g_autoptr(VsDomainConfig) config = NULL;
    g_autoptr(VsHostKey) host_key = NULL;
    g_autoptr(GBytes) seed = NULL;
    g_autofree char *xml = NULL;
    g_auto(Created) c = {0};
    g_autoptr(VsImage) image = NULL;
    VsCaps caps = {.arch = VS_ARCH_X86_64};
    gboolean secret = FALSE;
    int lock = -1;
    g_auto(GStrv) identities = NULL;

    if (!uri)
        return vs_cli_fail(cli, "up", error);
    if (conn) {
        if (!vs_caps_probe(conn, &caps, &error))
            return vs_cli_fail(cli, "up", error);
        vs_hostcache_store(uri, &caps);
    } else if (flags->dry_run) {
        vs_cli_warn("%s; assuming an x86_64 host without KVM (domain type qemu) and libvirt "
                    "older than 9.2 for this dry run",
                    conn_error->message);
    } else {
        return vs_cli_fail(cli, "up", conn_error);
    }
    /* Before any download: an explicit kvm that cannot work changes nothing at all. */
    if (!vs_up_decide_kvm(cli, spec, &caps, conn != NULL, &error))
        return vs_cli_fail(cli, "up", error);
    {
        /* The host's GPUs: sysfs here, node devices of a remote host. */
        g_autoptr(GError) inv_error = NULL;
        g_autoptr(VsGpuInventory) inv = NULL;
        if (vs_up_needs_inventory(spec)) {
            if (conn && caps.remote) {
                g_autoptr(GPtrArray) xmls = vs_caps_nodedev_xmls(conn, &inv_error);
                inv = xmls ? vs_gpu_inventory_from_nodedevs(xmls, &inv_error) : NULL;
            } else {
                inv = vs_gpu_inventory_read(vs_gpu_sysfs_root(NULL), &inv_error);
            }
        }
        image = vs_up_image(spec, &caps, &error);
        if (!image)
            return vs_cli_fail(cli, "up", error);
        /* A download comes before anything on the host changes: a failed one leaves nothing. */
        if (!flags->dry_run && !vs_image_ready(image)) {
            vs_interrupt_catch();
            VsProgress progress = vs_cli_progress_reporter(cli);
            vs_cli_progress(cli, "fetching %s", image->ref);
            if (!vs_image_fetch(image, &progress, &error))
                return vs_cli_fail(cli, "up", error);
        }
        if (!vs_up_facts(cli, spec, &caps, conn != NULL, image, inv, inv_error, facts, &error))
            return vs_cli_fail(cli, "up", error);
    }
    if (flags->dry_run) {
        config = vs_request_config(spec, facts, &error);
        if (!config)
            return vs_cli_fail(cli, "up", error);
        return vs_up_print_dry_run(cli, config, flags);
    }

    /* Everything that can be refused is refused before the host is touched. */
    {
        g_autoptr(GError) lookup_error = NULL;
        g_autoptr(virDomain) existing = NULL;
        if (!vs_domain_name_valid(spec->name)) {
            config = vs_request_config(spec, facts, &error);
            return vs_cli_fail(cli, "up", error);
        }
        existing = vs_lifecycle_lookup(conn, spec->name, NULL, &lookup_error);
        if (existing) {
            g_set_error(&error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_EXISTS,
                        "%s exists; use `virt-station start %s`", spec->name, spec->name);
            return vs_cli_fail(cli, "up", error);
        }
        if (g_error_matches(lookup_error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FOREIGN)) {
            /* Not ours at all, or a copy of a workstation (the message says which). */
            g_set_error(&error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_EXISTS,
                        "a domain called %s exists: %s; choose another name", spec->name,
                        lookup_error->message);
            return vs_cli_fail(cli, "up", error);
        }
        if (image->kind == VS_IMAGE_VOLUME &&
            !(c.base = vs_storage_volume(conn, facts->base_pool, image->volume, &error)))
            return vs_cli_fail(cli, "up", error);
    }
    vs_interrupt_catch();
    if ((spec->network ? g_str_equal(spec->network, "user") : caps.session)) {
        lock = vs_ports_lock();
        facts->ssh_port = vs_target_free_port(conn, caps.remote, NULL, &error);
        if (!facts->ssh_port)
            return vs_cli_fail(cli, "up", error);
    }
    host_key = vs_keys_host_key(spec->name, &error);
    if (!host_key)
        return vs_cli_fail(cli, "up", error);
    g_ptr_array_add(facts->host_keys, g_strdup(host_key->public_key));
    config = vs_request_config(spec, facts, &error);
    if (!config)
        return vs_cli_fail(cli, "up", error);
    seed = make_seed(cli, spec, config, host_key, &secret, &error);
    if (!seed)
        return vs_cli_fail(cli, "up", error);
    xml = vs_domain_xml(config, &error);
    if (!xml)
        return vs_cli_fail(cli, "up", error);
    identities = login_identities(spec, flags);

    /* The steps that change the host. */
    c.conn = conn;
    vs_cli_progress(cli, "creating %s from %s", config->name, config->image_alias);
    if (!not_interrupted("pool", &error) ||
        !(c.pool = vs_storage_pool_ensure(conn, config->pool, &error)))
        goto fail;
    if (!not_interrupted("base", &error))
        goto fail;
    if (image->kind != VS_IMAGE_VOLUME) {
        vs_cli_progress(cli, "  base image %s in pool %s (imported from %s unless it is there)",
                        config->base_volume, config->pool, image->path);
        c.base = vs_storage_import(c.pool, config->base_volume, image->path, upload_cancelled,
                                   &c.base_created, &error);
    }
    if (!c.base)
        goto fail;
    if (!not_interrupted("overlay", &error) ||
        !(c.overlay =
              vs_storage_overlay(c.pool, config->disk_volume, c.base,
                                 spec->disk_bytes ? spec->disk_bytes : DEFAULT_DISK_BYTES, &error)))
        goto fail;
    if (!not_interrupted("seed", &error) ||
        !(c.seed = vs_storage_upload_bytes(c.pool, config->seed_volume, seed, secret, &error)))
        goto fail;
    if (!not_interrupted("define", &error) || !(c.dom = vs_lifecycle_define(conn, xml, &error)))
        goto fail;
    if (!vs_target_remember_identities(uri, c.dom, (const char *const *)identities, &error)) {
        vs_cli_warn("%s", error->message);
        g_clear_error(&error);
    }
    if (!not_interrupted("start", &error) || !vs_lifecycle_start(c.dom, &error))
        goto fail;
    if (lock >= 0)
        close(lock);
    vs_cli_progress(cli, "  %s started (%u vCPUs, %" G_GUINT64_FORMAT " MiB, GPU %s)", config->name,
                    config->vcpus, config->memory_mib, vs_gpu_mode_to_string(config->gpu->mode));

    /* From here on the workstation is kept, whatever happens. */
    if (flags->no_wait) {
        printf("%s started; `virt-station wait %s` waits until it is ready\n", config->name,
               config->name);
        return VS_EXIT_OK;
    }
    {
        g_autoptr(VsStation) station = vs_lifecycle_station(c.dom, &error);
        if (!station || !vs_ready_wait(cli, c.dom, station, uri, (const char *const *)identities,
                                       flags->timeout_s, &error))
            return vs_cli_fail(cli, "up", error);
    }
    print_how_to_connect(cli, config);
    return VS_EXIT_OK;

fail:
    if (c.dom) {
        /* The domain goes: so does what was remembered for its UUID. */
        char uuid[VIR_UUID_STRING_BUFLEN];
        if (virDomainGetUUIDString(c.dom, uuid) == 0)
            vs_identity_forget(uri, uuid);
    }
    rollback(cli, &c);
    if (lock >= 0)
        close(lock);
    g_prefix_error(&error, "creating %s: ", config->name);
    return vs_cli_fail(cli, "up", error);
}
