/* Which image a workstation starts from, and the local cache of downloaded images.
 *
 * `--image` takes a catalog alias (ubuntu:24.04), a local file, an http(s) URL (with
 * --image-sha256), or a volume already in a pool (vol:NAME or vol:POOL/NAME). This file decides
 * which, and finds what is already known without touching the network: the local file's hash,
 * or a cached download. Fetching lives in fetch.c (in the libvirt module, with libcurl). */
#pragma once

#include <glib.h>

#include "catalog.h"

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
    VsCatalogImage *entry; /* ALIAS: a copy of the catalog's entry */
    char *path;            /* the file to import; NULL while not downloaded, and for VOLUME */
    char *sha256;          /* of the content imported; NULL while unknown and for VOLUME */
    char *volume;          /* the base volume's name; NULL while unknown */
    char *pool;            /* VOLUME: the pool it is in (NULL: the workstation's pool) */
} VsImage;

void vs_image_free(VsImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsImage, vs_image_free)

/* Classifies @ref for @arch and resolves what is known locally (a file's hash, a cached
 * download). @sha256 is --image-sha256 (required for a URL). A VS_SPEC_ERROR names what is
 * wrong with @ref. */
VsImage *vs_image_parse(const char *ref, const char *sha256, const char *arch, GError **error);

/* TRUE when the file name @name says it is packed (.xz, .gz, .tar): unpacked into the cache. */
gboolean vs_image_is_packed(const char *name);

/* TRUE when the image is ready to import (or, for VOLUME, to use). */
gboolean vs_image_ready(const VsImage *image);

/* The cache: $XDG_CACHE_HOME/virt-station/images/NAME.img with NAME.info beside it. */
typedef struct {
    char *name;  /* the base volume's name, "<label>-<12 hex>" */
    char *path;  /* the image file */
    char *alias; /* or the URL/file it came from */
    char *url;
    char *sha256; /* of the image file */
    char *source; /* "sha256:HEX" / "sha512:HEX": the published sum of what was downloaded */
    guint64 size;
    char *pulled; /* ISO 8601 */
} VsCacheEntry;

void vs_cache_entry_free(VsCacheEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsCacheEntry, vs_cache_entry_free)

/* The cache folder (created on demand by the functions that write). */
char *vs_cache_dir(void);

/* Returns the cached images, sorted by name (NULL with @error when the folder is unreadable). */
GPtrArray *vs_cache_list(GError **error);

/* Returns the cached image whose download had the published sum @source, or NULL. */
VsCacheEntry *vs_cache_find(const char *source);

/* Moves the verified image @file into the cache as "<label>-<12 hex of sha256>.img" and records
 * where it came from. Returns the new entry, or NULL with @error set (@file is then removed). */
VsCacheEntry *vs_cache_add(const char *file, const char *label, const char *alias, const char *url,
                           const char *sha256, const char *source, GError **error);

/* Removes an entry's image and record. */
gboolean vs_cache_remove(const VsCacheEntry *entry, GError **error);

/* Where the last verified copy of the checksum list at @url is kept (with ".etag" and
 * ".modified" beside it). */
char *vs_cache_list_path(const char *url);

/* The file name at the end of @url's path, without query or fragment. */
char *vs_url_basename(const char *url);

/* Fills @image's path, sha256 and volume from the cache entry @entry. */
void vs_image_take_entry(VsImage *image, const VsCacheEntry *entry);

/* Finds @image (ALIAS or URL) in the cache using only what is on disk: the last verified
 * checksum list for an alias. Returns TRUE when found (and fills @image). */
gboolean vs_image_from_cache(VsImage *image);
