/* `up`, shared between the program (options, dry runs from cached facts) and the libvirt module
 * (everything that needs a connection). */
#pragma once

#include "cli.h"
#include "images/image.h"
#include "inventory.h"
#include "request.h"

typedef struct {
    gboolean dry_run;
    gboolean print_xml;
    gboolean no_wait;
    guint timeout_s;
    const char *identity; /* --identity FILE, checked; NULL: the private halves of --ssh-key */
} VsUpFlags;

/* Fills @facts for @spec on a host with @caps (@reached: libvirt answered; otherwise @caps are
 * assumptions). The MAC and port are fresh; the base volume is named after the image's content. */
gboolean vs_up_facts(VsCli *cli, const VsSpec *spec, const VsCaps *caps, gboolean reached,
                     const VsImage *image, const VsGpuInventory *inv, const GError *inv_error,
                     VsHostFacts *facts, GError **error);

/* Decides between the domain types kvm and qemu for @spec's virt-type on the host of @caps
 * (@reached: libvirt answered) and sets @caps->kvm to the decision, saying why when `auto` falls
 * back to emulation. Errors: a bad value (exit status 2), an explicit kvm that cannot work (1). */
gboolean vs_up_decide_kvm(VsCli *cli, const VsSpec *spec, VsCaps *caps, gboolean reached,
                          GError **error);

/* Returns @spec's image, resolved as far as the disk allows (images/image.h): no download. */
VsImage *vs_up_image(const VsSpec *spec, const VsCaps *caps, GError **error);

/* Returns TRUE when @spec asks for a GPU mode that needs the host's GPU inventory. */
gboolean vs_up_needs_inventory(const VsSpec *spec);

/* Prints what a dry run of @config would do (the XML with --print-xml). */
int vs_up_print_dry_run(VsCli *cli, const VsDomainConfig *config, const VsUpFlags *flags);

/* The module's `up` (up-create.c): connects, then does a dry run or creates the workstation. */
typedef int (*VsModuleUpFunc)(VsCli *cli, VsSpec *spec, const VsUpFlags *flags);
