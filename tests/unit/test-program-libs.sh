#!/usr/bin/env bash
# The program's own libraries (TAP). Usage: test-program-libs.sh PROGRAM [plain|sanitizer]
# virt-station must not load libxml2, nor the ICU and libstdc++ it brings: they cost every start
# a few milliseconds (provisioner/main.c). The static libraries list libxml for the module, so a
# call into libxml2 from code the program links would bring it back silently; so would a library
# the program needs that needs libxml2 itself. ldd lists both. A shared libarchive is one such
# (meson.build, -Dstatic_libarchive=false): then the check is skipped, not passed. So is a
# sanitizer build (BUILD = sanitizer), which links libvirt at start on purpose (meson.build).
set -u
program=$1
build=${2:-plain}
needed=$(readelf -d "$program" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
loaded=$(ldd "$program" | awk '{print $1}')
echo "1..2"
if [[ -n $needed && -n $loaded ]]; then echo "ok 1 - readelf and ldd list the program's libraries"; else
    echo "not ok 1 - readelf or ldd lists no library for $program"; exit 1; fi
bad=$(grep -E '^lib(xml2|icu|stdc\+\+)' <<<"$loaded")
if [[ -z $bad ]]; then echo "ok 2 - no libxml2, ICU or libstdc++"
elif [[ $build == sanitizer ]] && grep -q '^libvirt\.so' <<<"$needed"; then
    echo "ok 2 # SKIP a sanitizer build links libvirt at start, which loads: $(tr '\n' ' ' <<<"$bad")"
elif grep -q '^libarchive\.so' <<<"$needed"; then
    echo "ok 2 # SKIP libarchive is linked shared and loads: $(tr '\n' ' ' <<<"$bad")"
else echo "not ok 2 - the program loads: $(tr '\n' ' ' <<<"$bad")"; exit 1; fi
