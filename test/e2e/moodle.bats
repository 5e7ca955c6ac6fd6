#!/usr/bin/env bats
# The Moodle client through the real binary (`check`) against the fake
# Moodle: what it lists, the calls it makes, and every way a site fails,
# each with its exit status, one line on stderr and no secret anywhere.

bats_require_minimum_version 1.5.0
load common
load moodle_helpers

setup() {
	common_setup
	CFG="$T/config"
	PW=Alice-Sekr3t-pw
	TOKEN=a11ce0000000000000000000000000a1
	HOOKTOK=Hook-Sekr3t-token
}
teardown() { common_teardown; }

# No secret in the output, the fake's log or its own output.
no_secrets() {
	local f
	for f in "$T/moodle.log" "$T/fake_moodle.out"; do
		! grep -q -e "$PW" -e "${TOKEN:0:24}" -e "$HOOKTOK" "$f" || false
	done
	[[ "$output" != *"$PW"* ]]
	[[ "$output" != *"${TOKEN:0:24}"* ]]
	[[ "$output" != *"$HOOKTOK"* ]]
}

# check fails with status $1 and exactly one stderr line holding $2.
check_fails() {
	run --separate-stderr "$MOODLECORD" -c "$CFG" check
	echo "status $status"
	echo "stdout: $output"
	echo "stderr: $stderr"
	[ "$status" -eq "$1" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "moodlecord: check: "*"$2"* ]]
	output="$output $stderr" no_secrets
}

@test "check lists exactly the scenario's conferences, with the minimum of calls" {
	moodle_start mixed
	moodle_config "$CFG"
	run --separate-stderr "$MOODLECORD" -c "$CFG" check
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	cat >"$T/expected" <<-EOF
	config: $CFG
	moodle: Fake & Co Moodle ($MOODLE_URL)
	release: 4.1.9 (Build: 20240212)
	user: alice (Alice Liddell)
	courses: 2
	  $(moodle_time -7200)  MATH1  Yesterday's talk  $MOODLE_URL/mod/bigbluebuttonbn/view.php?id=103
	  $(moodle_time 1800)  MATH1  Q&A 🎉 @everyone **bold** <live>  $MOODLE_URL/mod/bigbluebuttonbn/view.php?id=101
	  $(moodle_time 90000)  PHYS2  Lab_review *not* italic  $MOODLE_URL/mod/bigbluebuttonbn/view.php?id=102
	EOF
	grep -v '^conferences: \|^discord: ' <<<"$output" | diff -u "$T/expected" -
	[ "$(grep -c '^discord: webhook 123456789012345678 ' <<<"$output")" -eq 1 ]
	[[ "$(grep '^conferences: ' <<<"$output")" == "conferences: 3 from "*" to "* ]]
	[ "$(moodle_calls)" = "login,core_webservice_get_site_info,core_enrol_get_users_courses,core_calendar_get_calendar_events,mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses" ]
	# The exact parameters of the calls.
	run jq -c '.params | del(.wstoken, .wsfunction, .moodlewsrestformat)' "$T/moodle.log"
	[ "${lines[0]}" = '{"username":"alice","password":"***","service":"moodle_mobile_app"}' ]
	[ "${lines[1]}" = '{}' ]
	[ "${lines[2]}" = '{"userid":"7","returnusercount":"0"}' ]
	[[ "${lines[3]}" == '{"events[courseids][0]":"10","events[courseids][1]":"11","options[userevents]":"0","options[siteevents]":"0","options[timestart]":"'* ]]
	[ "${lines[4]}" = '{"courseids[0]":"10","courseids[1]":"11"}' ]
	now=$(date +%s)
	ts=$(jq -r 'select(.wsfunction == "core_calendar_get_calendar_events") | .params["options[timestart]"]' "$T/moodle.log")
	te=$(jq -r 'select(.wsfunction == "core_calendar_get_calendar_events") | .params["options[timeend]"]' "$T/moodle.log")
	[ $((now - 86400 - ts)) -ge 0 ]
	[ $((now - 86400 - ts)) -le 5 ]
	[ $((te - ts)) -eq $((31 * 86400)) ]
	# Every answer was a success, every call with the one token.
	[ "$(jq -r .status "$T/moodle.log" | sort -u)" = 200 ]
	[ "$(jq -r .token_serial "$T/moodle.log" | sort -u)" = 1 ]
	[ ! -e "$T/state.mdb" ]
	no_secrets
}

