/* Composing cloud-init's NoCloud files: user-data, meta-data, network-config, vendor-data. */
#pragma once

#include <glib.h>

#include "provisioner/seed.h"

#define VS_CLOUDINIT_ERROR (vs_cloudinit_error_quark())
GQuark vs_cloudinit_error_quark(void);

typedef enum {
    VS_CLOUDINIT_ERROR_INVALID, /* bad input: the message names the file and the problem */
    VS_CLOUDINIT_ERROR_USAGE,   /* a malformed option value (exit status 2) */
} VsCloudInitError;

/* An SSH host key pair for the guest, given to cloud-init's `ssh_keys`. */
typedef struct {
    char *type;        /* "ed25519", "ecdsa", "rsa" */
    char *private_key; /* OpenSSH PEM text */
    char *public_key;  /* one public key line */
} VsHostKey;

void vs_host_key_free(VsHostKey *key);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsHostKey, vs_host_key_free)

typedef struct {
    char *instance_id;         /* NULL: a fresh "iid-<uuid>" */
    char *hostname;            /* required */
    char *user;                /* the login to create; required */
    GPtrArray *ssh_keys;       /* public key lines (char *), may be empty */
    char *password_hash;       /* crypt(3) hash, or NULL */
    char *mac;                 /* write a network-config matching it; NULL: none */
    GBytes *network_config;    /* the user's own network-config, used instead of ours */
    char *network_config_name; /* where network_config came from, for messages */
    GBytes *user_data;         /* the user's own user-data, merged with ours */
    char *user_data_name;      /* where user_data came from, for messages */
    GBytes *vendor_data;       /* written as given */
    GPtrArray *host_keys;      /* VsHostKey *, may be NULL */
} VsCloudInitSpec;

void vs_cloudinit_spec_clear(VsCloudInitSpec *spec);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VsCloudInitSpec, vs_cloudinit_spec_clear)

/* Returns TRUE when @name is a valid login name for the guest; else FALSE with @error set. */
gboolean vs_cloudinit_check_user(const char *name, GError **error);

/* Returns TRUE when @name is a valid hostname (RFC 1123 labels); else FALSE with @error set. */
gboolean vs_cloudinit_check_hostname(const char *name, GError **error);

/* Returns TRUE when @mac is a unicast MAC address written as six colon-separated hex pairs. */
gboolean vs_cloudinit_check_mac(const char *mac, GError **error);

/* Reads the public keys in the file @path into @keys (one line each).
 * Returns FALSE with @error set when the file is unreadable or holds no valid public key. */
gboolean vs_cloudinit_read_ssh_keys(const char *path, GPtrArray *keys, GError **error);

/* Composes the seed's files from @spec. Warnings (unknown cloud-config keys) are appended to
 * @ret_warnings when it is not NULL. Returns FALSE with @error set on invalid input. */
gboolean vs_cloudinit_compose(const VsCloudInitSpec *spec, VsSeedFiles *ret_files,
                              GPtrArray *ret_warnings, GError **error);
