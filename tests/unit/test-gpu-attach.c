/* The allocation journal and the attach module against the fake backend (gpu/hostops.h) on
 * copies of the sysfs fixtures: what claim chooses, what take and give-back change in the
 * tree (available_instances, mdev directories, current_vgpu_type), what stays after a fault,
 * two processes under one lock, a process killed mid-way and reconcile. Expected counts and
 * names come from the fixtures (tests/data/sysfs/make-fixtures.py), read from the tree's own
 * files where they change. */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gpu/attach.h"
#include "gpu/select.h"
#include "tests/bed/golden.h"

#define T4        "0000:3b:00.0"
#define T4_MDEV   "4b20d080-1b54-4048-85b3-a6a62d165c01" /* the fixture's own mdev, nvidia-225 */
#define H100_PF   "0000:c1:00.0"
#define VF_USED   "0000:c1:01.2" /* holds type 1099 in the fixture */
#define VF_FREE   "0000:c1:01.3"
#define UUID_A    "11111111-2222-4333-8444-555555555555"
#define UUID_B    "22222222-2222-4333-8444-555555555555"
#define UUID_LATE "f0000000-0000-4000-8000-000000000001" /* sorts after T4_MDEV */

typedef struct {
    char *root;    /* the fake's copy of the fixture */
    char *tmp;     /* journal and lock file */
    char *journal; /* tmp/journal */
    VsGpuOps *ops;
    GHashTable *held;    /* what other workstations' metadata holds */
    GHashTable *domains; /* UUIDs of domains that exist */
    GPtrArray *said;
    VsGpuHost host;
} Fx;

static gboolean
fx_domain_exists(void *data, const char *uri, const char *uuid)
{
    Fx *fx = data;
    return uuid && g_hash_table_contains(fx->domains, uuid);
}

static void
fx_say(void *data, const char *sentence)
{
    Fx *fx = data;
    g_ptr_array_add(fx->said, g_strdup(sentence));
}

/* Returns a host on a copy of the fixture @fixture, for the domain @uuid named @name. */
static Fx *
fx_new(const char *fixture, const char *uuid, const char *name)
{
    Fx *fx = g_new0(Fx, 1);
    g_autofree char *rel = g_build_filename("sysfs", fixture, NULL);
    g_autofree char *src = vs_golden_path(rel);
    g_autoptr(GError) error = NULL;

    fx->root = vs_gpu_fake_tree_copy(src, &error);
    g_assert_no_error(error);
    fx->tmp = g_dir_make_tmp("vs-attach-XXXXXX", &error);
    g_assert_no_error(error);
    fx->journal = g_build_filename(fx->tmp, "journal", NULL);
    fx->ops = vs_gpu_ops_fake(fx->root);
    fx->held = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    fx->domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    fx->said = g_ptr_array_new_with_free_func(g_free);
    fx->host = (VsGpuHost){
        .ops = fx->ops,
        .journal_dir = fx->journal,
        .uri = "qemu:///system",
        .domain_uuid = uuid,
        .domain_name = name,
        .held = fx->held,
        .domain_exists = fx_domain_exists,
        .data = fx,
        .say = fx_say,
        .mdev_wait_ms = 5,
        .retry_ms = 1,
        .retries = 5,
    };
    return fx;
}

static void
fx_free(Fx *fx)
{
    g_autofree char *lock = g_build_filename(fx->tmp, "gpu.lock", NULL);
    g_autoptr(GDir) d = g_dir_open(fx->journal, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(fx->journal, name, NULL);
        g_unlink(p);
    }
    g_rmdir(fx->journal);
    g_unlink(lock);
    g_rmdir(fx->tmp);
    vs_gpu_fake_tree_remove(fx->root);
    vs_gpu_ops_free(fx->ops);
    g_hash_table_unref(fx->held);
    g_hash_table_unref(fx->domains);
    g_ptr_array_unref(fx->said);
    g_free(fx->root);
    g_free(fx->tmp);
    g_free(fx->journal);
    g_free(fx);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Fx, fx_free)

/* Returns @host for another domain (same tree, journal and metadata). */
static VsGpuHost
other_domain(const Fx *fx, const char *uuid, const char *name)
{
    VsGpuHost h = fx->host;
    h.domain_uuid = uuid;
    h.domain_name = name;
    return h;
}

/* Returns the first line of ROOT/@rel. */
static char *
tree_read(const Fx *fx, const char *rel)
{
    g_autofree char *path = g_build_filename(fx->root, rel, NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;

    g_file_get_contents(path, &text, NULL, &error);
    g_assert_no_error(error);
    text[strcspn(text, "\n")] = '\0';
    return g_steal_pointer(&text);
}

/* Returns available_instances of the T4's mdev type @type, read from the tree. */
static gint64
t4_available(const Fx *fx, const char *type)
{
    g_autofree char *rel =
        g_strdup_printf("bus/pci/devices/" T4 "/mdev_supported_types/%s/available_instances", type);
    g_autofree char *text = tree_read(fx, rel);
    return g_ascii_strtoll(text, NULL, 10);
}

/* Returns a VF's current_vgpu_type, read from the tree. */
static char *
vf_type(const Fx *fx, const char *vf)
{
    g_autofree char *rel = g_strdup_printf("bus/pci/devices/%s/nvidia/current_vgpu_type", vf);
    return tree_read(fx, rel);
}

static gboolean
mdev_in_tree(const Fx *fx, const char *uuid)
{
    g_autofree char *path = g_build_filename(fx->root, "bus", "mdev", "devices", uuid, NULL);
    struct stat st;
    return lstat(path, &st) == 0;
}

static guint
journal_count(const Fx *fx)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) entries = vs_gpu_journal_read(fx->journal, &error);
    g_assert_no_error(error);
    return entries->len;
}

static VsGpuClaim *
journal_entry(const Fx *fx, const char *id)
{
    g_autoptr(GError) error = NULL;
    VsGpuClaim *c = vs_gpu_journal_get(fx->journal, id, &error);
    g_assert_no_error(error);
    return c;
}

static VsGpuInventory *
fx_inventory(const Fx *fx)
{
    g_autoptr(GError) error = NULL;
    VsGpuInventory *inv = fx->ops->inventory(fx->ops->data, &error);
    g_assert_no_error(error);
    return inv;
}

