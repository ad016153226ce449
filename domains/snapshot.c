/* Snapshots through libvirt's snapshot API.
 *
 * Theory of operation: every snapshot is internal, kept inside the workstation's qcow2 disk
 * (qemu-img's or QEMU's savevm format): with the guest's memory when the domain runs, so that
 * reverting resumes it exactly there, and the disk alone when it is shut off. The seed disk is
 * raw and carries snapshot='no' in the domain XML (domains/xml.c): it takes no part. What
 * libvirt or QEMU cannot snapshot is refused here first, with the reason, before anything
 * changes: a running domain with a host device (a vGPU or a passed-through function cannot have
 * its state saved), and UEFI firmware in pflash where the host's libvirt is older than the first
 * one that snapshots its NVRAM (VS_SNAPSHOT_PFLASH_LIBVIRT). The check reads the XML alone
 * (vs_snapshot_check_xml), with the libvirt version passed in, so tests can give any version. */
#include "domains/snapshot.h"

#include <libxml/parser.h>
#include <libxml/xmlsave.h>
#include <string.h>

#include "domains/config.h"
#include "domains/inspect.h"

void
vs_snapshot_info_free(VsSnapshotInfo *info)
{
    if (!info)
        return;
    g_free(info->name);
    g_free(info->state);
    g_free(info);
}

gboolean
vs_snapshot_name_valid(const char *name)
{
    return name && strlen(name) <= VS_SNAPSHOT_NAME_MAX && vs_domain_name_valid(name);
}

char *
vs_snapshot_default_name(GDateTime *when)
{
    g_autoptr(GDateTime) utc = g_date_time_to_utc(when);

    return g_date_time_format(utc, "snap-%Y%m%d-%H%M%S");
}

char *
vs_snapshot_version_string(unsigned long version)
{
    return g_strdup_printf("%lu.%lu.%lu", version / 1000000, version / 1000 % 1000, version % 1000);
}

/* Returns the document @xml when its root element is @root, else NULL. */
static xmlDoc *
parse_root(const char *xml, const char *root_name)
{
    xmlDoc *doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "snapshot.xml", NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                      : NULL;
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;

    if (root && strcmp((const char *)root->name, root_name) == 0)
        return doc;
    if (doc)
        xmlFreeDoc(doc);
    return NULL;
}

/* Returns the string value of the XPath expression @path in @ctxt, or NULL when it is empty. */
static char *
xpath_string(xmlXPathContext *ctxt, const char *path)
{
    g_autoptr(xmlXPathObject) o = xmlXPathEvalExpression(BAD_CAST path, ctxt);
    xmlChar *s = o ? xmlXPathCastToString(o) : NULL;
    char *ret = s && *s ? g_strdup((const char *)s) : NULL;

    xmlFree(s);
    return ret;
}

