/* HTTP downloads with libcurl (in the libvirt module only: the program itself never links
 * libcurl). Errors are VS_IMAGE_ERROR; a Ctrl-C that @progress reports ends a transfer. */
#pragma once

#include <glib.h>

#include "provisioner/base/progress.h"
#include "provisioner/images/hash.h"

/* Fetches the small file at @url into memory, at most @max_bytes of it (a larger one is an error,
 * found before more is received or stored). When @cached_etag or @cached_modified is given
 * the request is conditional and *@ret_unchanged tells that the server has nothing newer; the
 * response's ETag and Last-Modified go to @ret_etag and @ret_modified. Every ret_ may be NULL.
 * Returns NULL with @error set. */
GBytes *vs_download_bytes(const VsProgress *progress, const char *url, guint64 max_bytes,
                          const char *cached_etag, const char *cached_modified,
                          gboolean *ret_unchanged, char **ret_etag, char **ret_modified,
                          GError **error);

/* Downloads @url into the file @part, resuming what an earlier attempt left there (the server
 * must still have the same file: If-Range with the ETag that attempt kept in "@part.etag"), with
 * up to four attempts when a transfer breaks off. @label names the file in progress reports.
 * @hash (may be NULL) is given every byte of the part as it is written, and restarted with what
 * is already there when a transfer resumes; once this returns TRUE, @hash holds the whole part
 * (a write that fails, also one reported only by close(2), fails the download), unless
 * something else changed the part meanwhile: the caller can compare its size with
 * vs_hash_stream_size(). Returns FALSE with @error set; an interrupted or broken-off transfer
 * keeps the part. */
gboolean vs_download_file(const VsProgress *progress, const char *url, const char *part,
                          const char *label, VsHashStream *hash, GError **error);

/* Returns the ETag or date kept in the small file @path, or NULL when there is none. */
char *vs_download_read_tag(const char *path);
