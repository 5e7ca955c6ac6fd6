#!/usr/bin/env bats
# Scheduled events: sync keeps the server's Events tab equal to the nearest
# events_max conferences, through the bot, after the messages; the real
# binary against the fake Moodle and the fake Discord (its bot API).

bats_require_minimum_version 1.5.0

load common
load discord_helpers
load moodle_helpers

PW=Alice-Sekr3t-pw
BOT_TOKEN=MTIzNDU2Nzg5MDEyMzQ1Njc4.Gfake0.Bot-Sekr3t_token0123456789abcd
GUILD=222222222222222222
GUILD2=522222222222222222
OTHER_TOKEN=MTIzNDU2Nzg5MDEyMzQ1Njc4.Gfake0.Other-Sekr3t_token0123456789ab
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1

setup() {
	common_setup
	CFG="$T/config"
	STATE="$T/state/state.mdb"
	moodle_start sync
	start_discord --rate 1000/1 --bot "$BOT_TOKEN" --bot-rate 1000/1 --guild "$GUILD" --guild "$GUILD2"
	printf '%s\n' "$BOT_TOKEN" >"$T/bot-token"
	chmod 600 "$T/bot-token"
	events_config
}
teardown() { common_teardown; }

# events_config [MORE [discord] LINES]
events_config() {
	write_config "$CFG" <<-EOF
	[moodle]
	url = $MOODLE_URL
	username = alice
	password = $PW

	[discord]
	webhook_url = $WEBHOOK_URL
	bot_token_file = $T/bot-token
	guild_id = $GUILD
	${1:-}

	[state]
	path = $STATE

	[http]
	connect_timeout = 2
	timeout = 3
	EOF
}

# msync [OPTIONS]: sync under run; AT=SECONDS runs it that far ahead
# (libfaketime), with the fake Discord's clock moved the same.
msync() {
	local pre=()
	if [ -n "${AT:-}" ]; then
		discord_admin "clock?offset=$AT"
		pre=(env LD_PRELOAD="$FAKETIME_LIB" FAKETIME="+${AT}s" FAKETIME_DONT_FAKE_MONOTONIC=1
			ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0")
	fi
	run --separate-stderr "${pre[@]}" "$MOODLECORD" -c "$CFG" "$@" sync
	echo "sync: status $status"
	echo "stdout: $output"
	echo "stderr: $stderr"
	[[ "$output$stderr" != *"$PW"* ]]
	[[ "$output$stderr" != *"$WEBHOOK_TOKEN"* ]]
	[[ "$output$stderr" != *"$BOT_TOKEN"* ]]
	[[ "$output$stderr" != *"Bot-Sekr3t"* ]]
	[[ "$output$stderr" != *"Other-Sekr3t"* ]]
}

calls() { discord_stats | jq .calls; }
# Calls since log index $1, leaving out the look-ups of standing messages
# (GETs of the webhook's own messages) that every sync makes.
calls_since() {
	discord_log | jq "[.[$1:][] | select((.method == \"GET\" and (.path | contains(\"/webhooks/\")))
	    | not)] | length"
}
bot_calls_since() { discord_log | jq -r ".[$1:][] | select(.path | startswith(\"/api/v10/guilds\")) | \"\(.method) \(.status)\""; }
events_json() { curl -sf "http://127.0.0.1:$DISCORD_PORT/_fake/events"; }

# The server's scheduled or active events as "NAME START" by start.
events() {
	events_json | jq -r 'map(select(.status <= 2)) | sort_by(.scheduled_start_time) | .[]
	    | "\(.name) \(.scheduled_start_time | sub("\\+00:00$"; "Z") | fromdateiso8601)"'
}

