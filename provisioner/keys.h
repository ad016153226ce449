/* SSH keys: the guest's host keys (generated here so that virt-station can verify the guest),
 * and the key the user logs in with. */
#pragma once

#include "provisioner/cloudinit.h"

/* Returns a new ed25519 host key pair for the guest @name (ssh-keygen), or NULL with @error. */
VsHostKey *vs_keys_host_key(const char *name, GError **error);

/* Returns the path of virt-station's own login key, $XDG_DATA_HOME/virt-station/id_ed25519,
 * creating it when @create and it does not exist. NULL when it does not exist (or with @error
 * set when it could not be made). */
char *vs_keys_own_key(gboolean create, GError **error);
