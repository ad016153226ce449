/* Domain XML generation, with the element tree of domains/xmlnode.h (libxml2's output, without
 * linking libxml2 into the program).
 *
 * Every value goes in as an attribute or an element's text, which the serializer escapes, after
 * being made valid UTF-8 without control characters: no name, path or key can change the
 * structure of the document. The element order follows what `virsh dumpxml` prints, so that the XML
 * a user sees with --print-xml reads like the one libvirt keeps. */
#include "domains/xml.h"

#include <string.h>

#include "domains/errors.h"
#include "domains/xmlnode.h"
#include "vs-config.h"

typedef VsXmlNode VsNode;

/* Returns @s as valid UTF-8 with C0 control characters (but tab and newline) replaced by
 * U+FFFD: the document would otherwise hold characters XML 1.0 forbids. */
static char *
clean(const char *s)
{
    g_autofree char *valid = g_utf8_make_valid(s, -1);
    GString *out = g_string_sized_new(strlen(valid));

    for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (c < 0x20 && c != '\t' && c != '\n')
            g_string_append_unichar(out, 0xFFFD);
        else
            g_string_append_unichar(out, c);
    }
    return g_string_free(out, FALSE);
}

static VsNode *
el(VsNode *parent, const char *name)
{
    return vs_xml_node_add(parent, NULL, name);
}

/* An element in the namespace declared with @prefix. */
static VsNode *
el_ns(VsNode *parent, const char *prefix, const char *name)
{
    return vs_xml_node_add(parent, prefix, name);
}

static VsNode *
text_el(VsNode *parent, const char *prefix, const char *name, const char *text)
{
    g_autofree char *value = clean(text);
    VsNode *node = vs_xml_node_add(parent, prefix, name);

    vs_xml_node_set_text(node, value);
    return node;
}

static void
attr(VsNode *node, const char *name, const char *value)
{
    g_autofree char *v = NULL;

    if (!value)
        return;
    v = clean(value);
    vs_xml_node_set_attr(node, name, v);
}

static void
attr_uint(VsNode *node, const char *name, guint64 value)
{
    g_autofree char *v = g_strdup_printf("%" G_GUINT64_FORMAT, value);
    vs_xml_node_set_attr(node, name, v);
}

static gboolean
invalid(GError **error, const char *message)
{
    g_set_error_literal(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_INVALID, message);
    return FALSE;
}

static void
add_os(VsNode *root, const VsDomainConfig *c)
{
    VsNode *os = el(root, "os");
    VsNode *type;

    if (c->firmware == VS_FIRMWARE_EFI)
        attr(os, "firmware", "efi");
    type = text_el(os, NULL, "type", "hvm");
    attr(type, "arch", vs_arch_to_string(c->arch));
    attr(type, "machine", c->arch == VS_ARCH_X86_64 ? "q35" : "virt");
    attr(el(os, "boot"), "dev", "hd");
    attr(el(os, "smbios"), "mode", "sysinfo");
}

/* SMBIOS system serial: cloud-init's NoCloud reads its seed location from it at once. */
static void
add_sysinfo(VsNode *root, const VsDomainConfig *c)
{
    VsNode *sysinfo = el(root, "sysinfo");
    VsNode *system;
    g_autofree char *serial =
        c->seed_from ? g_strdup_printf("ds=nocloud;s=%s", c->seed_from) : g_strdup("ds=nocloud");

    attr(sysinfo, "type", "smbios");
    system = el(sysinfo, "system");
    attr(text_el(system, NULL, "entry", serial), "name", "serial");
}

static void
add_features_cpu(VsNode *root, const VsDomainConfig *c)
{
    VsNode *features = el(root, "features");
    VsNode *cpu;

    el(features, "acpi");
    if (c->arch == VS_ARCH_X86_64)
        el(features, "apic");
    else
        attr(el(features, "gic"), "version", "3");
    cpu = el(root, "cpu");
    /* KVM: the host's CPU as it is. TCG: the most QEMU can emulate, which every image's
     * baseline (x86-64-v2 included) runs on. */
    attr(cpu, "mode", c->kvm ? "host-passthrough" : "maximum");
    if (c->kvm)
        attr(cpu, "migratable", "on");
    attr(el(root, "clock"), "offset", "utc");
}