@test "check on the real 4.5 site's twin lists events 5 1 2 3 4, then sees an edit" {
	moodle_start site45-live
	moodle_config "$CFG" student1 Student1-pass!
	run "$MOODLECORD" -c "$CFG" check
	echo "$output"
	[ "$status" -eq 0 ]
	run grep '^  ' <<<"$output"
	[ "${#lines[@]}" -eq 5 ]
	[ "${lines[0]}" = "  $(moodle_time -3600)  RM101  BBB already open (opened 1h ago, closes in 2h)  $MOODLE_URL/mod/bigbluebuttonbn/view.php?id=7" ]
	[ "${lines[1]}" = "  $(moodle_time 600)  RM101  BBB opens in 10 minutes  $MOODLE_URL/mod/bigbluebuttonbn/view.php?id=3" ]
	[ "${lines[2]}" = "  $(moodle_time 7200)  RM202  BBB opens in 2 hours  $MOODLE_URL/mod/bigbluebuttonbn/view.php?id=4" ]
	[ "${lines[3]}" = "  $(moodle_time 86400)  RM101  BBB opens in 1 day  $MOODLE_URL/mod/bigbluebuttonbn/view.php?id=5" ]
	[ "${lines[4]}" = "  $(moodle_time 259200)  RM202  BBB opens in 3 days  $MOODLE_URL/mod/bigbluebuttonbn/view.php?id=6" ]

	# As on the real site: the 1-day meeting moved 6 h later, the 3-day one deleted.
	moodle_edit '(.activities[] | select(.event == 3) | .start) += 21600 | del(.activities[] | select(.event == 4))'
	run "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 0 ]
	run grep '^  ' <<<"$output"
	[ "${#lines[@]}" -eq 4 ]
	[ "${lines[3]}" = "  $(moodle_time 108000)  RM101  BBB opens in 1 day  $MOODLE_URL/mod/bigbluebuttonbn/view.php?id=5" ]

	# Renamed, closed (Moodle stops returning it), and the default window.
	moodle_edit '(.activities[] | select(.event == 1) | .name) = "Renamed & moved" | (.activities[] | select(.event == 5) | .closes) = 0'
	run "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 0 ]
	run grep '^  ' <<<"$output"
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[0]}" = "  $(moodle_time 600)  RM101  Renamed & moved  $MOODLE_URL/mod/bigbluebuttonbn/view.php?id=3" ]
}

