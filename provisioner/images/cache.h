/* The local cache of image files: $XDG_CACHE_HOME/virt-station/images/NAME.img with NAME.info
 * beside it saying where the image came from, the verified checksum lists of the catalog's
 * publishers under lists/, and the partial downloads under partial/. Files only: no network. */
#pragma once

#include <glib.h>

/* One cached image. */
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

/* The folder of partial downloads and copies; a download holds a lock (flock) on it. */
char *vs_cache_partial_dir(void);

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

/* How far a kept checksum list was trusted when it was fetched. */
typedef enum {
    VS_LIST_UNCHECKED, /* signed, but not checked (its keyring was missing); also: no record */
    VS_LIST_UNSIGNED,  /* the catalog gives no signature for it */
    VS_LIST_VERIFIED,  /* its signature was checked against the catalog's keyring */
} VsListTrust;

/* Records beside the kept list of @url (as "PATH.info") how far it was trusted. Returns FALSE
 * with @error set when the record cannot be written. */
gboolean vs_cache_list_set_trust(const char *url, VsListTrust trust, GError **error);

/* Returns how far the kept list of @url was trusted (VS_LIST_UNCHECKED without a record). */
VsListTrust vs_cache_list_trust(const char *url);

/* Returns the kept list of @url (at most VS_FILE_CAP_LIST bytes) with its length, or NULL. */
char *vs_cache_list_read(const char *url, gsize *ret_len);
