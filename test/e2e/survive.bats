#!/usr/bin/env bats
# What the soak (test/soak) found, each as a test of its own: a 0-byte
# state, an empty Moodle answer during a conference, a full disk, a ping
# message deleted twice, hostile characters in names, a message a person
# deleted, damage ping would not see.

load common
load discord_helpers
load moodle_helpers

ROLE=987654321098765432

setup() {
	common_setup
	CFG="$T/config"
	STATE="$T/state/state.mdb"
	moodle_start sync
	start_discord --rate 1000/1
	config_at "$STATE"
	LFT=
	for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
		[ -r "$f" ] && { LFT=$f; break; }
	done
}

teardown() {
	if mountpoint -q "$T/small" 2>/dev/null; then umount "$T/small"; fi
	common_teardown
}

config_at() {
	write_config "$CFG" <<-EOF
	[moodle]
	url = $MOODLE_URL
	username = alice
	password = Alice-Sekr3t-pw

	[discord]
	webhook_url = $WEBHOOK_URL
	role_id = $ROLE
	ping_minutes = 5

	[state]
	path = $1
	EOF
}

mc() { run "$MOODLECORD" -c "$CFG" "$@"; }
# mc_at SECONDS ARGS...: moodlecord with its clock SECONDS ahead (libfaketime)
mc_at() {
	local off=$1
	shift
	[ -n "$LFT" ] || skip "libfaketime not installed (Debian package faketime)"
	# ASan wants to be first of the libraries; libfaketime is preloaded
	run env LD_PRELOAD="$LFT" FAKETIME="+$off" FAKETIME_DONT_FAKE_MONOTONIC=1 \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$MOODLECORD" -c "$CFG" "$@"
}
calls() { discord_log | jq '[.[] | select(.method != "GET")] | length'; }
# conference messages and ping messages of the cmid $1 in the channel
conf_msgs() { discord_channel | jq "[.[] | select((.embeds | length) > 0 and (.embeds[0].url | endswith(\"id=$1\")))] | length"; }
ping_msgs() { discord_channel | jq "[.[] | select(.content | startswith(\"<@&$ROLE>\")) | select(.content | contains(\"id=$1>\"))] | length"; }
ping_posts() { discord_log | jq "[.[] | select(.method == \"POST\" and .status == 200) | .body | fromjson | select(.content // \"\" | startswith(\"<@&$ROLE>\")) | select(.content | contains(\"id=$1>\"))] | length"; }

@test "a state file cut to 0 bytes is refused (74) with the hint to remove it; nothing posted" {
	mc sync
	[ "$status" -eq 0 ]
	n=$(calls)
	: >"$STATE"
	for verb in sync ping dump; do
		mc "$verb"
		[ "$status" -eq 74 ]
		[[ "$output" == *"$STATE"* ]]
		[[ "$output" == *"start afresh"* ]]
		[ ! -s "$STATE" ]
	done
	[ "$(calls)" -eq "$n" ]
}

@test "one empty Moodle answer keeps a started conference and its ping; never pinged twice" {
	moodle_edit '(.activities[] | select(.event == 501) | .start) = -60'
	mc sync
	[ "$status" -eq 0 ]
	mc ping
	[ "$status" -eq 0 ]
	[ "$(ping_posts 101)" -eq 1 ]
	# an enrolment glitch: no course, so no conference, for one sync
	moodle_edit '.courses[].users = []'
	mc sync
	[ "$status" -eq 0 ]
	[ "$(conf_msgs 101)" -eq 1 ]
	[ "$(ping_msgs 101)" -eq 1 ]
	moodle_edit '.courses[].users = [7]'
	mc sync
	[ "$status" -eq 0 ]
	mc ping
	[ "$status" -eq 0 ]
	[ "$(conf_msgs 101)" -eq 1 ]
	[ "$(ping_posts 101)" -eq 1 ]
	# missing from two syncs in a row: deleted with its ping, like one ahead
	moodle_edit '.courses[].users = []'
	mc sync
	mc sync
	[ "$(conf_msgs 101)" -eq 0 ]
	[ "$(ping_msgs 101)" -eq 0 ]
}

@test "a ping message deleted when its conference ended is not deleted again by sync" {
	moodle_edit '(.activities[] | select(.event == 501) | .start) = 240'
	mc sync
	mc ping
	[ "$(ping_msgs 101)" -eq 1 ]
	# 100 minutes on, the conference (90 minutes) is over: ping deletes its
	# ping message, then sync its conference message, and nothing twice
	mc_at 6000 ping
	[ "$status" -eq 0 ]
	[ "$(ping_msgs 101)" -eq 0 ]
	mc_at 6000 sync
	[ "$status" -eq 0 ]
	[ "$(conf_msgs 101)" -eq 0 ]
	[ "$(discord_log | jq '[.[] | select(.method == "DELETE" and .status == 404)] | length')" -eq 0 ]
}

