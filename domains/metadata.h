/* virt-station's ownership metadata (<vs:station> in the domain's <metadata>), read back. */
#pragma once

#include <glib.h>

#include "gpu/plan.h"

typedef struct {
    char *role; /* "disk" or "seed" */
    char *pool;
    char *name;
} VsOwnedVolume;

typedef struct {
    char *uuid; /* the UUID of the domain the metadata was written for; NULL from versions
                 * before it was recorded (such metadata counts as the domain's own) */
    char *image_alias;
    char *base_pool;
    char *base_volume;
    VsGpuMode gpu_mode; /* VS_GPU_MODE_LAST when the metadata names no mode this version knows */
    char *gpu_device;
    char *gpu_vgpu_type;
    VsVgpuKind gpu_vgpu_kind; /* VS_VGPU_KIND_MDEV where none is recorded (every mode but vgpu,
                               * and metadata from before it was); VS_VGPU_KIND_LAST unknown */
    char *gpu_render_node;
    char *gpu_mdev_uuid;
    GPtrArray *gpu_functions; /* passthrough: every PCI function address (char *) */
    GPtrArray *gpu_reasons;   /* the plan's sentences */
    GPtrArray *volumes;       /* VsOwnedVolume */
    char *net_mode;
    char *net_source;
    char *mac;
    char *ssh_user;
    char *ssh_host; /* NULL unless user networking */
    guint ssh_port; /* 0 unless user networking */
    GPtrArray *host_keys;
    char *kept; /* a `run` kept with --keep-on-failure: why it was kept (<vs:kept reason=.../>);
                 * NULL for every other domain */
} VsMetadata;

void vs_metadata_free(VsMetadata *station);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsMetadata, vs_metadata_free)

/* Returns the spelling of @station's GPU mode ("virgl", ...), or NULL when it names none this
 * version knows. */
const char *vs_metadata_gpu_mode(const VsMetadata *station);

/* Returns the station parsed from the <vs:station> element @xml (as virDomainGetMetadata gives
 * it), or NULL with @error set when it is not virt-station metadata of a known version. */
VsMetadata *vs_metadata_parse(const char *xml, GError **error);

/* Returns NULL when @station belongs to the domain whose UUID is @uuid (or records no UUID:
 * metadata of older versions is trusted as before); otherwise why it does not, for messages:
 * "cloned from @original_name" when the domain it was written for is known by that name, else
 * "copied from another workstation (UUID ...)". */
char *vs_metadata_clone_reason(const VsMetadata *station, const char *uuid,
                               const char *original_name);

/* Returns the <station> element @xml (as virDomainGetMetadata gives it) rewritten for the domain
 * that now carries it: @uuid recorded, the owned volumes replaced by @volumes (VsOwnedVolume),
 * the network's MAC set to @mac (when not NULL) and the SSH port to @port (when not 0);
 * everything else (image, GPU, user, host keys) is kept as it is. NULL with @error set when
 * @xml is not virt-station metadata. */
char *vs_metadata_rewrite(const char *xml, const char *uuid, GPtrArray *volumes, const char *mac,
                          guint port, GError **error);

/* Returns the <station> element @xml (as virDomainGetMetadata gives it) with the mark of a run
 * kept with --keep-on-failure, <vs:kept reason="@reason"/>, added (or its reason replaced); NULL
 * with @error set when @xml is not virt-station metadata. */
char *vs_metadata_mark_kept(const char *xml, const char *reason, GError **error);

/* Returns a new owned volume record. */
VsOwnedVolume *vs_owned_volume_new(const char *role, const char *pool, const char *name);
void vs_owned_volume_free(VsOwnedVolume *volume);

/* Returns the known_hosts text for @station's host keys under the name @alias. */
char *vs_metadata_known_hosts(const VsMetadata *station, const char *alias);
