#include "domains/lifecycle.h"

#include <libxml/parser.h>
#include <libxml/xpathInternals.h>
#include <libxml/xmlsave.h>
#include <string.h>

#include "domains/inspect.h"
#include "domains/snapshot.h"
#include "domains/storage.h"
#include "domains/xml.h"
#include "common/vs-fault.h"

const char *
vs_lifecycle_state(virDomainPtr dom)
{
    int state = VIR_DOMAIN_NOSTATE, reason;

    if (virDomainGetState(dom, &state, &reason, 0) < 0)
        return "unknown";
    return vs_lifecycle_state_name(state);
}

const char *
vs_lifecycle_state_name(int state)
{
    switch (state) {
    case VIR_DOMAIN_RUNNING:
        return "running";
    case VIR_DOMAIN_BLOCKED:
        return "idle";
    case VIR_DOMAIN_PAUSED:
        return "paused";
    case VIR_DOMAIN_SHUTDOWN:
        return "in shutdown";
    case VIR_DOMAIN_SHUTOFF:
        return "shut off";
    case VIR_DOMAIN_CRASHED:
        return "crashed";
    case VIR_DOMAIN_PMSUSPENDED:
        return "pmsuspended";
    default:
        return "no state";
    }
}

VsMetadata *
vs_lifecycle_metadata(virDomainPtr dom, GError **error)
{
    g_autofree char *xml = NULL;
    virErrorPtr err;

    xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VS_STATION_NS, 0);
    if (!xml) {
        err = virGetLastError();
        if (err && err->code != VIR_ERR_NO_DOMAIN_METADATA)
            return vs_libvirt_error(error, "reading the domain's metadata"), NULL;
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FOREIGN,
                    "%s was not created by virt-station; it is left alone", virDomainGetName(dom));
        return NULL;
    }
    return vs_metadata_parse(xml, error);
}

char *
vs_lifecycle_clone_reason(virDomainPtr dom, const VsMetadata *station)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    g_autoptr(virDomain) original = NULL;

    if (!station->uuid)
        return NULL;
    if (virDomainGetUUIDString(dom, uuid) < 0)
        return g_strdup("its UUID cannot be read");
    if (g_ascii_strcasecmp(uuid, station->uuid) == 0)
        return NULL;
    original = virDomainLookupByUUIDString(virDomainGetConnect(dom), station->uuid);
    return vs_metadata_clone_reason(station, uuid, original ? virDomainGetName(original) : NULL);
}

VsMetadata *
vs_lifecycle_owned(virDomainPtr dom, GError **error)
{
    g_autoptr(VsMetadata) station = vs_lifecycle_metadata(dom, error);
    g_autofree char *reason = NULL;

    if (!station)
        return NULL;
    reason = vs_lifecycle_clone_reason(dom, station);
    if (reason) {
        const char *name = virDomainGetName(dom);
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FOREIGN,
                    "%s is not virt-station's: %s, virt-station's metadata included; it is left "
                    "alone (`virt-station adopt %s` takes it over)",
                    name, reason, name);
        return NULL;
    }
    return g_steal_pointer(&station);
}

/* Adds what the disks of the domain XML @xml use to @set: each source as a path and, where a
 * pool of @conn holds it, as "POOL/NAME". */
static void
add_disk_sources(virConnectPtr conn, const char *xml, GHashTable *set)
{
    g_autoptr(GPtrArray) disks = vs_inspect_disks(xml, NULL);

    for (guint i = 0; disks && i < disks->len; i++) {
        const VsDiskSource *d = disks->pdata[i];
        g_autoptr(virStorageVol) vol = NULL;
        if (d->pool) {
            g_autoptr(virStoragePool) pool = virStoragePoolLookupByName(conn, d->pool);
            g_hash_table_add(set, g_strdup_printf("%s/%s", d->pool, d->volume));
            vol = pool ? virStorageVolLookupByName(pool, d->volume) : NULL;
            if (vol) {
                char *path = virStorageVolGetPath(vol);
                if (path)
                    g_hash_table_add(set, path);
            }
        } else {
            g_hash_table_add(set, g_strdup(d->path));
            vol = virStorageVolLookupByPath(conn, d->path);
            if (vol) {
                g_autoptr(virStoragePool) pool = virStoragePoolLookupByVolume(vol);
                if (pool)
                    g_hash_table_add(set, g_strdup_printf("%s/%s", virStoragePoolGetName(pool),
                                                          virStorageVolGetName(vol)));
            }
        }
    }
}

