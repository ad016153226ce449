/* What the user asked for: the spec file's keys and the command line's flags (README, "Commands"
 * and "Spec files"). */
#pragma once

#include <glib.h>

#include "provisioner/base/spec-error.h"

typedef struct {
    char *name;
    char *image;
    char *image_sha256;  /* for an image given by URL */
    guint cpus;          /* 0: not given */
    guint64 memory_mib;  /* 0: not given */
    guint64 disk_bytes;  /* 0: not given */
    char *instance_type; /* cNmM */
    char *network;
    char *gpu;
    guint64 gpu_memory_bytes;
    char *display;
    char *user;
    GPtrArray *ssh_keys; /* paths */
    char *user_data;
    char *network_config;
    char *seed_device;
    char *seed_from;
    char *arch;
    char *firmware;
    char *virt_type; /* auto, kvm, qemu */
    char *mac;
    char *pool;
    char *osinfo; /* libosinfo id, as virt-install's --osinfo */
    /* Refuse checksum lists whose signature was not checked (--require-signature). */
    gboolean require_signature;
} VsSpec;

VsSpec *vs_spec_new(void);
void vs_spec_free(VsSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsSpec, vs_spec_free)

/* Parses SIZE: a number with an optional K, M, G, T (or KiB, MiB, GiB, TiB) suffix, powers of
 * 1024; a bare number counts in @bare_unit bytes. Returns FALSE with @error naming @what. */
gboolean vs_spec_parse_size(const char *text, guint64 bare_unit, const char *what,
                            guint64 *ret_bytes, GError **error);

/* The largest --memory and --disk (and spec memory, disk, the M of cNmM): 16 TiB. */
#define VS_SPEC_MEMORY_MAX ((guint64)16 << 40)
#define VS_SPEC_DISK_MAX   ((guint64)16 << 40)
/* The largest --gpu-memory: 1 TiB, far above any GPU's framebuffer. */
#define VS_SPEC_GPU_MEMORY_MAX ((guint64)1 << 40)

/* Parses a memory SIZE (a bare number is MiB) into MiB: a whole number of MiB, at least 1 MiB
 * and at most @max_bytes. Returns FALSE with @error naming @what otherwise. */
gboolean vs_spec_parse_mib(const char *text, guint64 max_bytes, const char *what, guint64 *ret_mib,
                           GError **error);

/* Parses a disk SIZE (a bare number is GiB) into bytes, at most VS_SPEC_DISK_MAX. Returns FALSE
 * with @error naming @what otherwise. */
gboolean vs_spec_parse_disk(const char *text, const char *what, guint64 *ret_bytes, GError **error);

/* Parses the instance type shorthand cNmM into vCPUs and MiB (at most VS_SPEC_MEMORY_MAX). */
gboolean vs_spec_parse_instance_type(const char *text, guint *ret_cpus, guint64 *ret_mib,
                                     GError **error);

/* Fills @spec from the YAML spec in @data (@what names it in errors; relative paths in it are
 * taken from @base_dir). Keys already set in @spec are overwritten. */
gboolean vs_spec_load_data(VsSpec *spec, const char *data, gsize len, const char *what,
                           const char *base_dir, GError **error);

/* Fills @spec (and @ret_connect) from $XDG_CONFIG_HOME/virt-station/config.yaml, which may hold
 * connect, pool, network, user, ssh-key, virt-type and require-signature; a missing file is no
 * error. */
gboolean vs_spec_load_config(VsSpec *spec, char **ret_connect, GError **error);

/* Fills @spec from the spec file at @path. */
gboolean vs_spec_load_file(VsSpec *spec, const char *path, GError **error);
