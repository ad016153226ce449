/* The apply of `up` (libvirt module): executes a plan (up.h) with its rollbacks. */
#pragma once

#include "provisioner/up.h"
#include "domains/vs-libvirt.h"
#include "provisioner/lock.h"

typedef struct {
    virConnectPtr conn;
    const char *uri;
    gboolean remote;            /* the libvirt host is another machine */
    const VsSpec *spec;         /* the user's keys, user-data and network-config, for the seed */
    const char *const *logins;  /* private keys to remember for the new domain, or NULL */
    const VsProgress *progress; /* steps, warnings, Ctrl-C */
    /* `run`: the domain is transient, created with virDomainCreateXML(VIR_DOMAIN_START_AUTODESTROY)
     * instead of defined and started, so libvirt destroys it when @conn closes. */
    gboolean transient;
    /* When not NULL, the name lock is handed here on success instead of being released: `run`
     * holds it for the run's whole life (the sweep of provisioner/run-life.c reads it). */
    VsLock **ret_name_lock;
} VsUpApply;

/* Executes @plan on @ctx->conn: takes the locks in their order (name, base, port), confirms
 * what the plan chose as candidates (the name is free, a vol: base exists, the port is still
 * free and no other workstation's: else another), makes the host key, the seed and the domain
 * XML, and runs the steps. On failure or Ctrl-C it removes what it made, newest first, and says
 * what through @ctx->progress. Returns the domain, started, or NULL with @error set. */
virDomainPtr vs_up_apply(VsUpPlan *plan, const VsUpApply *ctx, GError **error);

/* Returns the keys to log in with: --identity (@flags), else the private halves of @spec's
 * --ssh-key files that sit beside them; NULL for neither (the agent, ssh's defaults,
 * virt-station's own key). */
char **vs_up_login_identities(const VsSpec *spec, const VsUpFlags *flags);

/* Returns the plan for @spec on @conn (NULL: libvirt is not reachable, a dry run assumes a
 * host) at @uri, probing its capabilities, fetching the image first unless @dry_run: a failed
 * download leaves nothing. NULL with @error set. */
VsUpPlan *vs_up_plan_on(virConnectPtr conn, const char *uri, const VsSpec *spec, gboolean dry_run,
                        const VsProgress *progress, GError **error);
