/* Ports on the host's loopback for forwarding a guest's SSH. */
#pragma once

#include <glib.h>

/* Returns a TCP port on 127.0.0.1 that nobody listens on at this moment, or 0 with @error. */
guint16 vs_ports_free_loopback(GError **error);

/* Returns TRUE when nobody listens on 127.0.0.1:@port (it can be bound now). */
gboolean vs_ports_is_free_loopback(guint16 port);
