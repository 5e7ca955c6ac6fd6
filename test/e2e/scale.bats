#!/usr/bin/env bats
# Big sites: the fake Moodle's generated sites (answers like the real
# site's, windows and course lists honoured), and sync reading a site whose
# answers are too big to take whole, in windows and batches.

bats_require_minimum_version 1.5.0
load common
load moodle_helpers

setup() { common_setup; }
teardown() { common_teardown; }

TOK=0123456789abcdef0123456789abcdef

# gen_site N COURSES STEP DESC: a scenario with one scripted conference and
# a generated site, started; sets REST.
gen_site() {
	jq -n --argjson n "$1" --argjson nc "$2" --argjson step "$3" --argjson d "$4" '{
		base: 1795771374,
		site: { sitename: "Big Moodle" },
		users: [ { id: 3, username: "alice", password: "Alice-Sekr3t-pw", firstname: "Al",
			lastname: "Ice", token: "0123456789abcdef0123456789abcdef" } ],
		courses: [ { id: 2, shortname: "RM101", fullname: "Course One", users: [3] } ],
		activities: [ { module: "bigbluebuttonbn", instance: 1, cmid: 3, course: 2,
			name: "Scripted", event: 1, start: 3630 } ],
		generate: { courses: $nc, conferences: $n, start: 3600, step: $step, description: $d }
	}' >"$T/moodle.json"
	: >"$T/moodle.log"
	start_fake fake_moodle MOODLE_PORT --scenario "$T/moodle.json" --log "$T/moodle.log"
	MOODLE_URL="http://127.0.0.1:$MOODLE_PORT"
	REST="$MOODLE_URL/webservice/rest/server.php?moodlewsrestformat=json"
}

rest() { curl -sf "$REST" -d "wstoken=$TOK" -d "wsfunction=$1" "${@:2}"; }
keys() { jq -c '[.. | objects | keys_unsorted] | unique' "$@"; }

# bats test_tags=fake-selftest
@test "a generated site answers with the real site's keys, honours windows and courses" {
	gen_site 1000 7 60 1536
	base=1795771374
	# the courses: the scenario's, then GEN0..GEN6
	rest core_enrol_get_users_courses -d userid=3 >"$T/c"
	diff <(keys "$T/c") <(keys "$FIXTURES/moodle-4.5/core_enrol_get_users_courses.json")
	[ "$(jq -c '[.[].id]' "$T/c")" = "[2,100000,100001,100002,100003,100004,100005,100006]" ]
	[ "$(jq -r '.[1].shortname' "$T/c")" = GEN0 ]

	# a window of 10 minutes over every course: 11 generated (both ends
	# included) and the scripted one, in Moodle's order
	args=(-d 'events[courseids][0]=2' -d 'options[userevents]=0' -d 'options[siteevents]=0'
		-d "options[timestart]=$((base + 3600))" -d "options[timeend]=$((base + 4200))")
	for k in 0 1 2 3 4 5 6; do args+=(-d "events[courseids][$((k + 1))]=$((100000 + k))"); done
	rest core_calendar_get_calendar_events "${args[@]}" >"$T/e"
	diff <(keys "$T/e") <(keys "$FIXTURES/moodle-4.5/core_calendar_get_calendar_events_courseids.json")
	[ "$(jq '.events | length' "$T/e")" -eq 12 ]
	[ "$(jq -c '[.events[].id]' "$T/e")" = \
	  "[70000000,1,70000001,70000002,70000003,70000004,70000005,70000006,70000007,70000008,70000009,70000010]" ]
	[ "$(jq "[.events[] | select(.timestart < $((base + 3600)) or .timestart > $((base + 4200)))] | length" "$T/e")" -eq 0 ]
	# conference 6 (i = 5): course 100005, its numbers, 1.5 KiB of prose
	jq -e '.events[] | select(.id == 70000005) | .courseid == 100005 and .instance == 50000005 and
		.modulename == "bigbluebuttonbn" and .eventtype == "meeting_start" and .timeduration == 0 and
		.name == "Generated conference 6 is scheduled for"' "$T/e"
	desc=$(jq -r '.events[] | select(.id == 70000005) | .description' "$T/e")
	[[ "$desc" == '<div class="no-overflow"><p>Conference 6. '*'</p></div>' ]]
	[ "${#desc}" -eq $((1536 + 38)) ]
	# PHP's escaping of what the description holds
	grep -q '<\\/p><\\/div>' "$T/e"

	# only the courses asked for; a window past the last conference is empty
	rest core_calendar_get_calendar_events -d 'events[courseids][0]=100003' \
		-d "options[timestart]=$base" -d "options[timeend]=$((base + 86400))" >"$T/e3"
	[ "$(jq '.events | length' "$T/e3")" -eq 143 ]
	[ "$(jq '[.events[] | select(.courseid != 100003)] | length' "$T/e3")" -eq 0 ]
	rest core_calendar_get_calendar_events -d 'events[courseids][0]=100003' \
		-d "options[timestart]=$((base + 3600 + 1000 * 60))" -d 'options[timeend]=0' >"$T/e4"
	[ "$(jq '.events | length' "$T/e4")" -eq 0 ]

	# the activity lists: by course asked, with the same prose as intro
	rest mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses -d 'courseids[0]=100006' -d 'courseids[1]=2' >"$T/b"
	diff <(keys "$T/b") <(keys "$FIXTURES/moodle-4.5/mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses.json")
	[ "$(jq '.bigbluebuttonbns | length' "$T/b")" -eq $((142 + 1)) ]
	jq -e '.bigbluebuttonbns[0] | .id == 50000006 and .coursemodule == 60000006 and .course == 100006 and
		.name == "Generated conference 7"' "$T/b"
	intro=$(jq -r '.bigbluebuttonbns[0].intro' "$T/b")
	[ "${#intro}" -eq $((1536 + 7)) ]
	[ "$(jq -c '[.bigbluebuttonbns[].course] | unique' "$T/b")" = "[2,100006]" ]
}

