#include "provisioner/defaults.h"

#include <unistd.h>

char *
vs_defaults_user(void)
{
    if (geteuid() == 0)
        return g_strdup("station");
    return g_strdup(g_get_user_name());
}

char *
vs_defaults_ssh_key(void)
{
    static const char *const names[] = {"id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub"};

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *path = g_build_filename(g_get_home_dir(), ".ssh", names[i], NULL);
        if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
            return g_steal_pointer(&path);
    }
    return NULL;
}
