#!/usr/bin/env bats
# After `moodlecord login`: sync and check use the token it kept; the
# password flow on a terminal and from standard input; check's
# explanations of a site; the one token a password config keeps and
# reuses; a token getting old.

bats_require_minimum_version 1.5.0
load common
load moodle_helpers
load discord_helpers
load login_helpers

setup() {
	common_setup
	CFG="$T/config"
	PW=Alice-Sekr3t-pw
	TOKEN=a11ce0000000000000000000000000a1
	moodle_start sync
	moodle_edit '(.users[] | select(.username == "alice") | .token) = $t' --arg t "$TOKEN"
	start_discord
}
teardown() { common_teardown; }

# No secret in the output, the fakes' logs or their own output.
no_secrets() {
	local f t
	for f in "$T/moodle.log" "$T/fake_moodle.out" "$T/fake_discord.out"; do
		for t in $(jq -r '.users[].password, (.users[].token // empty)' "$T/moodle.json") \
			$(jq -r '.token' "$T/tokens.json" 2>/dev/null); do
			! grep -qF -- "${t:0:8}" "$f" || { echo "${t:0:8} in $f"; false; }
		done
	done
	for t in $(jq -r '.users[].password, (.users[].token // empty)' "$T/moodle.json"); do
		[[ "$output$stderr" != *"${t:0:8}"* ]] || { echo "${t:0:8} in the output"; false; }
	done
}

# password_config FILE [EXTRA LINES...]: url, username alice, a counting
# password_command (each run adds a line to $T/pw.count).
password_config() {
	write_config "$1" <<-EOF
	[moodle]
	url = $MOODLE_URL
	username = alice
	password_command = echo run >>$T/pw.count; echo $PW

	[discord]
	webhook_url = $WEBHOOK_URL

	[state]
	path = $T/state.mdb
	EOF
}

# user_config FILE: url and username, no password, no token.
user_config() {
	write_config "$1" <<-EOF
	[moodle]
	url = $MOODLE_URL
	username = alice

	[discord]
	webhook_url = $WEBHOOK_URL

	[state]
	path = $T/state.mdb
	EOF
}

sync_ok() {
	run --separate-stderr "$MOODLECORD" -c "$CFG" sync
	echo "sync: $status $output $stderr"
	[ "$status" -eq 0 ]
}

@test "browser sign-in, then sync works with no change to the config" {
	login_site '{"typeoflogin": 2}'
	url_config "$CFG"
	run --separate-stderr "$MOODLECORD" -c "$CFG" sync
	[ "$status" -eq 78 ]
	[[ "$stderr" == *"run moodlecord login"* ]]
	sso_login -c "$CFG" login
	[ "$status" -eq 0 ]
	[[ "$output" == *"signed in to "*" as Alice Liddell (2 courses)"* ]]
	moodle_log_clear
	sync_ok
	[ "$(moodle_calls)" = "core_webservice_get_site_info,core_enrol_get_users_courses,core_calendar_get_calendar_events,mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses" ]
	[ "$(discord_channel | jq length)" -eq 3 ]
	[ "$(jq -s 'map(.token_serial) | unique | length' "$T/moodle.log")" -eq 1 ]
	no_secrets
}

@test "password on a terminal: asked without echo, the token kept 0600, then sync" {
	user_config "$CFG"
	pty_login "$PW" -c "$CFG" login
	[ "$status" -eq 0 ]
	[[ "$output" == *"password for alice: "* ]]
	[[ "$output" == *"signed in to "*" as Alice Liddell (2 courses)"* ]]
	[[ "$output" != *"${PW:0:6}"* ]]
	[ "$(stat -c %a "$CFG.token")" = 600 ]
	[ "$(head -1 "$CFG.token")" = "$TOKEN" ]
	[ "$(jq -r 'select(.path == "/login/token.php") | .params.username' "$T/moodle.log")" = alice ]
	sync_ok
	no_secrets
}

@test "password from standard input without a terminal; a wrong one is 77 and keeps nothing" {
	user_config "$CFG"
	run --separate-stderr "$MOODLECORD" -c "$CFG" login <<<"wrong-password"
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"refused the username or password"* ]]
	[ ! -e "$CFG.token" ]
	run --separate-stderr "$MOODLECORD" -c "$CFG" login <<<"$PW"
	[ "$status" -eq 0 ]
	[ "$(head -1 "$CFG.token")" = "$TOKEN" ]
	run --separate-stderr "$MOODLECORD" -c "$CFG" login </dev/null
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"no terminal and nothing on standard input"* ]]
	no_secrets
}

@test "token_file names where login keeps the token; username and token_file together" {
	user_config "$CFG"
	printf '\n[moodle]\ntoken_file = %s\n' "$T/elsewhere/tok" >>"$CFG"
	mkdir -m 700 "$T/elsewhere"
	run --separate-stderr "$MOODLECORD" -c "$CFG" login <<<"$PW"
	[ "$status" -eq 0 ]
	[ ! -e "$CFG.token" ]
	[ "$(stat -c %a "$T/elsewhere/tok")" = 600 ]
	[ "$(head -1 "$T/elsewhere/tok")" = "$TOKEN" ]
	moodle_log_clear
	sync_ok
	[[ "$(moodle_calls)" != *login* ]]
}

@test "check: the app or web services off is 69, before any sign-in" {
	password_config "$CFG"
	login_site '{"mobile": false}'
	run --separate-stderr "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 69 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"does not allow the Moodle app"*"ask its administrators"* ]]
	login_site '{"webservices": false}'
	run --separate-stderr "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 69 ]
	[[ "$stderr" == *"web services are off"* ]]
	[ "$(moodle_probes)" -eq 2 ]
	[ -z "$(moodle_calls)" ]
	[ ! -e "$T/pw.count" ] || [ "$(wc -l <"$T/pw.count")" -le 2 ]
}

