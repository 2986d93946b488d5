#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# completion/packetfilterctl: what TAB offers after each kind of word, the way
# bash calls it (COMP_WORDS split at ':' and '=' as COMP_WORDBREAKS says).
# The daemon's part comes from a stand-in packetfilterctl that prints what a
# real daemon printed for `--json list` and `--json status`, so no bus is
# needed; PF_CTL=path/to/packetfilterctl (with DBUS_SYSTEM_BUS_ADDRESS of a
# running daemon) checks the verbs and words against the real CLI instead.
# Needs bash-completion (Debian package bash-completion): fails without it,
# or skips with PF_ALLOW_SKIP=1.
set -o nounset -o pipefail

SOURCE_DIR=${PF_SOURCE_DIR:-$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)}
BASH_COMPLETION=${PF_BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}
if [ ! -r "$BASH_COMPLETION" ]; then
        echo "FAIL: missing prerequisite: $BASH_COMPLETION (Debian package bash-completion; set PF_ALLOW_SKIP=1 to skip instead)" >&2
        [ "${PF_ALLOW_SKIP:-0}" = 1 ] && exit 77
        exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A stand-in: a block, and a rule in group "web" whose comment holds look-alikes;
# two sets, one with a comment of look-alikes.
cat >"$work/packetfilterctl" <<'STUB'
#!/bin/bash
for arg; do last=$arg; done
if [[ " $* " == *" set list "* ]]; then
        echo '[{"name":"spamhaus","entries":1024,"comment":"x \"name\":\"bad\"}","default-timeout":0,"hits":5,"rules":[3]},{"name":"web-servers","entries":2,"comment":"","default-timeout":3600,"hits":0,"rules":[]}]'
        exit 0
fi
case $last in
list) echo '[{"id":1,"action":"drop","source":"192.0.2.2","priority":0,"enabled":true,"group":"default","packets":0,"bytes":0,"created":1,"expires":0},{"id":2,"action":"drop","source":"2001:db8::/64","protocol":"tcp","port":"22","comment":"x \"id\":9 \"group\":\"bad\"","priority":0,"enabled":true,"group":"web","packets":0,"bytes":0,"created":1,"expires":0},{"id":17,"action":"pass","source":"198.51.100.1","priority":-5,"enabled":true,"group":"web","packets":0,"bytes":0,"created":1,"expires":0}]' ;;
status) echo '{"version":"0.1.0","default-action":"pass","interfaces":[{"name":"veth-fw","mode":"native"},{"name":"wlan9","mode":"waiting"}],"rule-count":3,"statistics":{"packets":1}}' ;;
*) exit 1 ;;
esac
STUB
chmod +x "$work/packetfilterctl"
CTL=${PF_CTL:-$work/packetfilterctl}

# shellcheck source=/dev/null
source "$BASH_COMPLETION"
# Outside a real completion compopt fails; what it would set is not checked here.
compopt() { :; }
# shellcheck source=completion/packetfilterctl
source "$SOURCE_DIR/completion/packetfilterctl"

