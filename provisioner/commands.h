/* One function per command, each in its cmd-NAME.c. */
#pragma once

#include "cli.h"

int vs_cmd_seed(VsCli *cli, int argc, char **argv);
int vs_cmd_up(VsCli *cli, int argc, char **argv);

/* In the libvirt module, found by the symbol names in the command table: */
int vs_cmd_list(VsCli *cli, int argc, char **argv);
int vs_cmd_info(VsCli *cli, int argc, char **argv);
int vs_cmd_ssh(VsCli *cli, int argc, char **argv);
int vs_cmd_exec(VsCli *cli, int argc, char **argv);
int vs_cmd_start(VsCli *cli, int argc, char **argv);
int vs_cmd_stop(VsCli *cli, int argc, char **argv);
int vs_cmd_restart(VsCli *cli, int argc, char **argv);
int vs_cmd_wait(VsCli *cli, int argc, char **argv);
int vs_cmd_delete(VsCli *cli, int argc, char **argv);
int vs_cmd_adopt(VsCli *cli, int argc, char **argv);
int vs_cmd_xml(VsCli *cli, int argc, char **argv);
int vs_cmd_console(VsCli *cli, int argc, char **argv);
int vs_cmd_gpu(VsCli *cli, int argc, char **argv);
int vs_cmd_image(VsCli *cli, int argc, char **argv);
