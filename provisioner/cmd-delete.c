/* virt-station delete / xml. */
#include <stdio.h>

#include "commands.h"
#include "station.h"

int
vs_cmd_delete(VsCli *cli, int argc, char **argv)
{
    gboolean keep_disk = FALSE;
    const GOptionEntry entries[] = {
        {"keep-disk", 0, 0, G_OPTION_ARG_NONE, &keep_disk, "Keep the system disk volume", NULL},
        G_OPTION_ENTRY_NULL,
    };
    static const VsCommand self = {"delete",
                                   "NAME [--keep-disk]",
                                   "Delete a workstation: its domain and the volumes it owns "
                                   "that are its disks (never the shared base image, never a "
                                   "volume another domain's disks use; those are named).",
                                   NULL,
                                   FALSE,
                                   NULL};
    g_auto(VsTarget) t = {0};
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    gboolean ok;

    if (!vs_target_begin(cli, &self, entries, &argc, &argv, FALSE, &t, &name, &error))
        return vs_cli_fail(cli, "delete", error);
    ok = vs_lifecycle_delete(t.dom, t.station, keep_disk, kept, &error);
    for (guint i = 0; i < kept->len; i++)
        vs_cli_warn("%s", (const char *)kept->pdata[i]);
    if (!ok)
        return vs_cli_fail(cli, "delete", error);
    vs_cli_progress(cli, "deleted %s%s", name, keep_disk ? " (its disk is kept)" : "");
    return VS_EXIT_OK;
}

int
vs_cmd_xml(VsCli *cli, int argc, char **argv)
{
    gboolean inactive = FALSE;
    const GOptionEntry entries[] = {
        {"inactive", 0, 0, G_OPTION_ARG_NONE, &inactive,
         "The definition for the next start, not the running one", NULL},
        G_OPTION_ENTRY_NULL,
    };
    static const VsCommand self = {
        "xml", "NAME [--inactive]", "Print a workstation's libvirt domain XML.", NULL, FALSE, NULL};
    g_auto(VsTarget) t = {0};
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    const char *name;

    if (!vs_target_begin(cli, &self, entries, &argc, &argv, FALSE, &t, &name, &error))
        return vs_cli_fail(cli, "xml", error);
    xml = virDomainGetXMLDesc(t.dom, inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
    if (!xml) {
        vs_libvirt_error(&error, "reading the domain XML");
        return vs_cli_fail(cli, "xml", error);
    }
    fputs(xml, stdout);
    return VS_EXIT_OK;
}
