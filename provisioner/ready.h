/* Waiting for a workstation to be ready, step by step. */
#pragma once

#include "cli.h"
#include "metadata.h"
#include "vs-libvirt.h"

/* Waits until @dom runs, its network is up, sshd answers and cloud-init has finished, reporting
 * each step as it completes. Errors: VS_DOMAINS_ERROR_TIMEOUT naming the step (the workstation
 * is kept), VS_CLI_ERROR_CLOUD_INIT when cloud-init finished with errors (printed),
 * VS_DOMAINS_ERROR_CANCELLED on Ctrl-C. */
gboolean vs_ready_wait(VsCli *cli, virDomainPtr dom, const VsStation *station, const char *uri,
                       guint timeout_s, GError **error);

/* Returns the guest's address for SSH: the metadata's forwarded host for user networking, else
 * the first IPv4 address from the DHCP lease or the guest agent; NULL when none is known. */
char *vs_ready_address(virDomainPtr dom, const VsStation *station);
