/* A small JSON writer for --json output: objects, arrays, strings (escaped as RFC 8259 says),
 * integers, booleans and null. Commas and nesting are tracked for the caller. */
#pragma once

#include <glib.h>

typedef struct {
    GString *out;
    GArray *first; /* per open container: is the next member the first? */
} VsJson;

void vs_json_init(VsJson *j);
/* Returns the document and frees the writer. */
char *vs_json_finish(VsJson *j);

void vs_json_begin_object(VsJson *j, const char *key);
void vs_json_end_object(VsJson *j);
void vs_json_begin_array(VsJson *j, const char *key);
void vs_json_end_array(VsJson *j);
/* @key is NULL inside arrays. A NULL @value writes null. */
void vs_json_string(VsJson *j, const char *key, const char *value);
void vs_json_int(VsJson *j, const char *key, gint64 value);
void vs_json_bool(VsJson *j, const char *key, gboolean value);
void vs_json_null(VsJson *j, const char *key);
