#!/usr/bin/env bats
# Routes side by side (issue 15): each route's calls go through its own
# webhook and rate-limit bucket, so sync runs the routes at the same time,
# each route's calls in order and each call's result committed before
# that route's next call.  The real binary against the fake Moodle
# (scenario sync.json with more conferences) and a fake Discord with three
# webhooks, each its own channel and bucket; every test checks what each
# channel holds at the end, and the crash tests that a crash costs at most
# one duplicate per route.

bats_require_minimum_version 1.5.0

load common
load discord_helpers
load moodle_helpers
load routes_helpers

# The conferences each route posts, in order of start.
MATH_TITLES="Lecture 1,Lecture 2,Lecture 3,Lecture 4"
SCI_TITLES="Lab 1,Lab 2,Lab 3,Lab 4"

setup() {
	common_setup
	CFG="$T/config"
	STATE="$T/state/state.mdb"
	moodle_start sync
	# MATH1 (course 10) to route math, PHYS2 (11) to route sci, ART3
	# (12) to [discord]; every conference of math starts before those of
	# [discord], and those before sci's: the plan, in order of start, is
	# one block of calls per route
	moodle_edit '.courses += [{"id": 12, "shortname": "ART3", "fullname": "Art", "users": [7]}]
	    | .activities |= map(select(.module == "bigbluebuttonbn"))
	    | (.activities[] | select(.event == 502) | .start) = 9000
	    | .activities += [
	        {"module": "bigbluebuttonbn", "instance": 24, "cmid": 104, "course": 10,
	         "name": "Lecture 3", "event": 504, "start": 7300},
	        {"module": "bigbluebuttonbn", "instance": 25, "cmid": 105, "course": 10,
	         "name": "Lecture 4", "event": 505, "start": 7400},
	        {"module": "bigbluebuttonbn", "instance": 26, "cmid": 106, "course": 12,
	         "name": "Drawing", "event": 506, "start": 8000},
	        {"module": "bigbluebuttonbn", "instance": 27, "cmid": 107, "course": 11,
	         "name": "Lab 2", "event": 507, "start": 9100},
	        {"module": "bigbluebuttonbn", "instance": 28, "cmid": 108, "course": 11,
	         "name": "Lab 3", "event": 508, "start": 9200},
	        {"module": "bigbluebuttonbn", "instance": 29, "cmid": 109, "course": 11,
	         "name": "Lab 4", "event": 509, "start": 9300}]'
}
teardown() { common_teardown; }

# discord_start RATE: the fake Discord with three webhooks, each its own
# channel and a bucket of RATE (N/SECONDS), and the config.
discord_start() {
	routes_discord_start "$1"
	routes_config "webhook_url = $WEBHOOK_URL" MATH1 PHYS2
}

# posted HOOK_ID: the titles of the posts of that webhook in the log, in
# the order they were made.
posted() {
	discord_log | jq -r --arg h "$1" '[.[] | select(.method == "POST" and (.path | split("/")[4]) == $h)
	    | .body | fromjson | .embeds[0].title] | join(",")'
}

# have HOOK_ID: that webhook's channel, titles sorted, one per line.
have() {
	discord_channel | jq -r --arg h "$1" '[.[] | select(.webhook_id == $h) | .embeds[0].title] | sort | .[]'
}

# converged HOOK_ID TITLES: the channel holds every one of TITLES (sorted,
# comma-separated) and at most one duplicate: the post in flight of that
# route when the run died, whose answer was lost.
converged() {
	local got
	got=$(have "$1")
	echo "channel of $1: $(printf '%s\n' "$got" | paste -sd,)"
	[ "$(printf '%s\n' "$got" | uniq | paste -sd,)" = "$2" ]
	[ "$(printf '%s\n' "$got" | wc -l)" -le $(($(echo "$2" | tr ',' '\n' | wc -l) + 1)) ]
}

# all_converged: every route's channel as it should be, and a sync after
# it makes no call.
all_converged() {
	converged "$MATH_ID" "$MATH_TITLES"
	converged "$SCI_ID" "$SCI_TITLES"
	converged "$WEBHOOK_ID" "Drawing"
	local n
	n=$(calls)
	msync
	[ "$status" -eq 0 ]
	[ "$(calls)" -eq "$n" ]
}

