/* One function per command, each in its cmd-NAME.c. */
#pragma once

#include "cli.h"

int vs_cmd_seed(VsCli *cli, int argc, char **argv);
int vs_cmd_up(VsCli *cli, int argc, char **argv);
