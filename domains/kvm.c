/* KVM on the local host.
 *
 * Theory of operation: libvirt offering the domain type kvm is not enough to use it. On hosts
 * of this project's kind /dev/kvm has been seen absent; present with mode 0600 root:root (no
 * udev), so that QEMU under libvirt's user gets "Could not access KVM kernel module: Permission
 * denied" and libvirt, unable to use the device, probes QEMU again on every call (31.7 s for one
 * define); and open to QEMU but on a CPU without vmx/svm, where a kvm guest stops in the BIOS
 * with "KVM internal error". So the choice looks at three things: the device exists; QEMU's user
 * may open it (its mode, owner and group against the user's uid and groups, as libvirt gives
 * QEMU the user's supplementary groups); the CPU runs a guest. The last is a real test where
 * this process may open the device: a guest of five instructions run with KVM_RUN must write a
 * byte to an I/O port and halt. Where it may not (a user who is not in group kvm), the CPU's
 * vmx/svm flag stands in for it. vs_kvm_decide() is a pure function of these observations. */
#include "domains/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <linux/kvm.h>
#endif

#include "common/vs-enum.h"
#include "domains/errors.h"

VS_ENUM_IMPL(virt_type, VsVirtType, VS_VIRT_TYPE_LAST, "auto", "kvm", "qemu")

/* What Debian and Ubuntu build libvirt with; Fedora and RHEL use "qemu". */
#define DEFAULT_QEMU_USERS "libvirt-qemu", "qemu"

#define ENABLE_HINT                                                                                \
    "enable VT-x or AMD-V in the firmware, or nested virtualization in the hypervisor this "       \
    "host runs under"

void
vs_kvm_host_free(VsKvmHost *host)
{
    if (!host)
        return;
    g_free(host->device);
    g_free(host->qemu_user);
    g_free(host->cpu_detail);
    g_free(host);
}

void
vs_kvm_choice_clear(VsKvmChoice *choice)
{
    g_clear_pointer(&choice->note, g_free);
    g_clear_pointer(&choice->warning, g_free);
}

gboolean
vs_kvm_mode_allows(mode_t mode, uid_t owner, gid_t group, uid_t uid, const gid_t *groups,
                   guint n_groups)
{
    if (uid == 0)
        return TRUE;
    if (uid == owner)
        return (mode & (S_IRUSR | S_IWUSR)) == (S_IRUSR | S_IWUSR);
    for (guint i = 0; i < n_groups; i++)
        if (groups[i] == group)
            return (mode & (S_IRGRP | S_IWGRP)) == (S_IRGRP | S_IWGRP);
    return (mode & (S_IROTH | S_IWOTH)) == (S_IROTH | S_IWOTH);
}

gboolean
vs_kvm_cpuinfo_has_virt(const char *cpuinfo)
{
    g_auto(GStrv) lines = g_strsplit(cpuinfo ? cpuinfo : "", "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) words = NULL;
        if (!g_str_has_prefix(lines[i], "flags"))
            continue;
        words = g_strsplit_set(lines[i], " \t", -1);
        for (guint w = 0; words[w]; w++)
            if (strcmp(words[w], "vmx") == 0 || strcmp(words[w], "svm") == 0)
                return TRUE;
        return FALSE; /* every CPU lists the same flags: the first line says it */
    }
    return FALSE;
}

char *
vs_kvm_qemu_conf_user(const char *conf)
{
    g_autoptr(GRegex) re = g_regex_new("^[ \\t]*user[ \\t]*=[ \\t]*\"([^\"]{1,64})\"[ \\t]*$",
                                       G_REGEX_MULTILINE, 0, NULL);
    g_autoptr(GMatchInfo) match = NULL;
    char *user = NULL;

    /* The last assignment wins, as in libvirt's own reading of the file. */
    g_regex_match(re, conf ? conf : "", 0, &match);
    while (g_match_info_matches(match)) {
        g_free(user);
        user = g_match_info_fetch(match, 1);
        g_match_info_next(match, NULL);
    }
    return user;
}

