/* The domains/ error domain. Kept apart from the libvirt calls so that code which only maps
 * errors to exit statuses does not pull libvirt into the program. */
#pragma once

#include <glib.h>

#define VS_DOMAINS_ERROR (vs_domains_error_quark())
GQuark vs_domains_error_quark(void);

typedef enum {
    VS_DOMAINS_ERROR_FAILED,    /* libvirt said no; the message says why */
    VS_DOMAINS_ERROR_NOT_FOUND, /* no such domain, pool or volume */
    VS_DOMAINS_ERROR_EXISTS,    /* the name is taken */
    VS_DOMAINS_ERROR_FOREIGN,   /* the domain is not virt-station's */
    VS_DOMAINS_ERROR_INVALID,   /* bad input: a name, a size, a spec value */
    VS_DOMAINS_ERROR_CANCELLED, /* interrupted (Ctrl-C) */
    VS_DOMAINS_ERROR_TIMEOUT,   /* waited too long; the message names the step */
    VS_DOMAINS_ERROR_STOPPED,   /* the domain waited for stopped, crashed or paused on an error */
    VS_DOMAINS_ERROR_REFUSED,   /* not possible in the domain's state or on this host; nothing
                                 * changed, the message says why (a snapshot of a running vGPU) */
} VsDomainsError;
