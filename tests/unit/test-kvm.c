/* The choice between the domain types kvm and qemu: every case of the host's /dev/kvm and of
 * libvirt's answer, for auto, kvm and qemu, with the explanation a user gets; and the pieces
 * the host is read with (permissions, CPU flags, qemu.conf), on fake inputs. */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domains/errors.h"
#include "domains/kvm.h"

typedef enum { ABSENT, DENIED, BROKEN, WORKS } Device;

static VsKvmHost *
host_of(Device d)
{
    VsKvmHost *h = g_new0(VsKvmHost, 1);

    h->qemu_user = g_strdup("libvirt-qemu");
    h->present = d != ABSENT;
    h->qemu_access = d == BROKEN || d == WORKS;
    h->cpu_ok = d == WORKS;
    h->device = g_strdup(d == DENIED   ? "/dev/kvm (crw------- root:root)"
                         : d == ABSENT ? "/dev/kvm"
                                       : "/dev/kvm (crw-rw---- root:kvm)");
    if (d == BROKEN)
        h->cpu_detail = g_strdup("the CPU shows no vmx or svm flag in /proc/cpuinfo");
    return h;
}

typedef struct {
    Device device;
    gboolean libvirt_kvm;
    const char *why; /* part of the explanation; NULL: KVM is used */
} Case;

static const Case cases[] = {
    {ABSENT, FALSE, "/dev/kvm does not exist: load the kvm_intel or kvm_amd module"},
    {ABSENT, TRUE, "/dev/kvm does not exist"},
    {DENIED, FALSE,
     "QEMU's user libvirt-qemu cannot open /dev/kvm (crw------- root:root): chgrp "
     "kvm /dev/kvm && chmod 0660 /dev/kvm, and add libvirt-qemu to group kvm"},
    {DENIED, TRUE, "QEMU's user libvirt-qemu cannot open /dev/kvm (crw------- root:root)"},
    {BROKEN, TRUE,
     "/dev/kvm (crw-rw---- root:kvm) exists but cannot run a guest (the CPU shows "
     "no vmx or svm flag in /proc/cpuinfo): enable VT-x or AMD-V in the firmware, "
     "or nested virtualization"},
    {BROKEN, FALSE, "exists but cannot run a guest"},
    {WORKS, FALSE, "libvirt does not offer the domain type kvm"},
    {WORKS, TRUE, NULL},
};

static void
test_auto(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(VsKvmHost) host = host_of(cases[i].device);
        g_auto(VsKvmChoice) choice = {0};
        g_autoptr(GError) error = NULL;

        g_assert_true(
            vs_kvm_decide(VS_VIRT_TYPE_AUTO, FALSE, cases[i].libvirt_kvm, host, &choice, &error));
        g_assert_no_error(error);
        g_assert_cmpint(choice.kvm, ==, cases[i].why == NULL);
        if (cases[i].why) {
            g_assert_true(g_str_has_prefix(choice.note, "KVM is not usable, the guest is emulated "
                                                        "(domain type qemu, much slower): "));
            if (!strstr(choice.note, cases[i].why))
                g_error("case %u: '%s' does not say '%s'", i, choice.note, cases[i].why);
        } else {
            g_assert_null(choice.note);
        }
        /* Only a device QEMU cannot open makes libvirt slow. */
        if (cases[i].device == DENIED) {
            g_assert_nonnull(strstr(choice.warning, "libvirt is slow on this host: QEMU's user "
                                                    "libvirt-qemu cannot open /dev/kvm"));
            g_assert_nonnull(strstr(choice.warning, "chgrp kvm /dev/kvm && chmod 0660 /dev/kvm"));
        } else {
            g_assert_null(choice.warning);
        }
    }
}

static void
test_explicit_kvm(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(VsKvmHost) host = host_of(cases[i].device);
        g_auto(VsKvmChoice) choice = {0};
        g_autoptr(GError) error = NULL;
        gboolean ok =
            vs_kvm_decide(VS_VIRT_TYPE_KVM, FALSE, cases[i].libvirt_kvm, host, &choice, &error);

        if (!cases[i].why) {
            g_assert_true(ok);
            g_assert_true(choice.kvm);
            continue;
        }
        g_assert_false(ok);
        g_assert_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FAILED);
        g_assert_true(
            g_str_has_prefix(error->message, "--virt-type kvm cannot work on this host: "));
        g_assert_nonnull(strstr(error->message, cases[i].why));
        g_assert_true(g_str_has_suffix(error->message, "or use --virt-type qemu (software "
                                                       "emulation, slower)"));
    }
}