static VsNode *
add_volume_disk(VsNode *devices, const char *device, const char *format, const char *pool,
                const char *volume, const char *target, const char *bus)
{
    VsNode *disk = el(devices, "disk");
    VsNode *driver, *source, *tgt;

    attr(disk, "type", "volume");
    attr(disk, "device", device);
    driver = el(disk, "driver");
    attr(driver, "name", "qemu");
    attr(driver, "type", format);
    if (strcmp(format, "qcow2") == 0)
        attr(driver, "discard", "unmap");
    source = el(disk, "source");
    attr(source, "pool", pool);
    attr(source, "volume", volume);
    tgt = el(disk, "target");
    attr(tgt, "dev", target);
    attr(tgt, "bus", bus);
    return disk;
}

/* The seed is raw and read-only: snapshot='no' keeps it out of snapshots, said in the XML rather
 * than left to libvirt's default for read-only disks (an internal snapshot of a raw disk that
 * takes part is refused). */
static void
add_seed_disk(VsNode *devices, const char *device, const char *pool, const char *volume,
              const char *target, const char *bus)
{
    VsNode *disk = add_volume_disk(devices, device, "raw", pool, volume, target, bus);

    attr(disk, "snapshot", "no");
    el(disk, "readonly");
}

static void
add_disks(VsNode *devices, const VsDomainConfig *c)
{
    add_volume_disk(devices, "disk", "qcow2", c->pool, c->disk_volume, "vda", "virtio");
    if (!c->seed_volume)
        return;
    if (c->seed_device == VS_SEED_DISK) {
        add_seed_disk(devices, "disk", c->pool, c->seed_volume, "vdb", "virtio");
    } else {
        /* On virtio-scsi, not SATA, on x86_64 too: kernels built for clouds (Debian's
         * linux-image-cloud-amd64, in its genericcloud images) have no AHCI driver, so a SATA
         * cdrom is never seen and cloud-init runs without the seed; every image that boots from
         * the virtio disk has virtio. */
        add_seed_disk(devices, "cdrom", c->pool, c->seed_volume, "sda", "scsi");
        VsNode *ctl = el(devices, "controller");
        attr(ctl, "type", "scsi");
        attr(ctl, "index", "0");
        attr(ctl, "model", "virtio-scsi");
    }
}

/* Returns the <qemu:commandline> arguments for SLIRP with a loopback port forward (libvirt
 * older than 9.2 has no <portForward>), or NULL when the interface is libvirt's own. */
static GPtrArray *
add_interface(VsNode *devices, const VsDomainConfig *c)
{
    VsNode *iface;
    GPtrArray *args;

    if (c->net_mode == VS_NET_USER && !c->passt) {
        /* The NIC is given to QEMU directly: an explicit PCIe slot, since libvirt does not know
         * of it and would otherwise hand the same slot to another device. */
        args = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(args, g_strdup("-netdev"));
        g_ptr_array_add(
            args, g_strdup_printf("user,id=vsnet0,hostfwd=tcp:127.0.0.1:%u-:22", c->ssh_port));
        g_ptr_array_add(args, g_strdup("-device"));
        g_ptr_array_add(
            args,
            g_strdup_printf("virtio-net-pci,netdev=vsnet0,bus=pcie.0,addr=0x10,mac=%s", c->mac));
        return args;
    }
    iface = el(devices, "interface");
    switch (c->net_mode) {
    case VS_NET_NETWORK:
        attr(iface, "type", "network");
        attr(el(iface, "source"), "network", c->net_source);
        break;
    case VS_NET_BRIDGE:
        attr(iface, "type", "bridge");
        attr(el(iface, "source"), "bridge", c->net_source);
        break;
    case VS_NET_USER:
    case VS_NET_LAST:
        attr(iface, "type", "user");
        break;
    }
    attr(el(iface, "mac"), "address", c->mac);
    attr(el(iface, "model"), "type", "virtio");
    if (c->net_mode == VS_NET_USER) {
        VsNode *pf, *range;
        attr(el(iface, "backend"), "type", "passt");
        pf = el(iface, "portForward");
        attr(pf, "proto", "tcp");
        attr(pf, "address", "127.0.0.1");
        range = el(pf, "range");
        attr_uint(range, "start", c->ssh_port);
        attr(range, "to", "22");
    }
    return NULL;
}

