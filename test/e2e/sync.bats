#!/usr/bin/env bats
# sync: the real binary against the fake Moodle and the fake Discord.
# The channel must always end equal to Moodle's conferences, with one
# Discord call per change and none when nothing changed, whatever fails.

bats_require_minimum_version 1.5.0

load common
load discord_helpers
load moodle_helpers

PW=Alice-Sekr3t-pw
HOOK2_ID=223456789012345678
HOOK2_TOKEN=Second-Hook_token.xyz

setup() {
	common_setup
	CFG="$T/config"
	STATE="$T/state/state.mdb"
	moodle_start sync
	start_discord --rate 1000/1 --webhook "$HOOK2_ID/$HOOK2_TOKEN"
	HOOK2_URL="http://127.0.0.1:$DISCORD_PORT/api/v10/webhooks/$HOOK2_ID/$HOOK2_TOKEN"
	sync_config "$WEBHOOK_URL"
}
teardown() {
	if mountpoint -q "$T/small" 2>/dev/null; then umount "$T/small"; fi
	common_teardown
}

# sync_config WEBHOOK_URL [MORE LINES]: the test config.
sync_config() {
	write_config "$CFG" <<-EOF
	[moodle]
	url = $MOODLE_URL
	username = alice
	password = $PW
	${2:-}

	[discord]
	webhook_url = $1

	[state]
	path = $STATE

	[http]
	connect_timeout = 2
	timeout = 3
	EOF
}

# msync [OPTIONS] [--dry-run]: a sync run under bats' run.
msync() {
	local opts=() args=()
	while [ $# -gt 0 ]; do
		case $1 in --dry-run) args+=("$1") ;; *) opts+=("$1") ;; esac
		shift
	done
	run --separate-stderr "$MOODLECORD" -c "$CFG" "${opts[@]}" sync "${args[@]}"
	echo "sync: status $status"
	echo "stdout: $output"
	echo "stderr: $stderr"
	no_secrets
}

no_secrets() {
	[[ "$output$stderr" != *"$PW"* ]]
	[[ "$output$stderr" != *"$WEBHOOK_TOKEN"* ]]
	[[ "$output$stderr" != *"$HOOK2_TOKEN"* ]]
}

# The calls that change the channel: each sync also looks up (GET) a few
# standing messages, counted apart.
calls() { discord_log | jq '[.[] | select(.method != "GET")] | length'; }

# writes: the log of the calls that change the channel.
writes() { discord_log | jq '[.[] | select(.method != "GET")]'; }

# calls_since N: the calls that change the channel after the first N,
# "METHOD STATUS" a line.
calls_since() { discord_log | jq -r "[.[] | select(.method != \"GET\")] | .[$1:][] | \"\(.method) \(.status)\""; }

# The channel as "TITLE START" lines, in the order posted.
channel() {
	discord_channel | jq -r '.[] | "\(.embeds[0].title) \(.embeds[0].description | capture("<t:(?<t>[0-9]+):F>").t)"'
}

# The channel in order of start instead.
channel_by_start() {
	discord_channel | jq -r 'map({t: .embeds[0].title,
	    s: (.embeds[0].description | capture("<t:(?<t>[0-9]+):F>").t | tonumber)})
	    | sort_by(.s) | .[] | "\(.t) \(.s)"'
}