# What they must be: the nearest MAX BigBlueButton conferences not yet
# started at now+AT.
expected() {
	jq -r --argjson base "$MOODLE_BASE" --argjson now "$(($(date +%s) + ${AT:-0}))" --argjson max "${1:-50}" '
	    [.activities[] | select(.module == "bigbluebuttonbn" and .event != null
	        and (.visible // true) and .start != null and ($base + .start) > $now)]
	    | sort_by(.start, .event) | .[:$max] | .[] | "\(.name) \($base + .start)"' "$T/moodle.json"
}

event_of() { "$MOODLECORD" -c "$CFG" dump --json | jq -r ".[] | select(.id == $1) | .sevent_id // \"\""; }

@test "events: one per conference after the messages, shaped as Discord wants; a second sync only lists" {
	msync
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	diff -u <(expected) <(events)
	[ "$(events | wc -l)" -eq 3 ]
	[ "$(discord_channel | jq length)" -eq 3 ]
	# the messages first, then the list and the creates
	[ "$(discord_log | jq -r '.[] | .method + " " + (.path | split("/")[3])' | paste -sd,)" = \
		"POST webhooks,POST webhooks,POST webhooks,GET guilds,POST guilds,POST guilds,POST guilds" ]
	ev=$(events_json | jq '.[0]')
	[ "$(jq -r '.entity_metadata.location' <<<"$ev")" = "$MOODLE_URL/mod/bigbluebuttonbn/view.php?id=101" ]
	[ "$(jq -r '.scheduled_end_time' <<<"$ev")" = "$(date -u -d "@$((MOODLE_BASE + 1800 + 5400))" +%Y-%m-%dT%H:%M:%S+00:00)" ]
	[[ "$(jq -r '.description' <<<"$ev")" == "Maths"$'\n'* ]]
	[ "$(event_of 501)" = "$(jq -r .id <<<"$ev")" ]
	n=$(calls)
	msync
	[ "$status" -eq 0 ]
	[ "$(calls_since "$n")" -eq 1 ]
	[ "$(bot_calls_since "$n")" = "GET 200" ]
}

@test "events: renamed or moved: one PATCH; gone from Moodle twice: deleted with its message" {
	msync
	id=$(event_of 501)
	n=$(calls)
	moodle_edit '(.activities[] | select(.event == 501) | .start) = 2400'
	moodle_edit '(.activities[] | select(.event == 502) | .name) = "Lab 1 (room B)"'
	msync
	[ "$status" -eq 0 ]
	[ "$(bot_calls_since "$n" | paste -sd,)" = "GET 200,PATCH 200,PATCH 200" ]
	[ "$(event_of 501)" = "$id" ]
	diff -u <(expected) <(events)
	moodle_edit 'del(.activities[] | select(.event == 502))'
	msync
	n=$(calls)
	msync
	[ "$status" -eq 0 ]
	[ "$(bot_calls_since "$n" | paste -sd,)" = "GET 200,DELETE 204" ]
	diff -u <(expected) <(events)
	[ "$(discord_channel | jq length)" -eq 2 ]
}

@test "events: over: Discord completes them, no call; the window moves on to the next" {
	events_config "events_max = 2"
	moodle_edit '(.activities[] | select(.event == 503) | .start) = 9000'
	msync
	[ "$status" -eq 0 ]
	diff -u <(expected 2) <(events)
	# At +40 min: Lecture 1 (+30 min) under way, kept; Lab 1 (+1 h) ahead.
	AT=2400 msync
	[ "$status" -eq 0 ]
	[ "$(events_json | jq '[.[] | select(.status == 2)] | length')" -eq 1 ]
	[ "$(events | wc -l)" -eq 2 ]
	n=$(calls)
	AT=7300 msync
	[ "$status" -eq 0 ]
	# At +2 h 2 min Lecture 1 (90 min long) is over, completed by Discord;
	# Lab 1 under way, kept; Lecture 2 (+2 h 30 min) gets the free place
	[ "$(events_json | jq -r '.[] | select(.name == "Lecture 1") | .status')" = 3 ]
	[ "$(bot_calls_since "$n" | paste -sd,)" = "GET 200,POST 200" ]
	[ "$(events_json | jq -r '.[] | select(.name == "Lecture 2") | .status')" = 1 ]
}

@test "events: deleted or cancelled by a person: made again while ahead" {
	msync
	one=$(event_of 501)
	two=$(event_of 502)
	discord_admin "event_delete?id=$one"
	discord_admin "event_cancel?id=$two"
	n=$(calls)
	msync -v
	[ "$status" -eq 0 ]
	[ "$(bot_calls_since "$n" | paste -sd,)" = "GET 200,POST 200,POST 200" ]
	diff -u <(expected) <(events)
	[ "$(event_of 501)" != "$one" ]
	[ "$(event_of 502)" != "$two" ]
}

@test "events: events_max: only the nearest; a nearer conference takes the farthest's place" {
	events_config "events_max = 2"
	msync
	diff -u <(expected 2) <(events)
	moodle_edit '.activities += [{"module": "bigbluebuttonbn", "instance": 24, "cmid": 104, "course": 11, "name": "Seminar", "event": 504, "start": 900}]'
	n=$(calls)
	msync
	[ "$status" -eq 0 ]
	[ "$(bot_calls_since "$n" | paste -sd,)" = "GET 200,DELETE 204,POST 200" ]
	diff -u <(expected 2) <(events)
}

@test "events: a started conference gets none; an active event moved is deleted and made again" {
	moodle_edit '(.activities[] | select(.event == 501) | .start) = -600'
	msync
	[ "$status" -eq 0 ]
	[ "$(events_json | jq '[.[] | select(.name == "Lecture 1")] | length')" -eq 0 ]
	old=$(event_of 502)
	# at +1 h 10 min Lab 1 (+1 h) is under way; moved to +3 h
	moodle_edit '(.activities[] | select(.event == 502) | .start) = 10800'
	n=$(calls)
	AT=4200 msync
	[ "$status" -eq 0 ]
	[ "$(bot_calls_since "$n" | paste -sd,)" = "GET 200,DELETE 204,POST 200" ]
	[ "$(event_of 502)" != "$old" ]
	diff -u <(AT=4200 expected) <(events)
}

@test "events: a burst is paced by the buckets and the global limit: no 429" {
	moodle_edit '.activities += [range(0; 40) as $i | {"module": "bigbluebuttonbn", "instance": (100 + $i),
	    "cmid": (1000 + $i), "course": 10, "name": "Talk \($i)", "event": (1000 + $i), "start": (9000 + $i * 60)}]'
	discord_admin "bot_rate?limit=10&per=0.5&global=25"
	start=$(date +%s%N)
	msync
	[ "$status" -eq 0 ]
	diff -u <(expected) <(events)
	[ "$(events | wc -l)" -eq 43 ]
	[ "$(discord_stats | jq .ratelimited)" -eq 0 ]
	# 44 bot calls at 25 a second and 10 each half second: 1.5 s at least
	[ $(( ($(date +%s%N) - start) / 1000000 )) -ge 1500 ]
}

@test "events: a bad token, a missing permission, an unknown guild: messages posted, 78 and one line" {
	printf '%s\n' "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gfake0.Wrong-token0123456789abcdefghij" >"$T/bot-token"
	msync
	[ "$status" -eq 78 ]
	[ "$(discord_channel | jq length)" -eq 3 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"refused the bot token"* ]]
	[ "$(events | wc -l)" -eq 0 ]

	printf '%s\n' "$BOT_TOKEN" >"$T/bot-token"
	discord_admin "bot_perms?perms=1024"
	msync
	[ "$status" -eq 78 ]
	[[ "$stderr" == *"Create Events"* ]]
	[ "${#stderr_lines[@]}" -eq 1 ]

	discord_admin "bot_perms?perms=$((1 << 44))"
	events_config "guild_id = 999999999999999999"
	sed -i "0,/^guild_id = $GUILD$/{//d}" "$CFG"
	msync
	[ "$status" -eq 78 ]
	[[ "$stderr" == *"guild_id"* ]]
	[ "$(events | wc -l)" -eq 0 ]
}

