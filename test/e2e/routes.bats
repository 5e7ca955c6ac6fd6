#!/usr/bin/env bats
# Routes: [route NAME] sections send each course's conferences through its
# own webhook (first route in file order whose courses hold the course,
# else [discord], else nowhere).  The real binary against the fake Moodle
# (scenario sync.json plus a course ART3) and a fake Discord with three
# webhooks, each its own channel and rate-limit bucket; every test checks
# what each channel holds at the end.

bats_require_minimum_version 1.5.0

load common
load discord_helpers
load moodle_helpers
load routes_helpers

setup() {
	common_setup
	CFG="$T/config"
	STATE="$T/state/state.mdb"
	moodle_start sync
	moodle_edit '.courses += [{"id": 12, "shortname": "ART3", "fullname": "Art", "users": [7]}]
	    | .activities += [{"module": "bigbluebuttonbn", "instance": 26, "cmid": 106, "course": 12,
	        "name": "Drawing", "event": 506, "start": 5000}]'
	cp "$T/moodle.json" "$T/moodle.base"
	routes_discord_start 1000/1
}
teardown() { common_teardown; }

# writes: the log of the calls that change the channels.
writes() { discord_log | jq '[.[] | select(.method != "GET")]'; }

# titles HOOK_ID: the conference titles in that webhook's channel, sorted.
titles() {
	discord_channel | jq -r --arg h "$1" '[.[] | select(.webhook_id == $h) | .embeds[0].title] | sort | join(",")'
}

@test "routes: first route in file order, [discord] for the rest; each message in its webhook's channel" {
	routes_config
	msync -v
	[ "$status" -eq 0 ]
	[ "$(titles "$MATH_ID")" = "Lecture 1,Lecture 2" ]
	[ "$(titles "$SCI_ID")" = "Lab 1" ]
	[ "$(titles "$WEBHOOK_ID")" = "Drawing" ]
	[ "$(discord_channel | jq -r --arg h "$MATH_ID" '[.[] | select(.webhook_id == $h) | .channel_id] | unique | join(",")')" = 333333333333333333 ]
	# dump shows each conference's route
	run "$MOODLECORD" -c "$CFG" dump
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *"ROUTE" ]]
	[[ "$output" == *"Lecture 1"*"math"* ]]
	[[ "$output" == *"Drawing"*"[discord]"* ]]
	[ "$("$MOODLECORD" -c "$CFG" dump --json | jq -r 'map({(.name): .route}) | add | [.["Lecture 1"], .["Lab 1"], .Drawing, .["Lecture 2"]] | join(",")')" = "math,sci,,math" ]
	# nothing changed: no call
	n=$(calls)
	msync
	[ "$status" -eq 0 ]
	[ "$(calls)" -eq "$n" ]
}

@test "routes: a course no route takes and no webhook in [discord]: not posted, --dry-run and check say so" {
	routes_config ""
	msync --dry-run
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 conference of courses no route takes: not posted"* ]]
	[ "$(calls)" -eq 0 ]
	msync
	[ "$status" -eq 0 ]
	[ "$(titles "$MATH_ID")" = "Lecture 1,Lecture 2" ]
	[ "$(titles "$SCI_ID")" = "Lab 1" ]
	[ "$(discord_channel | jq length)" -eq 3 ]
	run --separate-stderr "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 0 ]
	[[ "$output" == *"discord: route math: webhook $MATH_ID \"Moodle\" posts to channel 333333333333333333"* ]]
	[[ "$output" == *"discord: route sci: webhook $SCI_ID \"Moodle\" posts to channel 444444444444444444"* ]]
	[[ "$output" == *"route math: MATH1"* ]]
	[[ "$output" == *"route sci: PHYS2, MATH1"* ]]
	[[ "$output" == *"courses no route takes: ART3 (not posted: [discord] has no webhook)"* ]]
	[[ "$output" == *"Drawing"*"-> no route: not posted"* ]]
	[ "$(discord_channel | jq length)" -eq 3 ]
}

@test "routes: check warns of a route's course the account is not in, and it is no error" {
	routes_config "webhook_url = $WEBHOOK_URL" "MATH1, BIO9"
	run --separate-stderr "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"check: [route math] course 'BIO9' is none of the courses moodlecord reads"* ]]
	[[ "$output" == *"courses no route takes: ART3 (they go to [discord]'s webhook)"* ]]
}