# complete LINE: what TAB at the end of LINE offers, sorted, one line.
complete_line() {
        local line=$1 word=
        local -a split=()
        local i c
        # Split as readline does: blanks separate, each of '=' ':' is a word of its own.
        for ((i = 0; i < ${#line}; i++)); do
                c=${line:i:1}
                case $c in
                ' ')
                        [ -n "$word" ] && split+=("$word")
                        word=
                        ;;
                '=' | ':')
                        [ -n "$word" ] && split+=("$word")
                        split+=("$c")
                        word=
                        ;;
                *) word+=$c ;;
                esac
        done
        if [ -n "$word" ]; then
                split+=("$word")
        elif [[ $line == *' ' ]] || [ ${#split[@]} -eq 0 ] || [[ ${split[-1]} != [=:] ]]; then
                split+=('')
        fi
        # A trailing '=' or ':' is the word under the cursor's start: complete after it.
        [[ ${split[-1]} == [=:] ]] && split+=('')
        split[0]=$CTL
        COMP_WORDS=("${split[@]}")
        COMP_CWORD=$((${#split[@]} - 1))
        COMP_LINE="$CTL ${line#* }"
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        _packetfilterctl packetfilterctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

failures=0
expect() {
        local line=$1 expected=$2 got
        got=$(complete_line "$line")
        if [ "$got" = "$expected" ]; then
                echo "ok: '$line' -> $got"
        else
                echo "FAIL: '$line' -> '$got', expected '$expected'"
                failures=$((failures + 1))
        fi
}

expect 'packetfilterctl ' 'add attach block default detach disable enable help list monitor remove replace reset-counters set show stats status top unblock'
expect 'packetfilterctl re' 'remove replace reset-counters'
expect 'packetfilterctl --json s' 'set show stats status'
expect 'packetfilterctl --mode ' 'auto generic native'
expect 'packetfilterctl attach lo --mode=n' 'native'
expect 'packetfilterctl attach --mo' '--mode='
expect 'packetfilterctl list --' '--group= --help --host --json --no-ask-password --system --version --words'
expect 'packetfilterctl list --group=' 'default web'
expect 'packetfilterctl show ' '1 17 2'
expect 'packetfilterctl enable 1' '1 17'
expect 'packetfilterctl show 1 ' ''
expect 'packetfilterctl remove 1 ' '17 2'
expect 'packetfilterctl default ' 'drop pass'
expect 'packetfilterctl replace ' 'default web'
expect 'packetfilterctl unblock ' '192.0.2.2 2001:db8::/64'
expect 'packetfilterctl unblock 2001:db8:' ':/64'
expect 'packetfilterctl detach ' 'veth-fw wlan9'
expect 'packetfilterctl attach l' 'lo'
expect 'packetfilterctl add ' 'drop pass rate-limit'
expect 'packetfilterctl add drop ' 'burst comment disabled from from-set group icmp-type on per port priority proto rate sport timeout to to-set vlan'
expect 'packetfilterctl add rate-limit rate 10 per ' 'rule source'
expect 'packetfilterctl add rate-limit rate ' ''
expect 'packetfilterctl mon' 'monitor'
expect 'packetfilterctl add drop from 192.0.2.0/24 proto ' 'icmp icmpv6 sctp tcp udp'
expect 'packetfilterctl add drop from 192.0.2.0/24 proto tcp p' 'per port priority'
expect 'packetfilterctl add drop comment proto ' 'burst disabled from from-set group icmp-type on per port priority proto rate sport timeout to to-set vlan'
expect 'packetfilterctl add drop port ' ''
expect 'packetfilterctl add pass group ' 'default web'
expect 'packetfilterctl add drop on v' 'veth-fw'
expect 'packetfilterctl add drop priority -' ''
expect 'packetfilterctl add drop from-set ' 'spamhaus web-servers'
expect 'packetfilterctl add drop from-set spamhaus to-set w' 'web-servers'
expect 'packetfilterctl add drop from-set spamhaus f' 'from'
expect 'packetfilterctl set ' 'add create delete export import list remove'
expect 'packetfilterctl set re' 'remove'
expect 'packetfilterctl set create ' ''
expect 'packetfilterctl set create x --' '--comment= --help --host --json --no-ask-password --system --timeout= --version'
expect 'packetfilterctl set delete ' 'spamhaus web-servers'
expect 'packetfilterctl set add s' 'spamhaus'
expect 'packetfilterctl set add spamhaus ' ''
expect 'packetfilterctl set add spamhaus 192.0.2.1 --' '--help --host --json --no-ask-password --system --timeout= --version'
expect 'packetfilterctl set remove web-servers ' ''
expect 'packetfilterctl set import ' 'spamhaus web-servers'
expect 'packetfilterctl set import spamhaus --' '--help --host --json --no-ask-password --replace --skip-invalid --system --timeout= --version'
expect 'packetfilterctl set import spamhaus -' '- --help --host --json --no-ask-password --replace --skip-invalid --system --timeout= --version -H -h'
expect 'packetfilterctl set export spamhaus -' '- --help --host --json --no-ask-password --system --version -H -h'
expect 'packetfilterctl set export w' 'web-servers'
expect 'packetfilterctl set list ' ''
expect 'packetfilterctl set list --' '--help --host --json --no-ask-password --system --version'
expect 'packetfilterctl --comment ' ''

# Files for set import and export.
mkdir "$work/files"
touch "$work/files/drop.txt" "$work/files/dropv6.txt"
(
        cd "$work/files" || exit 1
        failures=0
        expect 'packetfilterctl set import spamhaus d' 'drop.txt dropv6.txt'
        expect 'packetfilterctl set export spamhaus dropv' 'dropv6.txt'
        exit "$failures"
) || failures=$((failures + $?))

# -H completes host names (bash-completion's _known_hosts_real: /etc/hosts, ssh).
got=$(complete_line 'packetfilterctl -H localh')
if [[ " $got " == *' localhost '* ]]; then
        echo "ok: 'packetfilterctl -H localh' -> $got"
elif ! grep -qw localhost /etc/hosts; then
        echo "ok: no localhost in /etc/hosts, -H not checked"
else
        echo "FAIL: 'packetfilterctl -H localh' -> '$got', expected localhost among them"
        failures=$((failures + 1))
fi

if [ "$failures" != 0 ]; then
        echo "$failures completion(s) wrong"
        exit 1
fi
