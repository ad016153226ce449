/* KVM on the local host: can QEMU, started by libvirt under its own user, use /dev/kvm to run a
 * guest? And the choice between the domain types kvm and qemu that follows from it. No libvirt
 * calls here: libvirt's own answer comes in as a boolean. */
#pragma once

#include <glib.h>
#include <sys/types.h>

typedef enum {
    VS_VIRT_TYPE_AUTO, /* kvm where it works, else qemu */
    VS_VIRT_TYPE_KVM,  /* hardware virtualization, or an error */
    VS_VIRT_TYPE_QEMU, /* software emulation (TCG) */
    VS_VIRT_TYPE_LAST,
} VsVirtType;

const char *vs_virt_type_to_string(VsVirtType type);
int vs_virt_type_from_string(const char *str);

/* What /dev/kvm is on this host, as seen by QEMU's user. Filled by vs_kvm_host_read(); tests
 * fill it by hand. */
typedef struct {
    gboolean present;     /* the device exists */
    gboolean qemu_access; /* QEMU's user may open it read-write (mode, owner, its groups) */
    gboolean cpu_ok;      /* the CPU can run a guest: a test guest ran, or (when this process
                             cannot open the device) the CPU shows the vmx or svm flag */
    char *device;         /* "/dev/kvm (crw------- root:root)" */
    char *qemu_user;      /* the user libvirt runs QEMU as */
    char *cpu_detail;     /* why the CPU cannot run a guest, when it cannot */
} VsKvmHost;

void vs_kvm_host_free(VsKvmHost *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsKvmHost, vs_kvm_host_free)

/* Returns what /dev/kvm under @root ("/" on a real host) can do for QEMU's user: the user from
 * @root/etc/libvirt/qemu.conf (else the current user for a @session connection, else the
 * distribution's default), the CPU's flags from @root/proc/cpuinfo, and, when this process may
 * open the device, a tiny guest run through KVM_RUN that must reach its final instruction. */
VsKvmHost *vs_kvm_host_read(const char *root, gboolean session);

/* Returns TRUE when a process running as @uid with the groups @groups (@n_groups of them) may
 * open a file of @mode owned by @owner:@group for reading and writing. */
gboolean vs_kvm_mode_allows(mode_t mode, uid_t owner, gid_t group, uid_t uid, const gid_t *groups,
                            guint n_groups);

/* Returns TRUE when the flags line of @cpuinfo (the text of /proc/cpuinfo) names vmx or svm. */
gboolean vs_kvm_cpuinfo_has_virt(const char *cpuinfo);

/* Returns the user named by a `user = "..."` line of qemu.conf's text @conf, or NULL. */
char *vs_kvm_qemu_conf_user(const char *conf);

/* The outcome of vs_kvm_decide(). */
typedef struct {
    gboolean kvm;  /* use domain type kvm */
    char *note;    /* one line saying why qemu and how to enable KVM when `auto` fell back to
                      qemu on a local host; NULL otherwise */
    char *warning; /* set when /dev/kvm exists but QEMU's user cannot open it: libvirt is slow
                      on such a host; says why and how to fix it */
} VsKvmChoice;

void vs_kvm_choice_clear(VsKvmChoice *choice);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VsKvmChoice, vs_kvm_choice_clear)

/* Decides the domain type for @requested. On a @remote connection libvirt's word
 * (@libvirt_kvm) is trusted and @host is not used (may be NULL). On a local one, kvm needs
 * @libvirt_kvm and a @host whose device is present, open to QEMU's user and able to run a guest.
 * An explicit kvm that cannot work fails with VS_DOMAINS_ERROR_FAILED (exit status 1) naming
 * /dev/kvm and the fix. Returns FALSE with @error set, else fills @ret. */
gboolean vs_kvm_decide(VsVirtType requested, gboolean remote, gboolean libvirt_kvm,
                       const VsKvmHost *host, VsKvmChoice *ret, GError **error);
