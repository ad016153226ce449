/* What a domain's XML says about what virt-station owns: the sources of its disks, its MAC and
 * its forwarded SSH port. Pure: XML text in, values out (no libvirt). */
#pragma once

#include <glib.h>

typedef struct {
    char *target;      /* "vda" */
    char *device;      /* "disk", "cdrom", "lun" */
    gboolean readonly; /* <readonly/> (a cdrom always is) */
    char *pool;        /* type='volume': the pool and volume */
    char *volume;
    char *path; /* type='file' or 'block': the file or device */
} VsDiskSource;

void vs_disk_source_free(VsDiskSource *disk);

/* Returns the disks of the domain XML @xml that have a source (VsDiskSource, in document
 * order), or NULL with @error set when @xml is not a domain. */
GPtrArray *vs_inspect_disks(const char *xml, GError **error);

/* Returns the MAC address of the domain's first NIC: its <interface>'s <mac>, else the mac= of
 * a NIC given to QEMU directly in <qemu:commandline> (user networking before libvirt 9.2);
 * NULL when it has none. Lower case. */
char *vs_inspect_mac(const char *xml);

/* Returns the 127.0.0.1 port forwarded to the guest's port 22 (<portForward> or a SLIRP
 * hostfwd in <qemu:commandline>), or 0. */
guint vs_inspect_port(const char *xml);

/* Returns the host devices the domain XML @xml uses, as strings: an mdev's UUID (lower case)
 * and a PCI function's address as dddd:bb:dd.f; an empty array when it has none or @xml is not
 * a domain. */
GPtrArray *vs_inspect_hostdevs(const char *xml);
