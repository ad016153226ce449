/* What `snapshot list` and `info` share: a workstation's snapshots in JSON. */
#pragma once

#include "domains/vs-libvirt.h"
#include "provisioner/json.h"

/* Writes @dom's snapshots as the array @key of objects with name, created (ISO 8601, UTC),
 * state, memory and current; null when they cannot be read. */
void vs_snapshot_write_json(VsJson *j, const char *key, virDomainPtr dom);

/* Writes the snapshots @snaps (VsSnapshotInfo) as vs_snapshot_write_json does; null for NULL. */
void vs_snapshot_write_json_list(VsJson *j, const char *key, const GPtrArray *snaps);

/* Returns the creation time @unix_s as "2026-11-30 16:25:30 +0000" (virsh's form). */
char *vs_snapshot_time_string(gint64 unix_s);
