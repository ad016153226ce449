/* Domain XML test cases shared by the unit and libvirt suites. */
#pragma once

#include "provisioner/request.h"

/* Returns the host facts in @text (the YAML after a case's "---" line). */
VsPlanInputs *vs_domcase_parse_facts(const char *text);

/* Returns the domain XML of the case file @rel (under tests/data), or NULL with @error set.
 * @adjust, when given, changes the host facts first. */
char *vs_domcase_xml_with(const char *rel, void (*adjust)(VsPlanInputs *facts), GError **error);
char *vs_domcase_xml(const char *rel, GError **error);
