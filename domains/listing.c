/* The domains of a connection for `list`, in few round trips.
 *
 * Asking each domain in turn for its metadata, state, vCPUs, memory and volumes costs about ten
 * round trips to libvirtd per domain, one after the other. Here the states, vCPUs and memory of
 * every domain come from one statistics call (virDomainListGetStats); what has no bulk call (the
 * metadata, the size of each volume) is asked by a few threads at once over the same connection,
 * which libvirt allows; the answers are parsed on the calling thread afterwards. A driver whose
 * statistics lack a field (the test driver reports only the state) is asked with
 * virDomainGetInfo for that domain. A domain that disappears while being listed is left out. */
#include "domains/listing.h"

#include <libxml/parser.h>
#include <string.h>

#include "domains/errors.h"

#include "domains/lifecycle.h"
#include "domains/snapshot.h"
#include "domains/xml.h"

/* Threads asking libvirtd at once: the daemon's default worker pool is 20, and more than a few
 * gain nothing on a small host. */
#define LISTING_THREADS 6

void
vs_listed_free(VsListed *entry)
{
    if (!entry)
        return;
    virDomainFree(entry->dom);
    vs_metadata_free(entry->station);
    g_free(entry->reason);
    g_free(entry->sizes);
    if (entry->snapshots)
        g_ptr_array_unref(entry->snapshots);
    g_free(entry);
}

/* Calls @fn(@jobs[i], @user_data) for every job, several at a time; returns when all are done. */
static void
run_parallel(GPtrArray *jobs, GFunc fn, gpointer user_data)
{
    GThreadPool *pool;

    if (jobs->len < 2) {
        for (guint i = 0; i < jobs->len; i++)
            fn(jobs->pdata[i], user_data);
        return;
    }
    pool = g_thread_pool_new(fn, user_data, MIN(LISTING_THREADS, (int)jobs->len), TRUE, NULL);
    if (!pool) { /* cannot happen with exclusive=TRUE but for thread creation failing */
        for (guint i = 0; i < jobs->len; i++)
            fn(jobs->pdata[i], user_data);
        return;
    }
    for (guint i = 0; i < jobs->len; i++)
        g_thread_pool_push(pool, jobs->pdata[i], NULL);
    g_thread_pool_free(pool, FALSE, TRUE);
}

typedef struct {
    virDomainPtr dom;
    char *xml;     /* the metadata element; NULL: none or not readable */
    gboolean gone; /* the domain disappeared */
} MetadataJob;

static void
read_metadata(gpointer data, gpointer user_data G_GNUC_UNUSED)
{
    MetadataJob *job = data;
    virErrorPtr err;

    job->xml = virDomainGetMetadata(job->dom, VIR_DOMAIN_METADATA_ELEMENT, VS_STATION_NS, 0);
    if (!job->xml) {
        err = virGetLastError();
        job->gone = err && err->code == VIR_ERR_NO_DOMAIN;
    }
}

/* Returns the entry for @job: its metadata parsed and checked as vs_lifecycle_owned does, or
 * NULL when the domain is to be left out. Takes @job's domain. */
static VsListed *
entry_from(MetadataJob *job, VsListingFlags flags)
{
    g_autoptr(VsMetadata) station = NULL;
    g_autofree char *reason = NULL;
    VsListed *entry;

    if (job->gone)
        return NULL;
    if (job->xml)
        station = vs_metadata_parse(job->xml, NULL);
    if (station)
        reason = vs_lifecycle_clone_reason(job->dom, station);
    if ((!station || reason) && !(flags & VS_LISTING_FOREIGN))
        return NULL;
    entry = g_new0(VsListed, 1);
    entry->dom = g_steal_pointer(&job->dom);
    if (reason) {
        if (flags & VS_LISTING_FOREIGN_REASONS)
            entry->reason = g_steal_pointer(&reason);
    } else {
        entry->station = g_steal_pointer(&station);
    }
    return entry;
}

