#include "domains/storage.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "domains/xml.h"
#include "vs-config.h"

static char *
render(xmlDoc *doc)
{
    xmlChar *buf = NULL;
    int len = 0;
    char *out;

    xmlDocDumpFormatMemory(doc, &buf, &len, 1);
    out = g_strndup((const char *)buf, (gsize)len);
    xmlFree(buf);
    return out;
}

static xmlNode *
child(xmlNode *parent, const char *name, const char *text)
{
    return xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST text);
}

/* Returns the XML of a volume @name of @capacity bytes in @format, optionally backed. */
static char *
volume_xml(const char *name, guint64 capacity, const char *format, const char *backing_path,
           const char *backing_format, const char *mode)
{
    g_autoptr(xmlDoc) doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNode *vol = xmlNewNode(NULL, BAD_CAST "volume");
    xmlNode *target, *node;
    g_autofree char *cap = g_strdup_printf("%" G_GUINT64_FORMAT, capacity);

    xmlDocSetRootElement(doc, vol);
    child(vol, "name", name);
    node = child(vol, "capacity", cap);
    xmlNewProp(node, BAD_CAST "unit", BAD_CAST "bytes");
    child(vol, "allocation", "0");
    target = xmlNewChild(vol, NULL, BAD_CAST "target", NULL);
    xmlNewProp(xmlNewChild(target, NULL, BAD_CAST "format", NULL), BAD_CAST "type",
               BAD_CAST format);
    if (mode) {
        node = xmlNewChild(target, NULL, BAD_CAST "permissions", NULL);
        child(node, "mode", mode);
    }
    if (backing_path) {
        node = xmlNewChild(vol, NULL, BAD_CAST "backingStore", NULL);
        child(node, "path", backing_path);
        xmlNewProp(xmlNewChild(node, NULL, BAD_CAST "format", NULL), BAD_CAST "type",
                   BAD_CAST backing_format);
    }
    return render(doc);
}

static char *
default_pool_path(virConnectPtr conn)
{
    g_autofree char *uri = virConnectGetURI(conn);

    if (uri && g_str_has_suffix(uri, "/session"))
        return g_build_filename(g_get_user_data_dir(), "libvirt", "images", NULL);
    return g_strdup("/var/lib/libvirt/images");
}

virStoragePoolPtr
vs_storage_pool_ensure(virConnectPtr conn, const char *name, GError **error)
{
    virStoragePoolPtr pool = virStoragePoolLookupByName(conn, name);

    if (!pool) {
        g_autoptr(xmlDoc) doc = NULL;
        g_autofree char *path = NULL, *xml = NULL;
        xmlNode *root, *target;

        /* Test builds: VIRT_STATION_TEST_POOL=NAME=PATH makes NAME a pool `up` creates. */
        g_auto(GStrv) test_pool = VS_TEST_HOOKS && g_getenv("VIRT_STATION_TEST_POOL")
                                      ? g_strsplit(g_getenv("VIRT_STATION_TEST_POOL"), "=", 2)
                                      : NULL;
        gboolean is_test_pool =
            test_pool && test_pool[0] && test_pool[1] && strcmp(name, test_pool[0]) == 0;

        if (strcmp(name, VS_DEFAULT_POOL) != 0 && !is_test_pool) {
            g_autofree char *what = g_strdup_printf("storage pool '%s'", name);
            vs_libvirt_error(error, what);
            return NULL;
        }
        path = is_test_pool ? g_strdup(test_pool[1]) : default_pool_path(conn);
        doc = xmlNewDoc(BAD_CAST "1.0");
        root = xmlNewNode(NULL, BAD_CAST "pool");
        xmlDocSetRootElement(doc, root);
        xmlNewProp(root, BAD_CAST "type", BAD_CAST "dir");
        child(root, "name", name);
        target = xmlNewChild(root, NULL, BAD_CAST "target", NULL);
        child(target, "path", path);
        xml = render(doc);
        pool = virStoragePoolDefineXML(conn, xml, 0);
        if (!pool) {
            vs_libvirt_error(error, "defining the storage pool 'default'");
            return NULL;
        }
        if (virStoragePoolBuild(pool, 0) < 0 || virStoragePoolSetAutostart(pool, 1) < 0) {
            vs_libvirt_error(error, "building the storage pool 'default'");
            virStoragePoolUndefine(pool);
            virStoragePoolFree(pool);
            return NULL;
        }
    }
    if (virStoragePoolIsActive(pool) != 1 && virStoragePoolCreate(pool, 0) < 0) {
        g_autofree char *what = g_strdup_printf("starting the storage pool '%s'", name);
        vs_libvirt_error(error, what);
        virStoragePoolFree(pool);
        return NULL;
    }
    return pool;
}

