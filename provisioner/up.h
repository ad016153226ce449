/* `up`: one plan, one apply.
 *
 * The plan (up-plan.c, in the program: no libvirt calls) is computed from the spec, the host's
 * capabilities, the GPU inventory and the image reference, and holds everything `up` will do:
 * the domain configuration (name, volumes, GPU plan, MAC, UUID, candidate port) and the steps in
 * order. A dry run prints it; the apply (up-apply.c, in the libvirt module) executes it. Both
 * the dry run from cached host facts (cmd-up.c) and the run through libvirt (cmd-up-libvirt.c)
 * make the plan with the same function. */
#pragma once

#include "provisioner/base/progress.h"
#include "provisioner/cli.h"
#include "provisioner/images/image.h"
#include "gpu/inventory.h"
#include "provisioner/request.h"

typedef struct {
    gboolean dry_run;
    gboolean print_xml;
    gboolean no_wait;
    guint timeout_s;
    const char *identity; /* --identity FILE, checked; NULL: the private halves of --ssh-key */
} VsUpFlags;

typedef enum {
    VS_UP_STEP_POOL,    /* the storage pool, made when missing */
    VS_UP_STEP_BASE,    /* the base image volume: imported unless there (or a vol: image) */
    VS_UP_STEP_OVERLAY, /* the qcow2 overlay on the base */
    VS_UP_STEP_SEED,    /* the NoCloud seed volume, uploaded */
    VS_UP_STEP_GPU,     /* the vGPU, VF or passed-through device taken (claimed before) */
    VS_UP_STEP_DEFINE,  /* the domain defined */
    VS_UP_STEP_START,   /* the domain started */
    VS_UP_STEP_LAST,
} VsUpStepKind;

typedef struct {
    VsUpStepKind kind;
    char *what; /* what the step does, as "create the overlay ws1.qcow2 (20 GiB) on BASE" */
} VsUpStep;

typedef struct {
    VsDomainConfig *config; /* complete; with user networking its port is a candidate */
    VsImage *image;         /* the base image; its path is known once fetched */
    guint64 disk_bytes;     /* the overlay's virtual size */
    gboolean remote;        /* the libvirt host is another machine */
    GPtrArray *steps;       /* VsUpStep, in the order they run */
} VsUpPlan;

void vs_up_plan_free(VsUpPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsUpPlan, vs_up_plan_free)

/* What vs_up_prepare() needs from the libvirt module, which the program does not link. */
typedef struct {
    /* A remote host's inventory from its node devices (called with @data), or NULL. */
    VsNodedevInventoryFunc nodedevs;
    void *data;
    /* Brings an image into the cache (images/fetch.h); NULL for a dry run: nothing downloads. */
    gboolean (*fetch)(VsImage *image, const VsProgress *progress, GError **error);
} VsUpHost;

/* The way to every plan, for the dry run from cached facts and for the run through libvirt:
 * decides the domain type (KVM only where it can run a guest; @caps->kvm is set, and a fallback
 * to emulation is said through @progress), reads the GPU inventory (sysfs,
 * or @host's node devices for a remote host), resolves and, with @host->fetch, fetches the image,
 * and returns the plan: fresh MAC and UUID, a free 127.0.0.1 port as the candidate; or NULL
 * with @error set (a bad virt-type: exit status 2; an explicit kvm that cannot work: 1). */
VsUpPlan *vs_up_prepare(const VsSpec *spec, VsCaps *caps, gboolean reached, const VsUpHost *host,
                        const VsProgress *progress, GError **error);

/* Fills what neither the flags nor the spec file gave @spec from config.yaml (pool, network,
 * user, virt-type, SSH keys, require-signature): `up`'s rule, which `bake` shares. FALSE with
 * @error set when config.yaml cannot be read. */
gboolean vs_up_spec_defaults(VsSpec *spec, GError **error);

/* Prints the dry run of @plan: what each step would do, or the domain XML with --print-xml. */
int vs_up_print_dry_run(VsCli *cli, const VsUpPlan *plan, const VsUpFlags *flags);

/* The libvirt module's half of `up` (cmd-up-libvirt.c): connects, plans, then prints the dry run
 * or applies the plan and waits. */
typedef int (*VsModuleUpFunc)(VsCli *cli, VsSpec *spec, const VsUpFlags *flags);