/* Fills the state, vCPUs and memory of @entries from one statistics call, then asks each domain
 * the call said nothing of. */
static void
fill_stats(GPtrArray *entries)
{
    g_autofree virDomainPtr *doms = g_new0(virDomainPtr, entries->len + 1);
    virDomainStatsRecordPtr *records = NULL;
    g_autoptr(GHashTable) by_uuid = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    int n;

    for (guint i = 0; i < entries->len; i++) {
        VsListed *e = entries->pdata[i];
        char uuid[VIR_UUID_STRING_BUFLEN];
        doms[i] = e->dom;
        if (virDomainGetUUIDString(e->dom, uuid) == 0)
            g_hash_table_insert(by_uuid, g_strdup(uuid), GUINT_TO_POINTER(i + 1));
    }
    n = entries->len
            ? virDomainListGetStats(
                  doms, VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_VCPU | VIR_DOMAIN_STATS_BALLOON,
                  &records, 0)
            : 0;
    for (int r = 0; r < n; r++) {
        char uuid[VIR_UUID_STRING_BUFLEN];
        guint at;
        VsListed *e;
        int state;
        unsigned int vcpus;
        unsigned long long max_kib, cur_kib;
        if (virDomainGetUUIDString(records[r]->dom, uuid) < 0 ||
            !(at = GPOINTER_TO_UINT(g_hash_table_lookup(by_uuid, uuid))))
            continue;
        e = entries->pdata[at - 1];
        if (virTypedParamsGetInt(records[r]->params, records[r]->nparams, "state.state", &state) !=
                1 ||
            virTypedParamsGetUInt(records[r]->params, records[r]->nparams, "vcpu.current",
                                  &vcpus) != 1 ||
            virTypedParamsGetULLong(records[r]->params, records[r]->nparams, "balloon.maximum",
                                    &max_kib) != 1 ||
            virTypedParamsGetULLong(records[r]->params, records[r]->nparams, "balloon.current",
                                    &cur_kib) != 1)
            continue;
        e->state = state;
        e->state_known = TRUE;
        e->vcpus = vcpus;
        e->max_kib = max_kib;
        e->current_kib = cur_kib;
        e->bulk = TRUE;
    }
    if (records)
        virDomainStatsRecordListFree(records);
    virResetLastError();
    for (guint i = 0; i < entries->len; i++) {
        VsListed *e = entries->pdata[i];
        virDomainInfo info = {0};
        if (e->bulk || virDomainGetInfo(e->dom, &info) < 0)
            continue;
        e->state = info.state;
        e->state_known = TRUE;
        e->vcpus = info.nrVirtCpu;
        e->max_kib = info.maxMem;
        e->current_kib = info.memory;
    }
}

typedef struct {
    virStorageVolPtr vol; /* borrowed */
    VsListedSize *size;
} SizeJob;

static void
read_size(gpointer data, gpointer user_data G_GNUC_UNUSED)
{
    SizeJob *job = data;
    virStorageVolInfo info;

    if (virStorageVolGetInfo(job->vol, &info) == 0) {
        job->size->known = TRUE;
        job->size->capacity = info.capacity;
        job->size->allocation = info.allocation;
    }
}

static void
free_volume(gpointer vol)
{
    virStorageVolFree(vol);
}

/* Returns the volumes of the pool @name of @conn by name (owning them), empty when the pool is
 * missing or inactive. */
static GHashTable *
pool_volumes(virConnectPtr conn, const char *name)
{
    GHashTable *vols = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, free_volume);
    g_autoptr(virStoragePool) pool = virStoragePoolLookupByName(conn, name);
    virStorageVolPtr *list = NULL;
    int n = pool ? virStoragePoolListAllVolumes(pool, &list, 0) : -1;

    for (int i = 0; i < n; i++)
        g_hash_table_replace(vols, g_strdup(virStorageVolGetName(list[i])), list[i]);
    free(list);
    virResetLastError();
    return vols;
}