typedef struct {
    int fd;
    gboolean (*cancelled)(void);
} UploadSource;

static int
read_file(virStreamPtr st, char *buf, size_t nbytes, void *opaque)
{
    UploadSource *src = opaque;
    ssize_t n;

    if (src->cancelled && src->cancelled()) {
        errno = ECANCELED;
        return -1;
    }
    do
        n = read(src->fd, buf, nbytes);
    while (n < 0 && errno == EINTR);
    return (int)n;
}

/* Where the file's holes are, for a sparse upload: at the current offset, is there data or a
 * hole, and for how long. At the end of the file: a hole of length 0. */
static int
in_data(virStreamPtr st, int *ret_in_data, long long *ret_length, void *opaque)
{
    UploadSource *src = opaque;
    off_t cur = lseek(src->fd, 0, SEEK_CUR), data, next;

    if (cur < 0)
        return -1;
    data = lseek(src->fd, cur, SEEK_DATA);
    if (data < 0 && errno != ENXIO)
        return -1;
    if (data < 0) {
        /* No data after here: a hole up to the end (or the end itself). */
        off_t end = lseek(src->fd, 0, SEEK_END);
        if (end < 0)
            return -1;
        *ret_in_data = 0;
        *ret_length = end - cur;
    } else if (data > cur) {
        *ret_in_data = 0;
        *ret_length = data - cur;
    } else {
        next = lseek(src->fd, data, SEEK_HOLE);
        if (next < 0)
            return -1;
        *ret_in_data = 1;
        *ret_length = next - cur;
    }
    return lseek(src->fd, cur, SEEK_SET) < 0 ? -1 : 0;
}

static int
skip_hole(virStreamPtr st, long long length, void *opaque)
{
    UploadSource *src = opaque;
    return lseek(src->fd, length, SEEK_CUR) < 0 ? -1 : 0;
}

/* Uploads @length bytes of @fd into @vol. The file's holes travel as holes (a sparse stream):
 * a raw image of a few GiB that is mostly empty sends only its data. */
static gboolean
upload_fd(virStorageVolPtr vol, int fd, guint64 length, gboolean (*cancelled)(void), GError **error)
{
    virConnectPtr conn = virStorageVolGetConnect(vol);
    g_autoptr(virStream) st = virStreamNew(conn, 0);
    UploadSource src = {fd, cancelled};

    if (!st || virStorageVolUpload(vol, st, 0, length, VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM) < 0)
        return vs_libvirt_error(error, "starting the upload");
    if (virStreamSparseSendAll(st, read_file, in_data, skip_hole, &src) < 0) {
        gboolean was_cancelled = cancelled && cancelled();
        virStreamAbort(st);
        if (was_cancelled) {
            g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_CANCELLED, "interrupted");
            return FALSE;
        }
        return vs_libvirt_error(error, "uploading");
    }
    if (virStreamFinish(st) < 0)
        return vs_libvirt_error(error, "finishing the upload");
    return TRUE;
}