@test "modules and courses select what is a conference" {
	moodle_start mixed
	moodle_config "$CFG"
	MOODLECORD_MOODLE_MODULES="bigbluebuttonbn, zoom" run "$MOODLECORD" -c "$CFG" check
	echo "$output"
	[ "$status" -eq 0 ]
	run grep '^  ' <<<"$output"
	[ "${#lines[@]}" -eq 4 ]
	[ "${lines[2]}" = "  $(moodle_time 7200)  PHYS2  Zoom office hours  $MOODLE_URL/mod/zoom/view.php?id=201" ]
	[ "$(moodle_calls)" = "login,core_webservice_get_site_info,core_enrol_get_users_courses,core_calendar_get_calendar_events,mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses,core_course_get_course_module_by_instance" ]
	[ "$(jq -c 'select(.wsfunction == "core_course_get_course_module_by_instance") | .params | {module: .module, instance: .instance}' "$T/moodle.log")" = '{"module":"zoom","instance":"31"}' ]

	moodle_log_clear
	MOODLECORD_MOODLE_MODULES=assign MOODLECORD_MOODLE_COURSES="MATH1" run "$MOODLECORD" -c "$CFG" check
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"courses: 2 (1 selected by [moodle] courses)"* ]]
	run grep '^  ' <<<"$output"
	[ "${#lines[@]}" -eq 1 ]
	[ "${lines[0]}" = "  $(moodle_time 172800)  MATH1  Homework 1  $MOODLE_URL/mod/assign/view.php?id=301" ]
	[ "$(jq -c 'select(.wsfunction == "core_calendar_get_calendar_events") | .params | with_entries(select(.key | startswith("events")))' "$T/moodle.log")" = '{"events[courseids][0]":"10"}' ]
	[ "$(moodle_calls)" = "login,core_webservice_get_site_info,core_enrol_get_users_courses,core_calendar_get_calendar_events,core_course_get_course_module_by_instance" ]

	# A course id, and a course that selects nothing: no calendar call.
	moodle_log_clear
	MOODLECORD_MOODLE_COURSES="11" run "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 0 ]
	[ "$(grep -c '^  ' <<<"$output")" -eq 1 ]
	moodle_log_clear
	MOODLECORD_MOODLE_COURSES="SECRET" run "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 0 ]
	[[ "$output" == *"conferences: 0 from"* ]]
	[ "$(moodle_calls)" = "login,core_webservice_get_site_info,core_enrol_get_users_courses" ]
}

@test "a site without the BigBlueButton list: links by instance, then the course page" {
	moodle_start mixed
	moodle_config "$CFG"
	moodle_edit '.site.absent = ["mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses"]'
	run "$MOODLECORD" -c "$CFG" check
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(moodle_calls)" = "login,core_webservice_get_site_info,core_enrol_get_users_courses,core_calendar_get_calendar_events,core_course_get_course_module_by_instance,core_course_get_course_module_by_instance,core_course_get_course_module_by_instance" ]
	[[ "$output" == *"  $(moodle_time 1800)  MATH1  Q&A 🎉 @everyone **bold** <live>  $MOODLE_URL/mod/bigbluebuttonbn/view.php?id=101"* ]]
	# The fake no longer lists it, and answers for it like Moodle does.
	run curl -s "$MOODLE_URL/webservice/rest/server.php?moodlewsrestformat=json" -d wstoken=$TOKEN \
		-d wsfunction=core_webservice_get_site_info
	[[ "$output" != *mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses* ]]
	[[ "$output" == *core_course_get_course_module_by_instance* ]]

	moodle_log_clear
	moodle_edit '.site.absent += ["core_course_get_course_module_by_instance"]'
	run "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 0 ]
	[ "$(moodle_calls)" = "login,core_webservice_get_site_info,core_enrol_get_users_courses,core_calendar_get_calendar_events" ]
	[[ "$output" == *"  $(moodle_time 1800)  MATH1  Q&A 🎉 @everyone **bold** <live>  $MOODLE_URL/course/view.php?id=10"* ]]
}

@test "a site without the calendar function: 69 naming it and the release, no call to it" {
	moodle_start mixed
	moodle_config "$CFG"
	moodle_edit '.site.absent = ["core_calendar_get_calendar_events"]'
	check_fails 69 "does not offer core_calendar_get_calendar_events to the app"
	[[ "$stderr" == *"Moodle 4.1.9 (Build: 20240212)"* ]]
	[ "$(moodle_calls)" = "login,core_webservice_get_site_info" ]
}

@test "login refused: wrong password, and the wrong_password fault" {
	moodle_start mixed
	moodle_config "$CFG" alice "Wrong-$PW"
	check_fails 77 "Moodle refused the username or password"
	[[ "$stderr" != *"Wrong-"* ]]
	[ "$(moodle_calls)" = "login" ]
	moodle_config "$CFG"
	moodle_fault wrong_password
	check_fails 77 "Moodle refused the username or password"
	[ "$(moodle_calls)" = "login,login" ]
}

