/* The private keys virt-station logs in with, per workstation.
 *
 * `--identity FILE` names one; `--ssh-key FILE.pub` at `up` implies FILE where it sits beside
 * the public half. The choice is remembered on this client (never in the domain: other clients
 * of a remote host keep their keys elsewhere) under $XDG_DATA_HOME/virt-station/identities/,
 * one file per workstation, named after the connection URI and the domain's UUID. */
#pragma once

#include <glib.h>

/* Returns TRUE when @path names a regular file that can be read; FALSE with @error set
 * (VS_CLI_ERROR_USAGE, exit status 2) saying what is wrong with it. */
gboolean vs_identity_check(const char *path, GError **error);

/* Returns the private halves of the public keys @pub_paths (FILE for FILE.pub) that exist
 * beside them, as absolute paths, in order; an empty vector when there are none. */
char **vs_identity_from_public(const char *const *pub_paths);

/* Returns the file that remembers the identities of the workstation with @uuid on @uri. */
char *vs_identity_store_path(const char *uri, const char *uuid);

/* Remembers @identities (absolute paths) for the workstation @uuid on @uri. */
gboolean vs_identity_remember(const char *uri, const char *uuid, const char *const *identities,
                              GError **error);

/* Returns the identities remembered for @uuid on @uri, or NULL when none are (or the record
 * cannot be read: the agent and ssh's defaults are used then). */
char **vs_identity_recall(const char *uri, const char *uuid);

/* Forgets what was remembered for @uuid on @uri. */
void vs_identity_forget(const char *uri, const char *uuid);

/* Sets @ret_identities to the keys to log in with: [@explicit_path] made absolute when given,
 * else what is remembered for @uuid on @uri, else NULL (the agent, ssh's defaults and
 * virt-station's own key). Returns FALSE with @error set (exit status 2) when @explicit_path is
 * no readable regular file. */
gboolean vs_identity_resolve(const char *explicit_path, const char *uri, const char *uuid,
                             char ***ret_identities, GError **error);

/* Returns @identities joined for a message ("a, b"), or @none_text for none. */
char *vs_identity_describe(const char *const *identities, const char *none_text);
