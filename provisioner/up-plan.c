/* The plan of `up` (see up.h): decided before the host is touched, the same for a dry run and
 * a real one.
 *
 * Theory of operation: the host's capabilities (probed, or cached for a dry run), the image
 * reference and the GPU inventory become the inputs of vs_request_config() (request.h, pure),
 * together with what is chosen here at random: the MAC, the UUID and a candidate port that is
 * free on 127.0.0.1 right now. The configuration then names every volume, and the steps follow
 * from it. Nothing here is final where other processes compete: the apply (up-apply.c) takes
 * the locks of lock.h in their order, re-reads and confirms or re-chooses (the name is free, the
 * base volume is complete, the port is no other workstation's), and only then creates. */
#include "provisioner/up.h"

#include <string.h>

#include "provisioner/defaults.h"
#include "domains/kvm.h"
#include "provisioner/ports.h"
#include "gpu/select.h"
#include "domains/config.h"

#define DEFAULT_DISK_BYTES (20ULL << 30)

static void
step_free(VsUpStep *step)
{
    g_free(step->what);
    g_free(step);
}

void
vs_up_plan_free(VsUpPlan *plan)
{
    if (!plan)
        return;
    vs_domain_config_free(plan->config);
    vs_image_free(plan->image);
    g_ptr_array_unref(plan->steps);
    g_free(plan);
}

static char *
random_mac(void)
{
    return g_strdup_printf("52:54:00:%02x:%02x:%02x", g_random_int_range(0, 256),
                           g_random_int_range(0, 256), g_random_int_range(0, 256));
}

/* Returns TRUE when @spec asks for a GPU mode that needs the host's GPU inventory. */
static gboolean
needs_inventory(const VsSpec *spec)
{
    return g_strcmp0(spec->gpu, "none") != 0;
}

/* Returns @spec's image, resolved as far as the disk allows (images/image.h): no download. */
static VsImage *
spec_image(const VsSpec *spec, const VsCaps *caps, GError **error)
{
    if (!spec->image) {
        g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID,
                    "--image is needed: a catalog alias such as ubuntu:24.04 (`virt-station image "
                    "list --catalog`), a qcow2 or raw file, a URL or vol:NAME");
        return NULL;
    }
    return vs_image_parse(spec->image, spec->image_sha256,
                          spec->arch ? spec->arch : vs_arch_to_string(caps->arch),
                          spec->require_signature, error);
}

/* Decides between the domain types kvm and qemu for @spec's virt-type on the host of @caps
 * (@reached: libvirt answered) and sets @caps->kvm to the decision, saying why through
 * @progress when `auto` falls back to emulation. Errors: a bad value (exit status 2), an
 * explicit kvm that cannot work (1). */
static gboolean
decide_kvm(const VsSpec *spec, VsCaps *caps, gboolean reached, const VsProgress *progress,
           GError **error)
{
    int requested = spec->virt_type ? vs_virt_type_from_string(spec->virt_type) : VS_VIRT_TYPE_AUTO;
    const char *root = g_getenv("VIRT_STATION_HOST_ROOT");
    g_autoptr(VsKvmHost) host = NULL;
    g_auto(VsKvmChoice) choice = {0};

    if (requested < 0)
        return vs_spec_fail(error, "virt-type: '%s' is not one of auto, kvm, qemu",
                            spec->virt_type);
    if (!reached) {
        /* A dry run without libvirt: the domain type is what was asked for. */
        caps->kvm = requested == VS_VIRT_TYPE_KVM;
        return TRUE;
    }
    if (!caps->remote)
        host = vs_kvm_host_read(root && *root ? root : "/", caps->session);
    if (!vs_kvm_decide(requested, caps->remote, caps->kvm, host, &choice, error))
        return FALSE;
    if (choice.warning)
        vs_progress_warn(progress, "%s", choice.warning);
    if (choice.note)
        vs_progress_step(progress, "%s", choice.note);
    caps->kvm = choice.kvm;
    return TRUE;
}

/* Returns the inputs of vs_request_config() for @spec on the host of @caps: its facts, the
 * image's names, the GPU plan, and the random choices. */
