/* Reading a file the user named (a spec, user-data, network-config, an SSH key, the image catalog,
 * a checksum list kept in the cache) without trusting what it is: opened without blocking (a FIFO
 * with no writer or a terminal never hangs), refused unless it is a regular file (no /dev/zero,
 * no FIFO, no directory), and refused once it passes a size cap, before more than the cap (plus
 * one byte) is read or allocated. */
#pragma once

#include <glib.h>

/* The caps of the files read with vs_file_read_bounded, each far above any real file. */
#define VS_FILE_CAP_YAML      ((gsize)1 << 20)  /* spec, config.yaml, the catalog: 1 MiB */
#define VS_FILE_CAP_USER_DATA ((gsize)16 << 20) /* user-data, network-config: 16 MiB */
#define VS_FILE_CAP_KEY       ((gsize)1 << 20)  /* SSH keys, keyrings: 1 MiB */
#define VS_FILE_CAP_LIST      ((gsize)16 << 20) /* a checksum list: 16 MiB (real ones: KBs) */

/* Reads the regular file @path, at most @cap bytes, into *@ret_data (NUL-terminated; its length,
 * without the NUL, in *@ret_len, which may be NULL). @what says what the file is in errors
 * ("--user-data"). Returns FALSE with @error set: G_FILE_ERROR with errno's code when it cannot
 * be opened or read (G_FILE_ERROR_NOENT when it does not exist), VS_SPEC_ERROR when it is not a
 * regular file or is larger than @cap. */
gboolean vs_file_read_bounded(const char *path, gsize cap, const char *what, char **ret_data,
                              gsize *ret_len, GError **error);

/* The same, returning the contents as GBytes (NULL with @error set). */
GBytes *vs_file_read_bytes(const char *path, gsize cap, const char *what, GError **error);

/* Returns TRUE when @path is a regular file; else FALSE with @error set as vs_file_read_bounded
 * sets it (opened without blocking: a FIFO with no writer does not hang). For readers that
 * give their own size errors (vs_read_bounded_file). */
gboolean vs_file_check_regular(const char *path, const char *what, GError **error);