static void
test_explicit_qemu(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(VsKvmHost) host = host_of(cases[i].device);
        g_auto(VsKvmChoice) choice = {0};

        g_assert_true(
            vs_kvm_decide(VS_VIRT_TYPE_QEMU, FALSE, cases[i].libvirt_kvm, host, &choice, NULL));
        g_assert_false(choice.kvm);
        g_assert_null(choice.note); /* asked for: nothing to explain */
        g_assert_cmpint(choice.warning != NULL, ==, cases[i].device == DENIED);
    }
}

static void
test_remote_trusts_libvirt(void)
{
    g_auto(VsKvmChoice) a = {0}, b = {0}, c = {0};
    g_autoptr(GError) error = NULL;

    g_assert_true(vs_kvm_decide(VS_VIRT_TYPE_AUTO, TRUE, TRUE, NULL, &a, NULL));
    g_assert_true(a.kvm);
    g_assert_null(a.note);
    g_assert_true(vs_kvm_decide(VS_VIRT_TYPE_AUTO, TRUE, FALSE, NULL, &b, NULL));
    g_assert_false(b.kvm);
    g_assert_false(vs_kvm_decide(VS_VIRT_TYPE_KVM, TRUE, FALSE, NULL, &c, &error));
    g_assert_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FAILED);
    g_assert_nonnull(strstr(error->message, "the remote host's libvirt offers no KVM"));
}

static void
test_virt_type_spellings(void)
{
    g_assert_cmpint(vs_virt_type_from_string("auto"), ==, VS_VIRT_TYPE_AUTO);
    g_assert_cmpint(vs_virt_type_from_string("kvm"), ==, VS_VIRT_TYPE_KVM);
    g_assert_cmpint(vs_virt_type_from_string("qemu"), ==, VS_VIRT_TYPE_QEMU);
    g_assert_cmpint(vs_virt_type_from_string("KVM"), ==, -1);
    g_assert_cmpint(vs_virt_type_from_string("tcg"), ==, -1);
    g_assert_cmpstr(vs_virt_type_to_string(VS_VIRT_TYPE_QEMU), ==, "qemu");
}

static void
test_mode_allows(void)
{
    const gid_t kvm_and_own[] = {107, 64055};
    const gid_t own[] = {64055};

    /* Debian's udev rule: 0660 root:kvm; QEMU's user is in group kvm. */
    g_assert_true(vs_kvm_mode_allows(020660, 0, 107, 64055, kvm_and_own, 2));
    /* No udev: 0600 root:root. */
    g_assert_false(vs_kvm_mode_allows(020600, 0, 0, 64055, kvm_and_own, 2));
    /* Group kvm, but the user is not in it. */
    g_assert_false(vs_kvm_mode_allows(020660, 0, 107, 64055, own, 1));
    /* Read-only for the group is not enough. */
    g_assert_false(vs_kvm_mode_allows(020640, 0, 107, 64055, kvm_and_own, 2));
    /* 0666 opens for everyone; the owner's bits count for the owner, not the others'. */
    g_assert_true(vs_kvm_mode_allows(020666, 0, 0, 1000, NULL, 0));
    g_assert_false(vs_kvm_mode_allows(020066, 1000, 0, 1000, NULL, 0));
    /* root always. */
    g_assert_true(vs_kvm_mode_allows(020000, 5, 5, 0, NULL, 0));
}

static void
test_cpuinfo(void)
{
    g_assert_true(vs_kvm_cpuinfo_has_virt("processor\t: 0\nflags\t\t: fpu vme de pse vmx ept\n"));
    g_assert_true(vs_kvm_cpuinfo_has_virt("flags\t\t: fpu svm lm\n"));
    /* The machines of this project's kind: no vmx or svm. */
    g_assert_false(vs_kvm_cpuinfo_has_virt("processor\t: 0\nflags\t\t: fpu vme hypervisor "
                                           "lahf_lm\nbugs\t\t: spectre_v1\n"));
    /* A flag that merely contains the letters does not count. */
    g_assert_false(vs_kvm_cpuinfo_has_virt("flags\t\t: fpu vmx_ept svm_lock\n"));
    g_assert_false(vs_kvm_cpuinfo_has_virt(""));
    g_assert_false(vs_kvm_cpuinfo_has_virt(NULL));
}

static void
test_qemu_conf_user(void)
{
    g_autofree char *none = vs_kvm_qemu_conf_user("#user = \"libvirt-qemu\"\n#group = \"x\"\n");
    g_autofree char *set = vs_kvm_qemu_conf_user("# comment\nuser = \"qemu\"\ngroup = \"qemu\"\n");
    g_autofree char *last = vs_kvm_qemu_conf_user("user = \"a\"\n  user=\"b\"\n");

    g_assert_null(none);
    g_assert_cmpstr(set, ==, "qemu");
    g_assert_cmpstr(last, ==, "b");
}

