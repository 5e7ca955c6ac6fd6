#!/usr/bin/env bats
# The fake Discord's forum channels, message flags and webhooks of several
# channels (test/fakes/fake_discord.c, "forum channels"): it must answer as
# Discord does before moodlecord's forum and route code is tested on it.
# curl plays the client.

# bats file_tags=fake-selftest

load common
load discord_helpers

FORUM_ID=323456789012345678
FORUM_TOKEN=Forum-Hook_token.abc
TAGGED_ID=423456789012345678
TAGGED_TOKEN=Tagged-Hook_token.def
FORUM_CHANNEL=333333333333333333
TEXT_CHANNEL=444444444444444444

setup() {
	common_setup
	start_discord --rate 1000/1 --webhook "$FORUM_ID/$FORUM_TOKEN" --webhook "$TAGGED_ID/$TAGGED_TOKEN" \
	    --forum "$FORUM_ID" --forum "$TAGGED_ID,required" \
	    --hook-channel "$FORUM_ID/$FORUM_CHANNEL" --hook-channel "$WEBHOOK_ID/$TEXT_CHANNEL"
	FORUM="http://127.0.0.1:$DISCORD_PORT/api/v10/webhooks/$FORUM_ID/$FORUM_TOKEN"
	TAGGED="http://127.0.0.1:$DISCORD_PORT/api/v10/webhooks/$TAGGED_ID/$TAGGED_TOKEN"
}
teardown() { common_teardown; }

# call METHOD URL [BODY]: prints "STATUS BODY".
call() {
	curl -s -o "$T/r" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
	    ${3:+--data-binary "$3"} "$2"
	printf ' '
	cat "$T/r"
}
code() { jq -r .code <<<"${output#* }"; }
msg='"content":"hi","allowed_mentions":{"parse":[]}'