@test "events: the server full of others' events: the messages go on; 69 and one line" {
	discord_admin "event_add?n=100"
	msync
	[ "$status" -eq 69 ]
	[ "$(discord_channel | jq length)" -eq 3 ]
	[[ "$stderr" == *"100"* ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "events: events = no: no bot call at all" {
	events_config "events = no"
	msync
	[ "$status" -eq 0 ]
	[ "$(discord_log | jq '[.[] | select(.path | startswith("/api/v10/guilds"))] | length')" -eq 0 ]
}

# --- crash safety -------------------------------------------------------

crash_reset() {
	discord_admin reset
	rm -rf "$T/state"
	cp "$FIXTURES/fake-moodle/sync.json" "$T/moodle.json.new" && mv "$T/moodle.json.new" "$T/moodle.json"
}

# crash_every_call SCENARIO: SCENARIO's sync counted, then a crash at each
# of its calls in every mode (crash_run); each time the next sync
# converges (the events as expected, none twice) and a further one only
# lists the events.
crash_every_call() {
	local mode k n total
	"$1"
	n=$(calls)
	msync
	total=$(($(calls) - n))
	[ "$total" -gt 0 ]
	for mode in drop hold-before hold-after; do
		for k in $(seq 1 "$total"); do
			echo "# $mode at call $k of $total"
			"$1"
			crash_run "$mode" "$k"
			msync
			[ "$status" -eq 0 ]
			diff -u <(expected) <(events)
			n=$(calls)
			msync
			[ "$(calls_since "$n")" -eq 1 ]
		done
	done
}

@test "events: crash at every call of a first sync: the next run converges, no event twice" {
	crash_every_call crash_reset
}

@test "events: check names the bot, the server, the permission and the count; makes no event" {
	discord_admin "event_add?n=7"
	run --separate-stderr "$MOODLECORD" -c "$CFG" check
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\n'"bot: Moodle Events (333333333333333333)"$'\n'* ]]
	[[ "$output" == *$'\n'"bot: in server \"Fake Server\" ($GUILD), may make events"$'\n'* ]]
	[[ "$output" == *$'\n'"events: 7 of 100 scheduled or active in server $GUILD (moodlecord keeps up to 50)" ]]
	[[ "$output$stderr" != *"$BOT_TOKEN"* ]]
	[ "$(events_json | jq length)" -eq 7 ]
	[ "$(discord_log | jq '[.[] | select(.method != "GET")] | length')" -eq 0 ]

	discord_admin "bot_perms?perms=1024"
	run --separate-stderr "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 78 ]
	[[ "$stderr" == *"lacks the Create Events permission"* ]]
}

@test "events: config errors are 78 before any call: events_max, events without a bot, no guild_id, a readable token file" {
	bad() { # bad WHAT: sync must refuse with 78, naming WHAT, calling nobody
		moodle_log_clear
		n=$(calls)
		msync
		[ "$status" -eq 78 ]
		[[ "$stderr" == *"$1"* ]]
		[ -z "$(moodle_calls)" ]
		[ "$(calls)" -eq "$n" ]
	}
	events_config "events_max = 0"
	bad events_max
	events_config "events_max = 101"
	bad events_max
	events_config
	sed -i '/^guild_id/d' "$CFG"
	bad guild_id
	events_config "events = yes"
	sed -i '/^bot_token_file/d' "$CFG"
	bad "need a bot"
	events_config "events = maybe"
	bad "yes or no"
	events_config
	chmod 644 "$T/bot-token"
	moodle_log_clear
	msync
	[ "$status" -eq 78 ]
	[[ "$stderr" == *"chmod 600"* ]]
	[ "$(discord_log | jq '[.[] | select(.path | startswith("/api/v10/guilds"))] | length')" -eq 0 ]
}

@test "events: a conference gone while the bot fails keeps its event id; the next sync deletes the event" {
	msync
	lab=$(event_of 502)
	moodle_edit 'del(.activities[] | select(.event == 502))'
	msync
	printf '%s\n' "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gfake0.Wrong-token0123456789abcdefghij" >"$T/bot-token"
	msync
	[ "$status" -eq 78 ]
	# the message went; the record stays for its event
	[ "$(discord_channel | jq length)" -eq 2 ]
	[ "$(event_of 502)" = "$lab" ]
	[ "$(events_json | jq -r --arg id "$lab" '.[] | select(.id == $id) | .status')" = 1 ]
	printf '%s\n' "$BOT_TOKEN" >"$T/bot-token"
	msync
	[ "$status" -eq 0 ]
	[ "$(events_json | jq --arg id "$lab" '[.[] | select(.id == $id)] | length')" -eq 0 ]
	[ "$("$MOODLECORD" -c "$CFG" dump --json | jq '[.[] | select(.id == 502)] | length')" -eq 0 ]
	diff -u <(expected) <(events)
	n=$(calls)
	msync
	[ "$(calls_since "$n")" -eq 1 ]
}

@test "events: dump shows each conference's event id" {
	msync
	run "$MOODLECORD" -c "$CFG" dump
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "START"*"PING"*"EVENT" ]]
	[[ "${lines[1]}" == *"Lecture 1"*" $(event_of 501)" ]]
	[ "$("$MOODLECORD" -c "$CFG" dump --json | jq -r '.[0].sevent_start')" -eq $((MOODLE_BASE + 1800)) ]
}

# change_scenario: from a synced state, one event to delete (gone twice),
# one to edit and one to create, for the crash test below.
change_scenario() {
	crash_reset
	msync
	moodle_edit 'del(.activities[] | select(.event == 502))'
	msync
	moodle_edit '(.activities[] | select(.event == 501) | .name) = "Lecture 1 (room B)"'
	moodle_edit '.activities += [{"module": "bigbluebuttonbn", "instance": 25, "cmid": 105, "course": 10, "name": "Lecture 3", "event": 505, "start": 9000}]'
}

@test "events: crash at every call of a sync that deletes, edits and creates: the next run converges" {
	crash_every_call change_scenario
}

# mping AT: ping run AT seconds ahead (libfaketime), its output checked
# for secrets.
mping() {
	run --separate-stderr env LD_PRELOAD="$FAKETIME_LIB" FAKETIME="+${1}s" FAKETIME_DONT_FAKE_MONOTONIC=1 \
	    ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" "$MOODLECORD" -c "$CFG" ping
	echo "ping: status $status"
	echo "stdout: $output"
	echo "stderr: $stderr"
	[[ "$output$stderr" != *"Sekr3t"* ]]
}
# mentions NAME: how many messages in the channel name that conference.
mentions() { discord_channel | jq --arg n "$1" '[.[] | select(tostring | contains($n))] | length'; }

@test "events: ping posts no reminder for a conference kept only for its event" {
	msync
	moodle_edit 'del(.activities[] | select(.event == 502))'
	msync
	printf '%s\n' "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gfake0.Wrong-token0123456789abcdefghij" >"$T/bot-token"
	msync
	[ "$status" -eq 78 ]
	# Lab 1's message is gone; its record stays, marked gone, for its event
	[ -n "$(event_of 502)" ]
	[ "$("$MOODLECORD" -c "$CFG" dump --json | jq -r '.[] | select(.id == 502) | .hash')" = "-" ]
	[ "$(mentions "Lab 1")" -eq 0 ]
	# 3 minutes before Lab 1's start: ping has nothing to post for it
	mping $((3600 - 180))
	[ "$status" -eq 0 ]
	[ "$(mentions "Lab 1")" -eq 0 ]
	[ "$("$MOODLECORD" -c "$CFG" dump --json | jq -r '.[] | select(.id == 502) | .ping')" = none ]
	# the same 3 minutes before Lecture 2: its reminder is posted
	mping $((7200 - 180))
	[ "$status" -eq 0 ]
	[ "$(mentions "Lecture 2")" -eq 2 ]
}

# --- routes: several servers --------------------------------------------

# routes_events_config [MATH ROUTE LINES] [SCI ROUTE LINES]: events_config,
# plus [route math] (MATH1, its events in GUILD2) and [route sci] (PHYS2,
# [discord]'s server), both through [discord]'s webhook.
routes_events_config() {
	events_config
	cat >>"$CFG" <<-EOF

	[route math]
	courses = MATH1
	guild_id = $GUILD2
	${1:-}

	[route sci]
	courses = PHYS2
	${2:-}
	EOF
}

# events_in GUILD: the names of that server's scheduled or active events
# by start, comma-separated.
events_in() {
	events_json | jq -r --arg g "$1" 'map(select(.status <= 2 and .guild_id == $g))
	    | sort_by(.scheduled_start_time) | .[] | .name' | paste -sd, -
}
guild_of() { "$MOODLECORD" -c "$CFG" dump --json | jq -r ".[] | select(.id == $1) | .sevent_guild // \"\""; }
# The calls since log index $1 that change events: "METHOD GUILD STATUS".
event_writes_since() {
	discord_log | jq -r ".[$1:][] | select((.path | startswith(\"/api/v10/guilds\")) and .method != \"GET\")
	    | \"\(.method) \(.path | split(\"/\")[4]) \(.status)\"" | paste -sd, -
}

@test "events: routes: each server gets its routes' events; a course moving route moves its event in one sync" {
	routes_events_config
	msync
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(events_in "$GUILD2")" = "Lecture 1,Lecture 2" ]
	[ "$(events_in "$GUILD")" = "Lab 1" ]
	[ "$(guild_of 501)" = "$GUILD2" ]
	[ "$(guild_of 502)" = "$GUILD" ]
	lab=$(event_of 502)
	[ -n "$lab" ]

	# PHYS2 now goes to the math route: its event leaves GUILD for GUILD2
	n=$(discord_log | jq length)
	sed -i 's/^courses = MATH1$/courses = MATH1, PHYS2/' "$CFG"
	msync
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(events_in "$GUILD")" = "" ]
	[ "$(events_in "$GUILD2")" = "Lecture 1,Lab 1,Lecture 2" ]
	[ "$(guild_of 502)" = "$GUILD2" ]
	[ "$(event_of 502)" != "$lab" ]
	[ "$(event_writes_since "$n")" = "DELETE $GUILD 204,POST $GUILD2 200" ]
	# the messages all there, and a further sync changes no event
	[ "$(discord_channel | jq length)" -eq 3 ]
	n=$(discord_log | jq length)
	msync
	[ "$status" -eq 0 ]
	[ -z "$(event_writes_since "$n")" ]
}

@test "events: routes: a route with events = no gets none; turned off, its events are deleted" {
	routes_events_config "" "events = no"
	msync
	[ "$status" -eq 0 ]
	[ "$(events_in "$GUILD")" = "" ]
	[ "$(events_in "$GUILD2")" = "Lecture 1,Lecture 2" ]
	[ -z "$(event_of 502)" ]
	[ "$(discord_channel | jq length)" -eq 3 ]

	routes_events_config
	msync
	[ "$status" -eq 0 ]
	[ "$(events_in "$GUILD")" = "Lab 1" ]

	n=$(discord_log | jq length)
	routes_events_config "" "events = no"
	msync
	[ "$status" -eq 0 ]
	[ "$(event_writes_since "$n")" = "DELETE $GUILD 204" ]
	[ "$(events_in "$GUILD")" = "" ]
	[ "$(events_in "$GUILD2")" = "Lecture 1,Lecture 2" ]
	[ -z "$(event_of 502)" ]
	[ "$(discord_channel | jq length)" -eq 3 ]
}

@test "events: routes: a server no route keeps events in any more: its events forgotten, one warning, left in Discord" {
	routes_events_config
	msync
	[ "$(events_in "$GUILD")" = "Lab 1" ]
	# [discord] and sci keep no events; math still does, in GUILD2
	routes_events_config "events = yes" "events = no"
	sed -i "0,/^bot_token_file/s//events = no\nbot_token_file/" "$CFG"
	n=$(discord_log | jq length)
	msync
	[ "$status" -eq 0 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"1 event in server $GUILD forgotten"* ]]
	[ "$(events_in "$GUILD")" = "Lab 1" ]
	[ -z "$(event_writes_since "$n")" ]
	[ -z "$(event_of 502)" ]
	[ "$(events_in "$GUILD2")" = "Lecture 1,Lecture 2" ]
}

