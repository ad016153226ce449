/* The NoCloud seed: an ISO9660 volume labelled "cidata" holding cloud-init's files. */
#pragma once

#include <glib.h>

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

/* Writes the ISO for @files to @path atomically (owner-only when it holds secrets).
 * On failure nothing is left at @path. Returns FALSE with @error set. */
gboolean vs_seed_write(const VsSeedFiles *files, const char *path, GError **error);