static void
add_serial(VsNode *devices, const VsDomainConfig *c)
{
    VsNode *serial = el(devices, "serial");
    VsNode *console, *log;

    attr(serial, "type", "pty");
    if (c->console_log) {
        log = el(serial, "log");
        attr(log, "file", c->console_log);
        attr(log, "append", "on");
    }
    attr(el(serial, "target"), "port", "0");
    console = el(devices, "console");
    attr(console, "type", "pty");
    VsNode *target = el(console, "target");
    attr(target, "type", "serial");
    attr(target, "port", "0");
}

static void
add_channels(VsNode *devices, const VsDomainConfig *c)
{
    VsNode *channel = el(devices, "channel");
    VsNode *target;

    attr(channel, "type", "unix");
    target = el(channel, "target");
    attr(target, "type", "virtio");
    attr(target, "name", "org.qemu.guest_agent.0");
    if (c->display == VS_DISPLAY_SPICE) {
        channel = el(devices, "channel");
        attr(channel, "type", "spicevmc");
        target = el(channel, "target");
        attr(target, "type", "virtio");
        attr(target, "name", "com.redhat.spice.0");
    }
}

/* A VNC or SPICE server on the host's loopback only (ssh -L to reach it from elsewhere). */
static void
add_remote_display(VsNode *devices, VsDisplay display)
{
    VsNode *graphics = el(devices, "graphics");
    VsNode *listen;

    attr(graphics, "type", display == VS_DISPLAY_SPICE ? "spice" : "vnc");
    attr(graphics, "autoport", "yes");
    listen = el(graphics, "listen");
    attr(listen, "type", "address");
    attr(listen, "address", "127.0.0.1");
}

static void
add_video(VsNode *devices, const char *model, gboolean accel3d)
{
    VsNode *video = el(devices, "video");
    VsNode *m = el(video, "model");

    attr(m, "type", model);
    if (strcmp(model, "none") == 0)
        return;
    attr(m, "heads", "1");
    attr(m, "primary", "yes");
    if (accel3d)
        attr(el(m, "acceleration"), "accel3d", "yes");
}

/* The guest bus the passed-through functions sit on: the first pcie-root-port, which
 * add_pci_controllers() declares. libvirt numbers the root ports it adds for the other devices
 * after it (verified with `virsh define` and `virsh dumpxml` on libvirt 9.0: they take buses 2
 * and up, and a gap in the indexes would be filled with idle root ports). */
#define GPU_ROOT_PORT_INDEX 1

/* Adds a PCI host device for the host function @address; @guest_function >= 0 places it at
 * that function of slot 0 on the GPU's root port (@multifunction on function 0 of several).
 * Returns FALSE with @error set for a malformed address. */
static gboolean
add_pci_hostdev(VsNode *devices, const char *address, gboolean managed, int guest_function,
                gboolean multifunction, GError **error)
{
    guint domain, bus, slot, function;
    VsNode *hostdev, *addr;
    char buf[16];

    if (!vs_pci_address_parse(address, &domain, &bus, &slot, &function)) {
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_INVALID,
                    "invalid PCI address '%s' in the GPU plan", address);
        return FALSE;
    }
    hostdev = el(devices, "hostdev");
    attr(hostdev, "mode", "subsystem");
    attr(hostdev, "type", "pci");
    attr(hostdev, "managed", managed ? "yes" : "no");
    addr = el(el(hostdev, "source"), "address");
    g_snprintf(buf, sizeof(buf), "0x%04x", domain);
    attr(addr, "domain", buf);
    g_snprintf(buf, sizeof(buf), "0x%02x", bus);
    attr(addr, "bus", buf);
    g_snprintf(buf, sizeof(buf), "0x%02x", slot);
    attr(addr, "slot", buf);
    g_snprintf(buf, sizeof(buf), "0x%x", function);
    attr(addr, "function", buf);
    if (guest_function >= 0) {
        addr = el(hostdev, "address");
        attr(addr, "type", "pci");
        attr(addr, "domain", "0x0000");
        g_snprintf(buf, sizeof(buf), "0x%02x", GPU_ROOT_PORT_INDEX);
        attr(addr, "bus", buf);
        attr(addr, "slot", "0x00");
        g_snprintf(buf, sizeof(buf), "0x%x", (guint)guest_function);
        attr(addr, "function", buf);
        if (multifunction)
            attr(addr, "multifunction", "on");
    }
    return TRUE;
}

