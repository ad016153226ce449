#!/usr/bin/env bash
# The program's own libraries (TAP). Usage: test-program-libs.sh PROGRAM
# virt-station must not link libxml2, nor the ICU and libstdc++ it brings: they cost every start
# a few milliseconds (provisioner/main.c). The static libraries list libxml for the module, so a
# call into libxml2 from code the program links would bring it back silently; this catches it.
set -u
program=$1
needed=$(readelf -d "$program" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "1..2"
if [[ -n $needed ]]; then echo "ok 1 - readelf lists the program's libraries"; else
    echo "not ok 1 - readelf lists no library for $program"; exit 1; fi
bad=$(grep -E '^lib(xml2|icu|stdc\+\+)' <<<"$needed")
if [[ -z $bad ]]; then echo "ok 2 - no libxml2, ICU or libstdc++"; else
    echo "not ok 2 - the program links: $(tr '\n' ' ' <<<"$bad")"; exit 1; fi