static gboolean refuse(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Sets @error (REFUSED) to the message @format. Returns FALSE. */
static gboolean
refuse(GError **error, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    g_autofree char *message = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_set_error_literal(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_REFUSED, message);
    return FALSE;
}

gboolean
vs_snapshot_check_xml(const char *name, const char *xml, gboolean active, gboolean memory,
                      unsigned long libvirt_version, GError **error)
{
    g_autoptr(xmlDoc) doc = parse_root(xml, "domain");
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autoptr(GPtrArray) hostdevs = NULL;
    g_autofree char *loader = NULL, *firmware = NULL, *nvram_format = NULL;

    if (!doc) {
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FAILED,
                    "the domain XML of %s does not parse", name);
        return FALSE;
    }
    ctxt = xmlXPathNewContext(doc);
    hostdevs = vs_inspect_hostdevs(xml);
    if (active && hostdevs->len > 0)
        return refuse(error,
                      "%s runs with a host device (%s, a vGPU or passed-through function): its "
                      "state cannot be saved with the memory; stop it first (`virt-station stop "
                      "%s`): a shut-off workstation is snapshotted without its memory",
                      name, (const char *)hostdevs->pdata[0], name);
    /* Shut off already: "stop it" would not help; only a snapshot without memory can. */
    if (memory && hostdevs->len > 0)
        return refuse(error,
                      "%s has a host device (%s, a vGPU or passed-through function): a snapshot "
                      "holding memory cannot be resumed with it; revert to a snapshot taken while "
                      "%s was shut off (STATE 'shut off' in `virt-station snapshot list %s`)",
                      name, (const char *)hostdevs->pdata[0], name, name);

    loader = xpath_string(ctxt, "string(/domain/os/loader/@type)");
    firmware = xpath_string(ctxt, "string(/domain/os/@firmware)");
    nvram_format = xpath_string(ctxt, "string(/domain/os/nvram/@format)");
    /* firmware='efi' without a loader: libvirt picks the firmware, on x86_64 and aarch64 pflash. */
    if (g_strcmp0(loader, "pflash") != 0 && !(g_strcmp0(firmware, "efi") == 0 && !loader))
        return TRUE;
    if (libvirt_version < VS_SNAPSHOT_PFLASH_LIBVIRT) {
        g_autofree char *need = vs_snapshot_version_string(VS_SNAPSHOT_PFLASH_LIBVIRT);
        g_autofree char *have = vs_snapshot_version_string(libvirt_version);
        return refuse(error,
                      "%s boots UEFI firmware from pflash: internal snapshots of such a domain "
                      "need libvirt %s or later (with its NVRAM in qcow2 format); this host has "
                      "libvirt %s, which cannot include the NVRAM. Use a BIOS workstation "
                      "(`up --firmware bios`) for snapshots, or upgrade libvirt",
                      name, need, have);
    }
    if (g_strcmp0(nvram_format, "qcow2") != 0)
        return refuse(error,
                      "%s boots UEFI firmware from pflash with its NVRAM in %s format: libvirt "
                      "snapshots such a domain only with the NVRAM in qcow2 format "
                      "(<nvram format='qcow2'>)",
                      name, nvram_format ? nvram_format : "raw");
    return TRUE;
}

/* Returns the version of libvirt that @conn's host runs, or 0 with @error set. */
static unsigned long
host_version(virConnectPtr conn, GError **error)
{
    unsigned long version = 0;

    if (virConnectGetLibVersion(conn, &version) < 0)
        return vs_libvirt_error(error, "reading the host's libvirt version"), 0;
    return version;
}

/* Checks @dom as it is now (vs_snapshot_check_xml) for a snapshot or revert that holds the
 * memory when @memory. */
static gboolean
check_domain(virDomainPtr dom, gboolean memory, unsigned long libvirt_version, GError **error)
{
    gboolean active = virDomainIsActive(dom) == 1;
    g_autofree char *xml = virDomainGetXMLDesc(dom, active ? 0 : VIR_DOMAIN_XML_INACTIVE);

    if (!xml)
        return vs_libvirt_error(error, "reading the domain XML");
    if (!libvirt_version) {
        libvirt_version = host_version(virDomainGetConnect(dom), error);
        if (!libvirt_version)
            return FALSE;
    }
    return vs_snapshot_check_xml(virDomainGetName(dom), xml, active, memory, libvirt_version,
                                 error);
}

/* Returns what virsh calls the domain state @state of a snapshot's XML ("shutoff" is written
 * "shut off", as `list` writes a domain's). */
static char *
state_name(const char *state)
{
    if (!state)
        return g_strdup("unknown");
    return g_strdup(strcmp(state, "shutoff") == 0 ? "shut off" : state);
}

