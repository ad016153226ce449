/* The allocation journal, one GKeyFile per claim.
 *
 * Theory of operation: an entry is written to a temporary file in the folder (".ID.XXXXXX"),
 * fsynced and renamed over ID, then the folder is fsynced, so a reader sees the whole old entry
 * or the whole new one. File names come only from validated ids (a UUID, or a PCI address in
 * its canonical dddd:bb:dd.f spelling): nothing else can become a path. Readers skip dot files
 * (temporary files a killed writer left) and refuse anything else that is not an entry: the
 * folder is ours, and an entry that cannot be read may name something taken on the host, so
 * ignoring it would be wrong. Every read is bounded (64 KiB an entry, 4096 entries). */
#include "gpu/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "common/vs-enum.h"
#include "gpu/inventory.h"

#define ENTRY_MAX   (64 * 1024)
#define ENTRIES_MAX 4096
#define GROUP       "claim"

VS_ENUM_IMPL(gpu_claim_kind, VsGpuClaimKind, VS_GPU_CLAIM_LAST, "mdev", "vf", "passthrough")

VsGpuClaim *
vs_gpu_claim_new(VsGpuClaimKind kind, const char *id)
{
    VsGpuClaim *claim = g_new0(VsGpuClaim, 1);

    claim->kind = kind;
    claim->id = g_strdup(id);
    claim->functions = g_ptr_array_new_with_free_func(g_free);
    claim->pid = getpid();
    return claim;
}

void
vs_gpu_claim_free(VsGpuClaim *claim)
{
    if (!claim)
        return;
    g_free(claim->id);
    g_free(claim->uri);
    g_free(claim->domain_uuid);
    g_free(claim->domain_name);
    g_free(claim->parent);
    g_free(claim->device);
    g_free(claim->vgpu_type);
    g_free(claim->mdev_uuid);
    g_ptr_array_unref(claim->functions);
    g_free(claim);
}

gboolean
vs_gpu_journal_id_is_valid(const char *id)
{
    guint d, b, s, f;
    g_autofree char *canonical = NULL;

    if (!id)
        return FALSE;
    if (g_uuid_string_is_valid(id))
        return TRUE;
    if (!vs_pci_address_parse(id, &d, &b, &s, &f))
        return FALSE;
    canonical = g_strdup_printf("%04x:%02x:%02x.%x", d, b, s, f);
    return strcmp(canonical, id) == 0;
}

/* Returns FALSE with @error saying @id is not a valid entry name. */
static gboolean
bad_id(const char *id, GError **error)
{
    g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_INVALID,
                "GPU journal: '%s' is neither a UUID nor a PCI address like 0000:01:00.0",
                id ? id : "(none)");
    return FALSE;
}

/* Returns TRUE once @dir exists as a folder (made 0700 when missing). */
static gboolean
make_dir(const char *dir, GError **error)
{
    if (g_mkdir_with_parents(dir, 0700) != 0 || !g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                    "creating the GPU journal folder %s: %s", dir, g_strerror(e));
        return FALSE;
    }
    return TRUE;
}

/* Returns TRUE once @dir's entries are on disk (renames and unlinks made durable). */
static gboolean
sync_dir(const char *dir, GError **error)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int e;

    if (fd >= 0 && fsync(fd) == 0) {
        close(fd);
        return TRUE;
    }
    e = errno;
    if (fd >= 0)
        close(fd);
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "syncing the GPU journal %s: %s",
                dir, g_strerror(e));
    return FALSE;
}

/* Sets @key to @value when there is one. */
static void
set_opt(GKeyFile *kf, const char *key, const char *value)
{
    if (value)
        g_key_file_set_string(kf, GROUP, key, value);
}

/* Returns the text of @claim's entry. */
static char *
claim_to_text(const VsGpuClaim *claim, gsize *ret_len)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();

    g_key_file_set_string(kf, GROUP, "kind", vs_gpu_claim_kind_to_string(claim->kind));
    g_key_file_set_string(kf, GROUP, "id", claim->id);
    set_opt(kf, "uri", claim->uri);
    set_opt(kf, "domain-uuid", claim->domain_uuid);
    set_opt(kf, "domain-name", claim->domain_name);
    set_opt(kf, "parent", claim->parent);
    set_opt(kf, "device", claim->device);
    set_opt(kf, "vgpu-type", claim->vgpu_type);
    set_opt(kf, "mdev-uuid", claim->mdev_uuid);
    if (claim->functions && claim->functions->len > 0)
        g_key_file_set_string_list(kf, GROUP, "functions",
                                   (const char *const *)claim->functions->pdata,
                                   claim->functions->len);
    g_key_file_set_boolean(kf, GROUP, "created", claim->created);
    g_key_file_set_int64(kf, GROUP, "pid", claim->pid);
    return g_key_file_to_data(kf, ret_len, NULL);
}

