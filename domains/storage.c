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

/* A running SHA-256 of a stream's bytes, holes counted as zeros. */
typedef struct {
    GChecksum *sum;
    guint64 bytes;
    gboolean (*cancelled)(void);
} Digest;

/* Adds @length zero bytes (a hole) to @d. */
static void
digest_zeros(Digest *d, guint64 length)
{
    static const guchar zeros[64 * 1024];

    d->bytes += length;
    while (length > 0) {
        gsize n = (gsize)MIN(length, sizeof zeros);
        g_checksum_update(d->sum, zeros, n);
        length -= n;
    }
}

typedef struct {
    int fd;
    Digest digest; /* of what was sent */
} UploadSource;

/* Reads the next bytes of the upload into @buf and adds them to its digest; -1 once cancelled. */
static int
read_file(virStreamPtr st, char *buf, size_t nbytes, void *opaque)
{
    UploadSource *src = opaque;
    ssize_t n;

    if (src->digest.cancelled && src->digest.cancelled()) {
        errno = ECANCELED;
        return -1;
    }
    do
        n = read(src->fd, buf, nbytes);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        g_checksum_update(src->digest.sum, (const guchar *)buf, (gssize)n);
        src->digest.bytes += (guint64)n;
    }
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

/* Skips a hole of @length bytes in the file being uploaded (counted as zeros in its digest). */
static int
skip_hole(virStreamPtr st, long long length, void *opaque)
{
    UploadSource *src = opaque;

    if (lseek(src->fd, length, SEEK_CUR) < 0)
        return -1;
    digest_zeros(&src->digest, (guint64)length);
    return 0;
}

/* Uploads @length bytes of @fd into @vol, returning the SHA-256 of what was sent in
 * @ret_sent. The file's holes travel as holes (a sparse stream): a raw image of a few GiB that
 * is mostly empty sends only its data. */
static gboolean
upload_fd(virStorageVolPtr vol, int fd, guint64 length, gboolean (*cancelled)(void),
          char **ret_sent, GError **error)
{
    virConnectPtr conn = virStorageVolGetConnect(vol);
    g_autoptr(virStream) st = virStreamNew(conn, 0);
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    UploadSource src = {fd, {sum, 0, cancelled}};

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
    if (src.digest.bytes != length) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                    "%" G_GUINT64_FORMAT " bytes sent, the file had %" G_GUINT64_FORMAT
                    " (it changed meanwhile?)",
                    src.digest.bytes, length);
        return FALSE;
    }
    *ret_sent = g_strdup(g_checksum_get_string(sum));
    return TRUE;
}

/* Adds the bytes of a download to the digest @opaque; -1 once cancelled. */
static int
recv_hash(virStreamPtr st, const char *buf, size_t nbytes, void *opaque)
{
    Digest *d = opaque;

    if (d->cancelled && d->cancelled()) {
        errno = ECANCELED;
        return -1;
    }
    g_checksum_update(d->sum, (const guchar *)buf, (gssize)nbytes);
    d->bytes += nbytes;
    return (int)nbytes;
}

/* Adds a hole of a sparse download to the digest @opaque. */
static int
recv_hole(virStreamPtr st, long long length, void *opaque)
{
    digest_zeros(opaque, (guint64)length);
    return 0;
}

/* Reads @vol back through libvirt (a sparse download: holes are not sent) into its SHA-256
 * @ret_sum and byte count @ret_size. */
static gboolean
volume_sum(virStorageVolPtr vol, gboolean (*cancelled)(void), char **ret_sum, guint64 *ret_size,
           GError **error)
{
    virConnectPtr conn = virStorageVolGetConnect(vol);
    g_autoptr(virStream) st = virStreamNew(conn, 0);
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    Digest d = {sum, 0, cancelled};

    if (!st || virStorageVolDownload(vol, st, 0, 0, VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM) < 0)
        return vs_libvirt_error(error, "reading the base volume back");
    if (virStreamSparseRecvAll(st, recv_hash, recv_hole, &d) < 0) {
        gboolean was_cancelled = cancelled && cancelled();
        virStreamAbort(st);
        if (was_cancelled) {
            g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_CANCELLED, "interrupted");
            return FALSE;
        }
        return vs_libvirt_error(error, "reading the base volume back");
    }
    if (virStreamFinish(st) < 0)
        return vs_libvirt_error(error, "finishing reading the base volume back");
    *ret_sum = g_strdup(g_checksum_get_string(sum));
    *ret_size = d.bytes;
    return TRUE;
}

