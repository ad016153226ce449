/* Reading what a user names (a spec file, user-data, network-config, a password hash) with a
 * cap on its size: a huge file, /dev/zero or an endless pipe ends in an error that names the
 * limit, never in an allocation without end. */
#pragma once

#include <glib.h>

/* Reads @fd to its end into @ret_data (NUL-terminated, g_free) and @ret_len. More than
 * @max_bytes is a VS_SPEC_ERROR_LIMIT naming @what, the line the limit falls on and the limit;
 * a read error is a G_FILE_ERROR. @ret_data and @ret_len are untouched on failure. */
gboolean vs_read_bounded_fd(int fd, const char *what, gsize max_bytes, char **ret_data,
                            gsize *ret_len, GError **error);

/* The same for the file at @path (opened for reading; a pipe or a device is read as a file). */
gboolean vs_read_bounded_file(const char *path, gsize max_bytes, char **ret_data, gsize *ret_len,
                              GError **error);

/* Sets @error to VS_SPEC_ERROR_LIMIT: @what is larger than @max_bytes, naming the line of @data
 * (@len bytes, at least @max_bytes) that holds the first byte past the limit. Returns FALSE. */
gboolean vs_size_limit_fail(GError **error, const char *what, const char *data, gsize len,
                            gsize max_bytes);

/* Returns @bytes for messages: "16 MiB", "4 KiB" or "100 bytes". */
char *vs_size_text(gsize bytes);