@test "a refused token: one new login and on; refused again: 77 after at most one new login" {
	moodle_start mixed
	moodle_config "$CFG"
	moodle_edit '.revoke_after = 2'
	run "$MOODLECORD" -c "$CFG" check
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(moodle_calls)" = "login,core_webservice_get_site_info,core_enrol_get_users_courses,core_calendar_get_calendar_events,login,core_calendar_get_calendar_events,mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses" ]
	[ "$(jq -r .token_serial "$T/moodle.log" | paste -sd, -)" = "1,1,1,1,2,2,2" ]
	[ "$(jq -r .status "$T/moodle.log" | sort -u)" = 200 ]
	no_secrets

	moodle_log_clear
	moodle_edit '.revoke_after = 1'
	check_fails 77 "the token was refused (invalidtoken: Invalid token - token not found), also after a new login"
	[ "$(moodle_calls)" = "login,core_webservice_get_site_info,core_enrol_get_users_courses,login,core_enrol_get_users_courses,core_calendar_get_calendar_events" ]
	[ "$(grep -c token.php "$T/moodle.log")" -eq 2 ]
}

@test "a ready token: no login; refused: 77 saying to make a new one" {
	moodle_start mixed
	moodle_discord
	write_config "$CFG" <<-EOF
	[moodle]
	url = $MOODLE_URL
	token = $TOKEN
	[discord]
	webhook_url = $WEBHOOK_URL
	EOF
	run "$MOODLECORD" -c "$CFG" check
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^  ' <<<"$output")" -eq 3 ]
	[[ "$(moodle_calls)" == core_webservice_get_site_info,* ]]
	no_secrets

	moodle_log_clear
	moodle_edit '.revoked_tokens = [$t]' --arg t "$TOKEN"
	check_fails 77 "make a new token and put it in [moodle] token"
	[ "$(moodle_calls)" = "core_webservice_get_site_info" ]
}

@test "site faults: each its exit status and one line" {
	moodle_start mixed
	moodle_config "$CFG"
	moodle_fault maintenance
	check_fails 75 "Moodle login: the site is in maintenance mode"
	moodle_fault maintenance '{"on": "rest"}'
	check_fails 75 "Moodle core_webservice_get_site_info: the site is in maintenance mode"
	moodle_fault cli_maintenance
	check_fails 75 "(HTTP 503, retry after 300 s)"
	moodle_fault rest_disabled
	check_fails 78 "REST protocol disabled on this site"
	moodle_fault ws_disabled
	check_fails 78 "Enable web services"
	moodle_fault service_disabled
	check_fails 78 "Enable web services for mobile devices"
	# the answer to a request that carried the password is never quoted
	moodle_fault html_login
	check_fails 65 'Moodle login: an HTML or XML page instead of JSON, not quoted: the request carried the password; check [moodle] url'
	moodle_fault html_login '{"on": "rest"}'
	check_fails 65 'HTML or XML page instead of JSON: "<!DOCTYPE html>  <html  dir="ltr" lang="en"'
	moodle_fault redirect
	check_fails 78 "redirects (HTTP 303) to $MOODLE_URL/login/index.php: check [moodle] url"
	moodle_fault truncated '{"on": "core_enrol_get_users_courses"}'
	check_fails 65 'core_enrol_get_users_courses: broken or truncated JSON'
	moodle_fault empty '{"on": "rest"}'
	check_fails 65 "empty answer"
	moodle_fault server_error '{"on": "core_calendar_get_calendar_events"}'
	check_fails 69 "the site failed (HTTP 500)"
	[ "$(moodle_calls | tr , '\n' | grep -c login)" -eq 12 ]
}

@test "an answer over 16 MiB is refused without reading it whole, chunked or sized" {
	moodle_start mixed
	moodle_config "$CFG"
	moodle_fault huge '{"on": "core_calendar_get_calendar_events"}'
	check_fails 65 "the answer is over 16777216 bytes; refused"
	moodle_fault huge '{"on": "core_calendar_get_calendar_events", "sized": true}'
	check_fails 65 "the answer is over 16777216 bytes; refused"
	# Under the limit it is read (and is valid JSON).
	moodle_fault huge '{"on": "core_calendar_get_calendar_events", "bytes": 2000000}'
	run "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 0 ]
}