GHashTable *
vs_lifecycle_disk_sources(virDomainPtr dom)
{
    GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    virConnectPtr conn = virDomainGetConnect(dom);
    g_autofree char *config = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);

    add_disk_sources(conn, config, set);
    if (virDomainIsActive(dom) == 1) {
        g_autofree char *live = virDomainGetXMLDesc(dom, 0);
        add_disk_sources(conn, live, set);
    }
    return set;
}

/* Returns TRUE when @a and @b are the same domain (by UUID). */
static gboolean
same_domain(virDomainPtr a, virDomainPtr b)
{
    unsigned char ua[VIR_UUID_BUFLEN], ub[VIR_UUID_BUFLEN];

    return a && b && virDomainGetUUID(a, ua) == 0 && virDomainGetUUID(b, ub) == 0 &&
           memcmp(ua, ub, sizeof(ua)) == 0;
}

GHashTable *
vs_lifecycle_disk_users(virConnectPtr conn, virDomainPtr except, GError **error)
{
    GHashTable *users;
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(conn, &doms, 0);

    if (n < 0)
        return vs_libvirt_error(error, "listing the domains"), NULL;
    users = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

    for (int i = 0; i < n; i++) {
        if (!same_domain(doms[i], except)) {
            g_autoptr(GHashTable) used = vs_lifecycle_disk_sources(doms[i]);
            GHashTableIter it;
            gpointer key;
            g_hash_table_iter_init(&it, used);
            while (g_hash_table_iter_next(&it, &key, NULL))
                if (!g_hash_table_contains(users, key))
                    g_hash_table_insert(users, g_strdup(key), g_strdup(virDomainGetName(doms[i])));
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    return users;
}

/* Returns TRUE when @set holds the volume @vol, by its path or as "POOL/NAME"; sets
 * @ret_value (when given) to the value stored for it. */
static gboolean
set_has_volume(GHashTable *set, virStorageVolPtr vol, gpointer *ret_value)
{
    g_autofree char *path = virStorageVolGetPath(vol);
    g_autoptr(virStoragePool) pool = virStoragePoolLookupByVolume(vol);
    g_autofree char *key =
        pool ? g_strdup_printf("%s/%s", virStoragePoolGetName(pool), virStorageVolGetName(vol))
             : NULL;

    return (path && g_hash_table_lookup_extended(set, path, NULL, ret_value)) ||
           (key && g_hash_table_lookup_extended(set, key, NULL, ret_value));
}

const char *
vs_lifecycle_volume_user(GHashTable *users, virStorageVolPtr vol)
{
    gpointer name = NULL;

    return set_has_volume(users, vol, &name) ? name : NULL;
}

virDomainPtr
vs_lifecycle_lookup(virConnectPtr conn, const char *name, VsMetadata **ret_station, GError **error)
{
    g_autoptr(virDomain) dom = virDomainLookupByName(conn, name);
    VsMetadata *station;

    if (!dom) {
        virErrorPtr err = virGetLastError();
        if (err && err->code == VIR_ERR_NO_DOMAIN)
            g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_NOT_FOUND,
                        "no workstation called %s", name);
        else
            vs_libvirt_error(error, "looking up the domain");
        return NULL;
    }
    station = vs_lifecycle_owned(dom, error);
    if (!station)
        return NULL;
    if (ret_station)
        *ret_station = station;
    else
        vs_metadata_free(station);
    return g_steal_pointer(&dom);
}

virDomainPtr
vs_lifecycle_define(virConnectPtr conn, const char *xml, GError **error)
{
    virDomainPtr dom = virDomainDefineXML(conn, xml);

    if (!dom)
        vs_libvirt_error(error, "defining the domain");
    return dom;
}

gboolean
vs_lifecycle_start(virDomainPtr dom, GError **error)
{
    if (virDomainIsActive(dom) == 1)
        return TRUE;
    if (virDomainCreate(dom) < 0)
        return vs_libvirt_error(error, "starting the domain");
    return TRUE;
}

gboolean
vs_lifecycle_stop(virDomainPtr dom, gboolean force, guint timeout_s, GError **error)
{
    gint64 deadline;

    if (virDomainIsActive(dom) != 1)
        return TRUE;
    if (!force) {
        /* The guest agent first (a guest without ACPI button handling still stops), then the
         * ACPI power button. */
        if (virDomainShutdownFlags(dom, VIR_DOMAIN_SHUTDOWN_GUEST_AGENT |
                                            VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) < 0 &&
            virDomainShutdown(dom) < 0)
            return vs_libvirt_error(error, "asking the guest to shut down");
        deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
        while (g_get_monotonic_time() < deadline) {
            if (virDomainIsActive(dom) != 1)
                return TRUE;
            g_usleep(G_USEC_PER_SEC / 4);
        }
    }
    if (virDomainDestroy(dom) < 0 && virDomainIsActive(dom) == 1)
        return vs_libvirt_error(error, "stopping the domain");
    return TRUE;
}

/* Undefines @dom with its NVRAM, managed save and snapshot metadata; drivers that do not know
 * some of these flags get fewer. */
gboolean
vs_lifecycle_undefine(virDomainPtr dom)
{
    static const unsigned int attempts[] = {
        VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
            VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA,
        VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_MANAGED_SAVE,
        0,
    };

    for (guint i = 0; i < G_N_ELEMENTS(attempts); i++) {
        virErrorPtr err;
        if (virDomainUndefineFlags(dom, attempts[i]) == 0)
            return TRUE;
        err = virGetLastError();
        if (!err || (err->code != VIR_ERR_INVALID_ARG && err->code != VIR_ERR_NO_SUPPORT))
            return FALSE;
    }
    return FALSE;
}

gboolean
vs_lifecycle_delete(virDomainPtr dom, const VsMetadata *station, gboolean keep_disk,
                    GPtrArray *kept, GError **error)
{
    virConnectPtr conn = virDomainGetConnect(dom);
    g_autofree char *name = g_strdup(virDomainGetName(dom));
    /* Read before the domain goes: what its disks use, and what every other domain's use. */
    g_autoptr(GHashTable) own = vs_lifecycle_disk_sources(dom);
    g_autoptr(GHashTable) users = vs_lifecycle_disk_users(conn, dom, error);
    /* And what any volume is built on (an overlay made from `--image vol:NAME`, say). */
    g_autoptr(GHashTable) backing = users ? vs_storage_backing_paths(conn, error) : NULL;
    gboolean ok = TRUE;
    guint deleted = 0;

    if (!backing)
        return FALSE;

    if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) < 0)
        return vs_libvirt_error(error, "stopping the domain");
    /* Its snapshots go first (libvirt keeps a domain that has some): only their metadata when
     * the disk holding them goes too, from the disk as well when it is kept. */
    if (!vs_snapshot_delete_all(dom, !keep_disk, error))
        return FALSE;
    /* Only the volumes the metadata names and the domain's disks use, never the base image,
     * never what another domain's disks use. They go before the domain: a delete that stops
     * half-way leaves the domain, whose metadata names what is left, and running it again
     * finishes (a volume already gone is only reported); the other way round, a volume left
     * behind would belong to nothing. */
    for (guint i = 0; i < station->volumes->len; i++) {
        const VsOwnedVolume *v = station->volumes->pdata[i];
        g_autoptr(virStoragePool) pool = NULL;
        g_autoptr(virStorageVol) vol = NULL;
        const char *user;
        if (keep_disk && g_strcmp0(v->role, "disk") == 0)
            continue;
        pool = virStoragePoolLookupByName(conn, v->pool);
        vol = pool ? virStorageVolLookupByName(pool, v->name) : NULL;
        if (!vol) {
            g_ptr_array_add(
                kept, g_strdup_printf("volume %s/%s does not exist (any more)", v->pool, v->name));
        } else if (!set_has_volume(own, vol, NULL)) {
            g_ptr_array_add(kept, g_strdup_printf("kept volume %s/%s: it is not a disk of %s",
                                                  v->pool, v->name, name));
        } else if ((user = vs_lifecycle_volume_user(users, vol))) {
            g_ptr_array_add(kept, g_strdup_printf("kept volume %s/%s: %s uses it as a disk",
                                                  v->pool, v->name, user));
        } else if (vs_storage_volume_is_backing(backing, vol)) {
            g_autofree char *why = vs_storage_backing_reason(backing, vol);
            g_ptr_array_add(kept, g_strdup_printf("kept volume %s/%s: %s", v->pool, v->name, why));
        } else if (deleted > 0 && !vs_fault_point("delete-volume", error)) {
            return FALSE;
        } else if (virStorageVolDelete(vol, 0) < 0) {
            g_autoptr(GError) vol_error = NULL;
            vs_libvirt_error(&vol_error, "deleting a volume");
            g_prefix_error(&vol_error, "%s/%s: ", v->pool, v->name);
            if (ok)
                g_propagate_error(error, g_steal_pointer(&vol_error));
            ok = FALSE;
        } else {
            deleted++;
        }
    }
    if (!ok)
        return FALSE;
    if (!vs_fault_point("delete-undefine", error))
        return FALSE;
    if (virDomainIsPersistent(dom) == 1 && !vs_lifecycle_undefine(dom))
        return vs_libvirt_error(error, "undefining the domain");
    return ok;
}

