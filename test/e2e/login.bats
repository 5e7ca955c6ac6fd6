#!/usr/bin/env bats
# `moodlecord login` against the fake Moodle, with test/e2e/browser.sh
# playing the person's browser: the single sign-on flow end to end, every
# way the pasted link can be wrong, and the sites that keep the app out.

bats_require_minimum_version 1.5.0
load common
load moodle_helpers
load login_helpers

setup() {
	common_setup
	CFG="$T/config"
	PW=Alice-Sekr3t-pw
	TOKEN=a11ce0000000000000000000000000a1
	moodle_start mixed
}
teardown() { common_teardown; }

# No secret in the output, the fake's log or its own output.
no_secrets() {
	local f
	for f in "$T/moodle.log" "$T/fake_moodle.out"; do
		! grep -q -e "$PW" -e "${TOKEN:0:8}" "$f" || false
	done
	[[ "$output$stderr" != *"$PW"* ]]
	[[ "$output$stderr" != *"${TOKEN:0:8}"* ]]
}

token_file_is() { # $1 = the token expected on the first line of $CFG.token
	[ "$(stat -c %a "$CFG.token")" = 600 ]
	[ "$(head -1 "$CFG.token")" = "$1" ]
}

@test "login --sso: the browser signs in, the link comes back, the token is kept 0600" {
	login_site '{"typeoflogin": 1}'
	url_config "$CFG"
	BROWSER_FLAGS=-f sso_login -c "$CFG" login --sso
	[ "$status" -eq 0 ]
	[[ "$output" == *"first sign in on $MOODLE_URL/login/index.php"* ]]
	[[ "$LAUNCH_URL" == "$MOODLE_URL/admin/tool/mobile/launch.php?service=moodle_mobile_app&passport="*"&urlscheme=moodlemobile" ]]
	[[ "$LINK" == moodlemobile://token=* ]]
	token_file_is "$TOKEN"
	[ "$(wc -l <"$CFG.token")" -eq 1 ]
	[[ "$output" == *"signed in to Fake & Co Moodle"* ]]
	no_secrets
}

@test "login on a site that signs in in a browser needs no --sso; the passport is new each time" {
	login_site '{"typeoflogin": 2}'
	url_config "$CFG"
	sso_login -c "$CFG" login
	[ "$status" -eq 0 ]
	token_file_is "$TOKEN"
	first=$LAUNCH_URL
	sso_login -c "$CFG" login
	[ "$status" -eq 0 ]
	[ "$first" != "$LAUNCH_URL" ]
	[ "$(jq -r 'select(.path == "/admin/tool/mobile/launch.php") | .params.passport' "$T/moodle.log" | sort -u | wc -l)" -eq 2 ]
	no_secrets
}

@test "login --sso: embedded-browser site, forced scheme, private token, URL-encoded paste" {
	login_site '{"typeoflogin": 3, "forced_scheme": "campusapp", "private_token": true}'
	url_config "$CFG"
	PASTE_FILTER='s/:/%3A/g; s|/|%2F|g; s/=/%3D/g' sso_login -c "$CFG" login
	[ "$status" -eq 0 ]
	[[ "$LINK" == campusapp://token=* ]]
	token_file_is "$TOKEN"
	[ "$(wc -l <"$CFG.token")" -eq 2 ]
	[[ "$(sed -n 2p "$CFG.token")" =~ ^[A-Za-z0-9]{64}$ ]]
	no_secrets
	[[ "$output$stderr" != *"$(sed -n 2p "$CFG.token" | cut -c1-12)"* ]]
}

@test "login --sso: the bare base64 or the token= part alone, padding cut, are taken" {
	login_site '{"typeoflogin": 2}'
	url_config "$CFG"
	PASTE_FILTER='s/^.*token=//; s/=*$//' sso_login -c "$CFG" login
	[ "$status" -eq 0 ]
	token_file_is "$TOKEN"
	rm "$CFG.token"
	PASTE_FILTER='s/^.*:\/\///' sso_login -c "$CFG" login
	[ "$status" -eq 0 ]
	token_file_is "$TOKEN"
}

@test "login --sso --provider N goes to that OAuth 2 provider; the list is printed numbered" {
	login_site '{"typeoflogin": 2, "providers": [{"name": "Campus SAML", "idp": "x"}, {"name": "Microsoft", "id": 4}]}'
	url_config "$CFG"
	sso_login -c "$CFG" login --sso --provider 2
	[ "$status" -eq 0 ]
	[[ "$output" == *"  1. Campus SAML"* ]]
	[[ "$output" == *"  2. Microsoft"* ]]
	[[ "$LAUNCH_URL" == *"&oauthsso=4" ]]
	[ "$(jq -r 'select(.path == "/auth/oauth2/login.php") | .params.id' "$T/moodle.log")" = 4 ]
	token_file_is "$TOKEN"
}

@test "login --sso --provider: not an OAuth 2 provider, or out of range, is 64 before any browser" {
	login_site '{"typeoflogin": 2, "providers": [{"name": "Campus SAML", "idp": "x"}]}'
	url_config "$CFG"
	run --separate-stderr "$MOODLECORD" -c "$CFG" login --sso --provider 1 </dev/null
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"Campus SAML"*"not an OAuth 2 provider"* ]]
	run --separate-stderr "$MOODLECORD" -c "$CFG" login --sso --provider 2 </dev/null
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"the site lists 1 sign-in button"* ]]
	run --separate-stderr "$MOODLECORD" -c "$CFG" login --provider 1 </dev/null
	[ "$status" -eq 64 ]
	[ ! -e "$CFG.token" ]
}

