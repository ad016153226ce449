/* `gpu probe --json` and the GPU part of `info --json`. Every object carries "version": 1 at
 * its top level and an absent value is null, never left out. The plan P: mode, device,
 * vgpu_type, render_node, reasons (a list of sentences). */
#pragma once

#include "gpu/inventory.h"
#include "provisioner/json.h"

/* Writes the plan P under @key. */
void vs_gpujson_plan(VsJson *j, const char *key, const VsGpuPlan *plan);

/* Returns {"version":1,"devices":[D...],"plan":P}. */
char *vs_gpujson_probe(const VsGpuInventory *inv, const VsGpuPlan *plan);