/* Replaces every "127.0.0.1:OLD-:22" style forward and <portForward> range, and the metadata
 * port, in the domain document @doc. */
static void
rewrite_port(xmlDoc *doc, guint port)
{
    g_autoptr(xmlXPathContext) ctxt = xmlXPathNewContext(doc);
    g_autofree char *p = g_strdup_printf("%u", port);
    g_autofree char *fwd = g_strdup_printf("hostfwd=tcp:127.0.0.1:%u-:22", port);
    g_autoptr(GRegex) re = g_regex_new("hostfwd=tcp:127\\.0\\.0\\.1:[0-9]+-:22", 0, 0, NULL);

    xmlXPathRegisterNs(ctxt, BAD_CAST "vs", BAD_CAST VS_STATION_NS);
    xmlXPathRegisterNs(ctxt, BAD_CAST "qemu", BAD_CAST VS_QEMU_NS);
    {
        g_autoptr(xmlXPathObject) o = xmlXPathEvalExpression(
            BAD_CAST "/domain/devices/interface[@type='user']/portForward/range[@to='22']", ctxt);
        for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr; i++)
            xmlSetProp(o->nodesetval->nodeTab[i], BAD_CAST "start", BAD_CAST p);
    }
    {
        g_autoptr(xmlXPathObject) o =
            xmlXPathEvalExpression(BAD_CAST "/domain/qemu:commandline/qemu:arg", ctxt);
        for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr; i++) {
            xmlChar *value = xmlGetProp(o->nodesetval->nodeTab[i], BAD_CAST "value");
            if (value && g_regex_match(re, (const char *)value, 0, NULL)) {
                g_autofree char *nv =
                    g_regex_replace_literal(re, (const char *)value, -1, 0, fwd, 0, NULL);
                xmlSetProp(o->nodesetval->nodeTab[i], BAD_CAST "value", BAD_CAST nv);
            }
            xmlFree(value);
        }
    }
    {
        g_autoptr(xmlXPathObject) o =
            xmlXPathEvalExpression(BAD_CAST "/domain/metadata/vs:station/vs:ssh", ctxt);
        for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr; i++)
            xmlSetProp(o->nodesetval->nodeTab[i], BAD_CAST "port", BAD_CAST p);
    }
}

