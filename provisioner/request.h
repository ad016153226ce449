/* Turning what the user asked for (VsSpec) and what the host is (VsPlanInputs) into a domain
 * configuration. Pure: no libvirt, no files, no randomness (facts carry the MAC and port). */
#pragma once

#include "domains/config.h"
#include "provisioner/spec.h"

typedef struct {
    gboolean kvm;                  /* the domain type kvm (vs_up_decide_kvm decided it) */
    VsArch arch;                   /* the host's architecture: the default for the guest */
    gboolean passt;                /* the connected libvirt accepts passt with <portForward> */
    gboolean session;              /* qemu:///session (else a system instance) */
    unsigned long libvirt_version; /* the connected libvirt's, 9001000 for 9.1.0; 0 unknown */
    char *console_log_dir;         /* where serial console logs go on the libvirt host */
    char *image_alias;             /* the alias or file name the base image came from */
    char *base_pool;
    char *base_volume;    /* the base image's volume, named after its content */
    char *os_id;          /* libosinfo id of the image's OS, or NULL */
    char *uuid;           /* the new domain's UUID */
    char *mac;            /* used when the spec gives none */
    guint16 ssh_port;     /* 127.0.0.1 port for user networking */
    char *default_user;   /* used when the spec gives none */
    VsGpuPlan *gpu;       /* the resolved GPU plan (owned) */
    GPtrArray *host_keys; /* the guest's SSH host public keys */
} VsPlanInputs;

VsPlanInputs *vs_plan_inputs_new(void);
void vs_plan_inputs_free(VsPlanInputs *facts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsPlanInputs, vs_plan_inputs_free)

/* Returns the libosinfo id for an image alias such as "debian:12", or NULL. */
char *vs_request_os_id(const char *alias);

/* Returns TRUE when @id looks like a libosinfo id (http://debian.org/debian/12); otherwise
 * FALSE with @error set (VS_SPEC_ERROR: exit status 2). */
gboolean vs_request_check_osinfo(const char *id, GError **error);

/* Parses --network: "user", "bridge:BR" or "network:NAME". */
gboolean vs_request_parse_network(const char *text, VsNetMode *ret_mode, char **ret_source,
                                  GError **error);

/* Returns TRUE when @name can name a workstation (and a libvirt domain, and a hostname): 1 to
 * 63 lower-case letters, digits and '-', not at either end; otherwise FALSE with @error set
 * (VS_SPEC_ERROR: exit status 2). */
gboolean vs_request_check_name(const char *name, GError **error);

/* Returns TRUE when every value of @spec that can be checked without the host (the name, the
 * instance type, the enums, the network, MAC, user, seed-from and osinfo) is valid; otherwise
 * FALSE with @error set (VS_SPEC_ERROR: exit status 2). The same checks as vs_request_config,
 * made before anything is fetched. */
gboolean vs_request_check(const VsSpec *spec, GError **error);

/* Returns the domain configuration for @spec on the host described by @facts, or NULL with
 * @error set (VS_SPEC_ERROR for bad values: exit status 2). */
VsDomainConfig *vs_request_config(const VsSpec *spec, const VsPlanInputs *facts, GError **error);
