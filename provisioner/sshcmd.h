/* Running ssh to a workstation: the guest's host keys come from the metadata (no blind trust),
 * and a remote libvirt host is jumped through to reach a forwarded port on its loopback. The
 * user name (metadata) and the address (metadata, DHCP lease or the guest agent: what the guest
 * says) are checked before they reach an ssh command line, and every ssh command line ends its
 * options with "--" before the destination: neither can become an ssh option. */
#pragma once

#include <glib.h>

#include "domains/metadata.h"

typedef struct {
    char *user;
    char *host;
    guint port;
    char *jump;              /* [user@]host[:port] of the libvirt host, or NULL */
    char *jump_key;          /* the URI's keyfile= for the jump, or NULL */
    char *jump_known_hosts;  /* the URI's known_hosts=, or NULL */
    gboolean jump_no_verify; /* the URI's no_verify=1 */
    char *alias;             /* HostKeyAlias: vs-NAME */
    char *known_hosts;       /* a file holding the guest's host keys under @alias */
    char **identities;       /* the keys to offer, and no others (IdentitiesOnly); or NULL */
    char *identity;          /* without @identities: virt-station's own key, when there is one */
} VsSshTarget;

void vs_ssh_target_free(VsSshTarget *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsSshTarget, vs_ssh_target_free)

/* Returns TRUE when @user is a login name an ssh command line may carry (1 to 32 lower-case
 * letters, digits, '_' or '-', starting with a letter or '_'); else FALSE with @error set
 * (G_FILE_ERROR_INVAL) naming @what and the value, escaped. */
gboolean vs_ssh_check_user(const char *user, const char *what, GError **error);

/* Returns TRUE when @host is an IPv4 or IPv6 address literal (GInetAddress) or a hostname of
 * RFC 1123 labels; else FALSE with @error set (G_FILE_ERROR_INVAL) naming @what and the value,
 * escaped. */
gboolean vs_ssh_check_host(const char *host, const char *what, GError **error);

/* Returns the target for workstation @name reached at @host (NULL: the metadata's host) through
 * the libvirt connection @uri, logging in with exactly @identities (private key files) when
 * given, else with the agent, ssh's defaults and virt-station's own key; or NULL with @error
 * (the metadata holds no host key, or a user, address or port no ssh command line may carry). */
VsSshTarget *vs_ssh_target_new(const char *uri, const char *name, const VsMetadata *station,
                               const char *host, const char *const *identities, GError **error);

/* Returns the ssh argv (NULL-terminated) to run @command (NULL: a login shell): the options,
 * "--", then user@host and the command. @batch: no prompts; @tty: ask for a terminal. */
GPtrArray *vs_ssh_argv(const VsSshTarget *t, gboolean batch, gboolean tty, char **command);

/* Returns the [user@]host[:port] part of a remote URI such as qemu+ssh://root@host/system, or
 * NULL for a local one. */
char *vs_ssh_jump_from_uri(const char *uri);

/* Returns the value of the query parameter @name of @uri (keyfile=, no_verify=, ...), or NULL. */
char *vs_ssh_uri_param(const char *uri, const char *name);