char *
vs_lifecycle_xml_with_port(const char *xml, guint port, GError **error)
{
    g_autoptr(xmlDoc) doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                                          XML_PARSE_NONET | XML_PARSE_NOERROR);
    xmlChar *out = NULL;
    int len = 0;
    char *ret;

    if (!doc) {
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FAILED,
                    "the domain XML does not parse");
        return NULL;
    }
    rewrite_port(doc, port);
    xmlDocDumpMemory(doc, &out, &len);
    ret = g_strndup((const char *)out, (gsize)len);
    xmlFree(out);
    return ret;
}

virDomainPtr
vs_lifecycle_set_port(virDomainPtr dom, guint port, GError **error)
{
    g_autofree char *xml =
        virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
    g_autofree char *changed = NULL;
    virDomainPtr ret;

    if (!xml)
        return vs_libvirt_error(error, "reading the domain XML"), NULL;
    changed = vs_lifecycle_xml_with_port(xml, port, error);
    if (!changed)
        return NULL;
    ret = virDomainDefineXML(virDomainGetConnect(dom), changed);
    if (!ret)
        vs_libvirt_error(error, "updating the forwarded port");
    return ret;
}

GHashTable *
vs_lifecycle_used_ports(virConnectPtr conn, virDomainPtr except, GError **error)
{
    GHashTable *ports;
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(conn, &doms, 0);

    if (n < 0)
        return vs_libvirt_error(error, "listing the domains"), NULL;
    ports = g_hash_table_new(g_direct_hash, g_direct_equal);

    for (int i = 0; i < n; i++) {
        /* Copies too: a clone of a workstation asks QEMU for the same port. */
        g_autoptr(VsMetadata) s =
            same_domain(doms[i], except) ? NULL : vs_lifecycle_metadata(doms[i], NULL);
        if (s && s->ssh_port)
            g_hash_table_add(ports, GUINT_TO_POINTER(s->ssh_port));
        virDomainFree(doms[i]);
    }
    free(doms);
    return ports;
}

