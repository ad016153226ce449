/* The domains of a connection with what `list` and `info` show, gathered in few round trips. */
#pragma once

#include "domains/metadata.h"
#include "domains/vs-libvirt.h"

typedef enum {
    VS_LISTING_FOREIGN = 1 << 0,         /* keep domains that are not virt-station's */
    VS_LISTING_FOREIGN_REASONS = 1 << 1, /* say why one carrying virt-station metadata is not */
    VS_LISTING_VOLUMES = 1 << 2,         /* look up the size of each owned volume */
    VS_LISTING_SNAPSHOTS = 1 << 3,       /* read each workstation's snapshots */
} VsListingFlags;

typedef struct {
    gboolean known; /* FALSE: the volume does not exist (or cannot be read) */
    unsigned long long capacity;
    unsigned long long allocation;
} VsListedSize;

typedef struct {
    virDomainPtr dom;
    VsMetadata *station; /* NULL: foreign */
    char *reason;        /* why a foreign domain carrying virt-station metadata is not ours */
    int state;           /* virDomainState; VIR_DOMAIN_NOSTATE when it could not be read */
    gboolean state_known;
    unsigned int vcpus;
    unsigned long long max_kib;     /* memory, KiB */
    unsigned long long current_kib; /* what the balloon leaves, KiB */
    gboolean bulk;                  /* the figures came from the one statistics call */
    VsListedSize *sizes;            /* with VS_LISTING_VOLUMES: one per station->volumes */
    GPtrArray *snapshots; /* with VS_LISTING_SNAPSHOTS, a workstation's (VsSnapshotInfo, as
                           * vs_snapshot_list returns them); NULL when they cannot be read */
} VsListed;

void vs_listed_free(VsListed *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsListed, vs_listed_free)

/* Returns the domains of @conn (VsListed, sorted by name): virt-station's, and with
 * VS_LISTING_FOREIGN the others too. States, vCPUs and memory come from one statistics call,
 * the metadata, volume sizes and snapshots from calls made several at a time, so the cost grows
 * with the number of domains by about one round trip each (one more per volume with
 * VS_LISTING_VOLUMES; with VS_LISTING_SNAPSHOTS one per workstation and two per snapshot). NULL
 * with @error set when the domains cannot be listed. */
GPtrArray *vs_listing_collect(virConnectPtr conn, VsListingFlags flags, GError **error);

/* Returns the entry of the one domain @dom (a new reference is taken) with @station (taken; NULL
 * for a foreign domain), filled as vs_listing_collect fills it. */
VsListed *vs_listing_one(virDomainPtr dom, VsMetadata *station, VsListingFlags flags);
