#!/bin/sh
# make demo: moodlecord against the fake Moodle and the fake Discord on
# loopback.  Usage: test/demo.sh BUILD_DIR (e.g. build/plain); $MOODLECORD
# and $FAKES, when set, name the binary and the fakes' directory instead.
# Never touches the internet: both fakes listen on 127.0.0.1 only, and the
# config names nothing else.
set -u
b=${1:-build/plain}
top=$(cd "$(dirname "$0")/.." && pwd)
case $b in /*) ;; *) b="$top/$b" ;; esac
mc=${MOODLECORD:-$b/moodlecord}
fakes=${FAKES:-$b/fakes}
role=222222222222222222
hook=123456789012345678

for tool in jq curl; do
	command -v "$tool" >/dev/null || { echo "demo: needs $tool (make deps installs it)" >&2; exit 69; }
done
for f in "$mc" "$fakes/fake_moodle" "$fakes/fake_discord"; do
	[ -x "$f" ] || { echo "demo: $f is missing; run make demo" >&2; exit 69; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/moodlecord-demo.XXXXXX")
pids=""
cleanup() {
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME ARGS...: start a fake, wait for its port file, print the port.
start() {
	name=$1
	shift
	"$fakes/$name" --port-file "$tmp/$name.port" "$@" >"$tmp/$name.out" 2>&1 &
	pids="$pids $!"
	i=0
	while [ ! -s "$tmp/$name.port" ] && [ $i -lt 250 ]; do
		sleep 0.02
		i=$((i + 1))
	done
	[ -s "$tmp/$name.port" ] || { echo "demo: $name did not start:" >&2; cat "$tmp/$name.out" >&2; exit 69; }
}

cp "$top/test/fixtures/fake-moodle/demo.json" "$tmp/moodle.json"
start fake_moodle --scenario "$tmp/moodle.json"
start fake_discord --webhook "$hook/demo-Webhook-token"
mport=$(cat "$tmp/fake_moodle.port")
dport=$(cat "$tmp/fake_discord.port")

umask 077
cat >"$tmp/config" <<EOF
; the demo: a fake Moodle and a fake Discord on loopback
[moodle]
url = http://127.0.0.1:$mport
username = student1
password = demo-password

[discord]
webhook_url = http://127.0.0.1:$dport/api/v10/webhooks/$hook/demo-Webhook-token
role_id = $role
ping_minutes = 5

[state]
path = $tmp/state/state.mdb
EOF
chmod 600 "$tmp/config"

# The demo's environment only: no config or override of the user's, and
# no proxy between us and loopback.
export no_proxy="127.0.0.1,localhost" NO_PROXY="127.0.0.1,localhost"
unset MOODLECORD_CONFIG
for v in $(env | sed -n 's/^\(MOODLECORD_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done

failed=0
step() {
	echo
	echo "\$ moodlecord $*"
	"$mc" -c "$tmp/config" "$@"
	rc=$?
	[ $rc -eq 0 ] || { echo "(exit status $rc)"; failed=1; }
}

echo "fake Moodle on 127.0.0.1:$mport (two courses, four conferences, one in 4 minutes)"
echo "fake Discord on 127.0.0.1:$dport"
step check
step sync --dry-run
step -v sync
step -v ping
step dump

echo
echo "The Discord channel, as a person reads it (times in local time):"
echo
curl -sf "http://127.0.0.1:$dport/_fake/channel" | jq -r --argjson now "$(date +%s)" --arg role "$role" '
	def ago(t): ((t - $now) / 60 | round) as $m
	    | (if $m < 0 then -$m else $m end) as $a
	    | (if $a < 90 then "\($a) minute\(if $a == 1 then "" else "s" end)"
	       elif $a < 2880 then "\($a / 60 | round) hours"
	       else "\($a / 1440 | round) days" end) as $d
	    | if $m < 0 then "\($d) ago" else "in \($d)" end;
	def shown: gsub("<t:(?<t>[0-9]+):F>"; (.t | tonumber | strflocaltime("%A %-d %B %Y %H:%M")))
	    | gsub("<t:(?<t>[0-9]+):R>"; ago(.t | tonumber))
	    | gsub("<@&" + $role + ">"; "@Students")
	    | gsub("\\*\\*"; "")
	    | gsub("\\\\(?<c>.)"; .c)
	    | gsub("<(?<u>https?://[^>]*)>"; .u);
	.[] | "  \(.author.username), posted \(.timestamp[0:19] + "Z" | fromdateiso8601 | strflocaltime("%H:%M"))",
	    (if (.content // "") != "" then "  | " + (.content | shown) else empty end),
	    (.embeds[] | "  | \(.title)", "  | \(.url)", (.description | shown | split("\n")[] | "  | " + .), "  | \(.footer.text)"),
	    ""'

if [ $failed -ne 0 ]; then
	echo "demo: a step failed (see above)" >&2
	exit 1
fi
echo "(fakes stopped, $tmp removed)"