# bats test_tags=fake-selftest
@test "a fault's skip lets the first requests through" {
	gen_site 10 1 60 0
	moodle_fault server_error '{"on": "core_calendar_get_calendar_events", "skip": 2}'
	for i in 1 2; do
		rest core_calendar_get_calendar_events -d 'events[courseids][0]=100000' >/dev/null
	done
	run curl -s -o /dev/null -w '%{http_code}' "$REST" -d "wstoken=$TOK" \
		-d wsfunction=core_calendar_get_calendar_events -d 'events[courseids][0]=100000'
	[ "$output" = 500 ]
	# other functions are not counted and not hit
	rest core_webservice_get_site_info >/dev/null
}

# bats test_tags=fake-selftest
@test "a generated site with step 0 opens every conference in the same second" {
	gen_site 5 1 0 0
	base=1795771374
	rest core_calendar_get_calendar_events -d 'events[courseids][0]=100000' \
		-d "options[timestart]=$((base + 3600))" -d "options[timeend]=$((base + 3600))" >"$T/e"
	[ "$(jq -c '[.events[] | [.id, .timestart - 1795771374]]' "$T/e")" = \
	  "[[70000000,3600],[70000001,3600],[70000002,3600],[70000003,3600],[70000004,3600]]" ]
	rest core_calendar_get_calendar_events -d 'events[courseids][0]=100000' \
		-d "options[timestart]=$((base + 3601))" -d "options[timeend]=0" >"$T/e2"
	[ "$(jq '.events | length' "$T/e2")" -eq 0 ]
}

# sync_site N COURSES STEP DESC: gen_site with times counted from the
# fake's start, and a config for it with a fake Discord (fast rate); sets
# CFG.
sync_site() {
	gen_site "$@"
	moodle_edit 'del(.base)'
	start_fake fake_discord DISCORD_PORT --webhook 123456789012345678/Hook-Sekr3t-token --rate 100000/1
	WEBHOOK_URL="http://127.0.0.1:$DISCORD_PORT/api/v10/webhooks/123456789012345678/Hook-Sekr3t-token"
	CFG="$T/config"
	write_config "$CFG" <<-EOF
	[moodle]
	url = $MOODLE_URL
	username = alice
	password = Alice-Sekr3t-pw
	lookahead_days = 30
	[discord]
	webhook_url = $WEBHOOK_URL
	[state]
	path = $T/state.mdb
	EOF
}