@test "routes side by side: one route's call held, the others' calls go on; each route's calls in order, 0 x 429" {
	discord_start 3/0.3
	# the first call, whichever route makes it, is held: a sync that
	# applied the routes one after the other would make no other call
	discord_admin "hold?next=1&stage=before"
	"$MOODLECORD" -c "$CFG" -q sync >"$T/out" 2>&1 &
	pid=$!
	discord_wait_held
	held=$(discord_stats | jq .held)
	[ "$held" -eq 1 ]
	# while call 1 is held, the two other routes post theirs (5 calls:
	# one route has 4 conferences, the other the 1 of [discord] or 4)
	for i in $(seq 1 250); do
		[ "$(discord_log | jq length)" -ge 5 ] && break
		sleep 0.02
	done
	log=$(discord_log)
	echo "made while call 1 was held: $(echo "$log" | jq -c '[.[] | .path | split("/")[4]]')"
	[ "$(echo "$log" | jq length)" -ge 5 ]
	[ "$(discord_stats | jq .held)" -eq 1 ]
	# two webhooks went on while the third waits
	[ "$(echo "$log" | jq '[.[] | .path | split("/")[4]] | unique | length')" -eq 2 ]
	discord_admin release
	wait "$pid"
	cat "$T/out"
	# each route's posts in the order of their starts
	[ "$(posted "$MATH_ID")" = "$MATH_TITLES" ]
	[ "$(posted "$SCI_ID")" = "$SCI_TITLES" ]
	[ "$(posted "$WEBHOOK_ID")" = "Drawing" ]
	# each route paced by its own bucket: no 429
	[ "$(discord_stats | jq .ratelimited)" -eq 0 ]
	all_converged
	# each message in its own webhook's channel, once
	[ "$(discord_channel | jq -r --arg h "$SCI_ID" '[.[] | select(.webhook_id == $h) | .channel_id] | unique | join(",")')" = 444444444444444444 ]
	[ "$(discord_channel | jq length)" -eq 9 ]
}

@test "routes side by side: calls of different webhooks overlap in time, each route's in order" {
	# 2 calls per 0.5 s a webhook: 4 posts take a route 0.5 s at least;
	# the routes one after the other, in plan order, would leave each
	# route's calls in one block of the log: 3 blocks
	discord_start 2/0.5
	msync -v
	[ "$status" -eq 0 ]
	[[ "$output" == *"9 created, 0 edited, 0 deleted"* ]]
	hooks=$(discord_log | jq -r '[.[] | select(.method == "POST") | .path | split("/")[4]] | join(" ")')
	echo "webhooks in log order: $hooks"
	# more blocks than routes: the routes' calls interleave
	blocks=$(echo "$hooks" | tr ' ' '\n' | uniq | wc -l)
	[ "$blocks" -gt 3 ]
	[ "$(posted "$MATH_ID")" = "$MATH_TITLES" ]
	[ "$(posted "$SCI_ID")" = "$SCI_TITLES" ]
	[ "$(discord_stats | jq .ratelimited)" -eq 0 ]
	all_converged
}

@test "routes side by side: two routes swap their courses: moves both ways at once, each channel right" {
	discord_start 3/0.3
	msync
	[ "$status" -eq 0 ]
	routes_config "webhook_url = $WEBHOOK_URL" PHYS2 MATH1
	n=$(calls)
	# each move holds the turns of both its routes: the two routes'
	# moves, the opposite ways, must not wait for each other for ever
	run --separate-stderr timeout 30 "$MOODLECORD" -c "$CFG" -v sync
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 created, 0 edited, 0 deleted, 8 moved"* ]]
	[ "$(have "$MATH_ID" | paste -sd,)" = "$SCI_TITLES" ]
	[ "$(have "$SCI_ID" | paste -sd,)" = "$MATH_TITLES" ]
	# 16 calls: a delete in the old channel and a post in the new a move,
	# the post right after its delete
	[ "$(($(calls) - n))" -eq 16 ]
	discord_log | jq -r --argjson n "$n" '[.[] | select(.method != "GET")] | .[$n:] | .[] | .method' \
	    | paste -sd' ' | grep -qx '\(DELETE POST \)*DELETE POST'
	[ "$(discord_stats | jq .ratelimited)" -eq 0 ]
	n=$(calls)
	msync
	[ "$status" -eq 0 ]
	[ "$(calls)" -eq "$n" ]
}

# --- crash safety across routes side by side ------------------------------

crash_reset() {
	discord_admin reset
	rm -rf "$T/state"
}

@test "routes side by side: crash at every call of a first sync across three routes: the next run converges, one duplicate per route at most" {
	discord_start 1000/1
	msync
	[ "$status" -eq 0 ]
	N=$(discord_stats | jq .calls)
	echo "# $N calls to crash at"
	[ "$N" -eq 9 ]
	for mode in drop hold-before hold-after; do
		for k in $(seq 1 "$N"); do
			echo "# $mode at call $k of $N"
			crash_reset
			crash_run "$mode" "$k"
			msync
			[ "$status" -eq 0 ]
			all_converged
		done
	done
}

@test "routes side by side: kill -9 in the middle of a multi-route sync, then a sync converges, one duplicate per route at most" {
	# slow buckets (1 call per 0.3 s): the kill finds the routes at work
	discord_start 1/0.3
	for at in 1 3 5 7; do
		echo "# kill after $at calls"
		crash_reset
		"$MOODLECORD" -c "$CFG" -q sync &
		pid=$!
		for i in $(seq 1 500); do
			[ "$(discord_stats | jq .calls)" -ge "$at" ] && break
			sleep 0.01
		done
		kill -KILL "$pid"
		wait "$pid" || true
		echo "# killed after $(discord_stats | jq .calls) calls"
		msync
		[ "$status" -eq 0 ]
		all_converged
	done
}