/* Returns the SHA-256 of the open file @fd, read from its start. */
static char *
fd_sum(int fd, const char *path, GError **error)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree guchar *buf = g_malloc(1 << 20);
    ssize_t n;

    if (lseek(fd, 0, SEEK_SET) < 0)
        goto fail;
    while ((n = read(fd, buf, 1 << 20)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        g_checksum_update(sum, buf, n);
    }
    if (lseek(fd, 0, SEEK_SET) < 0)
        goto fail;
    return g_strdup(g_checksum_get_string(sum));
fail:
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "reading %s: %s", path,
                g_strerror(errno));
    return NULL;
}

char *
vs_storage_base_marker_name(const char *volume)
{
    return g_strconcat(volume, ".complete", NULL);
}

/* Creates the empty marker volume of the base @volume in @pool. */
static gboolean
create_marker(virStoragePoolPtr pool, const char *volume, GError **error)
{
    g_autofree char *name = vs_storage_base_marker_name(volume);
    g_autofree char *xml = volume_xml(name, 0, "raw", NULL, NULL, "0644");
    g_autoptr(virStorageVol) marker = virStorageVolCreateXML(pool, xml, 0);

    if (!marker) {
        g_autofree char *what =
            g_strdup_printf("marking the base volume %s complete (%s)", volume, name);
        return vs_libvirt_error(error, what);
    }
    return TRUE;
}

gboolean
vs_storage_base_delete(virStorageVolPtr vol, GError **error)
{
    g_autoptr(virStoragePool) pool = virStoragePoolLookupByVolume(vol);
    g_autofree char *name = vs_storage_base_marker_name(virStorageVolGetName(vol));
    g_autoptr(virStorageVol) marker = pool ? virStorageVolLookupByName(pool, name) : NULL;

    if (marker && virStorageVolDelete(marker, 0) < 0) {
        g_autofree char *what = g_strdup_printf("deleting the marker volume %s", name);
        return vs_libvirt_error(error, what);
    }
    if (virStorageVolDelete(vol, 0) < 0) {
        g_autofree char *what =
            g_strdup_printf("deleting the base volume %s", virStorageVolGetName(vol));
        return vs_libvirt_error(error, what);
    }
    return TRUE;
}

/* Checks the unmarked base @vol against the image (@size bytes, SHA-256 @want): TRUE with
 * @ret_same set when it could be read. */
static gboolean
stale_matches(virStorageVolPtr vol, guint64 size, const char *want, gboolean (*cancelled)(void),
              gboolean *ret_same, GError **error)
{
    g_autofree char *have = NULL;
    guint64 have_size = 0;

    if (!volume_sum(vol, cancelled, &have, &have_size, error))
        return FALSE;
    *ret_same = have_size == size && g_ascii_strcasecmp(have, want) == 0;
    return TRUE;
}

/* Creates the base @volume in @pool and fills it from @fd (@size bytes, SHA-256 @want), then
 * reads it back and compares. Leaves nothing behind on failure. */
static virStorageVolPtr
create_base(virStoragePoolPtr pool, const char *volume, int fd, guint64 size, const char *want,
            gboolean (*cancelled)(void), GError **error)
{
    /* A raw volume of the file's size, filled byte for byte; refreshing the pool then finds the
     * image's real format from its header. */
    g_autofree char *xml = volume_xml(volume, size, "raw", NULL, NULL, "0644");
    g_autofree char *sent = NULL, *back = NULL;
    virStorageVolPtr vol = virStorageVolCreateXML(pool, xml, 0);
    guint64 back_size = 0;

    if (!vol) {
        vs_libvirt_error(error, "creating the base image volume");
        return NULL;
    }
    if (!upload_fd(vol, fd, size, cancelled, &sent, error))
        goto fail;
    if (g_ascii_strcasecmp(sent, want) != 0) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                    "the file's SHA-256 is %s, not %s (it changed since it was verified)", sent,
                    want);
        goto fail;
    }
    if (!volume_sum(vol, cancelled, &back, &back_size, error))
        goto fail;
    if (back_size != size || g_ascii_strcasecmp(back, want) != 0) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                    "the volume read back holds %" G_GUINT64_FORMAT " bytes with SHA-256 %s, "
                    "not %" G_GUINT64_FORMAT " bytes with %s",
                    back_size, back, size, want);
        goto fail;
    }
    return vol;
fail:
    virStorageVolDelete(vol, 0);
    virStorageVolFree(vol);
    return NULL;
}