/* Fills the sizes of the volumes of the owned @entries. */
static void
fill_sizes(virConnectPtr conn, GPtrArray *entries)
{
    g_autoptr(GHashTable) pools =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_hash_table_unref);
    g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < entries->len; i++) {
        VsListed *e = entries->pdata[i];
        if (!e->station)
            continue;
        e->sizes = g_new0(VsListedSize, e->station->volumes->len);
        for (guint v = 0; v < e->station->volumes->len; v++) {
            const VsOwnedVolume *owned = e->station->volumes->pdata[v];
            GHashTable *vols = g_hash_table_lookup(pools, owned->pool);
            SizeJob *job;
            if (!vols) {
                vols = pool_volumes(conn, owned->pool);
                g_hash_table_insert(pools, g_strdup(owned->pool), vols);
            }
            job = g_new0(SizeJob, 1);
            job->vol = g_hash_table_lookup(vols, owned->name);
            job->size = &e->sizes[v];
            if (job->vol)
                g_ptr_array_add(jobs, job);
            else
                g_free(job);
        }
    }
    run_parallel(jobs, read_size, NULL);
}

static void
read_snapshots(gpointer data, gpointer user_data G_GNUC_UNUSED)
{
    VsListed *entry = data;

    entry->snapshots = vs_snapshot_list(entry->dom, NULL);
}

/* Reads the snapshots of the owned @entries. */
static void
fill_snapshots(GPtrArray *entries)
{
    g_autoptr(GPtrArray) owned = g_ptr_array_new();

    for (guint i = 0; i < entries->len; i++)
        if (((VsListed *)entries->pdata[i])->station)
            g_ptr_array_add(owned, entries->pdata[i]);
    /* The snapshots' XML is parsed on the threads: libxml2 must be set up before. */
    xmlInitParser();
    run_parallel(owned, read_snapshots, NULL);
}

static int
compare_entries(gconstpointer a, gconstpointer b)
{
    const VsListed *x = *(VsListed *const *)a, *y = *(VsListed *const *)b;
    return strcmp(virDomainGetName(x->dom), virDomainGetName(y->dom));
}

static void
metadata_job_free(MetadataJob *job)
{
    if (job->dom)
        virDomainFree(job->dom);
    free(job->xml);
    g_free(job);
}

GPtrArray *
vs_listing_collect(virConnectPtr conn, VsListingFlags flags, GError **error)
{
    g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func((GDestroyNotify)metadata_job_free);
    g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func((GDestroyNotify)vs_listed_free);
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(conn, &doms, 0);

    if (n < 0)
        return vs_libvirt_error(error, "listing domains"), NULL;
    for (int i = 0; i < n; i++) {
        MetadataJob *job = g_new0(MetadataJob, 1);
        job->dom = doms[i];
        g_ptr_array_add(jobs, job);
    }
    free(doms);
    run_parallel(jobs, read_metadata, NULL);
    for (guint i = 0; i < jobs->len; i++) {
        VsListed *entry = entry_from(jobs->pdata[i], flags);
        if (entry)
            g_ptr_array_add(entries, entry);
    }
    fill_stats(entries);
    if (flags & VS_LISTING_VOLUMES)
        fill_sizes(conn, entries);
    if (flags & VS_LISTING_SNAPSHOTS)
        fill_snapshots(entries);
    g_ptr_array_sort(entries, compare_entries);
    return g_steal_pointer(&entries);
}

VsListed *
vs_listing_one(virDomainPtr dom, VsMetadata *station, VsListingFlags flags)
{
    g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func((GDestroyNotify)vs_listed_free);
    VsListed *entry = g_new0(VsListed, 1);

    virDomainRef(dom);
    entry->dom = dom;
    entry->station = station;
    g_ptr_array_add(entries, entry);
    fill_stats(entries);
    if (flags & VS_LISTING_VOLUMES)
        fill_sizes(virDomainGetConnect(dom), entries);
    if (flags & VS_LISTING_SNAPSHOTS)
        fill_snapshots(entries);
    return g_ptr_array_steal_index(entries, 0);
}