gboolean
vs_gpu_journal_write(const char *dir, const VsGpuClaim *claim, GError **error)
{
    g_autofree char *path = NULL;
    g_autofree char *tmp = NULL;
    g_autofree char *text = NULL;
    gsize len = 0, done = 0;
    int fd, e = 0;

    if (claim->kind >= VS_GPU_CLAIM_LAST || !vs_gpu_journal_id_is_valid(claim->id))
        return bad_id(claim->id, error);
    if (!make_dir(dir, error))
        return FALSE;
    text = claim_to_text(claim, &len);
    path = g_build_filename(dir, claim->id, NULL);
    tmp = g_strdup_printf("%s/.%s.XXXXXX", dir, claim->id);
    fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                    "writing the GPU journal entry %s: %s", path, g_strerror(e));
        return FALSE;
    }
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            e = n < 0 ? errno : EIO;
            break;
        }
        done += (gsize)n;
    }
    if (e == 0 && fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && e == 0)
        e = errno;
    if (e == 0 && rename(tmp, path) != 0)
        e = errno;
    if (e != 0) {
        g_unlink(tmp);
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                    "writing the GPU journal entry %s: %s", path, g_strerror(e));
        return FALSE;
    }
    return sync_dir(dir, error);
}

gboolean
vs_gpu_journal_remove(const char *dir, const char *id, GError **error)
{
    g_autofree char *path = NULL;

    if (!vs_gpu_journal_id_is_valid(id))
        return bad_id(id, error);
    path = g_build_filename(dir, id, NULL);
    if (g_unlink(path) != 0) {
        int e = errno;
        if (e == ENOENT)
            return TRUE;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                    "removing the GPU journal entry %s: %s", path, g_strerror(e));
        return FALSE;
    }
    return sync_dir(dir, error);
}

/* Returns the contents of @path (at most ENTRY_MAX bytes, NUL-terminated), or NULL with @error
 * set; a missing file is G_FILE_ERROR_NOENT. */
static char *
read_bounded(const char *path, gsize *ret_len, GError **error)
{
    g_autofree char *buf = g_malloc(ENTRY_MAX + 2);
    gsize len = 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    int e = 0;

    if (fd < 0) {
        e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                    "reading the GPU journal entry %s: %s", path, g_strerror(e));
        return NULL;
    }
    while (len <= ENTRY_MAX) {
        ssize_t n = read(fd, buf + len, ENTRY_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            e = errno;
        if (n <= 0)
            break;
        len += (gsize)n;
    }
    close(fd);
    if (e != 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                    "reading the GPU journal entry %s: %s", path, g_strerror(e));
        return NULL;
    }
    if (len > ENTRY_MAX) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED,
                    "the GPU journal entry %s is larger than %d KiB: not an entry; look at it and "
                    "remove it by hand",
                    path, ENTRY_MAX / 1024);
        return NULL;
    }
    buf[len] = '\0';
    *ret_len = len;
    return g_steal_pointer(&buf);
}

/* Returns FALSE with @error saying the entry @path does not parse and why. */
static gboolean
parse_fail(const char *path, const char *what, GError **error)
{
    g_set_error(
        error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED,
        "the GPU journal entry %s does not parse: %s; it may name a GPU allocation: look at "
        "it, give back what it names and remove it by hand",
        path, what);
    return FALSE;
}

/* Returns the optional string @key of @kf (NULL when absent). */
static char *
get_opt(GKeyFile *kf, const char *key)
{
    return g_key_file_get_string(kf, GROUP, key, NULL);
}

