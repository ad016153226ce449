/* virt-station image list|pull|rm|prune: the catalog and the local cache of downloaded images. */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "provisioner/cli-progress.h"
#include "provisioner/run.h"
#include "provisioner/commands.h"
#include "provisioner/images/fetch.h"
#include "provisioner/spec.h"
#include "provisioner/interrupt.h"
#include "domains/config.h"
#include "domains/connect.h"
#include "provisioner/json.h"
#include "provisioner/spec.h"
#include "provisioner/target.h"
#include "domains/storage.h"

/* {"version":1,"KEY":[ ... ]} around the listings. */
static void
json_list_begin(VsJson *j, const char *key)
{
    vs_json_init(j);
    vs_json_begin_object(j, NULL);
    vs_json_int(j, "version", 1);
    vs_json_begin_array(j, key);
}

static void
json_print_object(VsJson *j)
{
    vs_json_end_object(j);
    g_autofree char *out = vs_json_finish(j);
    fputs(out, stdout);
}

static void
json_list_print(VsJson *j)
{
    vs_json_end_array(j);
    json_print_object(j);
}

static int
list_catalog(VsCli *cli)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VsCatalog) catalog = vs_catalog_load(&error);

    VsJson j;

    if (!catalog)
        return vs_cli_fail(cli, "image", error);
    if (cli->json)
        json_list_begin(&j, "catalog");
    else
        printf("%-22s %-8s %s\n", "ALIAS", "ARCH", "URL");
    for (guint i = 0; i < catalog->images->len; i++) {
        const VsCatalogImage *img = catalog->images->pdata[i];
        if (!cli->json) {
            printf("%-22s %-8s %s\n", img->alias, img->arch, img->url);
            continue;
        }
        vs_json_begin_object(&j, NULL);
        vs_json_string(&j, "alias", img->alias);
        vs_json_string(&j, "arch", img->arch);
        vs_json_string(&j, "url", img->url);
        vs_json_string(&j, "checksums", img->checksums_url);
        vs_json_string(&j, "signature", img->signature_url);
        vs_json_string(&j, "keyring", img->keyring);
        vs_json_end_object(&j);
    }
    if (cli->json)
        json_list_print(&j);
    return VS_EXIT_OK;
}

/* Returns @pool_opt, else config.yaml's pool, else the default pool. */
static char *
pool_name(const char *pool_opt, GError **error)
{
    g_autoptr(VsSpec) config = vs_spec_new();

    if (pool_opt)
        return g_strdup(pool_opt);
    if (!vs_spec_load_config(config, NULL, error))
        return NULL;
    return g_strdup(config->pool ? config->pool : VS_DEFAULT_POOL);
}

/* Returns the baked volumes (domains/storage.h) of the pool @pool, or NULL when libvirt or the
 * pool cannot be reached: `image list` then shows the cache alone (said with --debug). */
static GPtrArray *
baked_volumes(VsCli *cli, const char *pool)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *uri = vs_cli_uri(cli, &error);
    g_autoptr(virConnect) conn = uri ? vs_connect_open(uri, &error) : NULL;
    g_autoptr(virStoragePool) p = conn ? virStoragePoolLookupByName(conn, pool) : NULL;
    GPtrArray *baked = NULL;

    if (p && virStoragePoolIsActive(p) == 1)
        baked = vs_storage_baked_list(p, &error);
    if (!baked && cli->debug)
        vs_cli_progress(cli, "no baked volumes shown: %s",
                        error ? error->message : "the pool is missing or inactive");
    return baked;
}

/* Prints the baked volumes of @pool_name (@baked) after the cache's table, or into @j. */
static void
list_baked(VsCli *cli, VsJson *j, const char *pool_name, GPtrArray *baked)
{
    if (cli->json && !baked) {
        vs_json_null(j, "baked");
        return;
    }
    if (cli->json) {
        vs_json_begin_array(j, "baked");
    } else if (baked && baked->len > 0) {
        printf("\nBaked volumes in storage pool %s (use with --image vol:%s/NAME):\n", pool_name,
               pool_name);
        printf("%-36s %10s %12s\n", "NAME", "SIZE", "ALLOCATED");
    }
    for (guint i = 0; baked && i < baked->len; i++) {
        virStorageVolPtr vol = baked->pdata[i];
        virStorageVolInfo info = {0};
        virStorageVolGetInfo(vol, &info);
        if (!cli->json) {
            printf("%-36s %6.1f GiB %8.0f MiB\n", virStorageVolGetName(vol),
                   info.capacity / (1024.0 * 1024.0 * 1024.0), info.allocation / (1024.0 * 1024.0));
            continue;
        }
        vs_json_begin_object(j, NULL);
        vs_json_string(j, "name", virStorageVolGetName(vol));
        vs_json_string(j, "pool", pool_name);
        vs_json_int(j, "capacity_bytes", (gint64)info.capacity);
        vs_json_int(j, "allocation_bytes", (gint64)info.allocation);
        vs_json_end_object(j);
    }
    if (cli->json)
        vs_json_end_array(j);
}

