#!/usr/bin/env bats
# Forum channels and quiet posts: the real binary against the fake Moodle
# (sync.json) and a fake Discord whose webhooks post into a forum (one
# that requires a tag) or a text channel.  Every test checks what the
# fake holds at the end: its channel and its forum posts (threads).

bats_require_minimum_version 1.5.0

load common
load discord_helpers
load moodle_helpers

PW=Alice-Sekr3t-pw
ROLE=987654321098765432
FORUM_ID=323456789012345678
FORUM_TOKEN=Forum-Hook_token.abc
TAGGED_ID=423456789012345678
TAGGED_TOKEN=Tagged-Hook_token.def
TAG=555555555555555555

setup() {
	common_setup
	CFG="$T/config"
	STATE="$T/state/state.mdb"
	moodle_start sync
	start_discord --rate 1000/1 --webhook "$FORUM_ID/$FORUM_TOKEN" --webhook "$TAGGED_ID/$TAGGED_TOKEN" \
	    --forum "$FORUM_ID" --forum "$TAGGED_ID,required" --hook-channel "$FORUM_ID/333333333333333333" \
	    --hook-channel "$TAGGED_ID/444444444444444444"
	FORUM_URL="http://127.0.0.1:$DISCORD_PORT/api/v10/webhooks/$FORUM_ID/$FORUM_TOKEN"
	TAGGED_URL="http://127.0.0.1:$DISCORD_PORT/api/v10/webhooks/$TAGGED_ID/$TAGGED_TOKEN"
}
teardown() { common_teardown; }

# forum_config WEBHOOK_URL [MORE [DISCORD] LINES]
forum_config() {
	write_config "$CFG" <<-EOF
	[moodle]
	url = $MOODLE_URL
	username = alice
	password = $PW
	[discord]
	webhook_url = $1
	role_id = $ROLE
	ping_minutes = 40
	${2:-}
	[state]
	path = $STATE
	[http]
	connect_timeout = 2
	timeout = 3
	EOF
}

msync() {
	run --separate-stderr "$MOODLECORD" -c "$CFG" "$@" sync
	echo "sync: status $status"
	echo "stdout: $output"
	echo "stderr: $stderr"
	[[ "$output$stderr" != *"$FORUM_TOKEN"* ]]
	[[ "$output$stderr" != *"$TAGGED_TOKEN"* ]]
}

threads() { curl -sf "http://127.0.0.1:$DISCORD_PORT/_fake/threads"; }
# The calls that change the channels: each sync also looks up (GET) a
# few standing messages, counted apart.
calls() { discord_log | jq '[.[] | select(.method != "GET")] | length'; }
# writes: the log of the calls that change the channels.
writes() { discord_log | jq '[.[] | select(.method != "GET")]'; }

@test "silent: conference posts carry SUPPRESS_NOTIFICATIONS; reminders never do" {
	forum_config "$WEBHOOK_URL" "silent = yes"
	msync
	[ "$status" -eq 0 ]
	[ "$(discord_channel | jq -c '[.[].flags] | unique')" = "[4096]" ]
	[ "$(writes | jq -r '[.[] | .body | fromjson | .flags] | unique | join(",")')" = 4096 ]
	# Lecture 1 starts in 30 minutes: its reminder (40 minutes) is due
	run "$MOODLECORD" -c "$CFG" ping
	[ "$status" -eq 0 ]
	[ "$(discord_channel | jq -c '[.[] | select(.content != "") | [.flags, .mention_roles]]')" = "[[0,[\"$ROLE\"]]]" ]
	[ "$(writes | jq -r '.[-1].body | fromjson | has("flags")')" = false ]
	# an edit carries no flags (Discord keeps the post's)
	moodle_edit '(.activities[] | select(.event == 502) | .name) = "Lab 1 (online)"'
	msync
	[ "$(writes | jq -r '.[-1].method + " " + (.[-1].body | fromjson | has("flags") | tostring)')" = "PATCH false" ]
	[ "$(discord_channel | jq -r '.[] | select(.embeds[0].title == "Lab 1 (online)") | .flags')" = 4096 ]
}

@test "silent is no by default: no flags at all" {
	forum_config "$WEBHOOK_URL"
	msync
	[ "$status" -eq 0 ]
	[ "$(writes | jq -r '[.[] | .body | fromjson | has("flags")] | any')" = false ]
}