/* Adds the host devices of @dom's definition (@flags: inactive or live) to @users. */
static void
add_hostdevs(GHashTable *users, virDomainPtr dom, unsigned int flags)
{
    g_autofree char *xml = virDomainGetXMLDesc(dom, flags);
    g_autoptr(GPtrArray) devs = vs_inspect_hostdevs(xml);

    for (guint i = 0; i < devs->len; i++)
        if (!g_hash_table_contains(users, devs->pdata[i]))
            g_hash_table_insert(users, g_strdup(devs->pdata[i]), g_strdup(virDomainGetName(dom)));
}

GHashTable *
vs_lifecycle_gpu_users(virConnectPtr conn, const char *except_uuid,
                       gboolean (*holds)(void *data, virDomainPtr dom), void *data, GError **error)
{
    GHashTable *users;
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(conn, &doms, 0);

    if (n < 0)
        return vs_libvirt_error(error, "listing the domains"), NULL;
    users = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (int i = 0; i < n; i++) {
        char uuid[VIR_UUID_STRING_BUFLEN] = "";
        virDomainGetUUIDString(doms[i], uuid);
        if (g_strcmp0(uuid, except_uuid) != 0 && (!holds || holds(data, doms[i]))) {
            if (virDomainIsPersistent(doms[i]) == 1)
                add_hostdevs(users, doms[i], VIR_DOMAIN_XML_INACTIVE);
            if (virDomainIsActive(doms[i]) == 1)
                add_hostdevs(users, doms[i], 0);
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    return users;
}

guint
vs_lifecycle_forwarded_port(virDomainPtr dom)
{
    g_autofree char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);

    return vs_inspect_port(xml);
}

/* Returns the owned-volume record for @disk of a domain of @conn: its pool and volume name,
 * with the role the old metadata @old gave that volume, else "seed" for a read-only disk and
 * "disk" otherwise. NULL when no pool holds the source. */
static VsOwnedVolume *
owned_for(virConnectPtr conn, const VsDiskSource *disk, const VsMetadata *old)
{
    g_autofree char *pool_name = g_strdup(disk->pool);
    g_autofree char *vol_name = g_strdup(disk->volume);
    const char *role = disk->readonly ? "seed" : "disk";

    if (!pool_name) {
        g_autoptr(virStorageVol) vol = virStorageVolLookupByPath(conn, disk->path);
        g_autoptr(virStoragePool) pool = vol ? virStoragePoolLookupByVolume(vol) : NULL;
        if (!pool)
            return NULL;
        pool_name = g_strdup(virStoragePoolGetName(pool));
        vol_name = g_strdup(virStorageVolGetName(vol));
    }
    for (guint i = 0; i < old->volumes->len; i++) {
        const VsOwnedVolume *v = old->volumes->pdata[i];
        if (g_strcmp0(v->pool, pool_name) == 0 && g_strcmp0(v->name, vol_name) == 0 && v->role)
            role = v->role;
    }
    return vs_owned_volume_new(role, pool_name, vol_name);
}

/* Returns the metadata of @dom as it stands in its persistent (@flags
 * VIR_DOMAIN_AFFECT_CONFIG) or live definition, rewritten for @dom: its UUID, @volumes, and the
 * MAC and forwarded port of that definition. NULL with @error set. */
static char *
rewritten_metadata(virDomainPtr dom, unsigned int flags, GPtrArray *volumes, GError **error)
{
    g_autofree char *meta =
        virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VS_STATION_NS, flags);
    g_autofree char *xml =
        virDomainGetXMLDesc(dom, flags == VIR_DOMAIN_AFFECT_CONFIG ? VIR_DOMAIN_XML_INACTIVE : 0);
    g_autofree char *mac = NULL;
    char uuid[VIR_UUID_STRING_BUFLEN];

    if (!meta || !xml || virDomainGetUUIDString(dom, uuid) < 0)
        return vs_libvirt_error(error, "reading the domain"), NULL;
    mac = vs_inspect_mac(xml);
    return vs_metadata_rewrite(meta, uuid, volumes, mac, vs_inspect_port(xml), error);
}

