/* Defaults that come from the local user's environment. */
#pragma once

#include <glib.h>

/* Returns the default login for guests: the local login name, or "station" for root. */
char *vs_defaults_user(void);

/* Returns the default SSH public key file (the first of ~/.ssh/id_ed25519.pub, id_ecdsa.pub,
 * id_rsa.pub that exists), or NULL. */
char *vs_defaults_ssh_key(void);
