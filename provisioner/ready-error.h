/* The readiness wait's error domain, apart from ready.c so that mapping errors to exit statuses
 * (cli.c) does not pull libvirt into the program. */
#pragma once

#include <glib.h>

#define VS_READY_ERROR (vs_ready_error_quark())
GQuark vs_ready_error_quark(void);

typedef enum {
    VS_READY_ERROR_REFUSED,    /* sshd refused every key offered (exit status 1) */
    VS_READY_ERROR_CLOUD_INIT, /* the guest runs, cloud-init finished with errors (exit 5) */
} VsReadyError;
