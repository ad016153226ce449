/* The apply of `up` (libvirt module): executes a plan (up.h) with its rollbacks. */
#pragma once

#include "provisioner/up.h"
#include "domains/vs-libvirt.h"

typedef struct {
    virConnectPtr conn;
    const char *uri;
    gboolean remote;            /* the libvirt host is another machine */
    const VsSpec *spec;         /* the user's keys, user-data and network-config, for the seed */
    const char *const *logins;  /* private keys to remember for the new domain, or NULL */
    const VsProgress *progress; /* steps, warnings, Ctrl-C */
} VsUpApply;

/* Executes @plan on @ctx->conn: takes the locks in their order (name, base, port), confirms
 * what the plan chose as candidates (the name is free, a vol: base exists, the port is still
 * free and no other workstation's: else another), makes the host key, the seed and the domain
 * XML, and runs the steps. On failure or Ctrl-C it removes what it made, newest first, and says
 * what through @ctx->progress. Returns the domain, started, or NULL with @error set. */
virDomainPtr vs_up_apply(VsUpPlan *plan, const VsUpApply *ctx, GError **error);
