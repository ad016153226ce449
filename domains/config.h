/* Everything the domain XML of a workstation is made from. Filled by provisioner/ from the spec,
 * the host's facts and the GPU plan; turned into XML by vs_domain_xml(). */
#pragma once

#include <glib.h>

#include "gpu/plan.h"

typedef enum { VS_ARCH_X86_64, VS_ARCH_AARCH64, VS_ARCH_LAST } VsArch;
typedef enum { VS_FIRMWARE_BIOS, VS_FIRMWARE_EFI, VS_FIRMWARE_LAST } VsFirmware;
typedef enum { VS_NET_NETWORK, VS_NET_BRIDGE, VS_NET_USER, VS_NET_LAST } VsNetMode;
typedef enum { VS_DISPLAY_NONE, VS_DISPLAY_VNC, VS_DISPLAY_SPICE, VS_DISPLAY_LAST } VsDisplay;
typedef enum { VS_SEED_DISK, VS_SEED_CDROM, VS_SEED_LAST } VsSeedDevice;

typedef struct {
    char *name;
    char *uuid; /* the domain's UUID, also recorded in the metadata; NULL: libvirt picks one */
    char *title;
    char *description;
    gboolean kvm; /* domain type kvm; else qemu (TCG) */
    VsArch arch;
    VsFirmware firmware;
    guint vcpus;
    guint64 memory_mib;

    char *pool;        /* the pool holding the workstation's volumes */
    char *disk_volume; /* the qcow2 overlay */
    char *seed_volume; /* the NoCloud ISO; NULL when seed_from is set */
    VsSeedDevice seed_device;
    char *seed_from; /* ds=nocloud;s=URL instead of a seed volume */

    VsNetMode net_mode;
    char *net_source; /* network or bridge name */
    char *mac;
    gboolean passt;    /* user networking through passt (else QEMU's SLIRP) */
    guint16 ssh_port;  /* user networking: 127.0.0.1 port forwarded to the guest's 22 */
    char *console_log; /* serial console log file on the libvirt host */
    gboolean pvpanic;  /* a pvpanic device: a guest kernel panic reaches libvirt */

    VsDisplay display;
    VsGpuPlan *gpu; /* never NULL */

    /* Metadata only. */
    char *os_id;       /* libosinfo id, or NULL */
    char *image_alias; /* the alias or file the base image came from */
    char *base_pool;
    char *base_volume;
    char *ssh_user;
    GPtrArray *host_keys; /* the guest's SSH host public key lines */
} VsDomainConfig;

/* What the connected libvirt host can do (domains/caps.c probes it). */
typedef struct {
    VsArch arch;      /* the host's architecture */
    gboolean kvm;     /* libvirt offers KVM for @arch (after vs_up_decide_kvm: KVM is used) */
    gboolean passt;   /* <interface type='user'> with <backend type='passt'/> is accepted */
    gboolean session; /* a qemu:///session connection */
    gboolean remote;  /* the connection goes over the network */
    unsigned long libvirt_version;
    unsigned long qemu_version; /* the hypervisor's version, 7002000 for 7.2.0; 0 unknown */
} VsCaps;

VsDomainConfig *vs_domain_config_new(void);
void vs_domain_config_free(VsDomainConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsDomainConfig, vs_domain_config_free)

/* The first libvirt release that accepts <panic model='pvpanic'/> (QEMU's pvpanic-pci) for
 * aarch64 `virt` machines; x86 machines have long had the ISA device, <panic model='isa'/>. */
#define VS_PVPANIC_AARCH64_LIBVIRT 9001000UL

/* The first libvirt release that starts a domain with an unmanaged (managed='no') PCI hostdev
 * whose device is bound to a driver other than vfio-pci, pci-stub or pciback but has a
 * `vfio-dev/` directory in sysfs, as NVIDIA's vendor-specific VFs (bound to nvidia) have:
 * libvirt 9.7.0 (2023-09-01). Its NEWS.rst, "qemu: basic support for use of 'VFIO variant'
 * drivers ... setting managed='no'", and src/util/virpci.c, where
 * virPCIDeviceGetCurrentDriverNameAndType() takes a driver that is no known stub but leaves a
 * `vfio-dev` directory as VIR_PCI_STUB_DRIVER_VFIO, which virHostdevPreparePCIDevicesImpl()
 * (src/hypervisor/virhostdev.c) requires of an unmanaged device ("Unmanaged PCI device ... must
 * be manually detached from the host" otherwise). Found in libvirt's own repository. */
#define VS_VENDOR_VF_LIBVIRT 9007000UL

/* Returns the firmware a workstation boots unless the user chose one: efi for aarch64 (the
 * only one there) and for GPU passthrough (a GPU's option ROM and large BARs want UEFI: OVMF
 * maps 64-bit BARs above 4 GiB, SeaBIOS places them below), else bios. */
VsFirmware vs_firmware_default(VsArch arch, VsGpuMode gpu_mode);

/* Returns the size in KiB of the 64-bit PCI hole (the MMIO window above 4 GiB) a domain gets
 * for passed-through functions whose 64-bit prefetchable BARs add up to @mmio64_bytes. */
guint64 vs_domain_pcihole64_kib(guint64 mmio64_bytes);

/* Enum <-> string tables: the spellings the command line, spec files and metadata use (README,
 * "Commands"). The from_string functions return -1 for unknown strings. */
const char *vs_arch_to_string(VsArch arch);
int vs_arch_from_string(const char *str);
const char *vs_firmware_to_string(VsFirmware firmware);
int vs_firmware_from_string(const char *str);
const char *vs_net_mode_to_string(VsNetMode mode);
int vs_net_mode_from_string(const char *str);
const char *vs_display_to_string(VsDisplay display);
int vs_display_from_string(const char *str);
const char *vs_seed_device_to_string(VsSeedDevice device);
int vs_seed_device_from_string(const char *str);

/* The storage pool workstations and base images go to unless --pool says otherwise. */
#define VS_DEFAULT_POOL "default"

/* Returns the architecture this machine runs, as libvirt and the image catalog spell it
 * ("x86_64", "aarch64"; another machine's name as uname gives it). */
char *vs_arch_local_name(void);

/* Returns TRUE when @name is a valid workstation name: a hostname label (lower-case letters,
 * digits and '-', 1 to 63 of them, no '-' at either end). */
gboolean vs_domain_name_valid(const char *name);