/* Returns what @snap's XML says, or NULL with @error set. */
static VsSnapshotInfo *
snapshot_info(virDomainSnapshotPtr snap, GError **error)
{
    g_autofree char *xml = virDomainSnapshotGetXMLDesc(snap, 0);
    g_autoptr(xmlDoc) doc = parse_root(xml, "domainsnapshot");
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autofree char *created = NULL, *state = NULL, *memory = NULL;
    VsSnapshotInfo *info;

    if (!doc) {
        if (!xml)
            return vs_libvirt_error(error, "reading a snapshot"), NULL;
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FAILED,
                    "the XML of snapshot %s does not parse", virDomainSnapshotGetName(snap));
        return NULL;
    }
    ctxt = xmlXPathNewContext(doc);
    created = xpath_string(ctxt, "string(/domainsnapshot/creationTime)");
    state = xpath_string(ctxt, "string(/domainsnapshot/state)");
    memory = xpath_string(ctxt, "string(/domainsnapshot/memory/@snapshot)");
    info = g_new0(VsSnapshotInfo, 1);
    info->name = g_strdup(virDomainSnapshotGetName(snap));
    info->created = created ? g_ascii_strtoll(created, NULL, 10) : 0;
    info->state = state_name(state);
    /* Older libvirt writes no <memory>: a snapshot of a running or paused domain holds it. */
    info->memory = memory ? strcmp(memory, "no") != 0
                          : g_strcmp0(state, "running") == 0 || g_strcmp0(state, "paused") == 0;
    info->current = virDomainSnapshotIsCurrent(snap, 0) == 1;
    return info;
}

/* Returns the order of two VsSnapshotInfo pointers: older first, then by name. */
static int
compare_created(gconstpointer a, gconstpointer b)
{
    const VsSnapshotInfo *x = *(VsSnapshotInfo *const *)a, *y = *(VsSnapshotInfo *const *)b;

    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    return strcmp(x->name, y->name);
}

GPtrArray *
vs_snapshot_list(virDomainPtr dom, GError **error)
{
    virDomainSnapshotPtr *snaps = NULL;
    g_autoptr(GPtrArray) list =
        g_ptr_array_new_with_free_func((GDestroyNotify)vs_snapshot_info_free);
    int n = virDomainListAllSnapshots(dom, &snaps, 0);
    gboolean ok = TRUE;

    if (n < 0)
        return vs_libvirt_error(error, "listing the snapshots"), NULL;
    for (int i = 0; i < n; i++) {
        VsSnapshotInfo *info = ok ? snapshot_info(snaps[i], error) : NULL;
        if (info)
            g_ptr_array_add(list, info);
        else
            ok = FALSE;
        virDomainSnapshotFree(snaps[i]);
    }
    free(snaps);
    if (!ok)
        return NULL;
    g_ptr_array_sort(list, compare_created);
    return g_steal_pointer(&list);
}

/* Returns @dom's snapshot @name, or NULL with @error set (NOT_FOUND when there is none). */
static virDomainSnapshotPtr
lookup(virDomainPtr dom, const char *name, GError **error)
{
    virDomainSnapshotPtr snap = virDomainSnapshotLookupByName(dom, name, 0);
    virErrorPtr err;

    if (snap)
        return snap;
    err = virGetLastError();
    if (err && err->code == VIR_ERR_NO_DOMAIN_SNAPSHOT)
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_NOT_FOUND,
                    "%s has no snapshot called %s (`virt-station snapshot list %s` shows them)",
                    virDomainGetName(dom), name, virDomainGetName(dom));
    else
        vs_libvirt_error(error, "looking up the snapshot");
    return NULL;
}

/* Returns the <domainsnapshot> document that names the snapshot @name, built with libxml2. */
static char *
snapshot_xml(const char *name, gboolean memory)
{
    g_autoptr(xmlDoc) doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNode *root = xmlNewNode(NULL, BAD_CAST "domainsnapshot");
    xmlChar *out = NULL;
    int len = 0;
    char *ret;

    xmlDocSetRootElement(doc, root);
    xmlNewTextChild(root, NULL, BAD_CAST "name", BAD_CAST name);
    xmlNewTextChild(root, NULL, BAD_CAST "description",
                    BAD_CAST(memory ? "virt-station snapshot: disk and memory"
                                    : "virt-station snapshot: disk"));
    xmlDocDumpMemory(doc, &out, &len);
    ret = g_strndup((const char *)out, (gsize)len);
    xmlFree(out);
    return ret;
}