/* Returns the claim in the file @path named @name, or NULL with @error set. */
static VsGpuClaim *
read_entry(const char *path, const char *name, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local = NULL;
    g_autofree char *text = NULL;
    g_autofree char *kind = NULL;
    g_autofree char *id = NULL;
    g_auto(GStrv) functions = NULL;
    g_autoptr(VsGpuClaim) claim = NULL;
    gsize len = 0;
    int k;

    text = read_bounded(path, &len, error);
    if (!text)
        return NULL;
    if (!g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, &local))
        return parse_fail(path, local->message, error), NULL;
    kind = g_key_file_get_string(kf, GROUP, "kind", NULL);
    id = g_key_file_get_string(kf, GROUP, "id", NULL);
    k = vs_gpu_claim_kind_from_string(kind);
    if (k < 0)
        return parse_fail(path, "its kind is not mdev, vf or passthrough", error), NULL;
    if (g_strcmp0(id, name) != 0)
        return parse_fail(path, "its id is not its file's name", error), NULL;
    claim = vs_gpu_claim_new(k, id);
    claim->uri = get_opt(kf, "uri");
    claim->domain_uuid = get_opt(kf, "domain-uuid");
    claim->domain_name = get_opt(kf, "domain-name");
    claim->parent = get_opt(kf, "parent");
    claim->device = get_opt(kf, "device");
    claim->vgpu_type = get_opt(kf, "vgpu-type");
    claim->mdev_uuid = get_opt(kf, "mdev-uuid");
    functions = g_key_file_get_string_list(kf, GROUP, "functions", NULL, NULL);
    for (guint i = 0; functions && functions[i]; i++)
        g_ptr_array_add(claim->functions, g_strdup(functions[i]));
    claim->created = g_key_file_get_boolean(kf, GROUP, "created", &local);
    if (local)
        return parse_fail(path, local->message, error), NULL;
    claim->pid = g_key_file_get_int64(kf, GROUP, "pid", &local);
    if (local)
        return parse_fail(path, local->message, error), NULL;
    if (claim->kind == VS_GPU_CLAIM_MDEV &&
        (!claim->parent || !claim->vgpu_type || g_strcmp0(claim->mdev_uuid, claim->id) != 0))
        return parse_fail(path, "an mdev entry needs parent, vgpu-type and its UUID", error), NULL;
    if (claim->kind == VS_GPU_CLAIM_VF &&
        (!claim->vgpu_type || g_strcmp0(claim->device, claim->id) != 0))
        return parse_fail(path, "a VF entry needs vgpu-type and its device", error), NULL;
    if (claim->kind == VS_GPU_CLAIM_PASSTHROUGH && g_strcmp0(claim->device, claim->id) != 0)
        return parse_fail(path, "a passthrough entry needs its device", error), NULL;
    return g_steal_pointer(&claim);
}

VsGpuClaim *
vs_gpu_journal_get(const char *dir, const char *id, GError **error)
{
    g_autofree char *path = NULL;

    if (!vs_gpu_journal_id_is_valid(id))
        return bad_id(id, error), NULL;
    path = g_build_filename(dir, id, NULL);
    if (!g_file_test(path, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK))
        return NULL;
    return read_entry(path, id, error);
}

/* Returns the order of two claims by id. */
static int
compare_claims(gconstpointer a, gconstpointer b)
{
    return strcmp((*(VsGpuClaim *const *)a)->id, (*(VsGpuClaim *const *)b)->id);
}

GPtrArray *
vs_gpu_journal_read(const char *dir, GError **error)
{
    g_autoptr(GPtrArray) claims = g_ptr_array_new_with_free_func((GDestroyNotify)vs_gpu_claim_free);
    g_autoptr(GError) local = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &local);
    const char *name;
    guint seen = 0;

    if (!d) {
        if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return g_steal_pointer(&claims);
        g_set_error(error, G_FILE_ERROR, local->code, "reading the GPU journal %s: %s", dir,
                    local->message);
        return NULL;
    }
    while ((name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        VsGpuClaim *claim;

        if (name[0] == '.')
            continue; /* a temporary file of a writer (perhaps one that was killed) */
        if (++seen > ENTRIES_MAX) {
            g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED,
                        "the GPU journal %s holds more than %d entries: look at what fills it", dir,
                        ENTRIES_MAX);
            return NULL;
        }
        if (!vs_gpu_journal_id_is_valid(name)) {
            parse_fail(path, "its name is neither a UUID nor a PCI address", error);
            return NULL;
        }
        claim = read_entry(path, name, error);
        if (!claim)
            return NULL;
        g_ptr_array_add(claims, claim);
    }
    g_ptr_array_sort(claims, compare_claims);
    return g_steal_pointer(&claims);
}
