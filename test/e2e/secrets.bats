#!/usr/bin/env bats
# Secrets never reach a person: the fake Moodle answers the ways that once
# leaked them (a login answer of valid JSON and a PHP warning, a login
# answer cut short, an HTML page or a JSON error echoing the request with
# wstoken= and password= in it), each proven to hold the secret, and
# nothing moodlecord writes holds 4 or more characters of a secret in any
# encoding (raw, percent-encoded, JSON- or HTML-escaped).

bats_require_minimum_version 1.5.0
load common
load moodle_helpers

# Characters that encode differently in every form: '@', ' ', '/', '!',
# and a non-ASCII one.
PW='Zq9@Vx w/Kp!7ö'
TOKEN=f3b9d27ce1a84f6b95d0c7e2a1b8f4d3
HOOKTOK=Wq7-Xv2_Zr9.Lp4m

setup() {
	common_setup
	export LC_ALL=C.UTF-8
	CFG="$T/config"
	moodle_start mixed
	moodle_edit '(.users[] | select(.username == "alice")) |= (.password = $pw | .token = $tok)' \
		--arg pw "$PW" --arg tok "$TOKEN"
	start_fake fake_discord DISCORD_PORT --webhook "123456789012345678/$HOOKTOK"
	write_config "$CFG" <<-EOF
	[moodle]
	url = $MOODLE_URL
	username = alice
	password = $PW

	[discord]
	webhook_url = http://127.0.0.1:$DISCORD_PORT/api/v10/webhooks/123456789012345678/$HOOKTOK

	[state]
	path = $T/state.mdb
	EOF
}
teardown() { common_teardown; }

# The forms a piece of a secret takes in text: as is, percent-encoded
# (upper and lower case hex, '+' for a space), JSON-escaped as PHP writes
# it, HTML-escaped.
encodings() {
	local pct
	pct=$(jq -rn --arg s "$1" '$s | @uri')
	printf '%s\n' "$1" "$pct" "$(sed 's/%\(..\)/%\L\1/g' <<<"$pct")" "${pct//%20/+}" \
		"$(jq -an --arg s "$1" '$s' | sed 's/^"//; s/"$//; s|/|\\/|g')" \
		"$(sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g' <<<"$1")"
}

# Every 4 characters in a row of every secret, in every encoding, one a
# line: made once for the file.
setup_file() {
	local secret i piece
	export LC_ALL=C.UTF-8
	PIECES="$BATS_FILE_TMPDIR/pieces"
	for secret in "$PW" "$TOKEN" "$HOOKTOK"; do
		for ((i = 0; i + 4 <= ${#secret}; i++)); do
			piece=${secret:i:4}
			encodings "$piece"
		done
	done | sort -u >"$PIECES"
	export PIECES
}

# Fail when text $1 holds a piece of a secret.
no_secret_pieces() {
	if printf '%s\n' "$1" | grep -F -o -f "$PIECES"; then
		echo "that piece of a secret is in: $1"
		return 1
	fi
}

# Run VERB (check or sync) under the current fault: it fails with status
# $2 and one line, and neither its output nor the fake's hold a piece.
leak_free() {
	run --separate-stderr "$MOODLECORD" -c "$CFG" "$1"
	echo "status $status"
	echo "stdout: $output"
	echo "stderr: $stderr"
	[ "$status" -eq "$2" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	no_secret_pieces "$output $stderr"
	no_secret_pieces "$(cat "$T/moodle.log" "$T/fake_moodle.out")"
}

# What the fake answers to a login under the current fault (curl, not
# moodlecord): the proof that the answer holds the secret.
raw_login() {
	curl -s --data-urlencode username=alice --data-urlencode "password=$PW" \
		--data service=moodle_mobile_app "$MOODLE_URL/login/token.php"
}

raw_rest() {
	curl -s --data "wstoken=$TOKEN" --data wsfunction=core_webservice_get_site_info \
		"$MOODLE_URL/webservice/rest/server.php?moodlewsrestformat=json"
}

@test "a login answer of JSON and a PHP warning is not quoted: its token is not known yet" {
	moodle_fault php_warning '{"on": "login"}'
	[[ "$(raw_login)" == '{"token":"'"$TOKEN"'"'*'<b>Warning</b>'* ]]
	# the check itself catches what the site sent
	[ -s "$PIECES" ]
	run ! no_secret_pieces "$(raw_login)"
	leak_free check 65
	[[ "$stderr" == *"Moodle login: broken or truncated JSON"*"not quoted"* ]]
	leak_free sync 65
}

@test "a login answer cut short shows no part of the token" {
	moodle_fault truncated '{"on": "login"}'
	[[ "$(raw_login)" == '{"token":"'"${TOKEN:0:8}"* ]]
	leak_free check 65
	leak_free sync 65
}

@test "an HTML page echoing the login request shows no part of the password" {
	moodle_fault echo_request '{"on": "login"}'
	[[ "$(raw_login)" == *"password=Zq9%40Vx"* ]]
	run ! no_secret_pieces "$(raw_login | sed 's/Zq9%40V//')"
	leak_free check 65
	moodle_fault echo_request '{"on": "login", "status": 400}'
	leak_free check 65
	leak_free sync 65
}

@test "a JSON error echoing the login request shows no part of the password" {
	moodle_fault json_echo '{"on": "login"}'
	[[ "$(raw_login)" == *'Zq9@Vx w\/Kp!7\u00f6'* ]]
	leak_free check 65
	leak_free sync 65
}

@test "an HTML page echoing a web service call is quoted without the token" {
	moodle_fault echo_request '{"on": "rest"}'
	[[ "$(raw_rest)" == "<pre>wstoken=$TOKEN&amp;"* ]]
	leak_free check 65
	[[ "$stderr" == *'an HTML or XML page instead of JSON: "<pre>wstoken=***&amp;wsfunction='* ]]
	moodle_fault echo_request '{"on": "rest", "status": 400}'
	leak_free check 65
	[[ "$stderr" == *'unexpected HTTP 400'*'"<pre>wstoken=***&amp;'* ]]
	leak_free sync 65
}

@test "a JSON error echoing a web service call is quoted without the token" {
	moodle_fault json_echo '{"on": "rest"}'
	[[ "$(raw_rest)" == *"wstoken=$TOKEN"* ]]
	leak_free check 65
	[[ "$stderr" == *'generalexceptionmessage: Request rejected: wstoken=***&wsfunction='* ]]
	leak_free sync 65
}

@test "a web service answer with a PHP warning or cut short is quoted without the token" {
	moodle_fault php_warning '{"on": "rest"}'
	leak_free check 65
	[[ "$stderr" == *'broken or truncated JSON ('*' bytes): "{'* ]]
	moodle_fault truncated '{"on": "core_webservice_get_site_info"}'
	leak_free check 65
	leak_free sync 65
}

@test "-v output of a sync that works holds no secret either" {
	run --separate-stderr "$MOODLECORD" -c "$CFG" -v sync
	[ "$status" -eq 0 ]
	no_secret_pieces "$output $stderr"
}