/* A fake root whose dev/kvm is a regular file of mode 0600: QEMU's user cannot open it, and the
 * test guest cannot run on it (it is no KVM device). This process can open it, so the test
 * guest is tried (and fails): the flags fallback is the next test's. */
static void
test_read_fake_root(void)
{
    g_autofree char *root = g_dir_make_tmp("vs-kvm-XXXXXX", NULL);
    g_autofree char *dev = g_build_filename(root, "dev", NULL);
    g_autofree char *kvm = g_build_filename(dev, "kvm", NULL);
    g_autofree char *conf_dir = g_build_filename(root, "etc", "libvirt", NULL);
    g_autofree char *conf = g_build_filename(conf_dir, "qemu.conf", NULL);
    g_autoptr(VsKvmHost) absent = NULL, present = NULL;

    g_assert_cmpint(g_mkdir_with_parents(conf_dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(conf, "user = \"nobody\"\n", -1, NULL));
    absent = vs_kvm_host_read(root, FALSE);
    g_assert_false(absent->present);
    g_assert_cmpstr(absent->qemu_user, ==, "nobody");

    g_assert_cmpint(g_mkdir(dev, 0755), ==, 0);
    g_assert_true(g_file_set_contents(kvm, "", -1, NULL));
    g_assert_cmpint(chmod(kvm, 0600), ==, 0);
    present = vs_kvm_host_read(root, FALSE);
    g_assert_true(present->present);
    g_assert_false(present->qemu_access); /* nobody is not the file's owner */
    g_assert_false(present->cpu_ok);
    g_assert_nonnull(present->cpu_detail);
    g_assert_true(g_str_has_prefix(present->device, "/dev/kvm (-rw------- "));

    g_remove(kvm);
    g_rmdir(dev);
    g_remove(conf);
    g_rmdir(conf_dir);
    g_autofree char *etc = g_build_filename(root, "etc", NULL);
    g_rmdir(etc);
    g_rmdir(root);
}

/* A device this process cannot open (here: a folder, which no one opens read-write, root
 * included): the CPU's flags in @root/proc/cpuinfo stand in for the test guest. */
static void
test_read_cpuinfo_fallback(void)
{
    g_autofree char *root = g_dir_make_tmp("vs-kvm-XXXXXX", NULL);
    g_autofree char *kvm = g_build_filename(root, "dev", "kvm", NULL);
    g_autofree char *proc = g_build_filename(root, "proc", NULL);
    g_autofree char *cpuinfo = g_build_filename(proc, "cpuinfo", NULL);
    g_autoptr(VsKvmHost) with_vmx = NULL, without = NULL;

    g_assert_cmpint(g_mkdir_with_parents(kvm, 0755), ==, 0);
    g_assert_cmpint(g_mkdir(proc, 0755), ==, 0);
    g_assert_true(
        g_file_set_contents(cpuinfo, "processor\t: 0\nflags\t\t: fpu vmx lm\n", -1, NULL));
    with_vmx = vs_kvm_host_read(root, FALSE);
    g_assert_true(with_vmx->present);
    g_assert_true(with_vmx->cpu_ok);
    g_assert_null(with_vmx->cpu_detail);

    g_assert_true(g_file_set_contents(cpuinfo, "processor\t: 0\nflags\t\t: fpu lm\n", -1, NULL));
    without = vs_kvm_host_read(root, FALSE);
    g_assert_false(without->cpu_ok);
    g_assert_cmpstr(without->cpu_detail, ==, "the CPU shows no vmx or svm flag in /proc/cpuinfo");

    g_remove(cpuinfo);
    g_rmdir(proc);
    g_rmdir(kvm);
    g_autofree char *dev = g_path_get_dirname(kvm);
    g_rmdir(dev);
    g_rmdir(root);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kvm/auto", test_auto);
    g_test_add_func("/kvm/explicit-kvm", test_explicit_kvm);
    g_test_add_func("/kvm/explicit-qemu", test_explicit_qemu);
    g_test_add_func("/kvm/remote-trusts-libvirt", test_remote_trusts_libvirt);
    g_test_add_func("/kvm/virt-type-spellings", test_virt_type_spellings);
    g_test_add_func("/kvm/mode-allows", test_mode_allows);
    g_test_add_func("/kvm/cpuinfo", test_cpuinfo);
    g_test_add_func("/kvm/qemu-conf-user", test_qemu_conf_user);
    g_test_add_func("/kvm/read-fake-root", test_read_fake_root);
    g_test_add_func("/kvm/read-cpuinfo-fallback", test_read_cpuinfo_fallback);
    return g_test_run();
}