@test "login: a link made for another passport is refused (77) and nothing is stored" {
	login_site '{"typeoflogin": 2}'
	url_config "$CFG"
	# the browser opens the launch URL with another passport
	LINK=$(printf '%s\n' "$PW" | "$BATS_TEST_DIRNAME/browser.sh" \
		"$MOODLE_URL/admin/tool/mobile/launch.php?service=moodle_mobile_app&passport=12345&urlscheme=moodlemobile" alice)
	[[ "$LINK" == moodlemobile://token=* ]]
	run --separate-stderr "$MOODLECORD" -c "$CFG" login <<<"$LINK"
	echo "$stderr"
	[ "$status" -eq 77 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "moodlecord: login: the link was not made for this sign-in"*"nothing was stored" ]]
	[ ! -e "$CFG.token" ]
	no_secrets
}

@test "login: a line that is no link is 65; the end of input is 64 with a hint (cron)" {
	login_site '{"typeoflogin": 2}'
	url_config "$CFG"
	run --separate-stderr "$MOODLECORD" -c "$CFG" login <<<"I signed in, now what?"
	[ "$status" -eq 65 ]
	[[ "$stderr" == *"not the link the site sent"* ]]
	[[ "$stderr" != *"now what"* ]]
	run --separate-stderr "$MOODLECORD" -c "$CFG" login </dev/null
	[ "$status" -eq 64 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"no terminal and nothing on standard input: run 'moodlecord login' yourself"* ]]
	# closed, not empty: closed by the shell that execs it
	run --separate-stderr sh -c 'exec "$0" "$@" <&-' "$MOODLECORD" -c "$CFG" login
	echo "closed: $status $stderr"
	[ "$status" -eq 64 ]
	[ ! -e "$CFG.token" ]
}

@test "login: a site without the app (web services or the app's service off) is 69" {
	url_config "$CFG"
	login_site '{"typeoflogin": 2, "webservices": false}'
	run --separate-stderr "$MOODLECORD" -c "$CFG" login </dev/null
	[ "$status" -eq 69 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"does not allow the Moodle app"*"ask its administrators"* ]]
	login_site '{"typeoflogin": 1, "mobile": false}'
	run --separate-stderr "$MOODLECORD" -c "$CFG" login </dev/null
	[ "$status" -eq 69 ]
	[[ "$stderr" == *"mobile devices"* ]]
	[ "$(moodle_probes)" -eq 2 ]
	[ -z "$(moodle_calls)" ]
}

@test "login: maintenance is 75 with the site's message; maintenance from the command line too" {
	url_config "$CFG"
	login_site '{"typeoflogin": 2, "maintenance": "<p>Back at <b>10:00</b> &amp; later</p>"}'
	run --separate-stderr "$MOODLECORD" -c "$CFG" login </dev/null
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"is in maintenance: Back at 10:00 & later; try again later" ]]
	moodle_fault cli_maintenance
	run --separate-stderr "$MOODLECORD" -c "$CFG" login </dev/null
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"HTTP 503"* ]]
}

@test "login: a url that is not the site's wwwroot is named, and the link still checks out" {
	login_site "$(jq -n --arg w "$MOODLE_URL/moodle" '{"typeoflogin": 2, "wwwroot": $w}')"
	url_config "$CFG"
	sso_login -c "$CFG" login
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"[moodle] url is $MOODLE_URL but the site calls itself $MOODLE_URL/moodle (the path /moodle, not /): set [moodle] url = $MOODLE_URL/moodle"* ]]
	token_file_is "$TOKEN"
}
