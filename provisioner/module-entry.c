/* The libvirt module's one exported symbol (see module.h). Only this module links libvirt. */
#include "provisioner/module.h"
#include "vs-config.h"

/* In the order `virt-station --help` lists them. */
static const VsCommand *const commands[] = {
    &vs_command_list,  &vs_command_info,   &vs_command_ssh,
    &vs_command_exec,  &vs_command_run,    &vs_command_console,
    &vs_command_start, &vs_command_stop,   &vs_command_restart,
    &vs_command_wait,  &vs_command_delete, &vs_command_snapshot,
    &vs_command_bake,  &vs_command_adopt,  &vs_command_xml,
    &vs_command_gpu,   &vs_command_image,  NULL,
};

const VsModuleTable vs_module_table = {
    .version = VS_VERSION,
    .commands = commands,
    .up = vs_module_up,
};