@test "events: routes: a route's own bot token is the one used; its failure is its server's only" {
	printf '%s\n' "$OTHER_TOKEN" >"$T/other-token"
	chmod 600 "$T/other-token"
	routes_events_config "bot_token_file = $T/other-token"
	msync
	[ "$status" -eq 78 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"refused the bot token"* ]]
	[ "$(discord_channel | jq length)" -eq 3 ]
	[ "$(events_in "$GUILD")" = "Lab 1" ]
	[ "$(events_in "$GUILD2")" = "" ]
	# the fake saw the other token on GUILD2's calls (401), never in output
	[ "$(discord_log | jq -r "[.[] | select(.path | contains(\"$GUILD2\")) | .status] | unique | join(\",\")")" = "401" ]

	printf '%s\n' "$BOT_TOKEN" >"$T/other-token"
	msync
	[ "$status" -eq 0 ]
	[ "$(events_in "$GUILD2")" = "Lecture 1,Lecture 2" ]
}

@test "events: routes: config errors are 78 before any call; the bot tokens never printed" {
	refused() { # refused WHAT: sync must refuse with 78, naming WHAT, calling nobody
		moodle_log_clear
		n=$(discord_log | jq length)
		msync
		[ "$status" -eq 78 ]
		[[ "$stderr" == *"$1"* ]]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[ -z "$(moodle_calls)" ]
		[ "$(discord_log | jq length)" -eq "$n" ]
	}
	printf '%s\n' "$OTHER_TOKEN" >"$T/other-token"
	chmod 600 "$T/other-token"
	routes_events_config
	sed -i "s/^guild_id = $GUILD2\$/guild_id = 12/" "$CFG"
	refused "[route math] guild_id: '12' is not a Discord id"
	routes_events_config "events_max = 101"
	refused "[route math] events_max: '101' is not a number (1-100)"
	routes_events_config "events = maybe"
	refused "[route math] events: 'maybe' is not yes or no"
	# sci joins math's server with another events_max, or another bot
	routes_events_config "events_max = 40" "guild_id = $GUILD2"
	refused "[route math] and [route sci] keep events in server $GUILD2 with events_max 40 and 50"
	routes_events_config "" "guild_id = $GUILD2
	bot_token_file = $T/other-token"
	refused "[route math] and [route sci] keep events in server $GUILD2 with two bot tokens"
	routes_events_config "" "bot_token = $OTHER_TOKEN
	bot_token_file = $T/other-token"
	refused "keep one of bot_token, bot_token_file"
	# [discord] without a bot: a route asking for events needs its own
	routes_events_config "events = yes"
	sed -i '0,/^bot_token_file/{//d}' "$CFG"
	refused "[route math] events: scheduled events need a bot"
	# [discord] without a server to lend
	routes_events_config
	sed -i "0,/^guild_id = $GUILD\$/{//d}" "$CFG"
	refused "[route sci] has scheduled events but no guild_id, and [discord] has none to lend"
	routes_events_config "" "guild_id = $GUILD"
	sed -i "0,/^guild_id = $GUILD\$/{//d}" "$CFG"
	sed -i 's/^webhook_url = .*//' "$CFG"
	sed -i "s|^courses = PHYS2|courses = PHYS2\nwebhook_url = $WEBHOOK_URL|" "$CFG"
	sed -i "s|^courses = MATH1|courses = MATH1\nwebhook_url = $WEBHOOK_URL|" "$CFG"
	msync
	[ "$status" -eq 0 ]
	[ "$(events_in "$GUILD")" = "Lab 1" ]
	[ "$(events_in "$GUILD2")" = "Lecture 1,Lecture 2" ]
	# a route's token file others may read; a route's inline token in a
	# config others may read
	routes_events_config "bot_token_file = $T/other-token"
	chmod 644 "$T/other-token"
	refused "chmod 600"
	routes_events_config "bot_token = $OTHER_TOKEN"
	chmod 644 "$CFG"
	refused "[route math] bot_token on line"
}

@test "events: sync --dry-run shows each server's event plan and changes no event" {
	routes_events_config
	run --separate-stderr "$MOODLECORD" -c "$CFG" sync --dry-run
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$output$stderr" != *"Sekr3t"* ]]
	[[ "$output" == *"event create  $(moodle_time 1800)  MATH1  Lecture 1  (new)"* ]]
	[[ "$output" == *"event create  $(moodle_time 3600)  PHYS2  Lab 1  (new)"* ]]
	[[ "$output" == *"events in server $GUILD2: 2 to create, 0 to edit, 0 to delete"* ]]
	[[ "$output" == *"events in server $GUILD: 1 to create, 0 to edit, 0 to delete"* ]]
	[ "$(discord_log | jq '[.[] | select(.method != "GET")] | length')" -eq 0 ]
	[ "$(events_json | jq length)" -eq 0 ]

	msync
	[ "$status" -eq 0 ]
	n=$(discord_log | jq length)
	moodle_edit '(.activities[] | select(.event == 501) | .name) = "Lecture One"'
	sed -i 's/^courses = MATH1$/courses = MATH1, PHYS2/' "$CFG"
	run --separate-stderr "$MOODLECORD" -c "$CFG" sync --dry-run
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *"event edit  $(moodle_time 1800)  MATH1  Lecture One  (changed in Moodle)"* ]]
	[[ "$output" == *"event delete  $(moodle_time 3600)  PHYS2  Lab 1  (its route keeps its event in another server, or none)"* ]]
	[[ "$output" == *"event create  $(moodle_time 3600)  PHYS2  Lab 1  (new)"* ]]
	[[ "$output" == *"events in server $GUILD2: 1 to create, 1 to edit, 0 to delete"* ]]
	[[ "$output" == *"events in server $GUILD: 0 to create, 0 to edit, 1 to delete"* ]]
	[ "$(discord_log | jq "[.[$n:][] | select(.method != \"GET\")] | length")" -eq 0 ]
	[ "$(events_in "$GUILD")" = "Lab 1" ]
	[ "$(events_in "$GUILD2")" = "Lecture 1,Lecture 2" ]
}

@test "events: routes: check checks each server, the bot named once; a server the bot is not in is 78" {
	discord_admin "event_add?n=7"
	routes_events_config "events_max = 20"
	run --separate-stderr "$MOODLECORD" -c "$CFG" check
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^bot: Moodle Events (333333333333333333)$' <<<"$output")" -eq 1 ]
	[[ "$output" == *$'\n'"bot: in server \"Fake Server\" ($GUILD2), may make events"$'\n'* ]]
	[[ "$output" == *$'\n'"events: 0 of 100 scheduled or active in server $GUILD2 (moodlecord keeps up to 20)"* ]]
	[[ "$output" == *$'\n'"bot: in server \"Fake Server\" ($GUILD), may make events"$'\n'* ]]
	[[ "$output" == *$'\n'"events: 7 of 100 scheduled or active in server $GUILD (moodlecord keeps up to 50)"* ]]
	[[ "$output$stderr" != *"Sekr3t"* ]]
	[ "$(discord_log | jq '[.[] | select(.method != "GET")] | length')" -eq 0 ]

	sed -i "s/^guild_id = $GUILD2\$/guild_id = 999999999999999999/" "$CFG"
	run --separate-stderr "$MOODLECORD" -c "$CFG" check
	echo "$output"; echo "$stderr"
	[ "$status" -eq 78 ]
	[[ "$stderr" == *"999999999999999999"* ]]
}
