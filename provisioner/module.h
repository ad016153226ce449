/* The libvirt module (virt-station-libvirt.so): everything that calls libvirt, loaded only when
 * a command needs it (see main.c for why).
 *
 * The module exports exactly one symbol, its table, vs_module_table (module-entry.c): the program
 * reaches the module through that table only, and looks up nothing else in it. */
#pragma once

#include <glib.h>

#include "provisioner/commands.h"
#include "provisioner/up.h"

typedef struct {
    const char *version;              /* VS_VERSION of its build: the program refuses another */
    const VsCommand *const *commands; /* the commands that live in the module, NULL-terminated */
    VsModuleUpFunc up;                /* the module's half of `up` (up.h) */
} VsModuleTable;

/* The table's symbol: defined in the module, and in the tests, which link its code directly. */
extern const VsModuleTable vs_module_table;

/* The module's half of `up`, in its table (cmd-up-libvirt.c). */
int vs_module_up(VsCli *cli, VsSpec *spec, const VsUpFlags *flags);

/* Returns the libvirt module's table, loading the module on first use, or NULL with @error set. */
const VsModuleTable *vs_module_load(GError **error);