static int
list_cache(VsCli *cli, const char *pool_opt)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) entries = vs_cache_list(&error);
    g_autofree char *pool = entries ? pool_name(pool_opt, &error) : NULL;
    g_autoptr(GPtrArray) baked = NULL;
    VsJson j;

    if (!entries || !pool)
        return vs_cli_fail(cli, "image", error);
    baked = baked_volumes(cli, pool);
    if (cli->json)
        json_list_begin(&j, "images");
    else
        printf("%-36s %-22s %10s  %s\n", "NAME", "ALIAS", "SIZE", "PULLED");
    for (guint i = 0; i < entries->len; i++) {
        const VsCacheEntry *e = entries->pdata[i];
        if (!cli->json) {
            printf("%-36s %-22s %6.0f MiB  %s\n", e->name, e->alias ? e->alias : "-",
                   e->size / (1024.0 * 1024.0), e->pulled ? e->pulled : "-");
            continue;
        }
        vs_json_begin_object(&j, NULL);
        vs_json_string(&j, "name", e->name);
        vs_json_string(&j, "alias", e->alias);
        vs_json_string(&j, "url", e->url);
        vs_json_string(&j, "sha256", e->sha256);
        vs_json_string(&j, "source_checksum", e->source);
        vs_json_int(&j, "size_bytes", (gint64)e->size);
        vs_json_string(&j, "pulled", e->pulled);
        vs_json_string(&j, "path", e->path);
        vs_json_end_object(&j);
    }
    if (cli->json)
        vs_json_end_array(&j);
    list_baked(cli, &j, pool, baked);
    if (cli->json)
        json_print_object(&j);
    return VS_EXIT_OK;
}

/* Copies a pool volume (of this or a remote host) into the cache through libvirt. */
static gboolean
pull_volume(VsCli *cli, VsImage *image, const char *pool_opt, GError **error)
{
    g_auto(VsTarget) t = {0};
    g_autofree char *pool = image->pool ? g_strdup(image->pool) : pool_name(pool_opt, error);
    g_autofree char *partial = vs_cache_partial_dir();
    g_autofree char *part = NULL;
    g_autoptr(virStorageVol) vol = NULL;
    g_autoptr(VsLock) lock = NULL;
    g_autofree char *host = NULL, *key = NULL;

    if (!pool || !vs_target_connect(cli, &t, error))
        return FALSE;
    /* Under the volume's base lock: a base some `up` is importing is copied once it is whole. */
    host = vs_target_host_uri(t.conn, t.uri);
    key = vs_lock_key_base(host, pool, image->volume);
    lock = vs_lock_take(VS_LOCK_BASE, key, TRUE, error);
    if (!lock || !(vol = vs_storage_volume(t.conn, pool, image->volume, error)))
        return FALSE;
    if (g_mkdir_with_parents(partial, 0755) != 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", partial,
                    g_strerror(errno));
        return FALSE;
    }
    part = g_strdup_printf("%s/volume-%d.part", partial, (int)getpid());
    vs_cli_progress(cli, "  copying volume %s/%s into the cache", pool, image->volume);
    return vs_storage_download(vol, part, error) && vs_image_import_file(image, part, error);
}

static int
pull(VsCli *cli, const char *ref, const char *sha256, const char *arch, const char *pool,
     gboolean require_signature)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *default_arch = vs_arch_local_name();
    g_autoptr(VsImage) image = NULL;
    g_autoptr(VsSpec) config = vs_spec_new();
    VsProgress progress = vs_cli_progress_reporter(cli);

    /* config.yaml's require-signature: true holds for pulls too. */
    if (!vs_spec_load_config(config, NULL, &error))
        return vs_cli_fail(cli, "image", error);
    image = vs_image_parse(ref, sha256, arch ? arch : default_arch,
                           require_signature || config->require_signature, &error);
    if (!image)
        return vs_cli_fail(cli, "image", error);
    vs_interrupt_catch();
    if (image->kind == VS_IMAGE_VOLUME ? !pull_volume(cli, image, pool, &error)
                                       : !vs_image_fetch(image, &progress, &error))
        return vs_cli_fail(cli, "image", error);
    printf("%s: %s\n", ref, image->volume);
    return VS_EXIT_OK;
}