virStorageVolPtr
vs_storage_import(virStoragePoolPtr pool, const char *volume, const char *path, const char *sha256,
                  gboolean (*cancelled)(void), VsBaseState *ret_state, gboolean *ret_created,
                  GError **error)
{
    g_autofree char *marker_name = vs_storage_base_marker_name(volume);
    g_autofree char *want = NULL;
    g_autoptr(virStorageVol) marker = NULL;
    virStorageVolPtr vol;
    struct stat st;
    int fd;

    *ret_created = FALSE;
    *ret_state = VS_BASE_REUSED;
    virStoragePoolRefresh(pool, 0);
    vol = virStorageVolLookupByName(pool, volume);
    marker = virStorageVolLookupByName(pool, marker_name);
    if (vol && marker)
        return vol; /* complete: its import was verified */
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        g_clear_pointer(&vol, virStorageVolFree);
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s: %s", path,
                    g_strerror(saved));
        return NULL;
    }
    want = sha256 ? g_strdup(sha256) : fd_sum(fd, path, error);
    if (!want)
        goto fail;
    if (vol) {
        /* No mark, and we hold the lock: an import that was killed, or a base from before
         * marks. Its content decides. */
        g_autoptr(GHashTable) backing = NULL;
        gboolean same = FALSE;
        if (!stale_matches(vol, (guint64)st.st_size, want, cancelled, &same, error))
            goto fail;
        if (same) {
            if (!create_marker(pool, volume, error))
                goto fail;
            close(fd);
            *ret_state = VS_BASE_MARKED;
            return vol;
        }
        backing = vs_storage_backing_paths(virStoragePoolGetConnect(pool), error);
        if (!backing)
            goto fail;
        if (vs_storage_volume_is_backing(backing, vol)) {
            g_autofree char *why = vs_storage_backing_reason(backing, vol);
            g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_EXISTS,
                        "the base volume %s is not marked complete and differs from %s, but it "
                        "cannot be replaced: %s; delete what is built on it, or the volume",
                        volume, path, why);
            goto fail;
        }
        if (virStorageVolDelete(vol, 0) < 0) {
            vs_libvirt_error(error, "deleting the incomplete base volume");
            goto fail;
        }
        g_clear_pointer(&vol, virStorageVolFree);
        *ret_state = VS_BASE_REPLACED;
    } else {
        /* A mark whose base is gone says nothing about the next one. */
        if (marker && virStorageVolDelete(marker, 0) < 0) {
            vs_libvirt_error(error, "deleting the marker of a missing base volume");
            goto fail;
        }
        *ret_state = VS_BASE_IMPORTED;
    }
    vol = create_base(pool, volume, fd, (guint64)st.st_size, want, cancelled, error);
    if (!vol || !create_marker(pool, volume, error)) {
        if (vol) {
            virStorageVolDelete(vol, 0);
            g_clear_pointer(&vol, virStorageVolFree);
        }
        g_prefix_error(error, "importing %s: ", path);
        close(fd);
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

fail:
    close(fd);
    g_clear_pointer(&vol, virStorageVolFree);
    return NULL;
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
                g_hash_table_insert(paths, g_strdup((const char *)text), NULL);
            xmlFree(text);
        }
    xmlXPathFreeObject(res);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
}

/* The key under which vs_storage_backing_paths records a pool it could not read (no path
 * starts with a control character). */
#define UNREAD_POOL "\001unread pool"

