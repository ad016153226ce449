/* Golden files under tests/data: compared byte for byte, rewritten with VS_REGENERATE=1, and
 * every file in a golden folder must be used by some test. */
#pragma once

#include <glib.h>

/* Returns the absolute path of @relpath under tests/data. */
char *vs_golden_path(const char *relpath);

/* Returns the contents of tests/data/@relpath (marking it used); aborts when unreadable. */
GBytes *vs_golden_read(const char *relpath);

/* Marks tests/data/@relpath as used by the running test program. */
void vs_golden_use(const char *relpath);

/* Compares @actual with tests/data/@relpath; with VS_REGENERATE=1 writes it instead. */
void vs_golden_check(const char *relpath, const char *actual, gsize len);

/* Fails when a file under tests/data/@reldir was not used. */
void vs_golden_assert_all_used(const char *reldir);