virDomainPtr
vs_lifecycle_adopt(virDomainPtr dom, guint port, GPtrArray *notes, GError **error)
{
    virConnectPtr conn = virDomainGetConnect(dom);
    g_autoptr(VsMetadata) old = vs_lifecycle_metadata(dom, error);
    g_autofree char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    g_autoptr(GPtrArray) disks = NULL;
    g_autoptr(GPtrArray) volumes =
        g_ptr_array_new_with_free_func((GDestroyNotify)vs_owned_volume_free);
    g_autoptr(virDomain) target = NULL;
    g_autofree char *config_meta = NULL;
    guint old_port;

    if (!old)
        return NULL;
    if (!xml)
        return vs_libvirt_error(error, "reading the domain XML"), NULL;
    disks = vs_inspect_disks(xml, error);
    if (!disks)
        return NULL;
    for (guint i = 0; i < disks->len; i++) {
        const VsDiskSource *d = disks->pdata[i];
        VsOwnedVolume *v = owned_for(conn, d, old);
        gboolean seen = FALSE;
        if (!v) {
            g_ptr_array_add(notes, g_strdup_printf("disk %s (%s) is in no storage pool: it is "
                                                   "not owned, and `delete` leaves it",
                                                   d->target ? d->target : "?", d->path));
            continue;
        }
        for (guint k = 0; k < volumes->len && !seen; k++) {
            const VsOwnedVolume *o = volumes->pdata[k];
            seen = strcmp(o->pool, v->pool) == 0 && strcmp(o->name, v->name) == 0;
        }
        if (seen)
            vs_owned_volume_free(v);
        else
            g_ptr_array_add(volumes, v);
    }

    /* The port first: the definition is rewritten for it (QEMU arguments or <portForward>). */
    old_port = vs_inspect_port(xml);
    if (port && old_port && port != old_port) {
        target = vs_lifecycle_set_port(dom, port, error);
        if (!target)
            return NULL;
        g_ptr_array_add(notes, g_strdup_printf("SSH is forwarded from 127.0.0.1 port %u now (port "
                                               "%u belongs to another workstation)%s",
                                               port, old_port,
                                               virDomainIsActive(dom) == 1
                                                   ? "; it takes effect at the next start"
                                                   : ""));
    } else {
        virDomainRef(dom);
        target = dom;
    }
    config_meta = rewritten_metadata(target, VIR_DOMAIN_AFFECT_CONFIG, volumes, error);
    if (!config_meta)
        return NULL;
    if (virDomainSetMetadata(target, VIR_DOMAIN_METADATA_ELEMENT, config_meta, VS_STATION_PREFIX,
                             VS_STATION_NS, VIR_DOMAIN_AFFECT_CONFIG) < 0)
        return vs_libvirt_error(error, "writing the domain's metadata"), NULL;
    if (virDomainIsActive(target) == 1) {
        /* The running domain keeps the port QEMU was started with until it stops. */
        g_autofree char *live_meta =
            rewritten_metadata(target, VIR_DOMAIN_AFFECT_LIVE, volumes, error);
        if (!live_meta)
            return NULL;
        if (virDomainSetMetadata(target, VIR_DOMAIN_METADATA_ELEMENT, live_meta, VS_STATION_PREFIX,
                                 VS_STATION_NS, VIR_DOMAIN_AFFECT_LIVE) < 0)
            return vs_libvirt_error(error, "writing the running domain's metadata"), NULL;
    }
    return g_steal_pointer(&target);
}