/* Returns "crw-rw---- root:kvm" for @st. */
static char *
describe_mode(const struct stat *st)
{
    static const char bits[] = "rwxrwxrwx";
    char perms[11];
    struct passwd *pw = getpwuid(st->st_uid);
    struct group *gr = getgrgid(st->st_gid);
    g_autofree char *owner = pw ? g_strdup(pw->pw_name) : g_strdup_printf("%u", st->st_uid);
    g_autofree char *group = gr ? g_strdup(gr->gr_name) : g_strdup_printf("%u", st->st_gid);

    perms[0] = S_ISCHR(st->st_mode) ? 'c' : S_ISREG(st->st_mode) ? '-' : '?';
    for (int i = 0; i < 9; i++)
        perms[1 + i] = (st->st_mode & (0400 >> i)) ? bits[i] : '-';
    perms[10] = '\0';
    return g_strdup_printf("%s %s:%s", perms, owner, group);
}

/* Returns TRUE when the user @name may open a file like @st read-write, counting the groups
 * libvirt gives QEMU (the user's own). FALSE for an unknown user. */
static gboolean
user_may_open(const char *name, const struct stat *st)
{
    struct passwd *pw = getpwnam(name);
    int n = 64;
    g_autofree gid_t *groups = NULL;

    if (!pw)
        return FALSE;
    groups = g_new(gid_t, n);
    if (getgrouplist(name, pw->pw_gid, groups, &n) < 0) {
        g_free(groups);
        groups = g_new(gid_t, n);
        if (getgrouplist(name, pw->pw_gid, groups, &n) < 0)
            n = 0;
    }
    return vs_kvm_mode_allows(st->st_mode, st->st_uid, st->st_gid, pw->pw_uid, groups, (guint)n);
}

/* Returns the user libvirt runs QEMU as. */
static char *
qemu_user(const char *root, gboolean session)
{
    static const char *const defaults[] = {DEFAULT_QEMU_USERS};
    g_autofree char *path = g_build_filename(root, "etc", "libvirt", "qemu.conf", NULL);
    g_autofree char *conf = NULL;
    char *user = NULL;

    if (session)
        return g_strdup(g_get_user_name());
    if (g_file_get_contents(path, &conf, NULL, NULL))
        user = vs_kvm_qemu_conf_user(conf);
    if (user && (user[0] == '+' || g_ascii_isdigit(user[0]))) {
        /* "+0" or "100": a uid. */
        struct passwd *pw = getpwuid((uid_t)g_ascii_strtoull(user + (user[0] == '+'), NULL, 10));
        g_free(user);
        user = pw ? g_strdup(pw->pw_name) : NULL;
    }
    for (guint i = 0; !user && i < G_N_ELEMENTS(defaults); i++)
        if (getpwnam(defaults[i]))
            user = g_strdup(defaults[i]);
    return user ? user : g_strdup(defaults[0]);
}

#if defined(__x86_64__)
/* The test guest: a VM with one page of memory at 0x1000 and one vCPU in real mode there. */
typedef struct {
    int vm, vcpu, run_size;
    void *mem;
    struct kvm_run *run;
} TestGuest;

#define TEST_GUEST_MEM 0x1000

static void
test_guest_clear(TestGuest *g)
{
    if (g->run != MAP_FAILED)
        munmap(g->run, (size_t)g->run_size);
    if (g->mem != MAP_FAILED)
        munmap(g->mem, TEST_GUEST_MEM);
    if (g->vcpu >= 0)
        close(g->vcpu);
    if (g->vm >= 0)
        close(g->vm);
}