static int
rm(VsCli *cli, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) entries = vs_cache_list(&error);

    if (!entries)
        return vs_cli_fail(cli, "image", error);
    if (argc < 3) {
        g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                    "image rm: name the cached images (NAME or ALIAS, see `image list`)");
        return vs_cli_fail(cli, "image", error);
    }
    /* Every argument must match before anything is removed. */
    for (int a = 2; a < argc; a++) {
        gboolean found = FALSE;
        for (guint i = 0; i < entries->len && !found; i++) {
            const VsCacheEntry *e = entries->pdata[i];
            found = g_str_equal(e->name, argv[a]) || g_strcmp0(e->alias, argv[a]) == 0;
        }
        if (!found) {
            g_set_error(&error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_NOT_FOUND,
                        "image rm: no cached image %s (see `virt-station image list`)", argv[a]);
            return vs_cli_fail(cli, "image", error);
        }
    }
    for (guint i = 0; i < entries->len; i++) {
        const VsCacheEntry *e = entries->pdata[i];
        for (int a = 2; a < argc; a++) {
            if (!g_str_equal(e->name, argv[a]) && g_strcmp0(e->alias, argv[a]) != 0)
                continue;
            if (!vs_cache_remove(e, &error))
                return vs_cli_fail(cli, "image", error);
            printf("removed %s\n", e->name);
            break;
        }
    }
    return VS_EXIT_OK;
}

/* Removes partial downloads (none runs: the caller holds no lock, a running download holds the
 * folder's lock and this skips the folder then). */