@test "forum: a post per conference named COURSE · NAME, the reminder in its thread, edits with thread_id" {
	forum_config "$FORUM_URL" "forum = yes"
	msync
	[ "$status" -eq 0 ]
	[ "$(threads | jq -r '[.[] | .name] | sort | join(",")')" = "MATH1 · Lecture 1,MATH1 · Lecture 2,PHYS2 · Lab 1" ]
	# a thread's id is its first message's; that message is in it
	[ "$(threads | jq -r '[.[] | .id == .messages[0]] | all')" = true ]
	[ "$(threads | jq -r '[.[] | .parent_id] | unique | join(",")')" = 333333333333333333 ]
	[ "$("$MOODLECORD" -c "$CFG" dump --json | jq -r '[.[] | .thread_id == .msg_id] | all')" = true ]
	# the reminder goes into the conference's post
	run "$MOODLECORD" -c "$CFG" ping
	[ "$status" -eq 0 ]
	lecture1=$(threads | jq -r '.[] | select(.name == "MATH1 · Lecture 1") | .id')
	[ "$(threads | jq -r --arg t "$lecture1" '.[] | select(.id == $t) | .messages | length')" -eq 2 ]
	[ "$(writes | jq -r '.[-1].query')" = "wait=true&thread_id=$lecture1" ]
	# an edit carries thread_id
	moodle_edit '(.activities[] | select(.event == 501) | .name) = "Lecture 1 (room 2)"'
	msync
	[ "$status" -eq 0 ]
	[ "$(writes | jq -r '.[-1].method + " " + .[-1].query')" = "PATCH thread_id=$lecture1" ]
	[ "$(discord_channel | jq -r --arg t "$lecture1" '.[] | select(.id == $t) | .embeds[0].title')" = "Lecture 1 (room 2)" ]
	n=$(calls)
	msync
	[ "$(calls)" -eq "$n" ]
}

@test "forum: an ended conference's post is edited to say so, its reminder deleted, the thread kept" {
	forum_config "$FORUM_URL" "forum = yes"
	msync
	"$MOODLECORD" -c "$CFG" ping
	lecture1=$(threads | jq -r '.[] | select(.name == "MATH1 · Lecture 1") | .id')
	lab1=$(threads | jq -r '.[] | select(.name == "PHYS2 · Lab 1") | .id')
	# Lecture 1 is over; Lab 1 is gone from Moodle twice (cancelled)
	moodle_edit '(.activities[] | select(.event == 501) | .start) = -6000'
	moodle_edit 'del(.activities[] | select(.event == 502))'
	msync
	msync -v
	[ "$status" -eq 0 ]
	[ "$(threads | jq length)" -eq 3 ]
	# no message deleted but the reminder
	[ "$(writes | jq -r '[.[] | select(.method == "DELETE") | .query] | join(",")')" = "thread_id=$lecture1" ]
	[[ "$(discord_channel | jq -r --arg t "$lecture1" '.[] | select(.id == $t) | .embeds[0].description')" == "**Ended**"* ]]
	[[ "$(discord_channel | jq -r --arg t "$lab1" '.[] | select(.id == $t) | .embeds[0].description')" == "**Cancelled**"* ]]
	[ "$(threads | jq -r --arg t "$lecture1" '.[] | select(.id == $t) | .messages | length')" -eq 1 ]
	[ "$("$MOODLECORD" -c "$CFG" dump --json | jq -r '[.[] | .name] | join(",")')" = "Lecture 2" ]
}

@test "forum: a forum that requires a tag: 78 at the first post with the hint; with tags, posted tagged" {
	forum_config "$TAGGED_URL" "forum = yes"
	msync
	[ "$status" -eq 78 ]
	[[ "$stderr" == *"this forum requires a tag on each post: set tags"*"40067"* ]]
	[ "$(calls)" -eq 1 ]
	msync
	[ "$status" -eq 78 ]
	[ "$(calls)" -eq 2 ]
	forum_config "$TAGGED_URL" "forum = yes
tags = $TAG"
	msync
	[ "$status" -eq 0 ]
	[ "$(threads | jq -r "[.[] | .applied_tags == [\"$TAG\"]] | all")" = true ]
	[ "$(threads | jq length)" -eq 3 ]
}

@test "forum: a forum's webhook without forum = yes (220001): 78 at the first post, one call a run" {
	forum_config "$FORUM_URL"
	msync
	[ "$status" -eq 78 ]
	[[ "$stderr" == "moodlecord: sync: "*"this webhook posts to a forum channel: set forum = yes"* ]]
	[ "$(calls)" -eq 1 ]
	msync
	[ "$status" -eq 78 ]
	[ "$(calls)" -eq 2 ]
	[ "$(discord_channel | jq length)" -eq 0 ]
}

@test "forum: forum = yes on a text channel (220003): 78 at the first post with the opposite hint" {
	forum_config "$WEBHOOK_URL" "forum = yes"
	msync
	[ "$status" -eq 78 ]
	[[ "$stderr" == *"this webhook posts to a text channel, not a forum: remove forum = yes"* ]]
	[ "$(calls)" -eq 1 ]
	[ "$(discord_channel | jq length)" -eq 0 ]
}

@test "forum = yes with a thread_id: a config error before any call" {
	forum_config "$FORUM_URL" "forum = yes
thread_id = 666666666666666666"
	msync
	[ "$status" -eq 78 ]
	[[ "$stderr" == *"[discord] forum: forum = yes makes a post per conference: remove thread_id"* ]]
	[ ! -s "$T/moodle.log" ]
	[ "$(calls)" -eq 0 ]
}