/* Makes the test guest on @fd, its code in place. Returns NULL, or the ioctl that failed. */
static const char *
test_guest_setup(TestGuest *g, int fd)
{
    static const guint8 code[] = {
        0xb0, 0x42, /* mov al, 0x42 */
        0xe6, 0x10, /* out 0x10, al */
        0xf4,       /* hlt */
    };
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0x1000, .memory_size = TEST_GUEST_MEM};
    struct kvm_regs regs = {.rip = 0x1000, .rflags = 0x2};
    struct kvm_sregs sregs;

    if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
        return "KVM_GET_API_VERSION";
    if ((g->vm = ioctl(fd, KVM_CREATE_VM, 0)) < 0)
        return "KVM_CREATE_VM";
    g->mem = mmap(NULL, TEST_GUEST_MEM, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (g->mem == MAP_FAILED)
        return "mmap";
    memcpy(g->mem, code, sizeof(code));
    region.userspace_addr = (guint64)(guintptr)g->mem;
    if (ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return "KVM_SET_USER_MEMORY_REGION";
    if ((g->vcpu = ioctl(g->vm, KVM_CREATE_VCPU, 0)) < 0 ||
        (g->run_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0)) <= 0)
        return "KVM_CREATE_VCPU";
    g->run = mmap(NULL, (size_t)g->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, g->vcpu, 0);
    if (g->run == MAP_FAILED)
        return "mmap of the vCPU";
    if (ioctl(g->vcpu, KVM_GET_SREGS, &sregs) < 0)
        return "KVM_GET_SREGS";
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(g->vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(g->vcpu, KVM_SET_REGS, &regs) < 0)
        return "KVM_SET_REGS";
    return NULL;
}

/* Runs the test guest until it halts. Returns NULL when it wrote 0x42 to port 0x10 and halted,
 * else what went wrong. */