static void
prune_partial(VsCli *cli, gboolean dry_run)
{
    g_autofree char *partial = vs_cache_partial_dir();
    g_autoptr(GDir) d = g_dir_open(partial, 0, NULL);
    const char *name;
    int lock = open(partial, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (!d || lock < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0) {
        if (lock >= 0)
            close(lock);
        return;
    }
    while ((name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(partial, name, NULL);
        if (!dry_run)
            g_unlink(path);
        if (g_str_has_suffix(name, ".part"))
            printf("%s partial download %s\n", dry_run ? "would remove" : "removed", name);
    }
    close(lock);
}

static int
prune(VsCli *cli, const char *pool_opt, gboolean dry_run)
{
    g_autoptr(GError) error = NULL;
    g_auto(VsTarget) t = {0};
    g_autoptr(GPtrArray) entries = vs_cache_list(&error);
    g_autofree char *pool = pool_name(pool_opt, &error);
    g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) locks = NULL;
    g_autoptr(GHashTable) backing = NULL;
    g_autoptr(GHashTable) users = NULL;
    g_autofree char *host = NULL;

    if (!entries || !pool || !vs_target_connect(cli, &t, &error))
        return vs_cli_fail(cli, "image", error);
    if (!dry_run) {
        /* What runs killed with SIGKILL left (run.h), before the base locks: it takes none. */
        VsProgress progress = vs_cli_progress_reporter(cli);
        vs_run_sweep(t.conn, t.uri, &progress);
    }
    /* Under the bases' locks no `up` is between importing one and holding it with an overlay:
     * what uses them (as a disk, or as the backing file of a volume in any pool of the host) is
     * read once, after the locks. */
    host = vs_target_host_uri(t.conn, t.uri);
    for (guint i = 0; i < entries->len; i++)
        g_ptr_array_add(
            keys, vs_lock_key_base(host, pool, ((const VsCacheEntry *)entries->pdata[i])->name));
    locks = vs_lock_take_all(VS_LOCK_BASE, keys, &error);
    if (!locks)
        return vs_cli_fail(cli, "image", error);
    backing = vs_storage_backing_paths(t.conn, &error);
    users = backing ? vs_lifecycle_disk_users(t.conn, NULL, &error) : NULL;
    if (!users)
        return vs_cli_fail(cli, "image", error);
    for (guint i = 0; i < entries->len; i++) {
        const VsCacheEntry *e = entries->pdata[i];
        g_autoptr(GError) lookup_error = NULL;
        g_autoptr(virStorageVol) vol = vs_storage_volume(t.conn, pool, e->name, &lookup_error);
        const char *user = vol ? vs_lifecycle_volume_user(users, vol) : NULL;

        /* A golden image of `bake` is the user's own work, never a cache's leftover. */
        if (vol && vs_storage_is_baked(vol)) {
            vs_cli_progress(cli, "kept %s: volume %s/%s is a baked image (`virt-station bake`)",
                            e->name, pool, e->name);
            continue;
        }
        if (vol && vs_storage_volume_is_backing(backing, vol)) {
            g_autofree char *why = vs_storage_backing_reason(backing, vol);
            vs_cli_progress(cli, "kept %s: volume %s/%s: %s", e->name, pool, e->name, why);
            continue;
        }
        if (user) {
            vs_cli_progress(cli, "kept %s: volume %s/%s is a disk of %s", e->name, pool, e->name,
                            user);
            continue;
        }
        /* Its marker goes first: a base left without one is never taken for complete. */
        if (vol && !dry_run && !vs_storage_base_delete(vol, &error))
            return vs_cli_fail(cli, "image", error);
        if (!dry_run && !vs_cache_remove(e, &error))
            return vs_cli_fail(cli, "image", error);
        printf("%s %s (%.0f MiB)%s%s%s%s\n", dry_run ? "would remove" : "removed", e->name,
               e->size / (1024.0 * 1024.0), vol ? " and volume " : "", vol ? pool : "",
               vol ? "/" : "", vol ? e->name : "");
    }
    prune_partial(cli, dry_run);
    return VS_EXIT_OK;
}

typedef struct {
    gboolean catalog;
    char *image_sha256;
    char *arch;
    char *pool;
    gboolean dry_run;
    gboolean require_signature;
} ImageOptions;

static const char *const arch_words[] = {"x86_64", "aarch64", NULL};

static const VsOption image_options[] = {
    {"catalog", 0, 0, VS_FLAG(ImageOptions, catalog), "list: the catalog's aliases"},
    {"image-sha256", 0, 0, VS_STRING(ImageOptions, image_sha256),
     "pull: the SHA-256 of a URL's file", "HEX"},
    {"arch", 0, 0, VS_STRING(ImageOptions, arch), "pull: the architecture (default: the host's)",
     "ARCH", VS_COMPLETE_WORDS, arch_words},
    {"pool", 0, 0, VS_STRING(ImageOptions, pool),
     "prune: the pool of the base volumes; pull: the pool of a vol:NAME; list: the pool whose "
     "baked volumes are shown (default: default)",
     "POOL"},
    {"dry-run", 'n', 0, VS_FLAG(ImageOptions, dry_run), "prune: say what would be removed"},
    {"require-signature", 0, 0, VS_FLAG(ImageOptions, require_signature),
     "pull: refuse a checksum list whose signature was not checked"},
    {NULL},
};
VS_OPTIONS_AUTO_CLEAR(ImageOptions, image_options)

static const char *const image_subcommands[] = {"list", "pull", "rm", "prune", NULL};

static int run_image(VsCli *cli, int argc, char **argv);

const VsCommand vs_command_image = {
    .name = "image",
    .args = "list [--catalog] | pull ALIAS|URL|FILE|vol:[POOL/]NAME | rm NAME|ALIAS... | prune",
    .summary = "Cloud images: the catalog, the download cache, pruning",
    .description = "Cloud images: `list` shows the cache (--catalog: the aliases), `pull` "
                   "downloads and verifies an image into the cache (a local file or a pool "
                   "volume is copied there), `rm` removes cached images, `prune` removes cached "
                   "images and their base volumes in the pool unless a volume is backed by them, "
                   "and partial downloads. `list` also shows the pool's baked volumes "
                   "(`virt-station bake`), which `prune` never removes.",
    .options = image_options,
    .subcommands = image_subcommands,
    .operand = VS_COMPLETE_IMAGE,
    .run = run_image,
    .json = TRUE,
};

static int
run_image(VsCli *cli, int argc, char **argv)
{
    g_auto(ImageOptions) o = {0};
    g_autoptr(GError) error = NULL;
    const char *sub;

    if (!vs_cli_parse(cli, &vs_command_image, &o, &argc, &argv, &error))
        return vs_cli_fail(cli, "image", error);
    sub = argc >= 2 ? argv[1] : NULL;
    if (g_strcmp0(sub, "list") == 0 && argc == 2)
        return o.catalog ? list_catalog(cli) : list_cache(cli, o.pool);
    if (g_strcmp0(sub, "pull") == 0 && argc == 3)
        return pull(cli, argv[2], o.image_sha256, o.arch, o.pool, o.require_signature);
    if (g_strcmp0(sub, "rm") == 0)
        return rm(cli, argc, argv);
    if (g_strcmp0(sub, "prune") == 0 && argc == 2)
        return prune(cli, o.pool, o.dry_run);
    g_set_error(&error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                "image: the commands are `image list [--catalog]`, `image pull IMAGE`, "
                "`image rm NAME|ALIAS...` and `image prune`");
    return vs_cli_fail(cli, "image", error);
}