static VsGpuPlan *
vgpu_plan(const char *device, const char *type, VsVgpuKind kind)
{
    VsGpuPlan *plan = vs_gpu_plan_new(VS_GPU_MODE_VGPU);
    plan->device = g_strdup(device);
    plan->vgpu_type = g_strdup(type);
    plan->vgpu_kind = kind;
    return plan;
}

/* Claims and takes @plan for @host on a fresh inventory; returns what claim or take said. */
static gboolean
claim_take(Fx *fx, const VsGpuHost *host, VsGpuPlan *plan, const char *prefer, GError **error)
{
    g_autoptr(VsGpuInventory) inv = fx_inventory(fx);
    return vs_gpu_claim(plan, inv, host, prefer, error) && vs_gpu_take(plan, host, error);
}

static void
write_fault(const Fx *fx, const char *op)
{
    g_autofree char *path = g_build_filename(fx->root, ".fake-fail", NULL);
    g_autofree char *text = g_strdup_printf("%s\n", op);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

/* Returns the pid of a process that has exited and been reaped. */
static pid_t
dead_pid(void)
{
    pid_t pid = fork();
    int status;

    g_assert_cmpint(pid, >=, 0);
    if (pid == 0)
        _exit(0);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    return pid;
}

/* ---- the journal ---- */

static void
test_journal(void)
{
    g_autoptr(Fx) fx = fx_new("rhel-t4", UUID_A, "ws-a");
    g_autoptr(GError) error = NULL;
    g_autoptr(VsGpuClaim) mdev = vs_gpu_claim_new(VS_GPU_CLAIM_MDEV, UUID_B);
    g_autoptr(VsGpuClaim) pt = vs_gpu_claim_new(VS_GPU_CLAIM_PASSTHROUGH, "0000:01:00.0");
    g_autoptr(VsGpuClaim) bad = vs_gpu_claim_new(VS_GPU_CLAIM_VF, "../../etc/passwd");
    g_autoptr(VsGpuClaim) short_addr = vs_gpu_claim_new(VS_GPU_CLAIM_VF, "01:00.0");
    g_autoptr(GPtrArray) all = NULL;
    g_autofree char *stray = NULL;
    g_autofree char *big = NULL;
    struct stat st;
    const VsGpuClaim *c;

    g_assert_cmpstr(vs_gpu_claim_kind_to_string(VS_GPU_CLAIM_VF), ==, "vf");
    g_assert_cmpint(vs_gpu_claim_kind_from_string("passthrough"), ==, VS_GPU_CLAIM_PASSTHROUGH);
    g_assert_cmpint(vs_gpu_claim_kind_from_string("gpu"), ==, -1);
    /* A folder that does not exist holds no entries. */
    all = vs_gpu_journal_read(fx->journal, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(all->len, ==, 0);
    g_clear_pointer(&all, g_ptr_array_unref);

    mdev->domain_uuid = g_strdup(UUID_A);
    mdev->domain_name = g_strdup("ws-a");
    mdev->uri = g_strdup("qemu:///system");
    mdev->parent = g_strdup(T4);
    mdev->vgpu_type = g_strdup("nvidia-224");
    mdev->mdev_uuid = g_strdup(UUID_B);
    mdev->created = TRUE;
    mdev->pid = 4242;
    pt->device = g_strdup("0000:01:00.0");
    g_ptr_array_add(pt->functions, g_strdup("0000:01:00.0"));
    g_ptr_array_add(pt->functions, g_strdup("0000:01:00.1"));
    g_assert_true(vs_gpu_journal_write(fx->journal, pt, &error));
    g_assert_no_error(error);
    g_assert_true(vs_gpu_journal_write(fx->journal, mdev, &error));
    g_assert_no_error(error);
    g_assert_cmpint(g_stat(fx->journal, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0700);

    /* Ids that are not a UUID or a canonical PCI address never become file names. */
    g_assert_false(vs_gpu_journal_write(fx->journal, bad, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_false(vs_gpu_journal_write(fx->journal, short_addr, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_false(vs_gpu_journal_remove(fx->journal, "..", &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_INVALID);
    g_clear_error(&error);

    /* A temporary file a killed writer left is skipped. */
    stray = g_build_filename(fx->journal, ".0000:01:00.0.AbCdEf", NULL);
    g_assert_true(g_file_set_contents(stray, "half", -1, NULL));
    all = vs_gpu_journal_read(fx->journal, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(all->len, ==, 2);
    /* Sorted by id: the address sorts before the UUID. */
    c = all->pdata[0];
    g_assert_cmpint(c->kind, ==, VS_GPU_CLAIM_PASSTHROUGH);
    g_assert_cmpstr(c->device, ==, "0000:01:00.0");
    g_assert_cmpuint(c->functions->len, ==, 2);
    g_assert_cmpstr(c->functions->pdata[1], ==, "0000:01:00.1");
    g_assert_false(c->created);
    g_assert_cmpint(c->pid, ==, getpid());
    c = all->pdata[1];
    g_assert_cmpint(c->kind, ==, VS_GPU_CLAIM_MDEV);
    g_assert_cmpstr(c->id, ==, UUID_B);
    g_assert_cmpstr(c->domain_uuid, ==, UUID_A);
    g_assert_cmpstr(c->domain_name, ==, "ws-a");
    g_assert_cmpstr(c->uri, ==, "qemu:///system");
    g_assert_cmpstr(c->parent, ==, T4);
    g_assert_cmpstr(c->vgpu_type, ==, "nvidia-224");
    g_assert_null(c->device);
    g_assert_true(c->created);
    g_assert_cmpint(c->pid, ==, 4242);
    g_clear_pointer(&all, g_ptr_array_unref);

    /* Removing twice is fine. */
    g_assert_true(vs_gpu_journal_remove(fx->journal, "0000:01:00.0", &error));
    g_assert_true(vs_gpu_journal_remove(fx->journal, "0000:01:00.0", &error));
    g_assert_no_error(error);
    g_assert_cmpuint(journal_count(fx), ==, 1);

    /* An entry that does not parse is an error naming its file. */
    g_unlink(stray);
    g_free(stray);
    stray = g_build_filename(fx->journal, "0000:02:00.0", NULL);
    g_assert_true(g_file_set_contents(stray, "[claim]\nkind=gpu\n", -1, NULL));
    all = vs_gpu_journal_read(fx->journal, &error);
    g_assert_null(all);
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED);
    g_assert_nonnull(strstr(error->message, stray));
    g_clear_error(&error);
    /* So is a file whose name is not an id, and an entry larger than 64 KiB. */
    g_unlink(stray);
    g_free(stray);
    stray = g_build_filename(fx->journal, "notes.txt", NULL);
    g_assert_true(g_file_set_contents(stray, "", -1, NULL));
    g_assert_null(vs_gpu_journal_read(fx->journal, &error));
    g_assert_nonnull(strstr(error->message, stray));
    g_clear_error(&error);
    g_unlink(stray);
    g_free(stray);
    stray = g_build_filename(fx->journal, "0000:02:00.0", NULL);
    big = g_strnfill(64 * 1024 + 1, '#');
    g_assert_true(g_file_set_contents(stray, big, -1, NULL));
    g_assert_null(vs_gpu_journal_read(fx->journal, &error));
    g_assert_nonnull(strstr(error->message, "larger than 64 KiB"));
    g_clear_error(&error);
    /* Exactly 64 KiB of comments is still an entry's size: it fails on content, not size. */
    big[64 * 1024] = '\0';
    g_assert_true(g_file_set_contents(stray, big, -1, NULL));
    g_assert_null(vs_gpu_journal_read(fx->journal, &error));
    g_assert_null(strstr(error->message, "larger than"));
    g_clear_error(&error);
    g_unlink(stray);
}

/* ---- mdev ---- */

static void
test_mdev_cycle(void)
{
    g_autoptr(Fx) fx = fx_new("rhel-t4", UUID_A, "ws-a");
    g_autoptr(VsGpuPlan) plan = vgpu_plan(T4, "nvidia-224", VS_VGPU_KIND_MDEV);
    g_autoptr(VsGpuInventory) inv = fx_inventory(fx);
    g_autoptr(GError) error = NULL;
    g_autoptr(VsGpuClaim) entry = NULL;

    /* The fixture: GRID T4-4Q has 4 instances, T4-1Q 16. */
    g_assert_cmpint(t4_available(fx, "nvidia-224"), ==, 4);
    g_assert_cmpint(t4_available(fx, "nvidia-222"), ==, 16);

    g_assert_true(vs_gpu_claim(plan, inv, &fx->host, NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(plan->device, ==, T4);
    g_assert_true(g_uuid_string_is_valid(plan->mdev_uuid));
    /* The claim is journaled and nothing on the host changed. */
    entry = journal_entry(fx, plan->mdev_uuid);
    g_assert_nonnull(entry);
    g_assert_false(entry->created);
    g_assert_cmpstr(entry->parent, ==, T4);
    g_assert_cmpstr(entry->vgpu_type, ==, "nvidia-224");
    g_assert_cmpstr(entry->domain_name, ==, "ws-a");
    g_assert_cmpint(t4_available(fx, "nvidia-224"), ==, 4);
    g_assert_false(mdev_in_tree(fx, plan->mdev_uuid));
    g_clear_pointer(&entry, vs_gpu_claim_free);

    g_assert_true(vs_gpu_take(plan, &fx->host, &error));
    g_assert_no_error(error);
    g_assert_true(mdev_in_tree(fx, plan->mdev_uuid));
    g_assert_cmpint(t4_available(fx, "nvidia-224"), ==, 3);
    /* NVIDIA time-sliced vGPUs: one type per GPU, the others drop to 0. */
    g_assert_cmpint(t4_available(fx, "nvidia-222"), ==, 0);
    entry = journal_entry(fx, plan->mdev_uuid);
    g_assert_true(entry->created);

    g_assert_true(vs_gpu_give_back(plan, &fx->host, &error));
    g_assert_no_error(error);
    g_assert_false(mdev_in_tree(fx, plan->mdev_uuid));
    g_assert_cmpint(t4_available(fx, "nvidia-224"), ==, 4);
    g_assert_cmpuint(journal_count(fx), ==, 0);
    /* The fixture's own mdev was not touched. */
    g_assert_true(mdev_in_tree(fx, T4_MDEV));
}

static void
test_mdev_prefer(void)
{
    g_autoptr(Fx) fx = fx_new("rhel-t4", UUID_A, "ws-a");
    g_autoptr(VsGpuPlan) plan = vgpu_plan(T4, "nvidia-224", VS_VGPU_KIND_MDEV);
    g_autoptr(VsGpuPlan) again = vgpu_plan(T4, "nvidia-224", VS_VGPU_KIND_MDEV);
    g_autoptr(VsGpuPlan) exists = vgpu_plan(T4, "nvidia-224", VS_VGPU_KIND_MDEV);
    g_autoptr(VsGpuInventory) inv = fx_inventory(fx);
    g_autoptr(GError) error = NULL;
    const char *prefer = "0c0ffee0-0000-4000-8000-00000000abcd";

    /* Free: reused, so the domain's XML stays as it was. */
    g_assert_true(vs_gpu_claim(plan, inv, &fx->host, prefer, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(plan->mdev_uuid, ==, prefer);
    g_assert_true(vs_gpu_give_back(plan, &fx->host, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(journal_count(fx), ==, 0);

    /* Held by another workstation's metadata: a new UUID. */
    g_hash_table_insert(fx->held, g_strdup(prefer), g_strdup("ws-other"));
    g_assert_true(vs_gpu_claim(again, inv, &fx->host, prefer, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(again->mdev_uuid, !=, prefer);
    g_assert_true(g_uuid_string_is_valid(again->mdev_uuid));
    g_assert_null(journal_entry(fx, prefer));

    /* Held by our own metadata: still ours. */
    g_hash_table_insert(fx->held, g_strdup(prefer), g_strdup("ws-a"));
    g_assert_true(vs_gpu_give_back(again, &fx->host, &error));
    g_clear_pointer(&again->mdev_uuid, g_free);
    g_assert_true(vs_gpu_claim(again, inv, &fx->host, prefer, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(again->mdev_uuid, ==, prefer);

    /* Existing on the host already (the fixture's own, nobody's metadata): a new UUID. */
    g_assert_true(vs_gpu_claim(exists, inv, &fx->host, T4_MDEV, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(exists->mdev_uuid, !=, T4_MDEV);
}

static void
test_unknown(void)
{
    g_autoptr(Fx) fx = fx_new("rhel-t4", UUID_A, "ws-a");
    g_autoptr(VsGpuPlan) plan = vgpu_plan(T4, "nvidia-999", VS_VGPU_KIND_MDEV);
    g_autoptr(VsGpuPlan) pt = vs_gpu_plan_new(VS_GPU_MODE_PASSTHROUGH);
    g_autoptr(VsGpuInventory) inv = fx_inventory(fx);
    g_autoptr(GError) error = NULL;

    g_assert_false(vs_gpu_claim(plan, inv, &fx->host, NULL, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_UNKNOWN);
    g_assert_nonnull(strstr(error->message, "nvidia-999"));
    g_clear_error(&error);
    pt->device = g_strdup("0000:09:00.0");
    g_assert_false(vs_gpu_claim(pt, inv, &fx->host, NULL, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_UNKNOWN);
    g_assert_nonnull(strstr(error->message, "0000:09:00.0"));
    g_assert_cmpuint(journal_count(fx), ==, 0);
}

/* The refusal names the type, the parent, the count, every holder and what is free instead. */
static void
test_capacity_message(void)
{
    g_autoptr(Fx) fx = fx_new("rhel-t4", UUID_A, "ws-a");
    VsGpuHost b = other_domain(fx, UUID_B, "ws-b");
    g_autoptr(VsGpuPlan) plan_a = vgpu_plan(T4, "nvidia-225", VS_VGPU_KIND_MDEV);
    g_autoptr(VsGpuPlan) plan_b = vgpu_plan(T4, "nvidia-225", VS_VGPU_KIND_MDEV);
    g_autoptr(VsGpuInventory) inv = fx_inventory(fx);
    g_autoptr(GError) error = NULL;

    /* The fixture's mdev belongs to ws1; GRID T4-8Q has one instance left. */
    g_hash_table_insert(fx->held, g_strdup(T4_MDEV), g_strdup("ws1"));
    g_assert_cmpint(t4_available(fx, "nvidia-225"), ==, 1);
    g_assert_true(vs_gpu_claim(plan_a, inv, &fx->host, UUID_LATE, &error));
    g_assert_no_error(error);
    /* ws-a's claim (not yet taken) holds the last one. */
    g_assert_false(vs_gpu_claim(plan_b, inv, &b, NULL, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED);
    g_assert_cmpstr(error->message, ==,
                    "no free instance of vGPU type nvidia-225 (GRID T4-8Q) on 0000:3b:00.0: 0 "
                    "free; held by ws1 (" T4_MDEV "), ws-a (" UUID_LATE "); free instead: "
                    "GRID T4-1Q (nvidia-222) on 0000:3b:00.0 \u00d716, "
                    "GRID T4-2Q (nvidia-223) on 0000:3b:00.0 \u00d78, "
                    "GRID T4-4Q (nvidia-224) on 0000:3b:00.0 \u00d74, "
                    "GRID T4-2B (nvidia-227) on 0000:3b:00.0 \u00d78, "
                    "GRID T4-4C (nvidia-228) on 0000:3b:00.0 \u00d74, "
                    "GRID T4-4A (nvidia-229) on 0000:3b:00.0 \u00d74");
    g_clear_error(&error);
    /* Taken: the other types of the T4 drop to 0, nothing is free instead. */
    g_assert_true(vs_gpu_take(plan_a, &fx->host, &error));
    g_assert_no_error(error);
    g_clear_pointer(&inv, vs_gpu_inventory_free);
    inv = fx_inventory(fx);
    g_assert_false(vs_gpu_claim(plan_b, inv, &b, NULL, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED);
    g_assert_cmpstr(error->message, ==,
                    "no free instance of vGPU type nvidia-225 (GRID T4-8Q) on 0000:3b:00.0: 0 "
                    "free; held by ws1 (" T4_MDEV "), ws-a (" UUID_LATE "); free instead: none");
    g_assert_cmpuint(journal_count(fx), ==, 1);
}

/* ---- NVIDIA's vendor-specific VFs ---- */

static void
test_vf_cycle(void)
{
    g_autoptr(Fx) fx = fx_new("h100-vendor", UUID_A, "ws-a");
    g_autoptr(VsGpuPlan) plan = vgpu_plan(VF_USED, "1099", VS_VGPU_KIND_VENDOR_VFIO);
    g_autoptr(VsGpuInventory) inv = fx_inventory(fx);
    g_autoptr(GError) error = NULL;
    g_autoptr(VsGpuClaim) entry = NULL;
    g_autofree char *t = NULL;

    g_assert_cmpstr((t = vf_type(fx, VF_USED)), ==, "1099");
    g_clear_pointer(&t, g_free);
    /* Asked for the VF in use (plan and prefer): the free one is chosen. */
    g_assert_true(vs_gpu_claim(plan, inv, &fx->host, VF_USED, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(plan->device, ==, VF_FREE);
    entry = journal_entry(fx, VF_FREE);
    g_assert_cmpint(entry->kind, ==, VS_GPU_CLAIM_VF);
    g_assert_cmpstr(entry->parent, ==, H100_PF);
    g_assert_false(entry->created);
    g_assert_cmpstr((t = vf_type(fx, VF_FREE)), ==, "0");
    g_clear_pointer(&t, g_free);

    g_assert_true(vs_gpu_take(plan, &fx->host, &error));
    g_assert_no_error(error);
    g_assert_cmpstr((t = vf_type(fx, VF_FREE)), ==, "1099");
    g_clear_pointer(&t, g_free);
    g_assert_cmpstr((t = vf_type(fx, VF_USED)), ==, "1099");
    g_clear_pointer(&t, g_free);

    /* Released, the VF refuses the next two writes of a type as busy. */
    g_setenv("VIRT_STATION_FAKE_GPU_BUSY", "2", TRUE);
    g_assert_true(vs_gpu_give_back(plan, &fx->host, &error));
    g_assert_no_error(error);
    g_assert_cmpstr((t = vf_type(fx, VF_FREE)), ==, "0");
    g_clear_pointer(&t, g_free);
    g_assert_cmpuint(journal_count(fx), ==, 0);

    /* One try is not enough, and the failed take leaves nothing behind; retried, the take
     * succeeds on its second try. */
    fx->host.retries = 1;
    g_clear_pointer(&inv, vs_gpu_inventory_free);
    inv = fx_inventory(fx);
    g_assert_true(vs_gpu_claim(plan, inv, &fx->host, NULL, &error));
    g_assert_no_error(error);
    g_assert_false(vs_gpu_take(plan, &fx->host, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_BUSY);
    g_clear_error(&error);
    g_assert_cmpuint(journal_count(fx), ==, 0);
    g_assert_cmpstr((t = vf_type(fx, VF_FREE)), ==, "0");
    g_clear_pointer(&t, g_free);
    fx->host.retries = 5;
    g_assert_true(claim_take(fx, &fx->host, plan, NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(plan->device, ==, VF_FREE);
    g_assert_cmpstr((t = vf_type(fx, VF_FREE)), ==, "1099");
    g_clear_pointer(&t, g_free);
    g_assert_true(vs_gpu_give_back(plan, &fx->host, &error));
    g_assert_no_error(error);
    g_assert_cmpstr((t = vf_type(fx, VF_FREE)), ==, "0");
    g_unsetenv("VIRT_STATION_FAKE_GPU_BUSY");
}

/* A VF another workstation's metadata names is neither chosen nor given back. */
static void
test_vf_held(void)
{
    g_autoptr(Fx) fx = fx_new("h100-vendor", UUID_A, "ws-a");
    VsGpuHost b = other_domain(fx, UUID_B, "ws-b");
    g_autoptr(VsGpuPlan) plan = vgpu_plan(VF_FREE, "1099", VS_VGPU_KIND_VENDOR_VFIO);
    g_autoptr(VsGpuPlan) plan_b = vgpu_plan(VF_FREE, "1099", VS_VGPU_KIND_VENDOR_VFIO);
    g_autoptr(VsGpuPlan) theirs = vgpu_plan(VF_USED, "1099", VS_VGPU_KIND_VENDOR_VFIO);
    g_autoptr(GError) error = NULL;
    g_autofree char *t = NULL;

    g_hash_table_insert(fx->held, g_strdup(VF_USED), g_strdup("ws1"));
    g_assert_true(claim_take(fx, &fx->host, plan, NULL, &error));
    g_assert_no_error(error);
    /* Both VFs are taken now: ws-b is refused with both holders named. */
    g_assert_false(claim_take(fx, &b, plan_b, NULL, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED);
    g_assert_nonnull(strstr(error->message, "no free instance of vGPU type 1099"));
    g_assert_nonnull(strstr(error->message, "on " H100_PF ": 0 free; held by ws1 (" VF_USED
                                            "), ws-a (" VF_FREE ")"));
    g_clear_error(&error);
    /* Giving back ws1's VF as if it were ours changes nothing. */
    g_assert_true(vs_gpu_give_back(theirs, &fx->host, &error));
    g_assert_no_error(error);
    g_assert_cmpstr((t = vf_type(fx, VF_USED)), ==, "1099");
    g_clear_pointer(&t, g_free);
    g_assert_nonnull(strstr(fx->said->pdata[fx->said->len - 1], "held by ws1"));
    /* Nobody's metadata names it, but its type is not the one we set: left alone. */
    g_hash_table_remove_all(fx->held);
    g_free(theirs->vgpu_type);
    theirs->vgpu_type = g_strdup("1097");
    g_assert_true(vs_gpu_give_back(theirs, &fx->host, &error));
    g_assert_no_error(error);
    g_assert_cmpstr((t = vf_type(fx, VF_USED)), ==, "1099");
    g_assert_nonnull(strstr(fx->said->pdata[fx->said->len - 1], "someone else's"));
}

/* An inventory read before a VF took a type: the VF's current type decides, not the list. */
static void
test_vf_stale_inventory(void)
{
    g_autoptr(Fx) fx = fx_new("h100-vendor", UUID_A, "ws-a");
    g_autoptr(VsGpuPlan) plan = vgpu_plan(VF_FREE, "1099", VS_VGPU_KIND_VENDOR_VFIO);
    g_autoptr(VsGpuInventory) inv = fx_inventory(fx);
    g_autoptr(GError) error = NULL;

    g_assert_true(fx->ops->vf_set_type(fx->ops->data, VF_FREE, "1099", &error));
    g_assert_no_error(error);
    g_assert_false(vs_gpu_claim(plan, inv, &fx->host, NULL, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED);
    g_assert_nonnull(
        strstr(error->message, "held by unknown (" VF_USED "), unknown (" VF_FREE ")"));
    g_assert_cmpuint(journal_count(fx), ==, 0);
}

/* A PF with SR-IOV and no VFs: say how to enable them, never do it. */
static void
test_sriov_disabled(void)
{
    g_autoptr(Fx) fx = fx_new("h100-vendor", UUID_A, "ws-a");
    g_autoptr(VsGpuPlan) plan = vgpu_plan(VF_FREE, "1099", VS_VGPU_KIND_VENDOR_VFIO);
    g_autoptr(VsGpuInventory) inv = NULL;
    g_autoptr(GError) error = NULL;
    const char *gone[] = {"bus/pci/devices/" VF_USED, "bus/pci/devices/" VF_FREE};
    const char *files[] = {"virtfn0", "virtfn1"};
    g_autofree char *pf = g_build_filename(fx->root, "bus/pci/devices", H100_PF, NULL);
    g_autofree char *total = g_build_filename(pf, "sriov_totalvfs", NULL);
    g_autofree char *num = g_build_filename(pf, "sriov_numvfs", NULL);
    g_autofree char *virtfn0 = g_build_filename(pf, "virtfn0", NULL);

    for (guint i = 0; i < 2; i++) {
        g_autofree char *dir = g_build_filename(fx->root, gone[i], NULL);
        g_autofree char *link = g_build_filename(pf, files[i], NULL);
        vs_gpu_fake_tree_remove(dir);
        g_assert_cmpint(g_unlink(link), ==, 0);
    }
    g_assert_true(g_file_set_contents(total, "32\n", -1, NULL));
    g_assert_true(g_file_set_contents(num, "0\n", -1, NULL));
    inv = fx_inventory(fx);
    g_assert_cmpuint(inv->devices->len, ==, 1);
    g_assert_false(vs_gpu_claim(plan, inv, &fx->host, NULL, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED);
    g_assert_nonnull(strstr(error->message, "`sriov-manage -e " H100_PF "`"));
    g_assert_nonnull(strstr(error->message, "exit 0 without creating VFs"));
    g_assert_nonnull(strstr(error->message, "ls /sys/bus/pci/devices/" H100_PF "/virtfn*"));
    g_assert_cmpuint(journal_count(fx), ==, 0);
    /* Nothing enabled it. */
    g_assert_false(g_file_test(virtfn0, G_FILE_TEST_EXISTS));
}

/* ---- passthrough ---- */

static void
test_passthrough(void)
{
    g_autoptr(Fx) fx = fx_new("desktop-geforce", UUID_A, "ws-a");
    VsGpuHost b = other_domain(fx, UUID_B, "ws-b");
    g_autoptr(VsGpuInventory) inv = fx_inventory(fx);
    g_autoptr(GError) error = NULL;
    g_auto(VsGpuRequest) req = {0};
    g_autoptr(VsGpuPlan) plan = NULL;
    g_autoptr(VsGpuPlan) plan_b = NULL;
    g_autoptr(VsGpuClaim) entry = NULL;

    g_assert_true(vs_gpu_request_parse("passthrough:0000:01:00.0", 0, &req, &error));
    plan = vs_gpu_select(inv, &req, 7002000UL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(plan->functions->len, ==, 2);
    plan_b = vs_gpu_plan_copy(plan);

    /* The audio function is in another workstation's metadata. */
    g_hash_table_insert(fx->held, g_strdup("0000:01:00.1"), g_strdup("ws-other"));
    g_assert_false(vs_gpu_claim(plan, inv, &fx->host, NULL, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED);
    g_assert_nonnull(strstr(error->message, "0000:01:00.1 is held by ws-other"));
    g_assert_null(strstr(error->message, "0000:01:00.0 is held"));
    g_clear_error(&error);
    g_assert_cmpuint(journal_count(fx), ==, 0);
    g_hash_table_remove_all(fx->held);

    g_assert_true(claim_take(fx, &fx->host, plan, NULL, &error));
    g_assert_no_error(error);
    entry = journal_entry(fx, "0000:01:00.0");
    g_assert_cmpint(entry->kind, ==, VS_GPU_CLAIM_PASSTHROUGH);
    g_assert_cmpuint(entry->functions->len, ==, 2);
    /* Another domain is refused, naming the journal's holder for both functions. */
    g_assert_false(vs_gpu_claim(plan_b, inv, &b, NULL, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED);
    g_assert_nonnull(strstr(error->message, "0000:01:00.0 is held by ws-a; 0000:01:00.1 is held "
                                            "by ws-a"));
    g_clear_error(&error);
    g_assert_true(vs_gpu_give_back(plan, &fx->host, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(journal_count(fx), ==, 0);
    g_assert_true(vs_gpu_claim(plan_b, inv, &b, NULL, &error));
    g_assert_no_error(error);
    /* ws-b's claim goes stale (its writer is dead, its domain was never defined): it no
     * longer blocks ws-a, whose claim replaces it. */
    g_clear_pointer(&entry, vs_gpu_claim_free);
    entry = journal_entry(fx, "0000:01:00.0");
    g_assert_cmpstr(entry->domain_name, ==, "ws-b");
    entry->pid = dead_pid();
    g_assert_true(vs_gpu_journal_write(fx->journal, entry, &error));
    g_clear_pointer(&entry, vs_gpu_claim_free);
    g_assert_true(vs_gpu_claim(plan, inv, &fx->host, NULL, &error));
    g_assert_no_error(error);
    entry = journal_entry(fx, "0000:01:00.0");
    g_assert_cmpstr(entry->domain_name, ==, "ws-a");
    g_assert_cmpuint(journal_count(fx), ==, 1);
}

/* A group shared with a USB controller is refused by selection already: nothing to claim. */
static void
test_passthrough_shared_group(void)
{
    g_autoptr(Fx) fx = fx_new("shared-group", UUID_A, "ws-a");
    g_autoptr(VsGpuInventory) inv = fx_inventory(fx);
    g_autoptr(GError) error = NULL;
    g_auto(VsGpuRequest) req = {0};
    g_autoptr(VsGpuPlan) plan = NULL;

    g_assert_true(vs_gpu_request_parse("passthrough:0000:01:00.0", 0, &req, &error));
    plan = vs_gpu_select(inv, &req, 7002000UL, &error);
    g_assert_null(plan);
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED);
    g_assert_nonnull(strstr(error->message, "0000:02:00.0 (class 0c03)"));
}

/* ---- faults ---- */

/* A fault at each step of take leaves nothing allocated and no journal entry. */
static void
test_take_faults(void)
{
    const char *vf_ops[] = {"vf_set_type", "vf_get_type"};
    g_autoptr(GError) error = NULL;

    {
        g_autoptr(Fx) fx = fx_new("rhel-t4", UUID_A, "ws-a");
        g_autoptr(VsGpuPlan) plan = vgpu_plan(T4, "nvidia-224", VS_VGPU_KIND_MDEV);
        g_autoptr(VsGpuInventory) inv = fx_inventory(fx);
        g_assert_true(vs_gpu_claim(plan, inv, &fx->host, NULL, &error));
        write_fault(fx, "mdev_create");
        g_assert_false(vs_gpu_take(plan, &fx->host, &error));
        g_assert_nonnull(strstr(error->message, "fake fault"));
        g_assert_nonnull(strstr(error->message, plan->mdev_uuid));
        g_clear_error(&error);
        g_assert_false(mdev_in_tree(fx, plan->mdev_uuid));
        g_assert_cmpint(t4_available(fx, "nvidia-224"), ==, 4);
        g_assert_cmpuint(journal_count(fx), ==, 0);
    }
    for (guint i = 0; i < G_N_ELEMENTS(vf_ops); i++) {
        g_autoptr(Fx) fx = fx_new("h100-vendor", UUID_A, "ws-a");
        g_autoptr(VsGpuPlan) plan = vgpu_plan(VF_FREE, "1099", VS_VGPU_KIND_VENDOR_VFIO);
        g_autoptr(VsGpuInventory) inv = fx_inventory(fx);
        g_autofree char *t = NULL;
        g_assert_true(vs_gpu_claim(plan, inv, &fx->host, NULL, &error));
        g_assert_no_error(error);
        write_fault(fx, vf_ops[i]);
        g_assert_false(vs_gpu_take(plan, &fx->host, &error));
        g_assert_nonnull(strstr(error->message, "fake fault"));
        g_clear_error(&error);
        g_assert_cmpstr((t = vf_type(fx, VF_FREE)), ==, "0");
        g_assert_cmpuint(journal_count(fx), ==, 0);
    }
}

/* A fault while giving back keeps the journal entry and says what to run; the next try
 * gives it back. */
static void
test_give_back_faults(void)
{
    g_autoptr(GError) error = NULL;

    {
        g_autoptr(Fx) fx = fx_new("rhel-t4", UUID_A, "ws-a");
        g_autoptr(VsGpuPlan) plan = vgpu_plan(T4, "nvidia-224", VS_VGPU_KIND_MDEV);
        g_autofree char *by_hand = NULL;
        g_assert_true(claim_take(fx, &fx->host, plan, NULL, &error));
        g_assert_no_error(error);
        write_fault(fx, "mdev_remove");
        g_assert_false(vs_gpu_give_back(plan, &fx->host, &error));
        by_hand = g_strdup_printf("echo 1 > /sys/bus/mdev/devices/%s/remove", plan->mdev_uuid);
        g_assert_nonnull(strstr(error->message, by_hand));
        g_clear_error(&error);
        g_assert_true(mdev_in_tree(fx, plan->mdev_uuid));
        g_assert_cmpuint(journal_count(fx), ==, 1);
        g_assert_true(vs_gpu_give_back(plan, &fx->host, &error));
        g_assert_no_error(error);
        g_assert_false(mdev_in_tree(fx, plan->mdev_uuid));
        g_assert_cmpuint(journal_count(fx), ==, 0);
    }
    {
        g_autoptr(Fx) fx = fx_new("h100-vendor", UUID_A, "ws-a");
        g_autoptr(VsGpuPlan) plan = vgpu_plan(VF_FREE, "1099", VS_VGPU_KIND_VENDOR_VFIO);
        g_autofree char *t = NULL;
        g_assert_true(claim_take(fx, &fx->host, plan, NULL, &error));
        g_assert_no_error(error);
        write_fault(fx, "vf_set_type");
        g_assert_false(vs_gpu_give_back(plan, &fx->host, &error));
        g_assert_nonnull(strstr(error->message, "echo 0 > /sys/bus/pci/devices/" VF_FREE
                                                "/nvidia/current_vgpu_type"));
        g_clear_error(&error);
        g_assert_cmpstr((t = vf_type(fx, VF_FREE)), ==, "1099");
        g_clear_pointer(&t, g_free);
        g_assert_cmpuint(journal_count(fx), ==, 1);
        g_assert_true(vs_gpu_give_back(plan, &fx->host, &error));
        g_assert_no_error(error);
        g_assert_cmpstr((t = vf_type(fx, VF_FREE)), ==, "0");
        g_assert_cmpuint(journal_count(fx), ==, 0);
    }
}

/* ---- reconcile ---- */

static void
test_reconcile(void)
{
    g_autoptr(Fx) fx = fx_new("rhel-t4", UUID_A, "ws-a");
    const char *uuid_c = "33333333-2222-4333-8444-555555555555";
    VsGpuHost b = other_domain(fx, UUID_B, "ws-b");
    VsGpuHost c = other_domain(fx, uuid_c, "ws-c");
    g_autoptr(VsGpuPlan) plan_a = vgpu_plan(T4, "nvidia-224", VS_VGPU_KIND_MDEV);
    g_autoptr(VsGpuPlan) plan_b = vgpu_plan(T4, "nvidia-224", VS_VGPU_KIND_MDEV);
    g_autoptr(VsGpuPlan) plan_c = vgpu_plan(T4, "nvidia-224", VS_VGPU_KIND_MDEV);
    g_autoptr(VsGpuClaim) entry = NULL;
    g_autoptr(GPtrArray) stale = NULL;
    g_autoptr(GError) error = NULL;
    pid_t dead = dead_pid();

    g_assert_true(claim_take(fx, &fx->host, plan_a, NULL, &error));
    g_assert_true(claim_take(fx, &b, plan_b, NULL, &error));
    g_assert_true(claim_take(fx, &c, plan_c, NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpint(t4_available(fx, "nvidia-224"), ==, 1);
    /* ws-a: its writer is dead, its domain gone. ws-b: writer alive (an `up` under way).
     * ws-c: writer dead, but the domain exists. */
    entry = journal_entry(fx, plan_a->mdev_uuid);
    entry->pid = dead;
    g_assert_true(vs_gpu_journal_write(fx->journal, entry, &error));
    g_clear_pointer(&entry, vs_gpu_claim_free);
    entry = journal_entry(fx, plan_c->mdev_uuid);
    entry->pid = dead;
    g_assert_true(vs_gpu_journal_write(fx->journal, entry, &error));
    g_hash_table_add(fx->domains, g_strdup(uuid_c));

    stale = vs_gpu_reconcile(&fx->host, TRUE, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(stale->len, ==, 1);
    g_assert_cmpstr(((VsGpuClaim *)stale->pdata[0])->id, ==, plan_a->mdev_uuid);
    g_assert_cmpstr(((VsGpuClaim *)stale->pdata[0])->domain_name, ==, "ws-a");
    /* Reporting changed nothing. */
    g_assert_cmpuint(journal_count(fx), ==, 3);
    g_assert_true(mdev_in_tree(fx, plan_a->mdev_uuid));
    g_assert_cmpint(t4_available(fx, "nvidia-224"), ==, 1);
    g_clear_pointer(&stale, g_ptr_array_unref);

    stale = vs_gpu_reconcile(&fx->host, FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(stale->len, ==, 1);
    g_assert_false(mdev_in_tree(fx, plan_a->mdev_uuid));
    g_assert_true(mdev_in_tree(fx, plan_b->mdev_uuid));
    g_assert_true(mdev_in_tree(fx, plan_c->mdev_uuid));
    g_assert_cmpint(t4_available(fx, "nvidia-224"), ==, 2);
    g_assert_cmpuint(journal_count(fx), ==, 2);
    g_assert_null(journal_entry(fx, plan_a->mdev_uuid));
    g_clear_pointer(&stale, g_ptr_array_unref);

    /* ws-c's domain goes away too, and removing its mdev fails once: the error names it and
     * its entry stays for the next reconcile, which gives it back. */
    g_hash_table_remove(fx->domains, uuid_c);
    write_fault(fx, "mdev_remove");
    g_assert_null(vs_gpu_reconcile(&fx->host, FALSE, &error));
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, plan_c->mdev_uuid));
    g_clear_error(&error);
    g_assert_true(mdev_in_tree(fx, plan_c->mdev_uuid));
    g_assert_cmpuint(journal_count(fx), ==, 2);
    stale = vs_gpu_reconcile(&fx->host, FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(stale->len, ==, 1);
    g_assert_false(mdev_in_tree(fx, plan_c->mdev_uuid));
    g_assert_true(mdev_in_tree(fx, plan_b->mdev_uuid));
    g_assert_cmpuint(journal_count(fx), ==, 1);
}

/* ---- several processes ---- */

/* In a child: takes the GPU lock, claims and takes @plan for @uuid, releases the lock.
 * Exits 0 on success, 2 when refused, 1 otherwise. */
static void G_GNUC_NORETURN
child_claim_take(Fx *fx, const char *uuid, const char *type)
{
    g_autofree char *lock = g_build_filename(fx->tmp, "gpu.lock", NULL);
    g_autoptr(VsGpuOps) ops = vs_gpu_ops_fake(fx->root);
    g_autoptr(VsGpuPlan) plan = vgpu_plan(T4, type, VS_VGPU_KIND_MDEV);
    g_autoptr(GError) error = NULL;
    VsGpuHost host = other_domain(fx, uuid, uuid);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    gboolean ok;

    host.ops = ops;
    host.say = NULL;
    if (fd < 0 || flock(fd, LOCK_EX) != 0)
        _exit(1);
    {
        g_autoptr(VsGpuInventory) inv = ops->inventory(ops->data, &error);
        ok =
            inv && vs_gpu_claim(plan, inv, &host, NULL, &error) && vs_gpu_take(plan, &host, &error);
    }
    flock(fd, LOCK_UN);
    close(fd);
    _exit(ok ? 0 : g_error_matches(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED) ? 2 : 1);
}

static void
test_two_processes(void)
{
    g_autoptr(Fx) fx = fx_new("rhel-t4", UUID_A, "ws-a");
    const char *uuids[] = {UUID_A, UUID_B};
    pid_t pids[2];
    int codes[2];

    g_assert_cmpint(t4_available(fx, "nvidia-225"), ==, 1);
    for (guint i = 0; i < 2; i++) {
        pids[i] = fork();
        g_assert_cmpint(pids[i], >=, 0);
        if (pids[i] == 0)
            child_claim_take(fx, uuids[i], "nvidia-225");
    }
    for (guint i = 0; i < 2; i++) {
        int status;
        g_assert_cmpint(waitpid(pids[i], &status, 0), ==, pids[i]);
        g_assert_true(WIFEXITED(status));
        codes[i] = WEXITSTATUS(status);
    }
    /* Exactly one got it, the other was refused. */
    g_assert_cmpint(MIN(codes[0], codes[1]), ==, 0);
    g_assert_cmpint(MAX(codes[0], codes[1]), ==, 2);
    g_assert_cmpint(t4_available(fx, "nvidia-225"), ==, 0);
    g_assert_cmpuint(journal_count(fx), ==, 1);
}

/* A process killed after take (and one killed between claim and take): reconcile in another
 * process gives everything back. */
static void
test_killed(void)
{
    g_autoptr(Fx) fx = fx_new("rhel-t4", UUID_A, "ws-a");
    g_autoptr(GPtrArray) stale = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) entries = NULL;

    for (guint stage = 0; stage < 2; stage++) {
        int p[2];
        char c;
        int status;
        pid_t pid;

        g_assert_cmpint(pipe(p), ==, 0);
        pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
            VsGpuHost host = other_domain(fx, stage ? UUID_B : UUID_A, "ws-killed");
            g_autoptr(VsGpuOps) ops = vs_gpu_ops_fake(fx->root);
            g_autoptr(VsGpuPlan) plan = vgpu_plan(T4, "nvidia-224", VS_VGPU_KIND_MDEV);
            g_autoptr(VsGpuInventory) inv = ops->inventory(ops->data, NULL);
            host.ops = ops;
            host.say = NULL;
            if (!inv || !vs_gpu_claim(plan, inv, &host, NULL, NULL) ||
                (stage == 0 && !vs_gpu_take(plan, &host, NULL)))
                _exit(1);
            if (write(p[1], "x", 1) != 1)
                _exit(1);
            for (;;)
                pause();
        }
        close(p[1]);
        g_assert_cmpint(read(p[0], &c, 1), ==, 1);
        close(p[0]);
        g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        g_assert_true(WIFSIGNALED(status));
    }
    /* One mdev made, one claim not taken. */
    g_assert_cmpint(t4_available(fx, "nvidia-224"), ==, 3);
    entries = vs_gpu_journal_read(fx->journal, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(entries->len, ==, 2);

    stale = vs_gpu_reconcile(&fx->host, FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(stale->len, ==, 2);
    g_assert_cmpint(t4_available(fx, "nvidia-224"), ==, 4);
    g_assert_cmpuint(journal_count(fx), ==, 0);
    for (guint i = 0; i < entries->len; i++)
        g_assert_false(mdev_in_tree(fx, ((VsGpuClaim *)entries->pdata[i])->id));
    g_assert_true(mdev_in_tree(fx, T4_MDEV));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/gpu-attach/journal", test_journal);
    g_test_add_func("/gpu-attach/mdev-cycle", test_mdev_cycle);
    g_test_add_func("/gpu-attach/mdev-prefer", test_mdev_prefer);
    g_test_add_func("/gpu-attach/unknown", test_unknown);
    g_test_add_func("/gpu-attach/capacity-message", test_capacity_message);
    g_test_add_func("/gpu-attach/vf-cycle", test_vf_cycle);
    g_test_add_func("/gpu-attach/vf-held", test_vf_held);
    g_test_add_func("/gpu-attach/vf-stale-inventory", test_vf_stale_inventory);
    g_test_add_func("/gpu-attach/sriov-disabled", test_sriov_disabled);
    g_test_add_func("/gpu-attach/passthrough", test_passthrough);
    g_test_add_func("/gpu-attach/passthrough-shared-group", test_passthrough_shared_group);
    g_test_add_func("/gpu-attach/take-faults", test_take_faults);
    g_test_add_func("/gpu-attach/give-back-faults", test_give_back_faults);
    g_test_add_func("/gpu-attach/reconcile", test_reconcile);
    g_test_add_func("/gpu-attach/two-processes", test_two_processes);
    g_test_add_func("/gpu-attach/killed", test_killed);
    return g_test_run();
}
