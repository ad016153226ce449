/* Which image a workstation starts from.
 *
 * `--image` takes a catalog alias (ubuntu:24.04), a local file, an http(s) URL (with
 * --image-sha256), or a volume already in a pool (vol:NAME or vol:POOL/NAME). This file decides
 * which, and finds what is already known without touching the network: the local file's hash,
 * or a cached download (cache.h). Fetching lives in fetch.h (in the libvirt module, with
 * libcurl). */
#pragma once

#include <glib.h>

#include "provisioner/images/cache.h"
#include "provisioner/images/catalog.h"
#include "provisioner/images/image-error.h"

typedef enum {
    VS_IMAGE_ALIAS,
    VS_IMAGE_FILE,
    VS_IMAGE_URL,
    VS_IMAGE_VOLUME,
} VsImageKind;

typedef struct {
    VsImageKind kind;
    char *ref;    /* what the user gave */
    char *label;  /* the name part of the base volume: the alias or the file's name */
    char *url;    /* ALIAS, URL: where it comes from; FILE: the packed file (.xz, .gz, .tar) */
    char *expect; /* URL: "sha256:HEX" as --image-sha256 gave it; packed FILE: its own sum */
    VsCatalogImage *entry;      /* ALIAS: a copy of the catalog's entry */
    char *path;                 /* the file to import; NULL while not downloaded, and for VOLUME */
    char *sha256;               /* of the content imported; NULL while unknown and for VOLUME */
    char *volume;               /* the base volume's name; NULL while unknown */
    char *pool;                 /* VOLUME: the pool it is in (NULL: the workstation's pool) */
    gboolean require_signature; /* ALIAS: refuse a checksum list whose signature is unchecked */
} VsImage;

void vs_image_free(VsImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsImage, vs_image_free)

/* Classifies @ref for @arch and resolves what is known locally (a file's hash, a cached
 * download). @sha256 is --image-sha256 (required for a URL). With @require_signature an alias
 * is taken from the cache only when its kept checksum list was verified (and fetch refuses an
 * unverified one). A VS_SPEC_ERROR names what is wrong with @ref. */
VsImage *vs_image_parse(const char *ref, const char *sha256, const char *arch,
                        gboolean require_signature, GError **error);

/* TRUE when the file name @name says it is packed (.xz, .gz, .tar): unpacked into the cache. */
gboolean vs_image_is_packed(const char *name);

/* TRUE when the image is ready to import (or, for VOLUME, to use). */
gboolean vs_image_ready(const VsImage *image);

/* The file name at the end of @url's path, without query or fragment. */
char *vs_image_url_basename(const char *url);

/* Returns the base volume name for an image called @label with content hash @sha256:
 * "<label>-<first 12 hex digits>", the label reduced to letters, digits, '-', '_' and '.'. */
char *vs_image_volume_name(const char *label, const char *sha256);

/* Moves @file, a copy of @image's content made elsewhere (a pool volume downloaded through
 * libvirt), into the cache under its own SHA-256 and fills @image from the new entry. Returns
 * FALSE with @error set; @file is removed then. */
gboolean vs_image_import_file(VsImage *image, const char *file, GError **error);

/* Fills @image's path, sha256 and volume from the cache entry @entry. */
void vs_image_take_entry(VsImage *image, const VsCacheEntry *entry);

/* Finds @image (ALIAS or URL) in the cache using only what is on disk: the last verified
 * checksum list for an alias. Returns TRUE when found (and fills @image). */
gboolean vs_image_from_cache(VsImage *image);