virStorageVolPtr
vs_storage_import(virStoragePoolPtr pool, const char *volume, const char *path,
                  gboolean (*cancelled)(void), gboolean *ret_created, GError **error)
{
    virStorageVolPtr vol;
    g_autofree char *xml = NULL;
    struct stat st;
    int fd;

    *ret_created = FALSE;
    virStoragePoolRefresh(pool, 0);
    vol = virStorageVolLookupByName(pool, volume);
    if (vol)
        return vol;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s: %s", path,
                    g_strerror(saved));
        return NULL;
    }
    /* A raw volume of the file's size, filled byte for byte; refreshing the pool then finds the
     * image's real format from its header. */
    xml = volume_xml(volume, (guint64)st.st_size, "raw", NULL, NULL, "0644");
    vol = virStorageVolCreateXML(pool, xml, 0);
    if (!vol) {
        close(fd);
        vs_libvirt_error(error, "creating the base image volume");
        return NULL;
    }
    if (!upload_fd(vol, fd, (guint64)st.st_size, cancelled, error)) {
        close(fd);
        virStorageVolDelete(vol, 0);
        virStorageVolFree(vol);
        g_prefix_error(error, "importing %s: ", path);
        return NULL;
    }
    close(fd);
    virStorageVolFree(vol);
    virStoragePoolRefresh(pool, 0);
    vol = virStorageVolLookupByName(pool, volume);
    if (!vol)
        vs_libvirt_error(error, "finding the imported base volume");
    else
        *ret_created = TRUE;
    return vol;
}

virStorageVolPtr
vs_storage_overlay(virStoragePoolPtr pool, const char *name, virStorageVolPtr base,
                   guint64 capacity, GError **error)
{
    virStorageVolInfo info;
    g_autofree char *base_path = virStorageVolGetPath(base);
    g_autofree char *base_xml = virStorageVolGetXMLDesc(base, 0);
    g_autofree char *xml = NULL;
    const char *format = base_xml && strstr(base_xml, "<format type='qcow2'/>") ? "qcow2" : "raw";
    virStorageVolPtr vol;

    if (!base_path || virStorageVolGetInfo(base, &info) < 0) {
        vs_libvirt_error(error, "reading the base volume");
        return NULL;
    }
    xml = volume_xml(name, MAX(capacity, info.capacity), "qcow2", base_path, format, NULL);
    vol = virStorageVolCreateXML(pool, xml, 0);
    if (!vol)
        vs_libvirt_error(error, "creating the overlay volume");
    return vol;
}

virStorageVolPtr
vs_storage_upload_bytes(virStoragePoolPtr pool, const char *name, GBytes *data, gboolean secret,
                        GError **error)
{
    g_autofree char *xml =
        volume_xml(name, g_bytes_get_size(data), "raw", NULL, NULL, secret ? "0600" : "0644");
    virStorageVolPtr vol = virStorageVolCreateXML(pool, xml, 0);
    virConnectPtr conn;
    g_autoptr(virStream) st = NULL;
    gsize len;
    const char *buf = g_bytes_get_data(data, &len);

    if (!vol) {
        vs_libvirt_error(error, "creating the seed volume");
        return NULL;
    }
    conn = virStorageVolGetConnect(vol);
    st = virStreamNew(conn, 0);
    if (!st || virStorageVolUpload(vol, st, 0, len, 0) < 0)
        goto fail;
    for (gsize done = 0; done < len;) {
        int n = virStreamSend(st, buf + done, MIN(len - done, 256 * 1024));
        if (n < 0)
            goto fail;
        done += (gsize)n;
    }
    if (virStreamFinish(st) < 0)
        goto fail;
    return vol;

fail:
    vs_libvirt_error(error, "uploading the seed");
    if (st)
        virStreamAbort(st);
    virStorageVolDelete(vol, 0);
    virStorageVolFree(vol);
    return NULL;
}

gboolean
vs_storage_delete_volume(virConnectPtr conn, const char *pool_name, const char *name,
                         GError **error)
{
    g_autoptr(virStoragePool) pool = virStoragePoolLookupByName(conn, pool_name);
    g_autoptr(virStorageVol) vol = NULL;

    if (!pool)
        return TRUE;
    virStoragePoolRefresh(pool, 0);
    vol = virStorageVolLookupByName(pool, name);
    if (!vol)
        return TRUE;
    if (virStorageVolDelete(vol, 0) < 0) {
        g_autofree char *what = g_strdup_printf("deleting volume %s/%s", pool_name, name);
        return vs_libvirt_error(error, what);
    }
    return TRUE;
}