@test "a slow answer: 75 after the configured timeout, not later" {
	moodle_start mixed
	moodle_config "$CFG"
	moodle_fault slow '{"seconds": 4, "on": "core_webservice_get_site_info"}'
	start=$(date +%s%N)
	MOODLECORD_HTTP_TIMEOUT=1 check_fails 75 "Moodle core_webservice_get_site_info: POST $MOODLE_URL/webservice/rest/server.php?***: no answer in time"
	took=$((($(date +%s%N) - start) / 1000000))
	echo "took $took ms"
	[ "$took" -lt 3500 ]
	# Slow but within the timeout is fine.
	moodle_fault slow '{"seconds": 1, "on": "core_webservice_get_site_info"}'
	MOODLECORD_HTTP_TIMEOUT=5 run "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 0 ]
}

@test "no Moodle listening: 75, cannot connect" {
	start_closed_port MOODLE_PORT
	MOODLE_URL="http://127.0.0.1:$MOODLE_PORT"
	moodle_config "$CFG"
	check_fails 75 "Moodle login: POST $MOODLE_URL/login/token.php: cannot connect"
}

# bats test_tags=fake-selftest
@test "the fake rejects what Moodle rejects" {
	moodle_start mixed
	rest="$MOODLE_URL/webservice/rest/server.php"
	# No moodlewsrestformat=json: XML.
	run curl -s -D "$T/h" "$rest" -d wstoken=$TOKEN -d wsfunction=core_webservice_get_site_info
	[[ "$output" == '<?xml version="1.0" encoding="UTF-8" ?>'* ]]
	grep -qi '^content-type: application/xml' "$T/h"
	# Unknown token, function, parameter; a missing one; "true" for a boolean.
	run curl -s "$rest?moodlewsrestformat=json" -d wstoken=nope -d wsfunction=core_webservice_get_site_info
	[ "$output" = "$(cat "$FIXTURES/moodle-4.5/core_webservice_get_site_info_invalid_token.json")" ]
	run curl -s "$rest?moodlewsrestformat=json" -d wstoken=$TOKEN -d wsfunction=no_such_function
	[ "$output" = "$(cat "$FIXTURES/moodle-4.5/invalid_wsfunction.json")" ]
	run curl -s "$rest?moodlewsrestformat=json" -d wstoken=$TOKEN -d wsfunction=core_enrol_get_users_courses
	[ "$output" = "$(cat "$FIXTURES/moodle-4.5/core_enrol_get_users_courses_missing_param.json")" ]
	run curl -s "$rest?moodlewsrestformat=json" -d wstoken=$TOKEN -d wsfunction=core_enrol_get_users_courses -d userid=7 -d extra=1
	[[ "$output" == *'"errorcode":"invalidparameter"'* ]]
	run curl -s "$rest?moodlewsrestformat=json" -d wstoken=$TOKEN -d wsfunction=core_enrol_get_users_courses -d userid=7 -d returnusercount=true
	[[ "$output" == *'"errorcode":"invalidparameter"'* ]]
	# Errors and logins like the fixtures, HTTP 200 and their headers.
	run curl -s -D "$T/h" "$MOODLE_URL/login/token.php" -d username=alice -d password=wrong -d service=moodle_mobile_app
	[ "$output" = "$(cat "$FIXTURES/moodle-4.5/token_wrong_password.json")" ]
	grep -q '^HTTP/1.1 200' "$T/h"
	grep -q '^Content-type: application/json; charset=utf-8' "$T/h"
	run curl -s "$MOODLE_URL/login/token.php" -d username=alice -d password=$PW -d service=other
	[ "$output" = "$(cat "$FIXTURES/moodle-4.5/token_unknown_service.json")" ]
	run curl -s "$MOODLE_URL/login/token.php" -d username=alice -d password=$PW -d service=moodle_mobile_app
	[ "$output" = "{\"token\":\"$TOKEN\",\"privatetoken\":null}" ]
	run curl -s "$MOODLE_URL/login/token.php" -d appsitecheck=1
	[ "$output" = "$(cat "$FIXTURES/moodle-constructed/login-appsitecheck.json")" ]
	# PHP's JSON: \/ and \u escapes (surrogate pairs), names HTML-escaped.
	run curl -s "$rest?moodlewsrestformat=json" -d wstoken=$TOKEN -d wsfunction=core_calendar_get_calendar_events \
		-d 'events[courseids][0]=10' -d "options[timestart]=$((MOODLE_BASE - 86400))" -d "options[timeend]=$((MOODLE_BASE + 86400))"
	[[ "$output" == *'"name":"Q&amp;A \ud83c\udf89 @everyone **bold** &lt;live&gt; is scheduled for"'* ]]
	[[ "$output" == *'<\/p><\/div>'* ]]
	[[ "$output" == *'"categoryid":null,"groupid":null'* ]]
	no_secrets
}

