#!/usr/bin/env bats
# The upgrade from a state written by moodlecord 0.1.0 (schema 1): the
# committed fixture test/fixtures/state-v1 (its README says how it was
# made), the fake Moodle on the same scenario and time, the fake Discord
# holding the messages the state refers to.  The first run of this
# release upgrades the file in place; nothing is lost and nothing posted
# twice.  The clock of each run is the fixture's (libfaketime).

load common
load discord_helpers

V1="$FIXTURES/state-v1"
LIBFAKETIME=
for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
	[ -e "$f" ] && LIBFAKETIME=$f && break
done

setup() {
	[ -n "$LIBFAKETIME" ] || skip "libfaketime is not installed (make deps installs faketime)"
	common_setup
	STATE="$T/state/state.mdb"
	mkdir -p "$T/state"
	cp "$V1/state.mdb" "$STATE"
	chmod 600 "$STATE"
	start_fake fake_moodle MOODLE_PORT --scenario "$V1/moodle.json"
	start_discord --rate 1000/1
	# the fixture's webhook id, and the messages its state refers to
	curl -sf -X POST --data-binary @"$V1/channel.json" "http://127.0.0.1:$DISCORD_PORT/_fake/load" >/dev/null
	CFG="$T/config"
	write_config "$CFG" <<-EOF
	[moodle]
	url = http://127.0.0.1:$MOODLE_PORT
	username = student1
	password = demo-password
	[discord]
	webhook_url = $WEBHOOK_URL
	role_id = 222222222222222222
	ping_minutes = 5
	[state]
	path = $STATE
	EOF
}
teardown() { common_teardown; }

# at TIME VERB...: a run at TIME (UTC) of the fixture's day.
at() {
	local when=$1
	shift
	run env LD_PRELOAD="$LIBFAKETIME" FAKETIME="@2026-12-01 $when" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    "$MOODLECORD" -c "$CFG" "$@"
	echo "$*: status $status: $output"
}

ids() { discord_channel | jq -r '[.[].id] | sort | join(",")'; }

@test "upgrade: dump of a schema-1 state says to run sync, and writes nothing" {
	sum=$(cksum <"$STATE")
	at 12:01:30 dump
	[ "$status" -eq 74 ]
	[[ "$output" == *"was written by an older moodlecord (schema 1): run \`moodlecord sync\` once to upgrade it"* ]]
	[ "$(cksum <"$STATE")" = "$sum" ]
}

@test "upgrade: a ping run first upgrades in place; the ping sent is not sent again" {
	before=$(ids)
	at 12:02:00 -v ping
	[ "$status" -eq 0 ]
	[ "$output" = "ping: nothing to do" ]
	[ "$(discord_stats | jq .calls)" -eq 0 ]
	at 12:06:00 ping
	[ "$(discord_stats | jq .calls)" -eq 0 ]
	at 12:02:00 dump --json
	[ "$(jq -r '.[] | "\(.id) \(.msg_id) \(.ping) \(.ping_id) \(.ping_offset)"' <<<"$output" | paste -sd,)" = \
	  "101 1576781712224944128 sent 1576781712338190336 3,102 1576781712233332736 none  0,103 1576781712237527040 none  0,104 1576781712241721344 none  0" ]
	# the ping message is deleted once the conference is over, as before
	at 13:35:00 -v ping
	[ "$status" -eq 0 ]
	[ "$output" = "deleted ping: Weekly seminar: reading group" ]
	[ "$(discord_log | jq -r '[.[] | .method + " " + (.path | split("/") | last)] | join(",")')" = \
	  "DELETE 1576781712338190336" ]
	[ "$(ids)" = "$(printf '%s\n' "$before" | tr ',' '\n' | grep -v 1576781712338190336 | paste -sd,)" ]
}

# The fixture was made against a fake Moodle on another port, which the
# state records as its site: rewritten to this run's at the LMDB level
# (the schema-1 file otherwise as shipped).
same_site() {
	mdb_dump -n -a -p "$STATE" |
	    awk -v url="http://127.0.0.1:$MOODLE_PORT" 'prev == " site" { $0 = " " url } { print; prev = $0 }' \
	    >"$T/v1.dump"
	rm -f "$STATE"
	mdb_load -n -f "$T/v1.dump" "$STATE"
}

@test "upgrade: the first sync keeps every message: edits (the links name this run's port), no post" {
	same_site
	before=$(ids)
	at 12:02:00 -v sync
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 created, 4 edited, 0 deleted"* ]]
	[ "$(discord_log | jq -r '[.[] | .method] | unique | join(",")')" = "PATCH" ]
	[ "$(ids)" = "$before" ]
	[ "$(discord_channel | jq -r '[.[] | select(.embeds | length > 0) | .embeds[0].url] | map(test(":'"$MOODLE_PORT"'/")) | all')" = true ]
	at 12:02:30 -v sync
	[[ "$output" == *"0 created, 0 edited, 0 deleted"* ]]
	at 12:02:40 ping
	# the four edits; the second sync's look-ups (GET) change nothing
	[ "$(discord_log | jq '[.[] | select(.method != "GET")] | length')" -eq 4 ]
}

@test "upgrade: release 0.1.0 refuses the upgraded file (74) and leaves it as it is" {
	v1="$(dirname "$MOODLECORD")/../v1/moodlecord"
	[ -x "$v1" ] || skip "release 0.1.0 is not built (make build/v1/moodlecord)"
	at 12:02:00 ping
	[ "$status" -eq 0 ]
	sum=$(cksum <"$STATE")
	run "$v1" -c "$CFG" dump
	[ "$status" -eq 74 ]
	[ "$output" = "moodlecord: dump: state file $STATE was written by a newer moodlecord (schema 2; this one knows 1): upgrade moodlecord" ]
	run env LD_PRELOAD="$LIBFAKETIME" FAKETIME="@2026-12-01 12:02:00" "$v1" -c "$CFG" sync
	[ "$status" -eq 74 ]
	[ "$(cksum <"$STATE")" = "$sum" ]
	[ "$(discord_stats | jq .calls)" -eq 0 ]
}