static VsPlanInputs *
plan_inputs(const VsSpec *spec, const VsCaps *caps, const VsImage *image, const VsGpuInventory *inv,
            const GError *inv_error, GError **error)
{
    g_autoptr(VsPlanInputs) facts = vs_plan_inputs_new();

    facts->kvm = caps->kvm;
    facts->arch = caps->arch;
    facts->passt = caps->passt;
    facts->session = caps->session;
    facts->libvirt_version = caps->libvirt_version;
    /* Where libvirt keeps QEMU's logs: the serial console log goes beside them. */
    facts->console_log_dir =
        caps->session ? g_build_filename(g_get_user_cache_dir(), "libvirt", "qemu", "log", NULL)
                      : g_strdup("/var/log/libvirt/qemu");
    facts->mac = random_mac();
    facts->uuid = g_uuid_string_random();
    facts->default_user = vs_defaults_user();
    facts->ssh_port = vs_ports_free_loopback(error);
    if (!facts->ssh_port)
        return NULL;
    facts->gpu = vs_gpu_plan_request(
        spec->gpu, spec->gpu_memory_bytes >> 20, inv, inv_error, caps->qemu_version,
        (caps->remote ? VS_GPU_WHERE_REMOTE : 0) | (caps->session ? VS_GPU_WHERE_SESSION : 0) |
            (caps->libvirt_version && caps->libvirt_version < VS_VENDOR_VF_LIBVIRT
                 ? VS_GPU_WHERE_OLD_LIBVIRT
                 : 0),
        error);
    if (!facts->gpu)
        return NULL;
    /* A candidate, as the port is: the apply chooses under the GPU lock (gpu/attach.h). */
    if (facts->gpu->mode == VS_GPU_MODE_VGPU && facts->gpu->vgpu_kind == VS_VGPU_KIND_MDEV)
        facts->gpu->mdev_uuid = g_uuid_string_random();
    facts->image_alias =
        image->kind == VS_IMAGE_FILE ? g_path_get_basename(image->ref) : g_strdup(image->ref);
    facts->base_pool = g_strdup(image->pool  ? image->pool
                                : spec->pool ? spec->pool
                                             : VS_DEFAULT_POOL);
    if (image->volume) {
        facts->base_volume = g_strdup(image->volume);
    } else {
        /* Not fetched yet (a dry run): the name's hash part is known only afterwards. */
        g_autofree char *name = vs_image_volume_name(image->label, "");
        facts->base_volume = g_strconcat(name, "not-in-cache", NULL);
    }
    if (image->entry && image->entry->os)
        facts->os_id = g_strdup(image->entry->os);
    return g_steal_pointer(&facts);
}

