#include "provisioner/module.h"

#include <dlfcn.h>

#include "vs-config.h"

#define MODULE_NAME "virt-station-libvirt.so"

/* Returns the path of the libvirt module: $VIRT_STATION_MODULE_DIR, else beside the program (a
 * build tree), else the installed location. */
static char *
module_path(void)
{
    const char *env = g_getenv("VIRT_STATION_MODULE_DIR");
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);

    if (env && *env)
        return g_build_filename(env, MODULE_NAME, NULL);
    if (self) {
        g_autofree char *dir = g_path_get_dirname(self);
        g_autofree char *beside = g_build_filename(dir, MODULE_NAME, NULL);
        if (g_file_test(beside, G_FILE_TEST_EXISTS))
            return g_steal_pointer(&beside);
    }
    return g_build_filename(VS_MODULE_DIR, MODULE_NAME, NULL);
}

const VsModuleTable *
vs_module_load(GError **error)
{
    static const VsModuleTable *loaded;
    const VsModuleTable *table;
    g_autofree char *path = NULL;
    void *module;

    if (loaded)
        return loaded;
    path = module_path();
    module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!module) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                    "cannot load the libvirt module %s: %s", path, dlerror());
        return NULL;
    }
    /* The one lookup between the program and the module. */
    table = dlsym(module, "vs_module_table");
    if (table && g_strcmp0(table->version, VS_VERSION) == 0)
        return loaded = table;
    if (table)
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                    "the libvirt module %s is virt-station %s's, not %s's", path, table->version,
                    VS_VERSION);
    else
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                    "%s is no libvirt module of virt-station: %s", path, dlerror());
    dlclose(module);
    return NULL;
}