channel() { curl -sf "http://127.0.0.1:$DISCORD_PORT/_fake/channel"; }
# The calls that change the channel: each sync also looks up (GET) a few
# standing messages, counted apart.
discord_calls() { curl -sf "http://127.0.0.1:$DISCORD_PORT/_fake/log" | jq '[.[] | select(.method != "GET")] | length'; }
calendar_windows() {
	jq -r 'select(.wsfunction == "core_calendar_get_calendar_events") |
		"\(.params["options[timestart]"]) \(.params["options[timeend]"]) \(.status)"' "$T/moodle.log"
}

@test "a site whose calendar answer is over the 16 MiB guard is synced whole, in windows" {
	# 300 conferences with 60 kB descriptions: 18 MB of calendar in one
	# answer; 30 courses, so that each course's activity list fits
	sync_site 300 30 3600 60000
	run "$MOODLECORD" -c "$CFG" sync
	echo "$output"
	[ "$status" -eq 0 ]
	# every conference once (the scripted one too), in order of start
	[ "$(channel | jq length)" -eq 301 ]
	[ "$(channel | jq '[.[] | .embeds | tostring] | unique | length')" -eq 301 ]
	channel | jq -e '[.[] | tostring | select(test("Generated conference 300\\b"))] | length == 1'
	# the calendar was asked in windows that tile [now - 1 day, now + 30 days]
	calendar_windows >"$T/windows"
	cat "$T/windows"
	[ "$(wc -l <"$T/windows")" -ge 5 ]
	# each window follows the last one taken, or is the first half of one
	# refused (its answer over the budget); the last ends 31 days after
	# the first begins
	awk 'NR == 1 { first = $1 }
	     NR > 1 && !($1 == ps && $2 < pe) && $1 != pe + 1 { bad = 1 }
	     NR > 1 && $1 == ps { splits++ }
	     { ps = $1; pe = $2 }
	     END { exit bad || splits < 1 || pe - first != 31 * 86400 }' "$T/windows"
	# activity lists in batches of courses, none over the budget
	[ "$(grep -c mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses "$T/moodle.log")" -ge 2 ]
	# a second sync: nothing to do
	calls=$(discord_calls)
	run "$MOODLECORD" -c "$CFG" sync
	[ "$status" -eq 0 ]
	[ "$(discord_calls)" -eq "$calls" ]
}

@test "a window that fails changes nothing: no post, no edit, no delete" {
	sync_site 300 30 3600 60000
	run "$MOODLECORD" -c "$CFG" sync
	[ "$status" -eq 0 ]
	channel >"$T/before"
	calls=$(discord_calls)
	# the site changes: a conference gone, one moved, one renamed ...
	moodle_edit '.generate.conferences = 250 | .activities[0].start = 7200 | .activities[0].name = "Renamed"'
	# ... and the third calendar window fails
	moodle_fault server_error '{"on": "core_calendar_get_calendar_events", "skip": 2}'
	run --separate-stderr "$MOODLECORD" -c "$CFG" sync
	echo "$stderr"
	[ "$status" -eq 69 ]
	[[ "$stderr" == *"core_calendar_get_calendar_events"*"HTTP 500"* ]]
	[ "$(discord_calls)" -eq "$calls" ]
	diff <(jq -c . "$T/before") <(channel | jq -c .)
	# without the fault the next syncs bring the channel in step (a
	# conference still ahead is deleted once it is missing twice)
	moodle_edit 'del(.fault)'
	run "$MOODLECORD" -c "$CFG" sync
	[ "$status" -eq 0 ]
	run "$MOODLECORD" -c "$CFG" sync
	[ "$status" -eq 0 ]
	[ "$(channel | jq length)" -eq 251 ]
	channel | jq -e '[.[] | tostring | select(test("Renamed"))] | length == 1'
}

@test "too much in one second: 65 naming the window, nothing posted" {
	# 70 conferences in the same second with 64 kB descriptions: 4.6 MB
	sync_site 70 1 0 65536
	run --separate-stderr "$MOODLECORD" -c "$CFG" sync
	echo "$stderr"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"the calendar from "*" UTC answers over 2097152 bytes even for one second; refused" ]]
	[ "$(discord_calls)" -eq 0 ]
	[ ! -e "$T/state.mdb" ] || [ "$("$MOODLECORD" -c "$CFG" dump | grep -c conference || true)" -eq 0 ]
}
