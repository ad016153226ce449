/* The command layer's side of VsProgress (base/progress.h): what library code reports, printed
 * the way every command prints it. */
#pragma once

#include "provisioner/base/progress.h"
#include "provisioner/cli.h"

/* Returns callbacks that print for @cli on stderr: steps as indented progress lines unless
 * --quiet, warnings always, a transfer's bytes as a progress bar redrawn in place when stderr is
 * a terminal and not --quiet. They ask to stop once SIGINT or SIGTERM arrived (interrupt.h). */
VsProgress vs_cli_progress_reporter(VsCli *cli);