# bats test_tags=fake-selftest
@test "the fake answers with the keys, order and values of the real 4.5 site" {
	cp "$FIXTURES/fake-moodle/site45.json" "$T/s.json"
	start_fake fake_moodle PORT --scenario "$T/s.json"
	rest="http://127.0.0.1:$PORT/webservice/rest/server.php?moodlewsrestformat=json"
	tok=9d3878163d51641479a5bf6acff30bad
	keys() { jq -c '[.. | objects | keys_unsorted] | unique' "$@"; }
	curl -s "$rest" -d wstoken=$tok -d wsfunction=core_webservice_get_site_info >"$T/si"
	diff <(keys "$T/si") <(keys "$FIXTURES/moodle-4.5/core_webservice_get_site_info.json")
	curl -s "$rest" -d wstoken=$tok -d wsfunction=core_enrol_get_users_courses -d userid=3 >"$T/c"
	diff <(keys "$T/c") <(keys "$FIXTURES/moodle-4.5/core_enrol_get_users_courses.json")
	diff <(jq -c '.[] | {id, shortname, fullname}' "$T/c") <(jq -c '.[] | {id, shortname, fullname}' "$FIXTURES/moodle-4.5/core_enrol_get_users_courses.json")
	curl -s "$rest" -d wstoken=$tok -d wsfunction=core_calendar_get_calendar_events \
		-d 'events[courseids][0]=2' -d 'events[courseids][1]=3' -d 'options[timestart]=1795684974' -d 'options[timeend]=1796300000' >"$T/e"
	diff <(keys "$T/e") <(keys "$FIXTURES/moodle-4.5/core_calendar_get_calendar_events_courseids.json")
	ev='.events[] | del(.description, .userid)'
	diff <(jq -c "$ev" "$T/e") <(jq -c "$ev" "$FIXTURES/moodle-4.5/core_calendar_get_calendar_events_courseids.json")
	curl -s "$rest" -d wstoken=$tok -d wsfunction=core_calendar_get_calendar_events >"$T/e0"
	diff "$T/e0" "$FIXTURES/moodle-4.5/core_calendar_get_calendar_events.json"
	curl -s "$rest" -d wstoken=$tok -d wsfunction=mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses \
		-d 'courseids[0]=2' -d 'courseids[1]=3' >"$T/b"
	bb='.bigbluebuttonbns[] | del(.meetingid)'
	diff <(jq -c "$bb" "$T/b") <(jq -c "$bb" "$FIXTURES/moodle-4.5/mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses.json")
	curl -s "$rest" -d wstoken=$tok -d wsfunction=mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses >"$T/b0"
	diff <(jq -c "$bb" "$T/b0") <(jq -c "$bb" "$FIXTURES/moodle-4.5/mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses_noparams.json")
}
