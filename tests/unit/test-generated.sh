#!/usr/bin/env bash
# The man page and completion scripts generated from the command table (TAP). Usage:
#   test-generated.sh bash|zsh|fish|man FILE
# bash: sources the completion and runs its function on typed lines (COMP_WORDS/COMP_CWORD) as
# bash would; fish: asks fish itself (`complete -C`); zsh: parses it; man: `man --warnings`.
# virt-station must be on PATH (the test environment puts the build tree there).
set -u
mode=$1 file=$2
n=0 failed=0

ok() { # ok DESCRIPTION COMMAND...: one TAP line, from the command's status
    n=$((n + 1))
    if "${@:2}"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=1; fi
}

has() { # has WORD WORDS...: WORD is among WORDS
    local w
    for w in "${@:2}"; do [[ $w == "$1" ]] && return 0; done
    echo "# '$1' is not among: ${*:2}" >&2
    return 1
}

lacks() { ! has "$@" 2>/dev/null || { echo "# '$1' should not be offered" >&2; return 1; }; }

complete_bash() { # complete_bash WORD...: COMPREPLY for the line, the cursor in the last word
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _virt_station virt-station
    reply=("${COMPREPLY[@]}")
}

test_bash() {
    # shellcheck source=/dev/null
    source "$file"
    ok "complete -p names the function" [ "$(complete -p virt-station)" = "complete -F _virt_station virt-station" ]
    complete_bash virt-station ""
    ok "commands after 'virt-station '" has up "${reply[@]}"
    ok "... every one of them" eval '[ ${#reply[@]} = 19 ] && has seed "${reply[@]}" && has image "${reply[@]}" && has snapshot "${reply[@]}" && has run "${reply[@]}" && has bake "${reply[@]}"'
    ok "... not the hidden __complete" lacks __complete "${reply[@]}"
    complete_bash virt-station up --
    ok "up --: --virt-type" has --virt-type "${reply[@]}"
    ok "up --: --gpu" has --gpu "${reply[@]}"
    ok "up --: the global --connect" has --connect "${reply[@]}"
    ok "up --: no --json (up has none)" lacks --json "${reply[@]}"
    complete_bash virt-station list --
    ok "list --: --json and --names" eval 'has --json "${reply[@]}" && has --names "${reply[@]}"'
    complete_bash virt-station start --
    ok "start --: not the hidden --force" lacks --force "${reply[@]}"
    complete_bash virt-station up --gpu ""
    ok "--gpu values" [ "${reply[*]}" = "auto none virgl vgpu vgpu: passthrough:" ]
    complete_bash virt-station up --gpu = pa
    ok "--gpu=pa" [ "${reply[*]}" = "passthrough:" ]
    complete_bash virt-station -c qemu:///system up --virt-type ""
    ok "--virt-type values after -c URI" [ "${reply[*]}" = "auto kvm qemu" ]
    complete_bash virt-station up --image ""
    ok "--image: catalog aliases" has ubuntu:24.04 "${reply[@]}"
    # Bash split ubuntu:2 at the colon and replaces only what follows it.
    complete_bash virt-station up --image ubuntu : 2
    ok "--image ubuntu:2 completes after the colon" has 24.04 "${reply[@]}"
    # Names come from libvirt, on the connection typed: test:///default has one domain, "test",
    # which virt-station did not create: info and adopt offer it, xml (workstations only) not.
    complete_bash virt-station -c test:///default info ""
    ok "info: domain names on -c URI" [ "${reply[*]}" = "test" ]
    # As bash splits --connect=test:///default at = and :.
    complete_bash virt-station --connect = test : ///default adopt t
    ok "adopt: domain names on --connect=URI" [ "${reply[*]}" = "test" ]
    complete_bash virt-station -c test:///default xml ""
    ok "xml: workstation names only" [ ${#reply[@]} = 0 ]
    complete_bash virt-station image ""
    ok "image subcommands" [ "${reply[*]}" = "list pull rm prune" ]
    complete_bash virt-station exec ws1 -- ""
    ok "nothing after exec's --" [ ${#reply[@]} = 0 ]
}

test_fish() {
    local out
    ok "fish parses it" fish --no-execute "$file"
    # fish sorts what it offers.
    out=$(fish -c "source $file; complete -C 'virt-station up --gpu '" | cut -f1 | tr '\n' ' ')
    ok "fish: --gpu values" [ "$out" = "auto none passthrough: vgpu vgpu: virgl " ]
    out=$(fish -c "source $file; complete -C 'virt-station '" | cut -f1)
    ok "fish: commands" eval 'has up $out && has seed $out && lacks __complete $out'
    out=$(fish -c "source $file; complete -C 'virt-station up --'" | cut -f1)
    ok "fish: up --virt-type" has --virt-type $out
    out=$(fish -c "source $file; complete -C 'virt-station up --image '" | cut -f1)
    ok "fish: --image aliases" has ubuntu:24.04 $out
    out=$(fish -c "source $file; complete -C 'virt-station image '" | cut -f1 | tr '\n' ' ')
    ok "fish: image subcommands" [ "$out" = "list prune pull rm " ]
}

test_zsh() {
    ok "zsh parses it" zsh -n "$file"
    ok "zsh: a #compdef file" [ "$(head -1 "$file")" = "#compdef virt-station" ]
    ok "zsh: --virt-type with its values" grep -q -- "--virt-type=\[.*\]:TYPE:(auto kvm qemu)'" "$file"
    ok "zsh: --gpu's values, colons escaped" grep -qF -- ':MODE:(auto none virgl vgpu vgpu\: passthrough\:)' "$file"
}

test_man() {
    local warnings page
    warnings=$(MANWIDTH=80 man --warnings -l "$file" 2>&1 >/dev/null)
    ok "man --warnings: none" [ -z "$warnings" ]
    [ -z "$warnings" ] || echo "$warnings" | sed 's/^/# /'
    page=$(MANWIDTH=80 man -l "$file" 2>/dev/null)
    ok "man: the up section" grep -q "^   up$" <<<"$page"
    ok "man: --virt-type=TYPE" grep -q -- "--virt-type=TYPE" <<<"$page"
    ok "man: exit status 3" grep -q "refused or not found" <<<"$page"
}

case $mode in
bash) test_bash ;;
zsh) test_zsh ;;
fish) test_fish ;;
man) test_man ;;
*) echo "usage: $0 bash|zsh|fish|man FILE" >&2; exit 2 ;;
esac
echo "1..$n"
exit $failed