static char *
test_guest_run(TestGuest *g)
{
    gboolean wrote = FALSE;
    struct kvm_run *run = g->run;

    /* Two exits are expected: the port write, then the halt. */
    for (int i = 0; i < 4; i++) {
        if (ioctl(g->vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR)
                continue;
            return g_strdup_printf("a test guest could not run: KVM_RUN failed: %s",
                                   g_strerror(errno));
        }
        switch (run->exit_reason) {
        case KVM_EXIT_IO:
            wrote = run->io.direction == KVM_EXIT_IO_OUT && run->io.port == 0x10 &&
                    *((guint8 *)run + run->io.data_offset) == 0x42;
            break;
        case KVM_EXIT_HLT:
            return wrote ? NULL : g_strdup("a test guest halted without running its code");
        case KVM_EXIT_INTERNAL_ERROR:
            return g_strdup_printf("a test guest stopped with a KVM internal error (suberror %u)",
                                   run->internal.suberror);
        case KVM_EXIT_FAIL_ENTRY:
            return g_strdup_printf(
                "the CPU refused to enter a test guest (reason 0x%llx)",
                (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        default:
            return g_strdup_printf("a test guest stopped unexpectedly (exit %u)", run->exit_reason);
        }
    }
    return g_strdup("a test guest did not finish");
}

/* Returns TRUE when a guest runs on @fd (an open /dev/kvm): in real mode at 0x1000 it writes
 * 0x42 to port 0x10 and halts. Otherwise FALSE with @ret_detail saying what went wrong. */
static gboolean
run_test_guest(int fd, char **ret_detail)
{
    TestGuest g = {.vm = -1, .vcpu = -1, .mem = MAP_FAILED, .run = MAP_FAILED};
    const char *failed = test_guest_setup(&g, fd);

    if (failed)
        *ret_detail =
            g_strdup_printf("a test guest could not run: %s failed: %s", failed, g_strerror(errno));
    else
        *ret_detail = test_guest_run(&g);
    test_guest_clear(&g);
    return *ret_detail == NULL;
}
#endif

VsKvmHost *
vs_kvm_host_read(const char *root, gboolean session)
{
    g_autoptr(VsKvmHost) host = g_new0(VsKvmHost, 1);
    g_autofree char *dev = g_build_filename(root, "dev", "kvm", NULL);
    g_autofree char *cpuinfo_path = g_build_filename(root, "proc", "cpuinfo", NULL);
    g_autofree char *cpuinfo = NULL;
    g_autofree char *mode = NULL;
    struct stat st;
    int fd;

    host->qemu_user = qemu_user(root, session);
    if (stat(dev, &st) < 0) {
        host->device = g_strdup("/dev/kvm");
        return g_steal_pointer(&host);
    }
    host->present = TRUE;
    mode = describe_mode(&st);
    host->device = g_strdup_printf("/dev/kvm (%s)", mode);
    host->qemu_access = user_may_open(host->qemu_user, &st);

    fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
#if defined(__x86_64__)
        host->cpu_ok = run_test_guest(fd, &host->cpu_detail);
#else
        host->cpu_ok = TRUE; /* no test guest for this architecture: the device is trusted */
#endif
        close(fd);
        return g_steal_pointer(&host);
    }
#if defined(__x86_64__) || defined(__i386__)
    g_file_get_contents(cpuinfo_path, &cpuinfo, NULL, NULL);
    host->cpu_ok = vs_kvm_cpuinfo_has_virt(cpuinfo);
    if (!host->cpu_ok)
        host->cpu_detail = g_strdup("the CPU shows no vmx or svm flag in /proc/cpuinfo");
#else
    host->cpu_ok = TRUE;
#endif
    return g_steal_pointer(&host);
}

gboolean
vs_kvm_decide(VsVirtType requested, gboolean remote, gboolean libvirt_kvm, const VsKvmHost *host,
              VsKvmChoice *ret, GError **error)
{
    g_autofree char *why = NULL;
    g_autofree char *warning = NULL;

    if (remote) {
        /* Only the remote host can look at its device; the wait catches a guest that fails. */
        if (requested == VS_VIRT_TYPE_KVM && !libvirt_kvm) {
            g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FAILED,
                        "--virt-type kvm: the remote host's libvirt offers no KVM (its /dev/kvm "
                        "is missing or unusable); use --virt-type qemu or enable KVM there");
            return FALSE;
        }
        ret->kvm = requested != VS_VIRT_TYPE_QEMU && libvirt_kvm;
        ret->note = NULL;
        ret->warning = NULL;
        return TRUE;
    }

    g_return_val_if_fail(host != NULL, FALSE);
    if (host->present && !host->qemu_access)
        warning = g_strdup_printf(
            "libvirt is slow on this host: QEMU's user %s cannot open %s, so libvirt probes QEMU "
            "again on almost every call (seen: 30 s for one define); fix it as the udev rule of "
            "Debian's and Fedora's packages does: chgrp kvm /dev/kvm && chmod 0660 /dev/kvm "
            "(and %s in group kvm)",
            host->qemu_user, host->device, host->qemu_user);

    if (!host->present)
        why = g_strdup(
            "/dev/kvm does not exist: load the kvm_intel or kvm_amd module and " ENABLE_HINT);
    else if (!host->qemu_access)
        why = g_strdup_printf("QEMU's user %s cannot open %s: chgrp kvm /dev/kvm && chmod 0660 "
                              "/dev/kvm, and add %s to group kvm",
                              host->qemu_user, host->device, host->qemu_user);
    else if (!host->cpu_ok)
        why = g_strdup_printf("%s exists but cannot run a guest (%s): " ENABLE_HINT, host->device,
                              host->cpu_detail ? host->cpu_detail : "unknown reason");
    else if (!libvirt_kvm)
        why = g_strdup("libvirt does not offer the domain type kvm (`virsh domcapabilities "
                       "--virttype kvm` fails): check libvirtd's log");

    if (requested == VS_VIRT_TYPE_KVM && why) {
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FAILED,
                    "--virt-type kvm cannot work on this host: %s; or use --virt-type qemu "
                    "(software emulation, slower)",
                    why);
        return FALSE;
    }
    ret->kvm = requested != VS_VIRT_TYPE_QEMU && !why;
    ret->note = requested == VS_VIRT_TYPE_AUTO && why
                    ? g_strdup_printf("KVM is not usable, the guest is emulated (domain type qemu, "
                                      "much slower): %s",
                                      why)
                    : NULL;
    ret->warning = g_steal_pointer(&warning);
    return TRUE;
}
