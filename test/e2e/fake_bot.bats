#!/usr/bin/env bats
# The fake Discord's bot API (test/fakes/fake_discord_bot.h) checked on its
# own with curl: it must refuse what Discord refuses, or the sync tests
# against it prove nothing.

load common
load discord_helpers

BOT_TOKEN=Fake.Bot_Token-0123456789abcdefghijklmnop
GUILD=222222222222222222

setup() {
	common_setup
	start_discord --bot "$BOT_TOKEN" --guild "$GUILD:$(((1 << 44) | (1 << 10)))" \
		--guild 555555555555555555:0 --bot-rate 100/1
	API="http://127.0.0.1:$DISCORD_PORT/api/v10"
}
teardown() { common_teardown; }

# bot METHOD PATH [BODY]: a bot call; the status on the first line, the
# body on the second.
bot() {
	local args=(-s -o "$T/body" -w '%{http_code}\n' -X "$1" -H "Authorization: Bot $BOT_TOKEN")
	[ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
	curl "${args[@]}" "$API$2"
	cat "$T/body"
	echo
}

iso() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%S+00:00; }

# event NAME START_IN END_IN [LOCATION]: a create body.
event() {
	jq -cn --arg n "$1" --arg s "$(iso "$2")" --arg e "$(iso "$3")" --arg l "${4:-https://moodle.example/x}" \
		'{name: $n, privacy_level: 2, entity_type: 3, channel_id: null,
		  entity_metadata: {location: $l}, scheduled_start_time: $s, scheduled_end_time: $e}'
}

create() { bot POST "/guilds/$GUILD/scheduled-events" "$(event "$@")"; }

# bats test_tags=fake-selftest
@test "fake bot: the token is checked; the bot and its servers with permissions" {
	run curl -s "$API/users/@me"
	[ "$(jq .code <<<"$output")" = 0 ]
	run curl -s -H "Authorization: Bot wrong" "$API/users/@me"
	[ "$(jq -r .message <<<"$output")" = "401: Unauthorized" ]
	run curl -s -H "Authorization: $BOT_TOKEN" "$API/users/@me"
	[ "$(jq -r .message <<<"$output")" = "401: Unauthorized" ]
	run bot GET /users/@me
	[ "${lines[0]}" = 200 ]
	[ "$(jq -r '.bot, .id' <<<"${lines[1]}" | paste -sd,)" = "true,333333333333333333" ]
	run bot GET /users/@me/guilds
	[ "$(jq -r '.[] | "\(.id) \(.permissions)"' <<<"${lines[1]}" | paste -sd,)" = \
		"$GUILD $(((1 << 44) | (1 << 10))),555555555555555555 0" ]
	run bot GET "/users/@me/guilds?after=$GUILD"
	[ "$(jq -r '.[].id' <<<"${lines[1]}")" = 555555555555555555 ]
}

