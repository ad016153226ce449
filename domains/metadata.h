/* virt-station's ownership metadata (<vs:station> in the domain's <metadata>), read back. */
#pragma once

#include <glib.h>

typedef struct {
    char *role; /* "disk" or "seed" */
    char *pool;
    char *name;
} VsOwnedVolume;

typedef struct {
    char *image_alias;
    char *base_pool;
    char *base_volume;
    char *gpu_mode;
    char *gpu_device;
    char *gpu_vgpu_type;
    char *gpu_render_node;
    char *gpu_mdev_uuid;
    GPtrArray *gpu_reasons; /* the plan's sentences */
    GPtrArray *volumes;     /* VsOwnedVolume */
    char *net_mode;
    char *net_source;
    char *mac;
    char *ssh_user;
    char *ssh_host; /* NULL unless user networking */
    guint ssh_port; /* 0 unless user networking */
    GPtrArray *host_keys;
} VsStation;

void vs_station_free(VsStation *station);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsStation, vs_station_free)

/* Returns the station parsed from the <vs:station> element @xml (as virDomainGetMetadata gives
 * it), or NULL with @error set when it is not virt-station metadata of a known version. */
VsStation *vs_station_parse(const char *xml, GError **error);

/* Returns the known_hosts text for @station's host keys under the name @alias. */
char *vs_station_known_hosts(const VsStation *station, const char *alias);
