/* A libvirt connection that died under a long wait: telling "the connection is lost" from "the
 * call failed", and finding the same domain again on a new connection. */
#pragma once

#include "domains/errors.h"
#include "domains/vs-libvirt.h"

/* Returns TRUE when a libvirt error (@domain a virErrorDomain, @code a virErrorNumber, @message
 * its text or NULL) means that the connection to the daemon is gone, so that no call on it can
 * succeed again: VIR_ERR_INVALID_CONN and VIR_ERR_NO_CONNECT from anywhere; from the RPC and
 * remote layers (VIR_FROM_RPC, VIR_FROM_REMOTE) VIR_ERR_SYSTEM_ERROR (the socket's read or write
 * failed: end of file, broken pipe, reset), VIR_ERR_RPC, and VIR_ERR_INTERNAL_ERROR when it says
 * "client socket is closed" or names the keepalive. Anything else (no such domain, the agent not
 * answering, an operation the driver refuses) is a failed call on a live connection. */
gboolean vs_reconnect_error_is_lost(int domain, int code, const char *message);

/* Returns TRUE when @conn is lost: virConnectIsAlive() says it is closed, or @last (the error of
 * the last failed call on it, may be NULL) is one vs_reconnect_error_is_lost() accepts. Then
 * sets @ret_why to what was seen, in words. */
gboolean vs_reconnect_lost(virConnectPtr conn, const virError *last, char **ret_why);

/* Opens @uri again (vs_connect_open) and looks up the domain whose UUID is @uuid (text). Returns
 * it, holding the new connection; NULL with @error set: VS_DOMAINS_ERROR_NOT_FOUND when the daemon
 * answers but holds no such domain, else VS_DOMAINS_ERROR_FAILED with libvirt's words (the daemon
 * is still unreachable). */
virDomainPtr vs_reconnect_domain(const char *uri, const char *uuid, GError **error);