@test "routes: a course moved to another route: deleted in the old channel, posted in the new" {
	routes_config
	msync
	[ "$status" -eq 0 ]
	[ "$(titles "$MATH_ID")" = "Lecture 1,Lecture 2" ]
	# MATH1 leaves route math: the next route holding it is sci
	routes_config "webhook_url = $WEBHOOK_URL" "BIO9"
	msync --dry-run
	[[ "$output" == *"move  "*"MATH1  Lecture 1  (its course goes to route sci now)"* ]]
	[[ "$output" == *"2 to move to another route"* ]]
	n=$(calls)
	msync -v
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 created, 0 edited, 0 deleted, 2 moved"* ]]
	[ "$(titles "$MATH_ID")" = "" ]
	[ "$(titles "$SCI_ID")" = "Lab 1,Lecture 1,Lecture 2" ]
	[ "$(titles "$WEBHOOK_ID")" = "Drawing" ]
	# two calls a move: a delete in the old channel, a post in the new
	[ "$(writes | jq -r ".[$n:] | map(.method + \" \" + (.path | split(\"/\")[4])) | join(\",\")")" = \
	  "DELETE $MATH_ID,POST $SCI_ID,DELETE $MATH_ID,POST $SCI_ID" ]
	[ "$("$MOODLECORD" -c "$CFG" dump --json | jq -r '[.[] | select(.course_short == "MATH1") | .route] | unique | join(",")')" = sci ]
	n=$(calls)
	msync
	[ "$(calls)" -eq "$n" ]
}

@test "routes: one route's webhook gone (10015): that route stops, the others are done, 78" {
	routes_config
	msync
	[ "$status" -eq 0 ]
	moodle_edit '(.activities[] | .name) |= . + " (new room)"'
	discord_admin "delete_webhook?id=$MATH_ID"
	n=$(calls)
	msync
	[ "$status" -eq 78 ]
	[[ "$stderr" == "moodlecord: sync: route math: "*"10015"* ]]
	# the other routes got their edits
	[ "$(titles "$SCI_ID")" = "Lab 1 (new room)" ]
	[ "$(titles "$WEBHOOK_ID")" = "Drawing (new room)" ]
	# one call only to the deleted webhook: never retried
	[ "$(writes | jq -r ".[$n:] | map(select(.status == 404)) | length")" -eq 1 ]
	# math's state kept: its edits still to do
	[ "$("$MOODLECORD" -c "$CFG" dump --json | jq -r '[.[] | select(.route == "math") | .name] | sort | join(",")')" = "Lecture 1,Lecture 2" ]
}

# --- crash safety across two routes ------------------------------------

crash_reset() {
	discord_admin reset
	rm -rf "$T/state"
	cp "$T/moodle.base" "$T/moodle.json.new" && mv "$T/moodle.json.new" "$T/moodle.json"
	routes_config
	msync
	[ "$status" -eq 0 ]
	# then: MATH1 moves to sci, a conference of sci renamed, one of
	# [discord] over
	routes_config "webhook_url = $WEBHOOK_URL" "BIO9"
	moodle_edit '(.activities[] | select(.event == 502) | .name) = "Lab 1 (online)"'
	moodle_edit '(.activities[] | select(.event == 506) | .start) = -6000'
}

@test "routes: crash at every call of a sync that moves, edits and deletes across two routes: the next run converges" {
	crash_reset
	# every call, look-ups included: a crash may come at any
	before=$(discord_stats | jq .calls)
	msync
	[ "$status" -eq 0 ]
	N=$(($(discord_stats | jq .calls) - before))
	echo "# $N calls to crash at"
	[ "$N" -ge 5 ]
	for mode in drop hold-before hold-after; do
		for k in $(seq 1 "$N"); do
			echo "# $mode at call $k of $N"
			crash_reset
			crash_run "$mode" "$k"
			msync
			[ "$status" -eq 0 ]
			[ "$(titles "$MATH_ID")" = "" ]
			# every conference once in sci; one duplicate at most (a post
			# whose answer was lost)
			have=$(discord_channel | jq -r --arg h "$SCI_ID" '[.[] | select(.webhook_id == $h) | .embeds[0].title] | sort | .[]')
			[ "$(printf '%s\n' "$have" | uniq | paste -sd,)" = "Lab 1 (online),Lecture 1,Lecture 2" ]
			[ "$(printf '%s\n' "$have" | wc -l)" -le 4 ]
			[ "$(titles "$WEBHOOK_ID")" = "" ]
			n=$(calls)
			msync
			[ "$(calls)" -eq "$n" ]
		done
	done
}