@test "check: maintenance is 75 with the site's message" {
	password_config "$CFG"
	login_site '{"maintenance": "<p>Upgrade until 10:00</p>"}'
	run --separate-stderr "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"is in maintenance: Upgrade until 10:00; try again later" ]]
	[ "$(moodle_probes)" -eq 1 ]
	[ -z "$(moodle_calls)" ]
}

@test "check: a browser sign-in site with a password warns; a refused password is 77 with the hint" {
	password_config "$CFG"
	login_site '{"typeoflogin": 2}'
	run --separate-stderr "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"signs in through a browser (single sign-on): a password may be refused there; run moodlecord login"* ]]
	login_site '{"typeoflogin": 2, "no_password": true}'
	run --separate-stderr "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 77 ]
	[[ "$stderr" == *"moodlecord: check: Moodle refused the username or password; this site signs in through a browser: run moodlecord login" ]]
	no_secrets
}

@test "check: a url unlike the site's wwwroot says which url to use, then checks on" {
	password_config "$CFG"
	login_site "$(jq -n --arg w "${MOODLE_URL/http:/https:}" '{"wwwroot": $w}')"
	run --separate-stderr "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"[moodle] url is $MOODLE_URL but the site calls itself ${MOODLE_URL/http:/https:} (https, not http): set [moodle] url = ${MOODLE_URL/http:/https:}"* ]]
	[[ "$output" == *"courses: 2"* ]]
}

@test "a password config keeps one token: the next sync makes 4 requests and runs no password_command" {
	password_config "$CFG"
	sync_ok
	[ "$(moodle_calls)" = "login,core_webservice_get_site_info,core_enrol_get_users_courses,core_calendar_get_calendar_events,mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses" ]
	moodle_log_clear
	sync_ok
	[ "$(moodle_calls)" = "core_webservice_get_site_info,core_enrol_get_users_courses,core_calendar_get_calendar_events,mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses" ]
	[ "$(wc -l <"$T/pw.count")" -eq 1 ]
	run --separate-stderr "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 0 ]
	[[ "$output" == *"token: kept from a sign-in on "*" (0 days ago)"* ]]
	# dump never shows it, the state file is the owner's alone
	run "$MOODLECORD" -c "$CFG" dump
	[[ "$output" != *"${TOKEN:0:8}"* ]]
	run "$MOODLECORD" -c "$CFG" dump --json
	[[ "$output" != *"${TOKEN:0:8}"* ]]
	[ "$(stat -c %a "$T/state.mdb")" = 600 ]
	no_secrets
}

@test "a kept token Moodle refuses: exactly one new sign-in, the new token kept" {
	password_config "$CFG"
	sync_ok
	moodle_edit '.revoked_tokens = [$t]' --arg t "$TOKEN"
	moodle_log_clear
	sync_ok
	[ "$(moodle_calls)" = "core_webservice_get_site_info,login,core_webservice_get_site_info,core_enrol_get_users_courses,core_calendar_get_calendar_events,mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses" ]
	[ "$(wc -l <"$T/pw.count")" -eq 2 ]
	moodle_log_clear
	sync_ok
	[[ "$(moodle_calls)" != *login* ]]
	[ "$(jq -s 'map(.token_serial) | unique' -c "$T/moodle.log")" = "[2]" ]
	no_secrets
}

@test "an expired kept token (accessexception on site info) leads to one new sign-in" {
	password_config "$CFG"
	moodle_edit '.token_lifetime = 2'
	sync_ok
	sleep 2.2
	moodle_log_clear
	sync_ok
	[ "$(moodle_calls | tr , '\n' | grep -c '^login$')" -eq 1 ]
	[ "$(jq -r 'select(.wsfunction == "core_webservice_get_site_info") | .status' "$T/moodle.log" | head -1)" = 200 ]
	[ "$(wc -l <"$T/pw.count")" -eq 2 ]
}

@test "with only a token, a refused token is 77: run moodlecord login" {
	user_config "$CFG"
	run --separate-stderr "$MOODLECORD" -c "$CFG" login <<<"$PW"
	[ "$status" -eq 0 ]
	moodle_edit '.revoked_tokens = [$t]' --arg t "$TOKEN"
	run --separate-stderr "$MOODLECORD" -c "$CFG" sync
	[ "$status" -eq 77 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"the token was refused ("*"); expired or revoked: run moodlecord login" ]]
	[ "$(discord_channel | jq length)" -eq 0 ]
	no_secrets
}

@test "a token older than 11 weeks: one warning a day, sync still works; check shows its age" {
	user_config "$CFG"
	run --separate-stderr "$MOODLECORD" -c "$CFG" login <<<"$PW"
	[ "$status" -eq 0 ]
	sync_ok
	[ -z "$stderr" ]
	touch -d '80 days ago' "$CFG.token"
	sync_ok
	[ "$stderr" = "moodlecord: the Moodle token is 80 days old; sites usually end them after 12 weeks: run moodlecord login" ]
	sync_ok
	[ -z "$stderr" ]
	run --separate-stderr "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 0 ]
	[[ "$output" == *"token: got "*" (80 days ago), in $CFG.token"* ]]
	# the next day (the clock of the run only, libfaketime) it says it again
	# (NO_FAKE_STAT: the token file's time stays the real one)
	NO_FAKE_STAT=1 ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" run --separate-stderr \
		faketime -f '+1d' "$MOODLECORD" -c "$CFG" sync
	[ "$status" -eq 0 ]
	echo "faked: $status $stderr"
	[[ "$stderr" == *"the Moodle token is 81 days old"* ]]
}
