/* The NoCloud seed: an ISO9660 volume labelled "cidata" holding cloud-init's files. */
#pragma once

#include <glib.h>
#include <sys/types.h>

typedef struct {
    GBytes *user_data;      /* required */
    GBytes *meta_data;      /* required */
    GBytes *network_config; /* NULL: no network-config file */
    GBytes *vendor_data;    /* NULL: no vendor-data file */
    gboolean has_secrets;   /* user-data or vendor-data holds a password hash or private keys */
} VsSeedFiles;

void vs_seed_files_clear(VsSeedFiles *files);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VsSeedFiles, vs_seed_files_clear)

/* Returns the ISO image built in memory, or NULL with @error set. */
GBytes *vs_seed_build(const VsSeedFiles *files, GError **error);

/* The mode of a seed written to a file unless asked otherwise: any user-data may hold secrets. */
#define VS_SEED_FILE_MODE 0600

/* Writes the ISO for @files to @path atomically, with the permissions @mode (at most 0777) less
 * the process's umask: never wider than either. On failure nothing is left at @path. Returns
 * FALSE with @error set. */
gboolean vs_seed_write(const VsSeedFiles *files, const char *path, mode_t mode, GError **error);
