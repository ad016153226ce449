/* Hashing whole image files: the one read loop behind every checksum of a file, the SHA-256 of a
 * local image remembered per file identity (device, inode, size, modification and change time)
 * so that only the first use of a file reads it, and a download hashed while it is written
 * (VsHashStream). */
#pragma once

#include <glib.h>

#include "provisioner/base/progress.h"

/* Hashes the file at @path with @type into @ret_sum (may be NULL) and, in the same pass, SHA-256
 * into @ret_sha256, stopping when @progress (may be NULL) says so. Returns FALSE with @error set
 * when it cannot be read or was stopped. */
gboolean vs_hash_file(const char *path, GChecksumType type, const VsProgress *progress,
                      char **ret_sum, char **ret_sha256, GError **error);

/* Returns the lower-case hex SHA-256 of the regular file at @path (remembered under
 * $XDG_CACHE_HOME/virt-station/sha256), or NULL with @error set. */
char *vs_hash_file_cached(const char *path, GError **error);

/* Copies the regular file @src to @dest, hashing exactly the bytes copied into @ret_sha256 (and
 * remembering it for @src when the file did not change during the copy), stopping when
 * @progress (may be NULL) says so. Returns FALSE with @error set (and no @dest). */
gboolean vs_hash_copy(const char *src, const char *dest, const VsProgress *progress,
                      char **ret_sha256, GError **error);

/* Hashing a file while it is being written (a download), in a thread of its own, so that the sum
 * is ready when the last byte is: the writer hands over each piece after writing it, and the
 * thread hashes the pieces in order. The writer never waits for the hash unless the thread is
 * 64 MiB behind. */
typedef struct VsHashStream VsHashStream;

/* Returns a stream that computes @type's sum and, in the same pass, SHA-256. @progress (may be
 * NULL) is asked, by the writer's thread only, whether to stop while the writer waits for the
 * hash (a full backlog, vs_hash_stream_peek(), vs_hash_stream_finish()); once it says so the
 * stream hashes nothing more: a resume's prefix of many GiB can take longer to read back than the
 * rest takes to download, and Ctrl-C must not wait for it. */
VsHashStream *vs_hash_stream_new(GChecksumType type, const VsProgress *progress);

/* Says that the file @path now holds its first @size bytes and nothing more, whatever was fed
 * before (a resumed or restarted download): those bytes are read from the file and hashed. */
void vs_hash_stream_restart(VsHashStream *stream, const char *path, guint64 size);

/* Feeds @len bytes at @data (copied), which follow what the stream holds. */
void vs_hash_stream_feed(VsHashStream *stream, const void *data, gsize len);

/* Returns an empty buffer to fill and feed with vs_hash_stream_feed_piece(): one the stream has
 * hashed and given back, or a new one of @size bytes. */
GByteArray *vs_hash_stream_spare(VsHashStream *stream, gsize size);

/* Feeds the bytes of @piece (taken), which follow what the stream holds. */
void vs_hash_stream_feed_piece(VsHashStream *stream, GByteArray *piece);

/* Returns the number of bytes the stream holds: its restart size plus what was fed since. */
guint64 vs_hash_stream_size(const VsHashStream *stream);

/* Waits until the thread has hashed what the stream holds and returns the sums of it so far, as
 * vs_hash_stream_finish() does, but leaves the stream going: more can be fed after it. Its
 * errors stay with the stream: a restart's file that could not be read until the next restart, a
 * stop for good. A download that finds a part left by an earlier run restarts the stream on it
 * and peeks: a whole part is recognised by its sum, and a partial one need not be read again to
 * be resumed. */
gboolean vs_hash_stream_peek(VsHashStream *stream, char **ret_sum, char **ret_sha256,
                             GError **error);

/* Waits for the thread and returns @type's sum in @ret_sum and the SHA-256 in @ret_sha256, or
 * FALSE with @error set when the restart's file could not be read or the stream's progress said
 * to stop (then without waiting for the rest of the hash). The stream cannot be used afterwards
 * but to free it. */
gboolean vs_hash_stream_finish(VsHashStream *stream, char **ret_sum, char **ret_sha256,
                               GError **error);

/* Stops the thread (without waiting for the rest of the hash) and frees @stream. */
void vs_hash_stream_free(VsHashStream *stream);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsHashStream, vs_hash_stream_free)
