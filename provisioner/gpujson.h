/* `gpu probe --json` and the GPU part of `info --json`. Every object carries "version": 1 at
 * its top level and an absent value is null, never left out. The plan P: mode, device,
 * vgpu_type, render_node, reasons (a list of sentences). */
#pragma once

#include "gpu/inventory.h"
#include "provisioner/json.h"

/* Writes the plan P under @key. */
void vs_gpujson_plan(VsJson *j, const char *key, const VsGpuPlan *plan);

/* What a vGPU instance, VF or passed-through device is given to, for `gpu probe`. */
typedef struct {
    char *kind;        /* "mdev", "vf", "passthrough" */
    char *id;          /* the mdev UUID, or the VF's or device's address */
    char *device;      /* the mdev's parent, or the VF's or device's address */
    char *vgpu_type;   /* or NULL */
    char *workstation; /* the domain holding it, or NULL when none is known */
    char *state;       /* "held", "in progress" (an `up` is making it), "stale" (its domain is
                        * gone: the next up/start/delete gives it back), "not virt-station's",
                        * "unknown" (libvirt was not reached) */
} VsGpuAllocation;

void vs_gpu_allocation_free(VsGpuAllocation *a);

/* Returns {"version":1,"devices":[D...],"plan":P,"allocations":[A...]}, A: kind, id, device,
 * vgpu_type, workstation, state (VsGpuAllocation; @allocations NULL: an empty list). */
char *vs_gpujson_probe(const VsGpuInventory *inv, const VsGpuPlan *plan,
                       const GPtrArray *allocations);