static void add_step(VsUpPlan *plan, VsUpStepKind kind, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

static void
add_step(VsUpPlan *plan, VsUpStepKind kind, const char *format, ...)
{
    VsUpStep *step = g_new0(VsUpStep, 1);
    va_list ap;

    va_start(ap, format);
    step->kind = kind;
    step->what = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_ptr_array_add(plan->steps, step);
}

/* Adds @plan's steps, in the order the apply runs them. */
static void
add_steps(VsUpPlan *plan)
{
    const VsDomainConfig *c = plan->config;
    const VsImage *image = plan->image;

    add_step(plan, VS_UP_STEP_POOL,
             "use the storage pool %s (a directory pool at libvirt's usual place when missing)",
             c->pool);
    if (image->kind == VS_IMAGE_VOLUME)
        add_step(plan, VS_UP_STEP_BASE, "use the volume %s/%s as the base image", c->base_pool,
                 c->base_volume);
    else if (!image->path)
        add_step(plan, VS_UP_STEP_BASE,
                 "%s %s first, then import it as the base volume %s<12 hex> in pool %s unless it "
                 "is there",
                 image->kind == VS_IMAGE_FILE ? "unpack" : "download", image->url, image->label,
                 c->pool);
    else
        add_step(plan, VS_UP_STEP_BASE,
                 "import %s as the base volume %s in pool %s unless it is there", image->path,
                 c->base_volume, c->pool);
    add_step(plan, VS_UP_STEP_OVERLAY, "create the overlay %s (%" G_GUINT64_FORMAT " GiB) on %s",
             c->disk_volume, plan->disk_bytes >> 30, c->base_volume);
    if (c->seed_volume)
        add_step(plan, VS_UP_STEP_SEED, "upload the cloud-init seed %s", c->seed_volume);
    if (c->gpu->mode == VS_GPU_MODE_VGPU && c->gpu->vgpu_kind == VS_VGPU_KIND_MDEV)
        add_step(plan, VS_UP_STEP_GPU,
                 "create the mediated device %s of vGPU type %s on %s (or another parent "
                 "offering the type), chosen under the GPU lock",
                 c->gpu->mdev_uuid, c->gpu->vgpu_type, c->gpu->device);
    else if (c->gpu->mode == VS_GPU_MODE_VGPU)
        add_step(plan, VS_UP_STEP_GPU,
                 "set the vGPU type %s on the VF %s (or another free VF offering it), chosen "
                 "under the GPU lock",
                 c->gpu->vgpu_type, c->gpu->device);
    else if (c->gpu->mode == VS_GPU_MODE_PASSTHROUGH)
        add_step(plan, VS_UP_STEP_GPU,
                 "claim the %u function%s of %s for passthrough (libvirt detaches them from "
                 "their host drivers at start)",
                 c->gpu->functions->len, c->gpu->functions->len == 1 ? "" : "s", c->gpu->device);
    add_step(plan, VS_UP_STEP_DEFINE,
             "define %s (%u vCPUs, %" G_GUINT64_FORMAT " MiB, GPU %s, network %s)", c->name,
             c->vcpus, c->memory_mib, vs_gpu_mode_to_string(c->gpu->mode),
             vs_net_mode_to_string(c->net_mode));
    add_step(plan, VS_UP_STEP_START, "start %s", c->name);
}

/* Returns the plan for @spec on the host of @caps (@caps->kvm already decided) from @image
 * (taken over) and the GPU inventory @inv (NULL with @inv_error when it could not be read), or
 * NULL with @error set. Fresh MAC and UUID; a free 127.0.0.1 port as the candidate. */
static VsUpPlan *
make_plan(const VsSpec *spec, const VsCaps *caps, VsImage *image, const VsGpuInventory *inv,
          const GError *inv_error, GError **error)
{
    g_autoptr(VsUpPlan) plan = g_new0(VsUpPlan, 1);
    g_autoptr(VsPlanInputs) facts = NULL;

    plan->image = image;
    plan->steps = g_ptr_array_new_with_free_func((GDestroyNotify)step_free);
    facts = plan_inputs(spec, caps, image, inv, inv_error, error);
    if (!facts)
        return NULL;
    plan->config = vs_request_config(spec, facts, error);
    if (!plan->config)
        return NULL;
    plan->disk_bytes = spec->disk_bytes ? spec->disk_bytes : DEFAULT_DISK_BYTES;
    plan->remote = caps->remote;
    add_steps(plan);
    return g_steal_pointer(&plan);
}

VsUpPlan *
vs_up_prepare(const VsSpec *spec, VsCaps *caps, gboolean reached, const VsUpHost *host,
              const VsProgress *progress, GError **error)
{
    g_autoptr(GError) inv_error = NULL;
    g_autoptr(VsGpuInventory) inv = NULL;
    g_autoptr(VsImage) image = NULL;

    /* Before any download: a bad value (the name first) or an explicit kvm that cannot work
     * changes nothing at all and fetches nothing. */
    if (!vs_request_check(spec, error))
        return NULL;
    if (!decide_kvm(spec, caps, reached, progress, error))
        return NULL;
    if (needs_inventory(spec))
        inv = vs_gpu_host_inventory(reached && caps->remote, NULL, host->nodedevs, host->data,
                                    &inv_error);
    image = spec_image(spec, caps, error);
    if (!image)
        return NULL;
    if (host->fetch && !vs_image_ready(image)) {
        vs_progress_step(progress, "fetching %s", image->ref);
        if (!host->fetch(image, progress, error))
            return NULL;
    }
    return make_plan(spec, caps, g_steal_pointer(&image), inv, inv_error, error);
}