@test "fake forum: a post needs thread_name or thread_id (220001), not both (220002)" {
	run call POST "$FORUM?wait=true" "{$msg}"
	[[ "$output" == "400 "* ]]
	[ "$(code)" = 220001 ]
	[ "$(jq -r .message <<<"${output#* }")" = "Webhooks posted to forum channels must have a thread_name or thread_id" ]
	run call POST "$FORUM?wait=true" "{$msg,\"thread_name\":\"RM101 · Seminar\"}"
	[[ "$output" == "200 "* ]]
	tid=$(jq -r .id <<<"${output#* }")
	run call POST "$FORUM?wait=true&thread_id=$tid" "{$msg,\"thread_name\":\"again\"}"
	[ "$(code)" = 220002 ]
	[ "$(discord_channel | jq length)" -eq 1 ]
}

@test "fake forum: a new post is a thread with its first message's id; replies, edits and deletes need thread_id" {
	run call POST "$FORUM?wait=true" "{$msg,\"thread_name\":\"RM101 · Seminar\",\"applied_tags\":[\"555555555555555555\"]}"
	[[ "$output" == "200 "* ]]
	first=$(jq -r .id <<<"${output#* }")
	[ "$(jq -r .channel_id <<<"${output#* }")" = "$first" ]
	run call POST "$FORUM?wait=true&thread_id=$first" "{$msg}"
	[[ "$output" == "200 "* ]]
	reply=$(jq -r .id <<<"${output#* }")
	[ "$(jq -r .channel_id <<<"${output#* }")" = "$first" ]
	threads=$(curl -sf "http://127.0.0.1:$DISCORD_PORT/_fake/threads")
	[ "$(jq -c '[.[] | [.id, .parent_id, .webhook_id, .name, .applied_tags, .messages]]' <<<"$threads")" = \
	  "[[\"$first\",\"$FORUM_CHANNEL\",\"$FORUM_ID\",\"RM101 · Seminar\",[\"555555555555555555\"],[\"$first\",\"$reply\"]]]" ]
	# Without thread_id the thread's messages are unknown.
	run call PATCH "$FORUM/messages/$first" "{\"content\":\"ended\",\"allowed_mentions\":{\"parse\":[]}}"
	[[ "$output" == "404 "* ]]
	[ "$(code)" = 10008 ]
	run call DELETE "$FORUM/messages/$reply"
	[ "$(code)" = 10008 ]
	run call PATCH "$FORUM/messages/$first?thread_id=$first" "{\"content\":\"ended\",\"allowed_mentions\":{\"parse\":[]}}"
	[[ "$output" == "200 "* ]]
	run call DELETE "$FORUM/messages/$reply?thread_id=$first"
	[[ "$output" == "204 "* ]]
	# Deleting the first message leaves the thread.
	run call DELETE "$FORUM/messages/$first?thread_id=$first"
	[[ "$output" == "204 "* ]]
	[ "$(curl -sf "http://127.0.0.1:$DISCORD_PORT/_fake/threads" | jq -c '[.[] | [.id, .messages]]')" = "[[\"$first\",[]]]" ]
	# A post into a thread that is not one of this forum's.
	run call POST "$FORUM?wait=true&thread_id=999999999999999999" "{$msg}"
	[[ "$output" == "404 "* ]]
	[ "$(code)" = 10003 ]
}

@test "fake forum: thread_name to a text channel is 220003; a forum that requires a tag is 40067 without one" {
	run call POST "$WEBHOOK_URL?wait=true" "{$msg,\"thread_name\":\"x\"}"
	[[ "$output" == "400 "* ]]
	[ "$(code)" = 220003 ]
	[ "$(jq -r .message <<<"${output#* }")" = "Webhooks can only create threads in forum channels" ]
	run call POST "$TAGGED?wait=true" "{$msg,\"thread_name\":\"x\"}"
	[ "$(code)" = 40067 ]
	[ "$(jq -r .message <<<"${output#* }")" = "A tag is required to create a forum post in this channel" ]
	run call POST "$TAGGED?wait=true" "{$msg,\"thread_name\":\"x\",\"applied_tags\":[]}"
	[ "$(code)" = 40067 ]
	run call POST "$TAGGED?wait=true" "{$msg,\"thread_name\":\"x\",\"applied_tags\":[\"1\"]}"
	[[ "$output" == "200 "* ]]
	# A text channel's webhook posts as before.
	run call POST "$WEBHOOK_URL?wait=true" "{$msg}"
	[[ "$output" == "200 "* ]]
	[ "$(jq -r .channel_id <<<"${output#* }")" = "$TEXT_CHANNEL" ]
	[ "$(discord_channel | jq length)" -eq 2 ]
}

@test "fake forum: thread_name and applied_tags checked as the OpenAPI schema says" {
	long=$(printf 'n%.0s' $(seq 1 101))
	run call POST "$FORUM?wait=true" "{$msg,\"thread_name\":\"$long\"}"
	[ "$(code)" = 50035 ]
	[ "$(jq -r '.errors.thread_name._errors[0].code' <<<"${output#* }")" = BASE_TYPE_BAD_LENGTH ]
	run call POST "$FORUM?wait=true" "{$msg,\"thread_name\":\"${long:1}\"}"
	[[ "$output" == "200 "* ]]
	run call POST "$FORUM?wait=true" "{$msg,\"thread_name\":\"\"}"
	[ "$(code)" = 50035 ]
	run call POST "$FORUM?wait=true" "{$msg,\"thread_name\":\"t\",\"applied_tags\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\"]}"
	[ "$(jq -r '.errors.applied_tags._errors[0].code' <<<"${output#* }")" = BASE_TYPE_MAX_LENGTH ]
	run call POST "$FORUM?wait=true" "{$msg,\"thread_name\":\"t\",\"applied_tags\":[12]}"
	[ "$(jq -r '.errors.applied_tags["0"]._errors[0].code' <<<"${output#* }")" = NUMBER_TYPE_COERCE ]
	[ "$(discord_channel | jq length)" -eq 1 ]
}

@test "fake flags: a post may set 4, 4096 and 32768 only; an edit cannot add 4096" {
	for f in 1 8 64 8192 65536; do
		run call POST "$WEBHOOK_URL?wait=true" "{$msg,\"flags\":$f}"
		[[ "$output" == "400 "* ]]
		[ "$(code)" = 50035 ]
		jq -e '.errors.flags._errors[0]' <<<"${output#* }"
	done
	run call POST "$WEBHOOK_URL?wait=true" "{$msg,\"flags\":\"4096\"}"
	[ "$(code)" = 50035 ]
	run call POST "$WEBHOOK_URL?wait=true" "{$msg,\"flags\":4100}"
	[[ "$output" == "200 "* ]]
	[ "$(jq -r .flags <<<"${output#* }")" = 4100 ]
	run call POST "$WEBHOOK_URL?wait=true" "{$msg}"
	plain=$(jq -r .id <<<"${output#* }")
	[ "$(jq -r .flags <<<"${output#* }")" = 0 ]
	run call PATCH "$WEBHOOK_URL/messages/$plain" "{$msg,\"flags\":4096}"
	[[ "$output" == "400 "* ]]
	[ "$(code)" = 50035 ]
	run call PATCH "$WEBHOOK_URL/messages/$plain" "{$msg,\"flags\":4}"
	[[ "$output" == "200 "* ]]
	[ "$(jq -r .flags <<<"${output#* }")" = 4 ]
	[ "$(discord_channel | jq -c '[.[].flags]')" = '[4100,4]' ]
}

@test "fake webhooks: each its own channel and rate-limit bucket; one deleted, the others still answer" {
	discord_admin "rate?limit=5&per=10"
	for i in 1 2 3 4 5; do
		run call POST "$WEBHOOK_URL?wait=true" "{$msg}"
		[[ "$output" == "200 "* ]]
	done
	run call POST "$WEBHOOK_URL?wait=true" "{$msg}"
	[[ "$output" == "429 "* ]]
	# The forum webhook's bucket is untouched.
	curl -s -D "$T/h" -o "$T/r" -X POST -H 'Content-Type: application/json' \
	    --data "{$msg,\"thread_name\":\"t\"}" "$FORUM?wait=true"
	grep -qi '^X-RateLimit-Remaining: 4' "$T/h"
	b1=$(curl -s -D - -o /dev/null "$WEBHOOK_URL" | sed -n 's/^X-RateLimit-Bucket: \(.*\)\r$/\1/ip')
	b2=$(curl -s -D - -o /dev/null "$FORUM" | sed -n 's/^X-RateLimit-Bucket: \(.*\)\r$/\1/ip')
	[ -n "$b1" ] && [ -n "$b2" ] && [ "$b1" != "$b2" ]
	[ "$(curl -s "$FORUM" | jq -r .channel_id)" = "$FORUM_CHANNEL" ]
	discord_admin "delete_webhook?id=$FORUM_ID"
	run call POST "$FORUM?wait=true&thread_id=1" "{$msg}"
	[ "$(code)" = 10015 ]
	run call POST "$TAGGED?wait=true" "{$msg,\"thread_name\":\"x\",\"applied_tags\":[\"1\"]}"
	[[ "$output" == "200 "* ]]
}

@test "fake load: messages of an earlier channel come back with their ids; new ids stay above" {
	printf '%s' '[{"id":"1576781712224944128","webhook_id":"123456789012345678","channel_id":"1","content":"old","embeds":[],"thread_id":null}]' >"$T/load.json"
	curl -sf -X POST --data-binary @"$T/load.json" "http://127.0.0.1:$DISCORD_PORT/_fake/load" >/dev/null
	run call PATCH "$WEBHOOK_URL/messages/1576781712224944128" "{\"content\":\"new\",\"allowed_mentions\":{\"parse\":[]}}"
	[[ "$output" == "200 "* ]]
	run call POST "$WEBHOOK_URL?wait=true" "{$msg}"
	id=$(jq -r .id <<<"${output#* }")
	[ "$id" -gt 1576781712224944128 ]
	[ "$(discord_channel | jq -c '[.[].content]')" = '["new","hi"]' ]
}