# bats test_tags=fake-selftest
@test "fake bot: a valid external event is made, with Discord's headers and shape" {
	run curl -s -D "$T/h" -o "$T/b" -X POST -H "Authorization: Bot $BOT_TOKEN" \
		-H 'Content-Type: application/json' --data-binary "$(event 'Q&A' 3600 7200)" \
		"$API/guilds/$GUILD/scheduled-events"
	grep -qi '^X-RateLimit-Bucket: ' "$T/h"
	grep -qi '^X-RateLimit-Remaining: 99' "$T/h"
	grep -qi '^X-RateLimit-Reset-After: ' "$T/h"
	[ "$(jq -r '.status, .entity_type, .privacy_level, .channel_id, .creator_id, .entity_metadata.location' \
		"$T/b" | paste -sd,)" = "1,3,2,null,333333333333333333,https://moodle.example/x" ]
	[ "$(curl -sf "http://127.0.0.1:$DISCORD_PORT/_fake/events" | jq length)" = 1 ]
	run bot GET "/guilds/$GUILD/scheduled-events"
	[ "$(jq -r '.[0].name' <<<"${lines[1]}")" = "Q&A" ]
}

# bats test_tags=fake-selftest
@test "fake bot: bodies Discord refuses are refused, with the field named" {
	refused() { # refused BODY PATH_IN_ERRORS
		run bot POST "/guilds/$GUILD/scheduled-events" "$1"
		echo "$output"
		[ "${lines[0]}" = 400 ]
		[ "$(jq .code <<<"${lines[1]}")" = 50035 ]
		jq -e ".errors.$2._errors[0].code" <<<"${lines[1]}"
	}
	ok=$(event 'Q&A' 3600 7200)
	refused "$(event 'Q&A' -60 3600)" scheduled_start_time
	refused "$(jq -c 'del(.scheduled_end_time)' <<<"$ok")" scheduled_end_time
	refused "$(event 'Q&A' 3600 1800)" scheduled_end_time
	refused "$(event 'Q&A' 3600 7200 "https://x.example/$(printf 'a%.0s' $(seq 1 83))")" entity_metadata.location
	refused "$(jq -c '.entity_metadata.location = ""' <<<"$ok")" entity_metadata.location
	refused "$(jq -c 'del(.entity_metadata)' <<<"$ok")" entity_metadata
	refused "$(jq -c '.privacy_level = 1' <<<"$ok")" privacy_level
	refused "$(jq -c '.channel_id = "1"' <<<"$ok")" channel_id
	refused "$(jq -c '.name = ""' <<<"$ok")" name
	refused "$(jq -c --arg n "$(printf 'é%.0s' $(seq 1 101))" '.name = $n' <<<"$ok")" name
	refused "$(jq -c --arg d "$(printf 'x%.0s' $(seq 1 1001))" '.description = $d' <<<"$ok")" description
	refused "$(jq -c '.scheduled_start_time = "tomorrow"' <<<"$ok")" scheduled_start_time
	# at the limits: accepted
	run bot POST "/guilds/$GUILD/scheduled-events" "$(jq -c --arg n "$(printf 'é%.0s' $(seq 1 100))" \
		--arg d "$(printf 'x%.0s' $(seq 1 1000))" '.name = $n | .description = $d' <<<"$ok")"
	[ "${lines[0]}" = 200 ]
	run bot POST "/guilds/$GUILD/scheduled-events" "not json"
	[ "$(jq .code <<<"${lines[1]}")" = 50109 ]
	[ "$(curl -sf "http://127.0.0.1:$DISCORD_PORT/_fake/events" | jq length)" = 1 ]
}

# bats test_tags=fake-selftest
@test "fake bot: events start and complete by the fake's clock; started and final events refuse changes" {
	run create 'Soon' 60 3600
	id=$(jq -r .id <<<"${lines[1]}")
	discord_admin "clock?offset=120"
	run bot GET "/guilds/$GUILD/scheduled-events/$id"
	[ "$(jq .status <<<"${lines[1]}")" = 2 ]
	# active: the start cannot change; the name can
	run bot PATCH "/guilds/$GUILD/scheduled-events/$id" "{\"scheduled_start_time\":\"$(iso 600)\"}"
	[ "${lines[0]}" = 400 ]
	jq -e '.errors.scheduled_start_time' <<<"${lines[1]}"
	run bot PATCH "/guilds/$GUILD/scheduled-events/$id" '{"name":"Renamed"}'
	[ "${lines[0]}" = 200 ]
	[ "$(jq -r .name <<<"${lines[1]}")" = Renamed ]
	discord_admin "clock?offset=3700"
	run bot GET "/guilds/$GUILD/scheduled-events/$id"
	[ "$(jq .status <<<"${lines[1]}")" = 3 ]
	run bot PATCH "/guilds/$GUILD/scheduled-events/$id" '{"name":"Again"}'
	[ "${lines[0]}" = 400 ]
	# a start in the past, by the fake's clock (an hour ahead of ours)
	run create 'Late' 1800 5400
	[ "${lines[0]}" = 400 ]
	jq -e '.errors.scheduled_start_time' <<<"${lines[1]}"
}

# bats test_tags=fake-selftest
@test "fake bot: a person deletes or cancels an event; 10070, 10004, 30038" {
	run create 'One' 3600 7200
	one=$(jq -r .id <<<"${lines[1]}")
	run create 'Two' 3600 7200
	two=$(jq -r .id <<<"${lines[1]}")
	discord_admin "event_cancel?id=$one"
	discord_admin "event_delete?id=$two"
	run bot GET "/guilds/$GUILD/scheduled-events/$one"
	[ "$(jq .status <<<"${lines[1]}")" = 4 ]
	run bot PATCH "/guilds/$GUILD/scheduled-events/$one" '{"status":1}'
	[ "${lines[0]}" = 400 ]
	run bot PATCH "/guilds/$GUILD/scheduled-events/$two" '{"name":"x"}'
	[ "${lines[0]}" = 404 ]
	[ "$(jq .code <<<"${lines[1]}")" = 10070 ]
	run bot DELETE "/guilds/$GUILD/scheduled-events/$two"
	[ "$(jq .code <<<"${lines[1]}")" = 10070 ]
	run bot GET /guilds/999999999999999999/scheduled-events
	[ "${lines[0]}" = 404 ]
	[ "$(jq .code <<<"${lines[1]}")" = 10004 ]
	# 100 scheduled or active at most (the cancelled one does not count)
	discord_admin "event_add?n=100"
	run create 'Full' 3600 7200
	[ "${lines[0]}" = 400 ]
	[ "$(jq .code <<<"${lines[1]}")" = 30038 ]
}

# bats test_tags=fake-selftest
@test "fake bot: permissions: Create Events for its own, Manage Events for others'" {
	discord_admin "event_add?n=1"
	theirs=$(curl -sf "http://127.0.0.1:$DISCORD_PORT/_fake/events" | jq -r '.[0].id')
	run create 'Mine' 3600 7200
	mine=$(jq -r .id <<<"${lines[1]}")
	run bot PATCH "/guilds/$GUILD/scheduled-events/$theirs" '{"name":"x"}'
	[ "${lines[0]}" = 403 ]
	[ "$(jq .code <<<"${lines[1]}")" = 50013 ]
	run bot PATCH "/guilds/$GUILD/scheduled-events/$mine" '{"name":"x"}'
	[ "${lines[0]}" = 200 ]
	discord_admin "bot_perms?perms=$((1 << 33))"
	run bot DELETE "/guilds/$GUILD/scheduled-events/$theirs"
	[ "${lines[0]}" = 204 ]
	discord_admin "bot_perms?perms=1024"
	run create 'No' 3600 7200
	[ "${lines[0]}" = 403 ]
	[ "$(jq .code <<<"${lines[1]}")" = 50013 ]
}

# bats test_tags=fake-selftest
@test "fake bot: a route's bucket and the global limit answer 429 with Discord's headers" {
	discord_admin "bot_rate?limit=2&per=5"
	bot GET /users/@me >/dev/null
	bot GET /users/@me >/dev/null
	curl -s -D "$T/h" -o "$T/b" -H "Authorization: Bot $BOT_TOKEN" "$API/users/@me"
	head -1 "$T/h" | grep -q ' 429'
	grep -qi '^X-RateLimit-Scope: user' "$T/h"
	grep -qi '^X-RateLimit-Remaining: 0' "$T/h"
	grep -qi '^Retry-After: [1-5]' "$T/h"
	[ "$(jq .global "$T/b")" = false ]
	# another route has its own bucket
	run bot GET /users/@me/guilds
	[ "${lines[0]}" = 200 ]

	discord_admin "bot_rate?limit=100&per=1&global=3"
	sleep 1.1
	for i in 1 2 3; do bot GET "/guilds/$GUILD/scheduled-events" >/dev/null; done
	curl -s -D "$T/h" -o "$T/b" -H "Authorization: Bot $BOT_TOKEN" "$API/guilds/$GUILD/scheduled-events"
	head -1 "$T/h" | grep -q ' 429'
	grep -qi '^X-RateLimit-Global: true' "$T/h"
	grep -qi '^X-RateLimit-Scope: global' "$T/h"
	! grep -qi '^X-RateLimit-Bucket' "$T/h"
	[ "$(jq .global "$T/b")" = true ]
	[ "$(discord_stats | jq .ratelimited)" = 2 ]
}

# bats test_tags=fake-selftest
@test "fake bot: several servers: each its own events, its own limit of 100, its own buckets" {
	OTHER=555555555555555555
	discord_admin "bot_perms?perms=$((1 << 44))&guild=$OTHER"
	discord_admin "event_add?n=100"
	run create 'Full' 3600 7200
	[ "${lines[0]}" = 400 ]
	[ "$(jq .code <<<"${lines[1]}")" = 30038 ]
	# the other server is not full: its own 100
	run bot POST "/guilds/$OTHER/scheduled-events" "$(event 'There' 3600 7200)"
	[ "${lines[0]}" = 200 ]
	[ "$(jq -r .guild_id <<<"${lines[1]}")" = "$OTHER" ]
	there=$(jq -r .id <<<"${lines[1]}")
	run bot GET "/guilds/$OTHER/scheduled-events"
	[ "$(jq -r 'map(.name) | join(",")' <<<"${lines[1]}")" = There ]
	run bot GET "/guilds/$GUILD/scheduled-events"
	[ "$(jq length <<<"${lines[1]}")" -eq 100 ]
	# an event is found in its own server only
	run bot PATCH "/guilds/$GUILD/scheduled-events/$there" '{"name":"x"}'
	[ "${lines[0]}" = 404 ]
	[ "$(jq .code <<<"${lines[1]}")" = 10070 ]
	run bot DELETE "/guilds/$GUILD/scheduled-events/$there"
	[ "$(jq .code <<<"${lines[1]}")" = 10070 ]
	# a body is checked the same in every server
	run bot POST "/guilds/$OTHER/scheduled-events" "$(event 'Bad' 3600 7200 "https://x.example/$(printf 'a%.0s' {1..90})")"
	[ "${lines[0]}" = 400 ]
	[ "$(jq .code <<<"${lines[1]}")" = 50035 ]
	# one route's bucket per server
	discord_admin "bot_rate?limit=2&per=5"
	bot GET "/guilds/$GUILD/scheduled-events" >/dev/null
	bot GET "/guilds/$GUILD/scheduled-events" >/dev/null
	run bot GET "/guilds/$GUILD/scheduled-events"
	[ "${lines[0]}" = 429 ]
	run bot GET "/guilds/$OTHER/scheduled-events"
	[ "${lines[0]}" = 200 ]
	run bot DELETE "/guilds/$OTHER/scheduled-events/$there"
	[ "${lines[0]}" = 204 ]
}
