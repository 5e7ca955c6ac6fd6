#!/usr/bin/env bats
# The Discord client (lib/discord, lib/render) against the fake Discord,
# driven by test/tools/discord_drive; and the fake's own validation.

load common
load discord_helpers

setup() {
	common_setup
	start_discord
	printf '%s' '{"content":"hello","allowed_mentions":{"parse":[]}}' >"$T/b1.json"
	printf '%s' '{"content":"hello again","allowed_mentions":{"parse":[]}}' >"$T/b2.json"
}
teardown() { common_teardown; }

drive() { # drive [OPTIONS...] <<< COMMANDS
	"$DRIVE" "$@" "$WEBHOOK_URL"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

@test "post, edit, delete: the channel follows, every call well formed" {
	run drive <<<"post $T/b1.json"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^posted\ [0-9]+$ ]]
	id=${output#posted }
	[ "$(discord_channel | jq -r '.[0].id')" = "$id" ]
	[ "$(discord_channel | jq -r '.[0].content')" = hello ]
	[ "$(discord_channel | jq -r '.[0].edited')" = false ]

	run drive <<<"edit $id $T/b2.json"
	[ "$status" -eq 0 ]
	[ "$output" = "edited $id" ]
	[ "$(discord_channel | jq -r '.[0].content')" = "hello again" ]
	[ "$(discord_channel | jq -r '.[0].edited')" = true ]
	[ "$(discord_channel | jq -c '.[0].allowed_mentions')" = '{"parse":[]}' ]

	run drive <<<"delete $id"
	[ "$status" -eq 0 ]
	[ "$output" = "deleted $id" ]
	[ "$(discord_channel | jq length)" -eq 0 ]

	log=$(discord_log)
	[ "$(jq -r '[.[] | .method + " " + .path + " " + (.query // "") + " " + (.status | tostring)] | join("|")' <<<"$log")" = \
	  "POST /api/v10/webhooks/$WEBHOOK_ID/*** wait=true 200|PATCH /api/v10/webhooks/$WEBHOOK_ID/***/messages/$id  200|DELETE /api/v10/webhooks/$WEBHOOK_ID/***/messages/$id  204" ]
	[ "$(jq -r '.[0].user_agent' <<<"$log")" = "DiscordBot (https://github.com/moodlecord/moodlecord, 0.1.0)" ]
	[ "$(jq -r '.[0].content_type' <<<"$log")" = application/json ]
	[ "$(jq -r '.[1].content_type' <<<"$log")" = application/json ]
	[ "$(jq -r '.[1].body' <<<"$log")" = "$(cat "$T/b2.json")" ]
	[ "$(discord_stats | jq .ratelimited)" -eq 0 ]
}

@test "get: the webhook's name and channel, nothing posted, no token shown" {
	run drive <<<"get"
	[ "$status" -eq 0 ]
	[ "$output" = "webhook Moodle 111111111111111111" ]
	[ "$(discord_channel | jq length)" -eq 0 ]
	[ "$(discord_log | jq -r '.[0].method + " " + .[0].path')" = "GET /api/v10/webhooks/$WEBHOOK_ID/***" ]
}