virStorageVolPtr
vs_storage_volume(virConnectPtr conn, const char *pool_name, const char *name, GError **error)
{
    g_autoptr(virStoragePool) pool = virStoragePoolLookupByName(conn, pool_name);
    virStorageVolPtr vol;

    if (!pool) {
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_NOT_FOUND, "no storage pool %s",
                    pool_name);
        return NULL;
    }
    virStoragePoolRefresh(pool, 0);
    vol = virStorageVolLookupByName(pool, name);
    if (!vol)
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_NOT_FOUND,
                    "no volume %s in storage pool %s", name, pool_name);
    return vol;
}

/* Adds the backing file named in the volume XML @xml to @paths. */
static void
add_backing(GHashTable *paths, const char *xml)
{
    xmlDoc *doc = xmlReadMemory(xml, strlen(xml), "volume.xml", NULL, XML_PARSE_NONET);
    xmlXPathContext *ctx = doc ? xmlXPathNewContext(doc) : NULL;
    xmlXPathObject *res =
        ctx ? xmlXPathEvalExpression(BAD_CAST "/volume/backingStore/path", ctx) : NULL;

    if (res && res->nodesetval)
        for (int i = 0; i < res->nodesetval->nodeNr; i++) {
            xmlChar *text = xmlNodeGetContent(res->nodesetval->nodeTab[i]);
            if (text && *text)
                g_hash_table_add(paths, g_strdup((const char *)text));
            xmlFree(text);
        }
    xmlXPathFreeObject(res);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
}

GHashTable *
vs_storage_backing_paths(virConnectPtr conn, GError **error)
{
    g_autoptr(GHashTable) paths = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    virStoragePoolPtr *pools = NULL;
    int npools = virConnectListAllStoragePools(conn, &pools, VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE);

    if (npools < 0) {
        vs_libvirt_error(error, "listing storage pools");
        return NULL;
    }
    for (int i = 0; i < npools; i++) {
        virStorageVolPtr *vols = NULL;
        int nvols;
        virStoragePoolRefresh(pools[i], 0);
        nvols = virStoragePoolListAllVolumes(pools[i], &vols, 0);
        for (int j = 0; j < nvols; j++) {
            g_autofree char *xml = virStorageVolGetXMLDesc(vols[j], 0);
            if (xml)
                add_backing(paths, xml);
            virStorageVolFree(vols[j]);
        }
        g_free(vols);
        virStoragePoolFree(pools[i]);
    }
    g_free(pools);
    return g_steal_pointer(&paths);
}

static int
write_file(virStreamPtr st, const char *buf, size_t nbytes, void *opaque)
{
    int fd = *(int *)opaque;
    size_t done = 0;

    while (done < nbytes) {
        ssize_t n = write(fd, buf + done, nbytes - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        done += n;
    }
    return (int)nbytes;
}

gboolean
vs_storage_download(virStorageVolPtr vol, const char *path, GError **error)
{
    virConnectPtr conn = virStorageVolGetConnect(vol);
    g_autoptr(virStream) st = virStreamNew(conn, 0);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    gboolean ok = FALSE;

    if (fd < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", path,
                    g_strerror(errno));
        return FALSE;
    }
    if (!st || virStorageVolDownload(vol, st, 0, 0, 0) < 0) {
        vs_libvirt_error(error, "starting the download of the volume");
    } else if (virStreamRecvAll(st, write_file, &fd) < 0) {
        virStreamAbort(st);
        vs_libvirt_error(error, "downloading the volume");
    } else if (virStreamFinish(st) < 0) {
        vs_libvirt_error(error, "finishing the download of the volume");
    } else {
        ok = TRUE;
    }
    if (close(fd) != 0 && ok) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "writing %s: %s", path,
                    g_strerror(errno));
        ok = FALSE;
    }
    if (!ok)
        unlink(path);
    return ok;
}

gboolean
vs_storage_volume_is_backing(GHashTable *backing, virStorageVolPtr vol)
{
    g_autofree char *path = virStorageVolGetPath(vol);

    return path && g_hash_table_contains(backing, path);
}