# What the channel must show for the scenario now: every BigBlueButton
# conference with an event, not over, in order of start, then id.
expected() {
	jq -r --argjson base "$MOODLE_BASE" --argjson now "$(date +%s)" '
	    [.activities[] | select(.module == "bigbluebuttonbn" and .event != null
	        and (.visible // true) and .start != null
	        and ($base + .start + (if (.duration // 0) > 0 then .duration else 5400 end)) > $now)]
	    | sort_by(.start, .event) | .[] | "\(.name) \($base + .start)"' "$T/moodle.json"
}

# msg_of EVENT: the message id the state holds for a conference.
msg_of() { "$MOODLECORD" -c "$CFG" dump --json | jq -r ".[] | select(.id == $1) | .msg_id"; }

# The state, as dump --json and as bytes with mtime.
state_print() {
	"$MOODLECORD" -c "$CFG" dump --json
	stat -c '%s %y' "$STATE"
	sha256sum <"$STATE"
}

@test "first sync posts each conference once, in start order; a second sync makes no call" {
	msync
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]  # quiet on success
	diff -u <(expected) <(channel)
	[ "$(expected | wc -l)" -eq 3 ]
	[ "$(calls)" -eq 3 ]
	[ "$(calls_since 0 | sort -u)" = "POST 200" ]
	# each message links its activity page and is known to the state
	[ "$(discord_channel | jq -r '.[0].embeds[0].url')" = "$MOODLE_URL/mod/bigbluebuttonbn/view.php?id=101" ]
	[ "$(discord_channel | jq -r '.[0].embeds[0].description')" = $'**Maths**\n<t:'$((MOODLE_BASE + 1800))$':F> (<t:'$((MOODLE_BASE + 1800))':R>)' ]
	[ "$(msg_of 501)" = "$(discord_channel | jq -r '.[0].id')" ]
	[ "$(msg_of 503)" = "$(discord_channel | jq -r '.[2].id')" ]

	msync
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
	[ "$(calls)" -eq 3 ]
	[ "$(discord_stats | jq .ratelimited)" -eq 0 ]
}

@test "-v says what was done, one line per change and a summary" {
	msync -v
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "create  $(moodle_time 1800)  MATH1  Lecture 1  (new)" ]
	[ "${lines[1]}" = "create  $(moodle_time 3600)  PHYS2  Lab 1  (new)" ]
	[ "${lines[2]}" = "create  $(moodle_time 7200)  MATH1  Lecture 2  (new)" ]
	[ "${lines[3]}" = "3 created, 0 edited, 0 deleted" ]
	[ "${#lines[@]}" -eq 4 ]
	msync -q
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "a moved conference costs exactly one PATCH, with the new time" {
	msync
	id=$(msg_of 501)
	n=$(calls)
	moodle_edit '(.activities[] | select(.event == 501) | .start) = 2400'
	msync -v
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "edit  $(moodle_time 2400)  MATH1  Lecture 1  (time changed)" ]
	[ "$(calls_since "$n")" = "PATCH 200" ]
	[[ "$(writes | jq -r '.[-1].path')" == */messages/$id ]]
	[[ "$(writes | jq -r '.[-1].body')" == *"<t:$((MOODLE_BASE + 2400)):F>"* ]]
	[ "$(msg_of 501)" = "$id" ]
	[ "$(discord_channel | jq -r '.[0].edited')" = true ]
	diff -u <(expected) <(channel)
	msync
	[ "$(calls)" -eq $((n + 1)) ]
}

@test "a renamed conference costs exactly one PATCH" {
	msync
	n=$(calls)
	moodle_edit '(.activities[] | select(.event == 502) | .name) = "Lab 1 (room B)"'
	msync
	[ "$status" -eq 0 ]
	[ "$(calls_since "$n")" = "PATCH 200" ]
	[ "$(discord_channel | jq -r '.[1].embeds[0].title')" = "Lab 1 (room B)" ]
	diff -u <(expected) <(channel)
	msync
	[ "$(calls)" -eq $((n + 1)) ]
}

@test "a future conference gone from Moodle stays after one sync, goes after the second; back in time, it stays" {
	msync
	n=$(calls)
	moodle_edit 'del(.activities[] | select(.event == 502))'
	msync
	[ "$status" -eq 0 ]
	[ "$(calls)" -eq "$n" ]
	[ "$(discord_channel | jq length)" -eq 3 ]
	[ "$("$MOODLECORD" -c "$CFG" dump --json | jq '.[] | select(.id == 502) | .missing')" -eq 1 ]

	# back in Moodle: the counter starts again, no call
	cp "$FIXTURES/fake-moodle/sync.json" "$T/moodle.json.new" && mv "$T/moodle.json.new" "$T/moodle.json"
	msync
	[ "$(calls)" -eq "$n" ]
	[ "$("$MOODLECORD" -c "$CFG" dump --json | jq '.[] | select(.id == 502) | .missing')" -eq 0 ]

	moodle_edit 'del(.activities[] | select(.event == 502))'
	msync
	[ "$(calls)" -eq "$n" ]
	id=$(msg_of 502)
	msync -v
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "delete  $(moodle_time 3600)  PHYS2  Lab 1  (gone from Moodle two syncs in a row)" ]
	[ "$(calls_since "$n")" = "DELETE 204" ]
	[[ "$(writes | jq -r '.[-1].path')" == */messages/$id ]]
	diff -u <(expected) <(channel)
	[ -z "$(msg_of 502)" ]
	[ "$("$MOODLECORD" -c "$CFG" dump --json | jq length)" -eq 2 ]
}

@test "an ended conference is deleted; one gone from Moodle after its start when missing twice" {
	msync
	n=$(calls)
	# ended: started 90 minutes ago (meeting_minutes), still listed by Moodle
	moodle_edit '(.activities[] | select(.event == 501) | .start) = -5400'
	msync
	[ "$status" -eq 0 ]
	[ "$(calls_since "$n")" = "DELETE 204" ]
	diff -u <(expected) <(channel)
	[ "$(discord_channel | jq length)" -eq 2 ]

	# started a minute ago: edited, still shown; then gone: kept after one
	# answer without it (a glitch must not delete a running conference),
	# deleted after the second
	n=$(calls)
	moodle_edit '(.activities[] | select(.event == 502) | .start) = -60'
	msync
	[ "$(calls_since "$n")" = "PATCH 200" ]
	moodle_edit 'del(.activities[] | select(.event == 502))'
	msync -v
	[ "$status" -eq 0 ]
	[ "$(calls_since "$n")" = "PATCH 200" ]
	msync -v
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "delete  $(moodle_time -60)  PHYS2  Lab 1  (gone from Moodle two syncs in a row)" ]
	[ "$(calls_since "$n")" = $'PATCH 200\nDELETE 204' ]
	[ "$(discord_channel | jq -r '.[].embeds[0].title')" = "Lecture 2" ]
	msync
	[ "$(calls)" -eq $((n + 2)) ]
}

@test "a module not in modules is never posted; once listed, it is" {
	msync
	! discord_log | jq -r '.[].body' | grep -q -e "Zoom hours" -e "Homework" || false
	[ "$(discord_channel | jq length)" -eq 3 ]
	sync_config "$WEBHOOK_URL" "modules = bigbluebuttonbn, zoom"
	n=$(calls)
	msync
	[ "$(calls_since "$n")" = "POST 200" ]
	[ "$(discord_channel | jq -r '.[-1].embeds[0].title')" = "Zoom hours" ]
	! discord_log | jq -r '.[].body' | grep -q "Homework" || false
}

@test "every Moodle fault: no Discord call, the state untouched, the right status" {
	moodle_edit '.users[0].token = "5ca1ab1e000000000000000000000001"'
	msync
	[ "$status" -eq 0 ]
	moodle_edit '(.activities[] | select(.event == 501) | .name) = "Renamed"'
	# the token kept from that sync would spare the next ones the login
	# (and its faults): Moodle refuses it, so each signs in again
	moodle_edit '.revoked_tokens = ["5ca1ab1e000000000000000000000001"]'
	before=$(state_print)
	n=$(calls)
	while read -r -u 3 status_want mode more; do
		moodle_fault "$mode" "$more"
		MOODLECORD_HTTP_TIMEOUT=1 msync
		[ "$status" -eq "$status_want" ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ "$stderr" == "moodlecord: sync: "* ]]
		[ "$(calls)" -eq "$n" ]
		[ "$(state_print)" = "$before" ]
	done 3<<-'EOF'
	77 wrong_password {}
	75 maintenance {}
	75 maintenance {"on": "rest"}
	75 cli_maintenance {}
	78 rest_disabled {}
	78 ws_disabled {}
	78 service_disabled {}
	65 html_login {}
	78 redirect {}
	65 truncated {"on": "core_calendar_get_calendar_events"}
	65 empty {"on": "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses"}
	69 server_error {"on": "core_enrol_get_users_courses"}
	75 slow {"seconds": 2, "on": "core_calendar_get_calendar_events"}
	65 huge {"on": "core_calendar_get_calendar_events"}
	EOF
	# a ready token Moodle has revoked: 77, nothing touched either
	moodle_fault none
	moodle_edit '.users[0].token = "0123456789abcdef0123456789abcdef" | .revoked_tokens = ["0123456789abcdef0123456789abcdef"]'
	cp "$CFG" "$T/config.pw"
	sed -i 's/^username = .*/token = 0123456789abcdef0123456789abcdef/; /^password = /d' "$CFG"
	msync
	[ "$status" -eq 77 ]
	[ "$(calls)" -eq "$n" ]
	[ "$(state_print)" = "$before" ]
	[[ "$stderr" != *0123456789abcdef0123456789abcdef* ]]
	# Moodle fixed: the pending rename goes out
	cp "$T/config.pw" "$CFG"
	msync
	[ "$status" -eq 0 ]
	[ "$(calls_since "$n")" = "PATCH 200" ]
}

@test "a conference deleted takes its ping message along" {
	moodle_edit '(.activities[] | select(.event == 501) | .start) = 120'
	msync
	run "$MOODLECORD" -c "$CFG" ping
	[ "$status" -eq 0 ]
	[ "$(discord_channel | jq length)" -eq 4 ]
	ping=$("$MOODLECORD" -c "$CFG" dump --json | jq -r '.[] | select(.id == 501) | .ping_id')
	[ -n "$ping" ]
	msg=$(msg_of 501)
	n=$(calls)
	moodle_edit '(.activities[] | select(.event == 501) | .start) = -5400'
	msync
	[ "$status" -eq 0 ]
	[ "$(calls_since "$n")" = $'DELETE 204\nDELETE 204' ]
	[ "$(writes | jq -r ".[$n:][].path" | sed 's,.*/,,' | paste -sd' ')" = "$msg $ping" ]
	diff -u <(expected) <(channel)
	[ "$(discord_channel | jq length)" -eq 2 ]
	[ -z "$(msg_of 501)" ]
}

@test "a conference deleted while a ping run posts its ping: the next sync deletes that ping" {
	moodle_edit '(.activities[] | select(.event == 501) | .start) = 120'
	msync
	moodle_edit 'del(.activities[] | select(.event == 501))'
	msync
	[ "$status" -eq 0 ]
	n=$(calls)
	[ "$n" -eq 3 ]
	# a ping run has claimed 501 and is posting its ping...
	discord_admin "hold?next=1"
	"$MOODLECORD" -c "$CFG" ping 2>"$T/ping.err" &
	pid=$!
	discord_wait_held
	# ...when the second sync without it deletes its message
	msync
	[ "$status" -eq 0 ]
	[ "$(discord_channel | jq length)" -eq 2 ]
	discord_admin release
	wait "$pid" && rc=0 || rc=$?
	cat "$T/ping.err"
	[ "$rc" -eq 0 ]
	[ ! -s "$T/ping.err" ]
	[ "$(discord_channel | jq length)" -eq 3 ]
	[ -n "$("$MOODLECORD" -c "$CFG" dump --json | jq -r '.[] | select(.id == 501) | .ping_id')" ]
	msync
	[ "$status" -eq 0 ]
	[ "$(discord_channel | jq length)" -eq 2 ]
	diff -u <(expected) <(channel)
	[ "$("$MOODLECORD" -c "$CFG" dump --json | jq length)" -eq 2 ]
	n=$(calls)
	msync
	[ "$(calls)" -eq "$n" ]
}

@test "Discord 5xx midway: the run stops (69) with what was done kept; the next run converges" {
	# call 2 of the first sync meets a 502 (a post is never retried)
	discord_admin "hold?call=2"
	"$MOODLECORD" -c "$CFG" sync >"$T/out" 2>"$T/err" &
	pid=$!
	discord_wait_held
	discord_admin "fail?n=1&status=502"
	discord_admin release
	wait "$pid" && rc=0 || rc=$?
	cat "$T/err"
	[ "$rc" -eq 69 ]
	[ "$(wc -l <"$T/err")" -eq 1 ]
	[ "$(discord_channel | jq length)" -eq 1 ]
	[ -n "$(msg_of 501)" ]
	[ -z "$(msg_of 502)" ]

	msync
	[ "$status" -eq 0 ]
	diff -u <(expected) <(channel_by_start)
	[ "$(discord_channel | jq length)" -eq 3 ]

	# edits meeting 5xx are retried; past the retries the run stops, the
	# next one finishes
	n=$(calls)
	moodle_edit '(.activities[] | .name) |= . + " (moved)"'
	discord_admin "fail?n=3&status=503"
	msync
	[ "$status" -eq 69 ]
	msync
	[ "$status" -eq 0 ]
	diff -u <(expected) <(channel_by_start)
	m=$(calls)
	msync
	[ "$(calls)" -eq "$m" ]
}

@test "a message deleted in Discord: an edit posts it anew, a delete counts as done" {
	msync
	discord_admin "delete_message?id=$(msg_of 501)"
	discord_admin "delete_message?id=$(msg_of 503)"
	n=$(calls)
	moodle_edit '(.activities[] | select(.event == 501) | .name) = "Lecture 1 (new room)"'
	moodle_edit '(.activities[] | select(.event == 503) | .start) = -6000'
	msync -v
	[ "$status" -eq 0 ]
	[ "$(calls_since "$n")" = $'DELETE 404\nPATCH 404\nPOST 200' ]
	[ "${lines[0]}" = "delete  $(moodle_time -6000)  MATH1  Lecture 2  (over)" ]
	[ "${lines[1]}" = "create  $(moodle_time 1800)  MATH1  Lecture 1 (new room)  (its message was deleted in Discord)" ]
	diff -u <(expected | sort) <(channel | sort)
	[ "$(msg_of 501)" = "$(discord_channel | jq -r '.[-1].id')" ]
	[ -z "$(msg_of 503)" ]
	n=$(calls)
	msync
	[ "$(calls)" -eq "$n" ]
}

# sync_until_done: sync until a run finishes (a run may give up on a 429
# storm with 75); at most three runs.
sync_until_done() {
	local i
	for i in 1 2 3; do
		msync
		[ "$status" -eq 0 ] && return 0
		[ "$status" -eq 75 ] || return 1
	done
	return 1
}

@test "429 storms are waited out; the channel converges without duplicates" {
	discord_admin "ratelimit?n=6&retry_after=0.05"
	sync_until_done
	diff -u <(expected) <(channel_by_start)
	[ "$(discord_channel | jq length)" -eq 3 ]
	moodle_edit '(.activities[] | .name) |= . + "!"'
	discord_admin "ratelimit?n=4&retry_after=0.05&global=1"
	sync_until_done
	diff -u <(expected) <(channel)
	[ "$(discord_stats | jq .ratelimited)" -eq 10 ]
	n=$(calls)
	msync
	[ "$(calls)" -eq "$n" ]
}

@test "a body Discord refuses (400): that change skipped and reported, the others tried, 65" {
	# Discord refuses a username containing "discord"; the fake does too
	sed -i 's/^webhook_url = .*/&\nusername = Discord notices/' "$CFG"
	msync
	[ "$status" -eq 65 ]
	[ "$(calls)" -eq 3 ]
	[ "$(calls_since 0 | sort -u)" = "POST 400" ]
	[ "${#stderr_lines[@]}" -eq 4 ]
	[[ "${stderr_lines[0]}" == "moodlecord: sync: posting 'Lecture 1': "*"(skipped)" ]]
	[ "${stderr_lines[3]}" = "moodlecord: sync: 3 of 3 changes were refused by Discord and skipped (see above)" ]
	[ -z "$(msg_of 501)" ]
	sync_config "$WEBHOOK_URL"
	msync
	[ "$status" -eq 0 ]
	[ "$(calls_since 3 | sort -u)" = "POST 200" ]
	diff -u <(expected) <(channel)
}

@test "the webhook deleted or its token wrong: 78 at once, no further call" {
	msync
	moodle_edit '(.activities[] | .name) |= . + "!"'
	discord_admin delete_webhook
	n=$(calls)
	msync
	[ "$status" -eq 78 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ "$(calls)" -eq $((n + 1)) ]
	discord_admin reset
	discord_admin "wrong_token?on=1"
	msync
	[ "$status" -eq 78 ]
	[ "$(calls)" -eq 1 ]
}

@test "a new webhook: old ids forgotten (no delete call), everything posted anew, said once" {
	msync
	[ "$status" -eq 0 ]
	old=$(msg_of 501)
	sync_config "$HOOK2_URL"
	n=$(calls)
	msync
	[ "$status" -eq 0 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ "$stderr" = "moodlecord: sync: the webhook is not the one the state was made with: forgetting 3 old messages (left in place) and posting every conference anew" ]
	[ "$(calls_since "$n" | sort -u)" = "POST 200" ]
	[ "$(calls_since "$n" | wc -l)" -eq 3 ]
	[ "$(writes | jq -r ".[$n:][].path" | sort -u)" = "/api/v10/webhooks/$HOOK2_ID/***" ]
	[ "$(msg_of 501)" != "$old" ]
	[ -n "$(msg_of 501)" ]
	n=$(calls)
	msync
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(calls)" -eq "$n" ]
}

@test "--dry-run prints the plan and changes nothing, with and without a state" {
	msync --dry-run
	[ "$status" -eq 0 ]
	cat >"$T/want" <<-EOF
	create  $(moodle_time 1800)  MATH1  Lecture 1  (new)
	create  $(moodle_time 3600)  PHYS2  Lab 1  (new)
	create  $(moodle_time 7200)  MATH1  Lecture 2  (new)
	3 to create, 0 to edit, 0 to delete
	EOF
	diff -u "$T/want" - <<<"$output"
	[ ! -e "$T/state" ]
	[ "$(calls)" -eq 0 ]

	msync
	moodle_edit '(.activities[] | select(.event == 501) | .name) = "Lecture 1 (online)"'
	moodle_edit '(.activities[] | select(.event == 502) | .start) = -6000'
	moodle_edit '.activities += [{"module": "bigbluebuttonbn", "instance": 24, "cmid": 104, "course": 11, "name": "Lab 2", "event": 504, "start": 4000}]'
	before=$(state_print)
	n=$(calls)
	msync --dry-run
	[ "$status" -eq 0 ]
	cat >"$T/want" <<-EOF
	delete  $(moodle_time -6000)  PHYS2  Lab 1  (over)
	edit  $(moodle_time 1800)  MATH1  Lecture 1 (online)  (renamed)
	create  $(moodle_time 4000)  PHYS2  Lab 2  (new)
	1 to create, 1 to edit, 1 to delete
	EOF
	diff -u "$T/want" - <<<"$output"
	[ "$(calls)" -eq "$n" ]
	[ "$(state_print)" = "$before" ]
	# and the plan is what sync then does
	msync -v
	diff -u <(sed '$d' "$T/want") <(printf '%s\n' "${lines[@]}" | sed '$d')
}

@test "a state made for another Moodle site: 78 saying how to start afresh, nothing touched" {
	msync
	[ "$status" -eq 0 ]
	before=$(state_print)
	n=$(calls)
	sed -i "s,^url = .*,url = http://localhost:$MOODLE_PORT," "$CFG"
	for dry in "" --dry-run; do
		msync $dry
		[ "$status" -eq 78 ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[ "$stderr" = "moodlecord: sync: state file $STATE belongs to $MOODLE_URL, not http://localhost:$MOODLE_PORT: set [state] path to a new file, or remove $STATE to start afresh" ]
		[ "$(calls)" -eq "$n" ]
		[ "$(state_print)" = "$before" ]
	done
	# the advice works
	rm "$STATE"
	msync
	[ "$status" -eq 0 ]
	[ "$(calls_since "$n" | sort -u)" = "POST 200" ]
}

@test "a damaged state file: 74, one line, no Discord call, the file never written" {
	mkdir -p "$(dirname "$STATE")"
	head -c 20000 /dev/urandom >"$STATE"
	cp "$STATE" "$T/copy"
	for dry in "" --dry-run; do
		msync $dry
		[ "$status" -eq 74 ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[ "$stderr" = "moodlecord: sync: state file $STATE is damaged or not a moodlecord state (not an LMDB file): move it away to start afresh" ]
		[ "$(calls)" -eq 0 ]
		cmp "$STATE" "$T/copy"
	done
}

@test "a full disk: 74, one line, no Discord call; with space again the next sync converges" {
	mkdir -p "$T/small"
	mount -t tmpfs -o size=512k tmpfs "$T/small" 2>/dev/null || skip "cannot mount a tmpfs here"
	STATE="$T/small/state/state.mdb"
	sync_config "$WEBHOOK_URL"
	mkdir -p "$T/small/state"
	# The run lock rewrites its file in place: made beforehand, it still
	# fits, so the full disk meets the state file itself.
	printf '%64s\n' '' >"$STATE.sync.lock"
	dd if=/dev/zero of="$T/small/filler" bs=4k 2>/dev/null || true  # until the disk is full
	msync
	[ "$status" -eq 74 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "moodlecord: sync: "*"$STATE"* ]]
	[ "$(calls)" -eq 0 ]
	[ "$(moodle_calls)" != "" ]  # Moodle was read: the state is what failed
	rm "$T/small/filler"
	msync
	[ "$status" -eq 0 ]
	diff -u <(expected) <(channel)
	[ "$(calls)" -eq "$(expected | wc -l)" ]
}

@test "the run deadline: stop after the current call with what was done kept (75); the next run carries on" {
	# one call per 30 s: the first post goes at once, the second would wait
	# past the deadline (5 s from the start, room for a slow fetch on a
	# loaded machine), so the run stops after one call, long before 30 s
	discord_admin "rate?limit=1&per=30"
	start=$(date +%s)
	MOODLECORD_HTTP_DEADLINE=5 msync
	[ "$status" -eq 75 ]
	[ "$(($(date +%s) - start))" -lt 15 ]
	[ "$(discord_channel | jq length)" -eq 1 ]
	[ -n "$(msg_of 501)" ]
	discord_admin "rate?limit=1000&per=1"
	msync
	[ "$status" -eq 0 ]
	diff -u <(expected) <(channel)
}

@test "a second sync while one runs leaves at once (0), saying so with -v" {
	discord_admin "hold?call=1"
	"$MOODLECORD" -c "$CFG" sync &
	pid=$!
	discord_wait_held
	msync -v
	[ "$status" -eq 0 ]
	[[ "$output" == *"another sync is running"* ]]
	discord_admin release
	wait "$pid"
	[ "$(calls)" -eq 3 ]
}

@test "a sync lock held for over an hour: 75 naming the holder, nothing done" {
	mkdir -p "$T/state"
	# the holder wrote its pid and start two hours ago and still holds it
	printf '4242 %s\n' "$(($(date +%s) - 7200))" >"$STATE.sync.lock"
	( exec 9>>"$STATE.sync.lock" && flock 9 && exec sleep 30 ) 3>&- &
	holder=$!
	for i in $(seq 1 100); do
		flock -n "$STATE.sync.lock" true || break
		sleep 0.02
	done
	msync
	kill "$holder"
	wait "$holder" || true
	[ "$status" -eq 75 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "moodlecord: sync: another sync has been running for 120 minutes (pid 4242 since "*"): if it hangs, stop it" ]]
	[ "$(calls)" -eq 0 ]
	[ ! -e "$STATE" ]
}

@test "a sync that finds another busy leaves before running password_command" {
	sed -i "s|^password = .*|password_command = echo run >>$T/pwcalls; echo $PW|" "$CFG"
	discord_admin "hold?call=1"
	"$MOODLECORD" -c "$CFG" sync &
	pid=$!
	discord_wait_held
	msync -v
	[ "$status" -eq 0 ]
	[[ "$output" == *"another sync is running"* ]]
	discord_admin release
	wait "$pid"
	[ "$(calls)" -eq 3 ]
	[ "$(wc -l <"$T/pwcalls")" -eq 1 ]
}

# --- crash safety -------------------------------------------------------

# A fresh start: empty channel and state, the scenario as shipped.
crash_reset() {
	discord_admin reset
	rm -rf "$T/state"
	cp "$FIXTURES/fake-moodle/sync.json" "$T/moodle.json.new" && mv "$T/moodle.json.new" "$T/moodle.json"
}

# After the crash, one sync without faults: each conference once, at most
# one duplicate (a post whose answer was lost); a further sync: no call.
crash_check() {
	local want have n
	msync
	[ "$status" -eq 0 ]
	want=$(expected | sort)
	have=$(channel | sort)
	# every conference is there, nothing else; one line more at most
	diff -u <(printf '%s\n' "$want") <(printf '%s\n' "$have" | uniq)
	[ "$(printf '%s\n' "$have" | wc -l)" -le $(($(printf '%s\n' "$want" | wc -l) + 1)) ]
	n=$(calls)
	msync
	[ "$status" -eq 0 ]
	[ "$(calls)" -eq "$n" ]
}

# crash_points PREPARE: run PREPARE, then a sync without faults; CRASH_N =
# the Discord calls that sync made (at least one), the calls a crash test
# stops at one by one, as mbsync's tests take their step count from a
# real run.
crash_points() {
	local before
	"$1"
	before=$(calls)
	msync
	[ "$status" -eq 0 ]
	CRASH_N=$(($(calls) - before))
	echo "# $CRASH_N calls to crash at"
	[ "$CRASH_N" -gt 0 ]
}

@test "crash at every call of a first sync: the next run converges" {
	crash_points crash_reset
	for mode in drop hold-before hold-after; do
		for k in $(seq 1 "$CRASH_N"); do
			echo "# $mode at call $k of $CRASH_N"
			crash_reset
			crash_run "$mode" "$k"
			crash_check
		done
	done
}

@test "crash at every call of a sync that deletes, edits and creates: the next run converges" {
	# a first sync, then the edits whose sync is crashed
	before_crash() {
		crash_reset
		moodle_edit '.activities += [{"module": "bigbluebuttonbn", "instance": 24, "cmid": 104, "course": 11, "name": "Seminar", "event": 504, "start": -600}]'
		msync
		[ "$status" -eq 0 ]
		[ "$(discord_channel | jq length)" -eq 4 ]
		n=$(calls)
		moodle_edit 'del(.activities[] | select(.event == 504))'
		moodle_edit '(.activities[] | select(.event == 502) | .name) = "Lab 1 (moved online)"'
		moodle_edit '.activities += [{"module": "bigbluebuttonbn", "instance": 25, "cmid": 105, "course": 10, "name": "Lecture 3", "event": 505, "start": 9000}]'
	}
	crash_points before_crash
	for mode in drop hold-before hold-after; do
		for k in $(seq 1 "$CRASH_N"); do
			echo "# $mode at call $k of $CRASH_N"
			before_crash
			crash_run "$mode" "$k"
			[ "$(calls)" -ge $((n + k)) ]
			crash_check
		done
	done
}