@test "thread_id goes with post, edit and delete" {
	run drive -T 999999999999999999 <<<"post $T/b1.json"
	[ "$status" -eq 0 ]
	id=${output#posted }
	[ "$(discord_channel | jq -r '.[0].thread_id')" = 999999999999999999 ]
	run drive -T 999999999999999999 <<<"edit $id $T/b2.json"
	[ "$status" -eq 0 ]
	# Without the thread, Discord does not know the message.
	run drive <<<"delete $id"
	[ "$status" -eq 69 ]
	[[ "$output" == "error notfound: "* ]]
	run drive -T 999999999999999999 <<<"delete $id"
	[ "$status" -eq 0 ]
	[ "$(discord_log | jq -r '[.[] | .query // "-"] | join("|")')" = \
	  "wait=true&thread_id=999999999999999999|thread_id=999999999999999999|-|thread_id=999999999999999999" ]
}

@test "rendered conference and ping of hostile names: accepted, safe, within limits" {
	long=$(printf 'Ü*%.0s' $(seq 1 2500))
	jq -n --arg long "$long" '{id: 7, course_id: 3, course_short: "RM", course_name: ("**Course** [x](https://evil.example) @everyone " + $long),
	    name: ("@everyone <@&111> meet [here](https://evil.example) 🎉 &amp; " + $long), module: "bigbluebuttonbn", cmid: 9,
	    url: "https://moodle.example.edu/mod/bigbluebuttonbn/view.php?id=9", site_name: ("@here " + $long),
	    start: 1767258000, duration: 0, missing: 0}' >"$T/ev.json"
	run drive <<<"conference $T/ev.json Moodle_bot
ping $T/ev.json 1767257700 555555555555555555"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	ch=$(discord_channel)
	[ "$(jq length <<<"$ch")" -eq 2 ]
	# Discord's limits, in code points, all kept.
	[ "$(jq '.[0].embeds[0].title | length' <<<"$ch")" -le 256 ]
	[ "$(jq '.[0].embeds[0].description | length' <<<"$ch")" -le 4096 ]
	[ "$(jq '[.[0].embeds[0] | .title, .description, .footer.text | length] | add' <<<"$ch")" -le 6000 ]
	[ "$(jq '.[1].content | length' <<<"$ch")" -le 2000 ]
	[ "$(jq -r '.[0].author.username' <<<"$ch")" = Moodle_bot ]
	# Nobody is notified but the one role of the ping.
	[ "$(jq -c '[.[].mention_everyone]' <<<"$ch")" = '[false,false]' ]
	[ "$(jq -c '.[0].mention_roles' <<<"$ch")" = '[]' ]
	[ "$(jq -c '.[1].mention_roles' <<<"$ch")" = '["555555555555555555"]' ]
	[[ "$(jq -r '.[1].content' <<<"$ch")" == "<@&555555555555555555> **"* ]]
	[[ "$(jq -r '.[1].content' <<<"$ch")" != *"](https://evil"* ]]
	[ "$(jq -r '.[0].embeds[0].url' <<<"$ch")" = "https://moodle.example.edu/mod/bigbluebuttonbn/view.php?id=9" ]
	[ "$(discord_log | jq '[.[] | select(.status != 200)] | length')" -eq 0 ]
}

@test "a burst of 30 posts at 5 per 2 s: no 429, close to the bucket's pace" {
	for i in $(seq 1 30); do echo "post $T/b1.json"; done >"$T/burst"
	t0=$(now_ms)
	run drive <"$T/burst"
	t1=$(now_ms)
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 30 ]
	[ "$(discord_stats | jq .ratelimited)" -eq 0 ]
	[ "$(discord_channel | jq length)" -eq 30 ]
	# 6 windows of 5: the ideal is 5 waits of 2 s.
	ms=$((t1 - t0))
	echo "# 30 posts in $ms ms (ideal 10000 ms)" >&3
	[ "$ms" -ge 9900 ]
	[ "$ms" -le 12500 ]
}

