#include "module.h"

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

void *
vs_module_symbol(const char *symbol, GError **error)
{
    static void *module;
    void *func;

    if (!module) {
        g_autofree char *path = module_path();
        module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!module) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                        "cannot load the libvirt module %s: %s", path, dlerror());
            return NULL;
        }
    }
    func = dlsym(module, symbol);
    if (!func)
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                    "the libvirt module has no %s: %s (a module from another version?)", symbol,
                    dlerror());
    return func;
}
