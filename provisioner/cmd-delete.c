/* virt-station delete / xml. */
#include <stdio.h>

#include "provisioner/cli-progress.h"
#include "provisioner/commands.h"
#include "provisioner/gpu-site.h"
#include "provisioner/identity.h"
#include "provisioner/interrupt.h"
#include "provisioner/target.h"

typedef struct {
    gboolean keep_disk;
} DeleteOptions;

static const VsOption delete_options[] = {
    {"keep-disk", 0, 0, VS_FLAG(DeleteOptions, keep_disk), "Keep the system disk volume"},
    {NULL},
};

static int run_delete(VsCli *cli, int argc, char **argv);

const VsCommand vs_command_delete = {
    .name = "delete",
    .args = "NAME [--keep-disk]",
    .summary = "Delete a workstation and the volumes it owns",
    .description = "Delete a workstation: its domain, the volumes it owns that are its disks "
                   "(never the shared base image, never a volume another domain's disks use; "
                   "those are named) and the vGPU, VF or passed-through GPU it holds.",
    .options = delete_options,
    .operand = VS_COMPLETE_WORKSTATION,
    .run = run_delete,
};

static int
run_delete(VsCli *cli, int argc, char **argv)
{
    DeleteOptions o = {0};
    g_auto(VsTarget) t = {0};
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    gboolean ok;

    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    VsProgress progress = vs_cli_progress_reporter(cli);

    if (!vs_target_begin(cli, &vs_command_delete, &o, &argc, &argv, FALSE, &t, &name, &error) ||
        !vs_target_lock(&t, TRUE, &progress, &error))
        return vs_cli_fail(cli, "delete", error);
    virDomainGetUUIDString(t.dom, uuid);
    ok = vs_lifecycle_delete(t.dom, t.station, o.keep_disk, kept, &error);
    if (!ok) {
        /* Stopped half-way: the domain stays, its metadata naming what is left. */
        g_autoptr(GError) half = g_steal_pointer(&error);
        g_set_error(&error, half->domain, half->code,
                    "%s; %s is kept with what is left: `virt-station delete %s` again finishes",
                    half->message, name, name);
    }
    if (ok && uuid[0])
        vs_identity_forget(t.uri, uuid); /* the key remembered for it has no use any more */
    if (ok) {
        /* The domain is gone: what it held goes back to the host. */
        ok = vs_interrupt_test_point("delete-gpu", &error) &&
             vs_gpu_site_release(t.conn, t.uri, uuid, name, t.station, &progress, &error);
    }
    for (guint i = 0; i < kept->len; i++)
        vs_cli_warn("%s", (const char *)kept->pdata[i]);
    if (!ok)
        return vs_cli_fail(cli, "delete", error);
    vs_cli_progress(cli, "deleted %s%s", name, o.keep_disk ? " (its disk is kept)" : "");
    return VS_EXIT_OK;
}

typedef struct {
    gboolean inactive;
} XmlOptions;

static const VsOption xml_options[] = {
    {"inactive", 0, 0, VS_FLAG(XmlOptions, inactive),
     "The definition for the next start, not the running one"},
    {NULL},
};

static int run_xml(VsCli *cli, int argc, char **argv);

const VsCommand vs_command_xml = {
    .name = "xml",
    .args = "NAME [--inactive]",
    .summary = "Print a workstation's domain XML",
    .description = "Print a workstation's libvirt domain XML.",
    .options = xml_options,
    .operand = VS_COMPLETE_WORKSTATION,
    .run = run_xml,
};

static int
run_xml(VsCli *cli, int argc, char **argv)
{
    XmlOptions o = {0};
    g_auto(VsTarget) t = {0};
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    const char *name;

    if (!vs_target_begin(cli, &vs_command_xml, &o, &argc, &argv, FALSE, &t, &name, &error))
        return vs_cli_fail(cli, "xml", error);
    xml = virDomainGetXMLDesc(t.dom, o.inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
    if (!xml) {
        vs_libvirt_error(&error, "reading the domain XML");
        return vs_cli_fail(cli, "xml", error);
    }
    fputs(xml, stdout);
    return VS_EXIT_OK;
}
