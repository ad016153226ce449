/* The allocation journal: one file per GPU allocation on this host, written (under the GPU lock)
 * before the host is changed and removed after it was given back, so that what a killed `up`
 * or a transient domain that died took can be found and given back.
 *
 * Files live in a folder of the caller's choice (provisioner: /run/virt-station/gpu-journal for
 * root, beside the locks otherwise), one per claim, named after what it claims (the mdev UUID,
 * the VF's or device's PCI address), written to a temporary name and renamed, so a reader sees a
 * whole entry or none. */
#pragma once

#include <glib.h>

#include "gpu/plan.h"

typedef enum {
    VS_GPU_CLAIM_MDEV,        /* a mediated device: @mdev_uuid of @vgpu_type on @parent */
    VS_GPU_CLAIM_VF,          /* NVIDIA's vendor-specific VF @device set to @vgpu_type */
    VS_GPU_CLAIM_PASSTHROUGH, /* the functions @functions of the device @device */
    VS_GPU_CLAIM_LAST,
} VsGpuClaimKind;

typedef struct {
    VsGpuClaimKind kind;
    char *id;          /* the file's name: mdev UUID, or the VF's or device's address */
    char *uri;         /* the libvirt connection the domain is on */
    char *domain_uuid; /* the domain that holds it (its UUID is known before it is defined) */
    char *domain_name;
    char *parent;         /* mdev: the parent PCI function; VF: its physical function */
    char *device;         /* VF or passed-through device address; NULL for an mdev */
    char *vgpu_type;      /* "nvidia-222", "1097"; NULL for passthrough */
    char *mdev_uuid;      /* mdev only */
    GPtrArray *functions; /* passthrough: every function address (char *) */
    gboolean created;     /* this claim may have changed the host (set before the change is made) */
    gint64 pid;           /* the process that wrote it: while it lives, an `up` may be under way */
} VsGpuClaim;

const char *vs_gpu_claim_kind_to_string(VsGpuClaimKind kind);
int vs_gpu_claim_kind_from_string(const char *str);

VsGpuClaim *vs_gpu_claim_new(VsGpuClaimKind kind, const char *id);
void vs_gpu_claim_free(VsGpuClaim *claim);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsGpuClaim, vs_gpu_claim_free)

/* Returns TRUE when @id may name an entry: a UUID, or a PCI address spelled dddd:bb:dd.f. */
gboolean vs_gpu_journal_id_is_valid(const char *id);

/* Writes @claim to @dir (made 0700 when missing), replacing an entry of the same id. */
gboolean vs_gpu_journal_write(const char *dir, const VsGpuClaim *claim, GError **error);

/* Removes the entry @id from @dir; one that is not there is removed already. */
gboolean vs_gpu_journal_remove(const char *dir, const char *id, GError **error);

/* Returns the entry @id of @dir, or NULL: with @error set when it exists but cannot be read or
 * parsed, without when there is none. */
VsGpuClaim *vs_gpu_journal_get(const char *dir, const char *id, GError **error);

/* Returns every entry in @dir (VsGpuClaim, sorted by id; an empty array when the folder does not
 * exist), or NULL with @error set. An entry that does not parse is an error naming its file.
 * Entries are bounded (64 KiB each, 4096 entries). */
GPtrArray *vs_gpu_journal_read(const char *dir, GError **error);