GHashTable *
vs_storage_backing_paths(virConnectPtr conn, GError **error)
{
    g_autoptr(GHashTable) paths = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    virStoragePoolPtr *pools = NULL;
    int npools = virConnectListAllStoragePools(conn, &pools, 0);

    if (npools < 0) {
        vs_libvirt_error(error, "listing storage pools");
        return NULL;
    }
    for (int i = 0; i < npools; i++) {
        virStorageVolPtr *vols = NULL;
        int nvols = -1;
        if (virStoragePoolIsActive(pools[i]) == 1) {
            virStoragePoolRefresh(pools[i], 0);
            nvols = virStoragePoolListAllVolumes(pools[i], &vols, 0);
        }
        /* Unread, and still there and inactive: nothing can be said about its volumes. A pool
         * destroyed meanwhile (a transient one) holds none any more. */
        if (nvols < 0 && virStoragePoolIsActive(pools[i]) == 0 &&
            !g_hash_table_contains(paths, UNREAD_POOL))
            g_hash_table_insert(paths, g_strdup(UNREAD_POOL),
                                g_strdup(virStoragePoolGetName(pools[i])));
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

const char *
vs_storage_backing_unread_pool(GHashTable *backing)
{
    return g_hash_table_lookup(backing, UNREAD_POOL);
}

gboolean
vs_storage_volume_is_backing(GHashTable *backing, virStorageVolPtr vol)
{
    g_autofree char *path = virStorageVolGetPath(vol);

    return vs_storage_backing_unread_pool(backing) ||
           (path && g_hash_table_contains(backing, path));
}

char *
vs_storage_backing_reason(GHashTable *backing, virStorageVolPtr vol)
{
    g_autofree char *path = virStorageVolGetPath(vol);
    const char *unread = vs_storage_backing_unread_pool(backing);

    if (path && g_hash_table_contains(backing, path))
        return g_strdup("another volume is built on it (its backing file)");
    if (unread)
        return g_strdup_printf("the storage pool %s is inactive, so whether a volume in it is "
                               "built on it cannot be read (`virsh pool-start %s`)",
                               unread, unread);
    return NULL;
}

char *
vs_storage_baked_marker_name(const char *volume)
{
    return g_strconcat(volume, ".baked", NULL);
}

virStorageVolPtr
vs_storage_copy(virStoragePoolPtr pool, const char *name, virStorageVolPtr from, GError **error)
{
    virStorageVolInfo info;
    g_autofree char *xml = NULL;
    virStorageVolPtr vol;

    if (virStorageVolGetInfo(from, &info) < 0) {
        vs_libvirt_error(error, "reading the volume to copy");
        return NULL;
    }
    /* qcow2 with no backing store: libvirt's directory backend runs `qemu-img convert`, which
     * reads through the whole backing chain, writes only what is not zero and preallocates
     * nothing: the copy is flat and sparse. */
    xml = volume_xml(name, info.capacity, "qcow2", NULL, NULL, "0644");
    vol = virStorageVolCreateXMLFrom(pool, xml, from, 0);
    if (!vol) {
        g_autofree char *what =
            g_strdup_printf("copying %s into the new volume %s", virStorageVolGetName(from), name);
        return vs_libvirt_error(error, what), NULL;
    }
    return vol;
}

gboolean
vs_storage_mark_baked(virStoragePoolPtr pool, const char *volume, GError **error)
{
    g_autofree char *name = vs_storage_baked_marker_name(volume);
    g_autofree char *xml = volume_xml(name, 0, "raw", NULL, NULL, "0644");
    g_autoptr(virStorageVol) marker = virStorageVolCreateXML(pool, xml, 0);

    if (!marker) {
        g_autofree char *what = g_strdup_printf("marking %s as a baked volume (%s)", volume, name);
        return vs_libvirt_error(error, what);
    }
    return TRUE;
}

gboolean
vs_storage_is_baked(virStorageVolPtr vol)
{
    g_autoptr(virStoragePool) pool = virStoragePoolLookupByVolume(vol);
    g_autofree char *name = vs_storage_baked_marker_name(virStorageVolGetName(vol));
    g_autoptr(virStorageVol) marker = pool ? virStorageVolLookupByName(pool, name) : NULL;

    return marker != NULL;
}

/* Frees a volume handle held in a GPtrArray. */
static void
vol_unref(gpointer vol)
{
    virStorageVolFree(vol);
}

GPtrArray *
vs_storage_baked_list(virStoragePoolPtr pool, GError **error)
{
    g_autoptr(GPtrArray) baked = g_ptr_array_new_with_free_func(vol_unref);
    virStorageVolPtr *vols = NULL;
    int n;

    if (virStoragePoolRefresh(pool, 0) < 0 ||
        (n = virStoragePoolListAllVolumes(pool, &vols, 0)) < 0)
        return vs_libvirt_error(error, "listing the pool's volumes"), NULL;
    for (int i = 0; i < n; i++) {
        const char *name = virStorageVolGetName(vols[i]);
        g_autoptr(virStorageVol) vol = NULL;
        g_autofree char *base = NULL;
        if (g_str_has_suffix(name, ".baked")) {
            base = g_strndup(name, strlen(name) - strlen(".baked"));
            vol = virStorageVolLookupByName(pool, base);
            if (vol)
                g_ptr_array_add(baked, g_steal_pointer(&vol));
        }
        virStorageVolFree(vols[i]);
    }
    g_free(vols);
    return g_steal_pointer(&baked);
}