@test "a 429 is waited out and the request lands once" {
	discord_admin "ratelimit?retry_after=0.4"
	t0=$(now_ms)
	run drive <<<"post $T/b1.json"
	t1=$(now_ms)
	[ "$status" -eq 0 ]
	[ "$(discord_channel | jq length)" -eq 1 ]
	[ "$(discord_stats | jq .ratelimited)" -eq 1 ]
	[ "$(discord_log | jq -c '[.[].status]')" = '[429,200]' ]
	[ $((t1 - t0)) -ge 400 ]

	# A global one too, on an edit.
	id=${output#posted }
	discord_admin "ratelimit?retry_after=0.3&global=1"
	run drive <<<"edit $id $T/b2.json"
	[ "$status" -eq 0 ]
	[ "$(discord_log | jq -c '[.[].status]')" = '[429,200,429,200]' ]
	[ "$(discord_channel | jq -r '.[0].content')" = "hello again" ]
}

@test "a 429 past the deadline stops with 75, without waiting for it" {
	discord_admin "ratelimit?retry_after=30"
	t0=$(now_ms)
	run drive -d 3 <<<"post $T/b1.json"
	t1=$(now_ms)
	[ "$status" -eq 75 ]
	[[ "$output" == *"run deadline reached"* ]]
	[ $((t1 - t0)) -lt 2000 ]
	[ "$(discord_channel | jq length)" -eq 0 ]
}

@test "a ban stops at once with 75" {
	discord_admin "ban?on=1"
	run drive <<<"post $T/b1.json
post $T/b1.json"
	[ "$status" -eq 75 ]
	[[ "$output" == "error temp: Discord has blocked this address"* ]]
	[ "$(discord_log | jq length)" -eq 1 ]
}

@test "10008: edit and delete of a message deleted in Discord say notfound" {
	run drive <<<"post $T/b1.json"
	id=${output#posted }
	discord_admin "delete_message?id=$id"
	run drive <<<"edit $id $T/b2.json"
	[ "$status" -eq 69 ]
	[ "$output" = "error notfound: Discord message $id is gone (deleted in Discord)" ]
	run drive <<<"delete $id"
	[ "$status" -eq 69 ]
	[ "$output" = "error notfound: Discord message $id is gone (deleted in Discord)" ]
	[ "$(discord_log | jq -c '[.[].status]')" = '[200,404,404]' ]
}

@test "10015: a deleted webhook is a config error (78), no further call" {
	discord_admin delete_webhook
	run drive <<<"post $T/b1.json
post $T/b1.json"
	[ "$status" -eq 78 ]
	[ "$output" = "error config: the webhook was deleted in Discord (10015 Unknown Webhook): make a new one and update [discord] webhook_url" ]
	[ "$(discord_log | jq length)" -eq 1 ]
	[[ "$output" != *"$WEBHOOK_TOKEN"* ]]
}

@test "50027: a wrong token is a config error (78), no further call" {
	discord_admin "wrong_token?on=1"
	run drive <<<"get
post $T/b1.json"
	[ "$status" -eq 78 ]
	[[ "$output" == "error config: Discord refused the webhook token (50027 Invalid Webhook Token)"* ]]
	[ "$(discord_log | jq -c '[.[].status]')" = '[401]' ]
	discord_admin "wrong_token?on=0"
	# And a URL with another token than the webhook's.
	run "$DRIVE" "http://127.0.0.1:$DISCORD_PORT/api/v10/webhooks/$WEBHOOK_ID/WrongToken123" <<<"post $T/b1.json"
	[ "$status" -eq 78 ]
	[[ "$output" != *WrongToken123* ]]
	[ "$(discord_channel | jq length)" -eq 0 ]
}

@test "5xx: an edit is retried, a post is not" {
	run drive <<<"post $T/b1.json"
	id=${output#posted }
	discord_admin "fail?n=2&status=502"
	run drive <<<"edit $id $T/b2.json"
	[ "$status" -eq 0 ]
	[ "$(discord_log | jq -c '[.[] | .method + " " + (.status | tostring)]')" = \
	  '["POST 200","PATCH 502","PATCH 502","PATCH 200"]' ]

	discord_admin "fail?n=3&status=500"
	run drive <<<"delete $id"
	[ "$status" -eq 69 ]
	[[ "$output" == "error unavailable: Discord answered the delete with HTTP 500 three times"* ]]

	discord_admin "fail?n=1&status=503"
	run drive <<<"post $T/b1.json"
	[ "$status" -eq 69 ]
	[ "$(discord_log | jq -c '[.[] | .method + " " + (.status | tostring)] | .[4:]')" = \
	  '["DELETE 500","DELETE 500","DELETE 500","POST 503"]' ]
	[ "$(discord_channel | jq length)" -eq 1 ]
}

@test "a post whose answer is lost is not sent again (it did land)" {
	# The second call is carried out, then the connection dropped (libcurl
	# would resend on a connection it used before, unless told not to).
	discord_admin "drop?next=2"
	run drive <<<"post $T/b1.json
post $T/b1.json
post $T/b2.json"
	[ "$status" -eq 75 ]
	[[ "${lines[0]}" == "posted "* ]]
	[[ "$output" == *"the post may or may not have reached Discord"* ]]
	[[ "$output" != *"$WEBHOOK_TOKEN"* ]]
	[ "$(discord_log | jq -c '[.[] | .dropped]')" = '[false,true]' ]
	[ "$(discord_channel | jq length)" -eq 2 ]
}

@test "an edit whose answer is lost or late is sent again" {
	run drive <<<"post $T/b1.json"
	id=${output#posted }
	discord_admin "drop?next=1"
	run drive <<<"edit $id $T/b2.json"
	[ "$status" -eq 0 ]
	[ "$(discord_log | jq -c '[.[] | .method + " " + (.dropped | tostring)]')" = \
	  '["POST false","PATCH true","PATCH false"]' ]
	# Held past the client's timeout: retried.
	discord_admin "hold?next=1"
	run drive -t 1 <<<"delete $id"
	[ "$status" -eq 0 ]
	discord_admin release
	[ "$(discord_channel | jq length)" -eq 0 ]
}

@test "a post held past the timeout is not sent again" {
	discord_admin "hold?next=1"
	run drive -t 1 <<<"post $T/b1.json"
	[ "$status" -eq 75 ]
	[[ "$output" == *"the post may or may not have reached Discord"* ]]
	discord_admin release
	sleep 0.2
	# Carried out when released, though nobody heard the answer: once.
	[ "$(discord_log | jq -c '[.[] | [.method, .dropped]]')" = '[["POST",true]]' ]
	[ "$(discord_channel | jq length)" -eq 1 ]
}

@test "hold: the client can be killed mid-call; release lets the call go on" {
	discord_admin "hold?next=1"
	drive <<<"post $T/b1.json" >"$T/out" 2>&1 &
	pid=$!
	discord_wait_held
	[ "$(discord_stats | jq .held)" -eq 1 ]
	[ "$(discord_channel | jq length)" -eq 0 ]
	kill -KILL "$pid"
	wait "$pid" || true
	discord_admin release
	sleep 0.2
	# Held before anything was done: released, the post happens.
	[ "$(discord_stats | jq .held)" -eq 0 ]
	[ "$(discord_channel | jq length)" -eq 1 ]

	# stage=after: done at once, the answer withheld.
	discord_admin "hold?next=1&stage=after"
	drive <<<"post $T/b1.json" >"$T/out" 2>&1 &
	pid=$!
	discord_wait_held
	[ "$(discord_channel | jq length)" -eq 2 ]
	discord_admin release
	wait "$pid"
	[[ "$(cat "$T/out")" =~ ^posted\ [0-9]+$ ]]
}

@test "a body Discord refuses: 65 naming the field, nothing posted" {
	title=$(printf 'x%.0s' $(seq 1 257))
	printf '{"embeds":[{"title":"%s"}],"allowed_mentions":{"parse":[]}}' "$title" >"$T/bad.json"
	run drive <<<"post $T/bad.json"
	[ "$status" -eq 65 ]
	[ "$output" = "error data: Discord refused the post (400, 50035 Invalid Form Body): embeds.0.title: Must be 256 or fewer in length." ]
	[ "$(discord_channel | jq length)" -eq 0 ]
}

# bats test_tags=fake-selftest
@test "the fake validates like Discord" {
	discord_admin "rate?limit=1000&per=1"
	base="http://127.0.0.1:$DISCORD_PORT/api/v10/webhooks/$WEBHOOK_ID/$WEBHOOK_TOKEN?wait=true"
	post() { # post CONTENT_TYPE BODY: prints "STATUS BODY"
		curl -s -o "$T/r" -w '%{http_code}' -X POST -H "Content-Type: $1" --data-binary "$2" "$base"
		printf ' '
		cat "$T/r"
	}
	# Code points, not bytes: 2000 "é" fit, 2001 do not.
	e2000=$(printf 'é%.0s' $(seq 1 2000))
	run post application/json "{\"content\":\"$e2000\"}"
	[[ "$output" == "200 "* ]]
	run post application/json "{\"content\":\"${e2000}é\"}"
	[[ "$output" == "400 "* ]]
	[ "$(jq -c '[.code, .errors.content._errors[0].code]' <<<"${output#400 }")" = '[50035,"BASE_TYPE_MAX_LENGTH"]' ]

	run post application/json '{"content":"","embeds":[]}'
	[ "$(jq -c '[.code]' <<<"${output#400 }")" = '[50006]' ]
	[[ "$output" == "400 "* ]]
	run post application/json '{"content":"x", "allowed_mentions":{"parse":["roles"],"roles":["1"]}}'
	[ "$(jq -r '.errors.allowed_mentions._errors[0].code' <<<"${output#400 }")" = MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE ]
	run post application/json '{"content":"x", "allowed_mentions":{"parse":["all"]}}'
	[ "$(jq -r '.errors.allowed_mentions.parse["0"]._errors[0].code' <<<"${output#400 }")" = BASE_TYPE_CHOICES ]
	run post application/json '{"content": "x"'
	[ "$(jq -c '[.code]' <<<"${output#400 }")" = '[50109]' ]
	run post application/json "$(printf '{"content": "\xff"}')"
	[ "$(jq -c '[.code]' <<<"${output#400 }")" = '[50109]' ]
	run post text/plain '{"content": "x"}'
	[[ "$output" == "400 "* ]]
	run post application/json '{"content": "x", "username": "My Discord bot"}'
	[ "$(jq -r '.errors.username._errors[0].code' <<<"${output#400 }")" = USERNAME_INVALID_CONTAINS ]
	d4097=$(printf 'd%.0s' $(seq 1 4097))
	f2048=$(printf 'f%.0s' $(seq 1 2048))
	d4096=${d4097:1}
	run post application/json "{\"embeds\":[{\"description\":\"$d4097\",\"footer\":{\"text\":\"x\"},\"url\":\"not a url\",\"timestamp\":\"yesterday\"}]}"
	[ "$(jq -c '.errors.embeds["0"] | [.description._errors[0].code, .url._errors[0].code, .timestamp._errors[0].code]' <<<"${output#400 }")" = \
	  '["BASE_TYPE_MAX_LENGTH","URL_TYPE_INVALID_URL","DATE_TYPE_PARSE"]' ]
	# Each field within its limit, but 6000 in all exceeded.
	run post application/json "{\"embeds\":[{\"title\":\"t\",\"description\":\"$d4096\",\"footer\":{\"text\":\"$f2048\"}}]}"
	[ "$(jq -r '.errors.embeds._errors[0].code' <<<"${output#400 }")" = MAX_EMBED_SIZE_EXCEEDED ]
	# Only the first post got through.
	[ "$(discord_channel | jq length)" -eq 1 ]
	# Rate-limit headers on every answer of the webhook.
	curl -s -D "$T/h" -o /dev/null -X POST -H 'Content-Type: application/json' --data '{}' "$base"
	for h in Limit Remaining Reset Reset-After Bucket; do grep -qi "^X-RateLimit-$h: " "$T/h"; done
}