@test "bidi controls and invisible format characters never reach Discord" {
	moodle_edit '(.activities[] | select(.event == 501) | .name) = "\u202egnp.exe\u202c Lecture \u2066x\u2069 \u200bzw\u200d \ufeffbom \u061c\u00ad end"'
	moodle_edit '(.activities[] | select(.event == 501) | .start) = 240'
	mc sync
	[ "$status" -eq 0 ]
	mc ping
	[ "$status" -eq 0 ]
	title=$(discord_channel | jq -r '.[] | select((.embeds | length) > 0) | .embeds[0].title' | grep gnp)
	[ "$title" = "gnp.exe Lecture x zw bom end" ]
	[[ "$(discord_channel | jq -r '.[] | .content' | grep gnp)" == *"gnp.exe Lecture x zw bom end"* ]]
	[ "$(discord_channel | jq '[.[] | (.content + (.embeds[0].title // "") + (.embeds[0].description // ""))
	    | test("[\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")] | any')" = false ]
}

@test "a message a person deleted in Discord comes back within a day of syncs, its conference unchanged" {
	mc sync
	[ "$status" -eq 0 ]
	total=$(discord_channel | jq length)
	id=$(discord_channel | jq -r '.[0].id')
	discord_admin "delete_message?id=$id"
	back=0
	for i in $(seq 1 48); do
		mc sync
		[ "$status" -eq 0 ]
		if [ "$(discord_channel | jq length)" -eq "$total" ]; then
			back=$i
			break
		fi
	done
	[ "$back" -gt 0 ]
	# found by a GET of the message, answered 404
	[ "$(discord_log | jq --arg id "$id" '[.[] | select(.method == "GET" and .status == 404 and (.path | endswith($id)))] | length')" -eq 1 ]
}

@test "a full disk costs at most one duplicate, and the error line keeps the message id" {
	mkdir -p "$T/small"
	mount -t tmpfs -o size=256k tmpfs "$T/small" 2>/dev/null || skip "cannot mount a tmpfs here"
	STATE="$T/small/state.mdb"
	config_at "$STATE"
	mc sync
	[ "$status" -eq 0 ]
	printf '%64s\n' '' >"$STATE.sync.lock"
	dd if=/dev/zero of="$T/small/filler" bs=4k 2>/dev/null || true
	# new conferences with long names: the state must grow for them
	long=$(printf 'Vorlesung %.0s' $(seq 1 40))
	moodle_edit '.activities += [range(0; 40) as $i |
	    {"module": "bigbluebuttonbn", "instance": (900 + $i), "cmid": (900 + $i), "course": 10,
	     "name": ($long + ($i | tostring)), "event": (9000 + $i), "start": (20000 + $i * 60)}]' \
	    --arg long "$long"
	told=""
	for i in 1 2 3 4; do
		mc sync
		[ "$status" -eq 74 ] || [ "$status" -eq 0 ]
		out=$output
		# a message the state does not know was told, id and all
		known=$("$MOODLECORD" -c "$CFG" dump --json | jq -r '.[] | .msg_id, .ping_id')
		for id in $(discord_channel | jq -r '.[].id'); do
			if ! grep -qx "$id" <<<"$known" && ! grep -qx "$id" <<<"$told"; then
				[[ "$out" == *"message $id was posted but not recorded"* ]] ||
					{ echo "run $i: $out"; false; }
				told="$told"$'\n'"$id"
			fi
		done
	done
	rm "$T/small/filler"
	mc sync
	[ "$status" -eq 0 ]
	# each new conference posted at most twice in all
	worst=$(discord_log | jq '[.[] | select(.method == "POST" and .status == 200) | .body | fromjson | .embeds[0].url // empty] | group_by(.) | map(length) | max')
	[ "$worst" -le 2 ]
	dups=$(discord_log | jq '[.[] | select(.method == "POST" and .status == 200) | .body | fromjson | .embeds[0].url // empty] | group_by(.) | map(length - 1) | add')
	[ "$dups" -le 1 ]
}

@test "ping refuses a state that sync refuses, damage outside its window included" {
	mc sync
	[ "$status" -eq 0 ]
	mc ping
	[ "$status" -eq 0 ]
	# Lecture 2 is 2 hours ahead, outside ping's window: break the JSON of
	# its stored record (the copy LMDB reads: older copies lie in free pages)
	cp "$STATE" "$T/good"
	for off in $(grep -obaF '"Lecture 2"' "$T/good" | cut -d: -f1); do
		cp "$T/good" "$STATE"
		printf 'X' | dd of="$STATE" bs=1 seek="$off" conv=notrunc 2>/dev/null
		mc dump
		[ "$status" -eq 74 ] && break
	done
	[ "$status" -eq 74 ]
	cp "$STATE" "$T/copy"
	mc sync
	[ "$status" -eq 74 ]
	n=$(calls)
	mc ping
	[ "$status" -eq 74 ]
	[[ "$output" == *"$STATE"* ]]
	[ "$(calls)" -eq "$n" ]
	cmp "$STATE" "$T/copy"
}