gboolean
vs_snapshot_create(virDomainPtr dom, const char *snap, unsigned long libvirt_version,
                   gboolean *ret_memory, GError **error)
{
    g_autoptr(virDomainSnapshot) existing = NULL;
    g_autoptr(virDomainSnapshot) made = NULL;
    g_autofree char *xml = NULL;
    gboolean memory = virDomainIsActive(dom) == 1;

    if (!vs_snapshot_name_valid(snap)) {
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_INVALID,
                    "invalid snapshot name: use 1 to 63 lower-case letters, digits and '-', "
                    "not starting or ending with '-'");
        return FALSE;
    }
    if (!check_domain(dom, memory, libvirt_version, error))
        return FALSE;
    existing = virDomainSnapshotLookupByName(dom, snap, 0);
    if (existing) {
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_EXISTS,
                    "%s has a snapshot called %s already; choose another name or delete it "
                    "(`virt-station snapshot delete %s %s`)",
                    virDomainGetName(dom), snap, virDomainGetName(dom), snap);
        return FALSE;
    }
    xml = snapshot_xml(snap, memory);
    made = virDomainSnapshotCreateXML(dom, xml, 0);
    if (!made)
        return vs_libvirt_error(error, "creating the snapshot");
    if (ret_memory)
        *ret_memory = memory;
    return TRUE;
}

gboolean
vs_snapshot_revert(virDomainPtr dom, const char *name, unsigned long libvirt_version,
                   GError **error)
{
    g_autoptr(virDomainSnapshot) snap = lookup(dom, name, error);
    g_autoptr(VsSnapshotInfo) info = snap ? snapshot_info(snap, error) : NULL;

    if (!info || !check_domain(dom, info->memory, libvirt_version, error))
        return FALSE;
    if (virDomainRevertToSnapshot(snap, 0) < 0)
        return vs_libvirt_error(error, "reverting to the snapshot");
    return TRUE;
}

gboolean
vs_snapshot_delete(virDomainPtr dom, const char *name, GError **error)
{
    g_autoptr(virDomainSnapshot) snap = lookup(dom, name, error);

    if (!snap)
        return FALSE;
    if (virDomainSnapshotDelete(snap, 0) < 0)
        return vs_libvirt_error(error, "deleting the snapshot");
    return TRUE;
}

/* Returns TRUE when libvirt's last error says a flag is not supported (so a driver without
 * metadata-only deletion, the test driver's, deletes the snapshots themselves). */
static gboolean
unknown_flag(void)
{
    virErrorPtr err = virGetLastError();

    return err && (err->code == VIR_ERR_INVALID_ARG || err->code == VIR_ERR_NO_SUPPORT);
}

gboolean
vs_snapshot_delete_all(virDomainPtr dom, gboolean metadata_only, GError **error)
{
    virDomainSnapshotPtr *roots = NULL;
    unsigned int flags = VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN |
                         (metadata_only ? VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY : 0);
    int n = virDomainListAllSnapshots(dom, &roots, VIR_DOMAIN_SNAPSHOT_LIST_ROOTS);
    gboolean ok = TRUE;

    if (n < 0)
        return vs_libvirt_error(error, "listing the snapshots");
    /* Each root with its descendants: none is left whose parent is gone. */
    for (int i = 0; i < n; i++) {
        if (ok && virDomainSnapshotDelete(roots[i], flags) < 0 &&
            !(metadata_only && unknown_flag() &&
              virDomainSnapshotDelete(roots[i], VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN) == 0)) {
            vs_libvirt_error(error, "deleting the snapshots");
            g_prefix_error(error, "snapshot %s: ", virDomainSnapshotGetName(roots[i]));
            ok = FALSE;
        }
        virDomainSnapshotFree(roots[i]);
    }
    free(roots);
    return ok;
}