static int
compare_functions(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

/* The passed-through card as the guest sees it: all its functions in one multifunction slot,
 * in their host order (the GPU at function 0, its audio at 1, as on the host), as Incus and
 * Proxmox do; a guest driver that looks for the audio function next to the GPU finds it. */
static gboolean
add_passthrough(VsNode *devices, const VsGpuPlan *gpu, GError **error)
{
    g_autoptr(GPtrArray) sorted = g_ptr_array_new();

    if (gpu->functions->len > 8)
        return invalid(error, "the passthrough plan names more than 8 PCI functions");
    /* Same domain, bus and slot: the address strings sort by function. */
    for (guint i = 0; i < gpu->functions->len; i++)
        g_ptr_array_add(sorted, gpu->functions->pdata[i]);
    g_ptr_array_sort(sorted, compare_functions);
    for (guint i = 0; i < sorted->len; i++)
        if (!add_pci_hostdev(devices, sorted->pdata[i], TRUE, (int)i, i == 0 && sorted->len > 1,
                             error))
            return FALSE;
    return TRUE;
}

/* PCI controllers for passthrough: on x86_64, q35's pcie-root with a 64-bit PCI hole sized
 * for the card's BARs (vs_domain_pcihole64_kib; QEMU's virt machine has no such setting), and
 * the root port the card's slot sits on. */
static void
add_pci_controllers(VsNode *devices, const VsDomainConfig *c)
{
    VsNode *ctl;

    if (c->gpu->mode != VS_GPU_MODE_PASSTHROUGH)
        return;
    if (c->arch == VS_ARCH_X86_64) {
        ctl = el(devices, "controller");
        attr(ctl, "type", "pci");
        attr(ctl, "index", "0");
        attr(ctl, "model", "pcie-root");
        g_autofree char *kib =
            g_strdup_printf("%" G_GUINT64_FORMAT, vs_domain_pcihole64_kib(c->gpu->mmio64_bytes));
        attr(text_el(ctl, NULL, "pcihole64", kib), "unit", "KiB");
    }
    ctl = el(devices, "controller");
    attr(ctl, "type", "pci");
    attr_uint(ctl, "index", GPU_ROOT_PORT_INDEX);
    attr(ctl, "model", "pcie-root-port");
}

/* Graphics and video for virgl: 3D rendered on the host's render node. */
static gboolean
add_virgl(VsNode *devices, const VsDomainConfig *c, GError **error)
{
    const VsGpuPlan *gpu = c->gpu;
    VsNode *graphics, *gl;

    if (!gpu->render_node)
        return invalid(error, "the virgl plan names no render node");
    if (gpu->egl_headless || c->display == VS_DISPLAY_VNC) {
        /* Rendering on the host's GPU, the picture shown through VNC (or nothing). */
        graphics = el(devices, "graphics");
        attr(graphics, "type", "egl-headless");
        gl = el(graphics, "gl");
        attr(gl, "rendernode", gpu->render_node);
        if (c->display != VS_DISPLAY_NONE)
            add_remote_display(devices, c->display);
    } else {
        /* SPICE GL shares the rendered frames through local file descriptors only. */
        graphics = el(devices, "graphics");
        attr(graphics, "type", "spice");
        attr(el(graphics, "listen"), "type", "none");
        gl = el(graphics, "gl");
        attr(gl, "enable", "yes");
        attr(gl, "rendernode", gpu->render_node);
    }
    add_video(devices, "virtio", TRUE);
    return TRUE;
}

/* The display, no emulated video, and the vGPU: NVIDIA's VF as a PCI host device, or the
 * mediated device. */
static gboolean
add_vgpu(VsNode *devices, const VsDomainConfig *c, GError **error)
{
    const VsGpuPlan *gpu = c->gpu;
    VsNode *hostdev;

    if (c->display != VS_DISPLAY_NONE)
        add_remote_display(devices, c->display);
    add_video(devices, "none", FALSE);
    if (gpu->vgpu_kind == VS_VGPU_KIND_VENDOR_VFIO) {
        /* The VF stays bound to NVIDIA's driver: libvirt must not rebind it. */
        if (!gpu->device)
            return invalid(error, "the vGPU plan names no virtual function");
        return add_pci_hostdev(devices, gpu->device, FALSE, -1, FALSE, error);
    }
    if (!gpu->mdev_uuid)
        return invalid(error, "the vGPU plan names no mediated device");
    hostdev = el(devices, "hostdev");
    attr(hostdev, "mode", "subsystem");
    attr(hostdev, "type", "mdev");
    attr(hostdev, "model", "vfio-pci");
    /* The vGPU's own display, and ramfb for the boot screen, only when a display was asked for:
     * both need a VNC or SPICE server, and ramfb makes the device impossible to unplug. */
    attr(hostdev, "display", c->display != VS_DISPLAY_NONE ? "on" : "off");
    if (c->display != VS_DISPLAY_NONE)
        attr(hostdev, "ramfb", "on");
    attr(el(el(hostdev, "source"), "address"), "uuid", gpu->mdev_uuid);
    return TRUE;
}

/* Graphics, video and host devices for the GPU plan and the display the user asked for. */
static gboolean
add_gpu(VsNode *devices, const VsDomainConfig *c, GError **error)
{
    const VsGpuPlan *gpu = c->gpu;

    switch (gpu->mode) {
    case VS_GPU_MODE_NONE:
    case VS_GPU_MODE_AUTO:
    case VS_GPU_MODE_LAST:
        if (c->display == VS_DISPLAY_NONE) {
            add_video(devices, "none", FALSE);
        } else {
            add_remote_display(devices, c->display);
            add_video(devices, "virtio", FALSE);
        }
        return TRUE;

    case VS_GPU_MODE_VIRGL:
        return add_virgl(devices, c, error);

    case VS_GPU_MODE_VGPU:
        return add_vgpu(devices, c, error);

    case VS_GPU_MODE_PASSTHROUGH:
        if (gpu->functions->len == 0)
            return invalid(error, "the passthrough plan names no PCI function");
        if (c->display != VS_DISPLAY_NONE)
            add_remote_display(devices, c->display);
        add_video(devices, c->display != VS_DISPLAY_NONE ? "virtio" : "none", FALSE);
        return add_passthrough(devices, gpu, error);
    }
    return TRUE;
}

static void
add_metadata(VsNode *root, const VsDomainConfig *c)
{
    VsNode *metadata = el(root, "metadata");
    VsNode *station, *node;
    const char *ns = VS_STATION_PREFIX;

    if (c->os_id) {
        VsNode *osinfo = el_ns(metadata, "libosinfo", "libosinfo");
        vs_xml_node_declare_ns(osinfo, "libosinfo", VS_LIBOSINFO_NS);
        attr(el_ns(osinfo, "libosinfo", "os"), "id", c->os_id);
    }

    station = el_ns(metadata, ns, "station");
    vs_xml_node_declare_ns(station, ns, VS_STATION_NS);
    attr(station, "version", "1");
    /* The domain this metadata belongs to: a copy (virt-clone) gets another UUID. */
    attr(station, "uuid", c->uuid);

    node = el_ns(station, ns, "image");
    attr(node, "alias", c->image_alias);
    attr(node, "pool", c->base_pool);
    attr(node, "volume", c->base_volume);

    node = el_ns(station, ns, "gpu");
    attr(node, "mode", vs_gpu_mode_to_string(c->gpu->mode));
    attr(node, "device", c->gpu->device);
    if (c->gpu->mode == VS_GPU_MODE_VGPU) {
        attr(node, "vgpu-type", c->gpu->vgpu_type);
        attr(node, "vgpu-kind", vs_vgpu_kind_to_string(c->gpu->vgpu_kind));
    }
    attr(node, "render-node", c->gpu->render_node);
    attr(node, "mdev-uuid", c->gpu->mdev_uuid);
    for (guint i = 0; i < c->gpu->functions->len; i++)
        attr(el_ns(node, ns, "function"), "address", c->gpu->functions->pdata[i]);
    for (guint i = 0; i < c->gpu->reasons->len; i++)
        text_el(node, ns, "reason", c->gpu->reasons->pdata[i]);

    node = el_ns(station, ns, "volume");
    attr(node, "role", "disk");
    attr(node, "pool", c->pool);
    attr(node, "name", c->disk_volume);
    if (c->seed_volume) {
        node = el_ns(station, ns, "volume");
        attr(node, "role", "seed");
        attr(node, "pool", c->pool);
        attr(node, "name", c->seed_volume);
    }

    node = el_ns(station, ns, "network");
    attr(node, "mode", vs_net_mode_to_string(c->net_mode));
    attr(node, "source", c->net_source);
    attr(node, "mac", c->mac);

    node = el_ns(station, ns, "ssh");
    attr(node, "user", c->ssh_user);
    if (c->net_mode == VS_NET_USER) {
        attr(node, "host", "127.0.0.1");
        attr_uint(node, "port", c->ssh_port);
    }
    for (guint i = 0; i < c->host_keys->len; i++)
        text_el(station, ns, "host-key", c->host_keys->pdata[i]);
}

static void
add_qemu_commandline(VsNode *root, GPtrArray *args)
{
    const char *ns = "qemu";
    VsNode *cmdline;

    vs_xml_node_declare_ns(root, ns, VS_QEMU_NS);
    cmdline = el_ns(root, ns, "commandline");

    for (guint i = 0; i < args->len; i++)
        attr(el_ns(cmdline, ns, "arg"), "value", args->pdata[i]);
}

char *
vs_domain_xml(const VsDomainConfig *c, GError **error)
{
    g_autoptr(VsXmlNode) root = NULL;
    VsNode *devices, *memory, *vcpu;
    g_autoptr(GPtrArray) qemu_args = NULL;

    if (!vs_domain_name_valid(c->name))
        return invalid(error, "invalid workstation name"), NULL;
    if (!c->pool || !c->disk_volume || !c->mac || (!c->seed_volume && !c->seed_from))
        return invalid(error, "incomplete configuration: pool, disk, MAC and seed are needed"),
               NULL;
    root = vs_xml_node_new(NULL, "domain");
    attr(root, "type", c->kvm ? "kvm" : "qemu");
    text_el(root, NULL, "name", c->name);
    if (c->uuid)
        text_el(root, NULL, "uuid", c->uuid);
    if (c->title)
        text_el(root, NULL, "title", c->title);
    if (c->description)
        text_el(root, NULL, "description", c->description);
    add_metadata(root, c);
    g_autofree char *mib = g_strdup_printf("%" G_GUINT64_FORMAT, c->memory_mib);
    memory = text_el(root, NULL, "memory", mib);
    attr(memory, "unit", "MiB");
    g_autofree char *ncpus = g_strdup_printf("%u", c->vcpus);
    vcpu = text_el(root, NULL, "vcpu", ncpus);
    attr(vcpu, "placement", "static");
    add_sysinfo(root, c);
    add_os(root, c);
    add_features_cpu(root, c);
    text_el(root, NULL, "on_poweroff", "destroy");
    text_el(root, NULL, "on_reboot", "restart");
    /* A crashed guest (pvpanic) is powered off but stays defined: its disk, seed and console
     * log are there to inspect, `virt-station start` boots it again, and nothing is held in
     * the meantime (memory, CPUs, a GPU, the forwarded port), as `preserve` would. The wait
     * sees it as shut off, reason crashed, with the CRASHED/PANICKED event before. */
    text_el(root, NULL, "on_crash", "destroy");

    devices = el(root, "devices");
    add_disks(devices, c);
    add_pci_controllers(devices, c);
    qemu_args = add_interface(devices, c);
    add_serial(devices, c);
    add_channels(devices, c);
    if (!add_gpu(devices, c, error))
        return NULL;
    {
        VsNode *rng = el(devices, "rng");
        attr(rng, "model", "virtio");
        attr(text_el(rng, NULL, "backend", "/dev/urandom"), "model", "random");
    }
    attr(el(devices, "memballoon"), "model", "virtio");
    /* QEMU's pvpanic device: the ISA one on x86 (libvirt calls it isa; its schema has no
     * model pvpanic before 9.1), pvpanic-pci on aarch64 (libvirt's model pvpanic, 9.1+). */
    if (c->pvpanic)
        attr(el(devices, "panic"), "model", c->arch == VS_ARCH_X86_64 ? "isa" : "pvpanic");
    if (qemu_args)
        add_qemu_commandline(root, qemu_args);
    return vs_xml_node_serialize(root);
}
