#!/usr/bin/env bats
# `moodlecord init` on a pseudo-terminal (script(1)) against the fake
# Moodle and the fake Discord: every question answered, for a site that
# takes a password (kept, or only its token) and one that signs in in a
# browser (test/e2e/browser.sh plays it); a webhook Discord refuses asked
# again; an existing config kept unless --force; the file 0600 and `check`
# passing on it; no terminal 64; no secret on the terminal.

bats_require_minimum_version 1.5.0
load common
load moodle_helpers
load login_helpers

setup() {
	common_setup
	CFG="$T/home/.config/moodlecord/config"
	PW=Alice-Sekr3t-pw
	TOKEN=a11ce0000000000000000000000000a1
	moodle_start mixed
	moodle_discord
	BAD_WEBHOOK="http://127.0.0.1:$DISCORD_PORT/api/v10/webhooks/123456789012345678/Wrong-Sekr3t-token"
}
teardown() { common_teardown; }

# wait_count FILE TEXT N: until FILE holds TEXT N times (5 s at most).
wait_count() {
	local i
	for i in $(seq 1 200); do
		[ "$(grep -oF -- "$2" "$1" 2>/dev/null | wc -l)" -ge "$3" ] && return 0
		sleep 0.025
	done
	return 1
}

# pty_dialog ARGS... <DIALOG: run `moodlecord ARGS` on a pseudo-terminal
# and play a person: each line of DIALOG is PROMPT<TAB>ANSWER; once PROMPT
# has shown (as often as it was met so far), ANSWER is typed.  The answer
# @browser opens the launch URL printed with browser.sh (as alice) and
# types the link it brings back.  Sets status and output (everything the
# terminal showed, the echo of what was typed included).
pty_dialog() {
	local fifo="$T/pty.fifo" pid cmd prompt answer n url link
	declare -A seen=()
	cmd=$(printf '%q ' "$MOODLECORD" "$@")
	rm -f "$fifo"
	mkfifo "$fifo"
	exec {PTY_FD}<>"$fifo"
	script -q -E always -e -c "$cmd" /dev/null <"$fifo" >"$T/pty.out" 2>&1 &
	pid=$!
	while IFS=$'\t' read -r prompt answer; do
		n=$(( ${seen[$prompt]:-0} + 1 ))
		seen[$prompt]=$n
		wait_count "$T/pty.out" "$prompt" "$n" || break
		if [ "$answer" = @browser ]; then
			url=$(grep -o 'http://[^ ]*/admin/tool/mobile/launch\.php?[^ [:cntrl:]]*' "$T/pty.out" | head -1)
			link=$(printf '%s\n' "$PW" | "$BATS_TEST_DIRNAME/browser.sh" "$url" alice)
			answer=$link
		fi
		printf '%s\n' "$answer" >&"$PTY_FD"
	done
	status=0
	wait "$pid" || status=$?
	exec {PTY_FD}>&-
	output=$(cat "$T/pty.out")
	echo "status $status"
	echo "terminal: $output"
}

# The questions of a password site, answered; $1 = keep the password (y/n).
password_dialog() {
	printf '%s\t%s\n' \
		"Moodle site" "$MOODLE_URL" \
		"username" alice \
		"password for alice" "$PW" \
		"Keep the password?" "$1" \
		"Discord webhook URL" "$WEBHOOK_URL" \
		"Role to ping" 123456789012345679 \
		"Minutes before" 10
}

no_secret_shown() {
	[[ "$output" != *"$PW"* ]]
	[[ "$output" != *"Sekr3t-token"* ]]
	[[ "$output" != *"${TOKEN:0:8}"* ]]
}

@test "init, password site, password kept: every question, config 0600, check passes" {
	pty_dialog init < <(password_dialog y)
	[ "$status" -eq 0 ]
	[[ "$output" == *"signs in with a username and password"* ]]
	[[ "$output" == *"Signed in to"*"as Alice"* ]]
	[[ "$output" == *'The webhook "'*'" posts to channel '* ]]
	[[ "$output" == *"Wrote $CFG."* ]]
	[[ "$output" == *"moodle: "* ]]     # check ran and reached Moodle
	[[ "$output" == *"discord: webhook 123456789012345678"* ]]
	[[ "$output" == *"*/30 * * * *"*"-c $CFG sync"* ]]
	no_secret_shown
	[ "$(stat -c %a "$CFG")" = 600 ]
	[ "$(stat -c %a "$CFG.password")" = 600 ]
	[ "$(stat -c %a "$T/home/.config/moodlecord")" = 700 ]
	[ "$(head -1 "$CFG.password")" = "$PW" ]
	! grep -q "$PW" "$CFG"
	grep -qx "url = $MOODLE_URL" "$CFG"
	grep -qx "username = alice" "$CFG"
	grep -qx "password_file = $CFG.password" "$CFG"
	grep -qx "role_id = 123456789012345679" "$CFG"
	grep -qx "ping_minutes = 10" "$CFG"
	[ ! -e "$CFG.token" ]
	run "$MOODLECORD" check
	[ "$status" -eq 0 ]
}

@test "init, password site, token only: the token file beside the config, no password kept" {
	pty_dialog init < <(password_dialog n)
	[ "$status" -eq 0 ]
	no_secret_shown
	[ ! -e "$CFG.password" ]
	! grep -q password "$CFG"
	[ "$(stat -c %a "$CFG.token")" = 600 ]
	[ "$(head -1 "$CFG.token")" = "$TOKEN" ]
	run "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 0 ]
	[[ "$output" == *"user: alice"* ]]
}

@test "init: a wrong site, password, webhook, role or minutes is asked again; no role; -c" {
	local cfg="$T/elsewhere/my.conf"
	pty_dialog -c "$cfg" init <<-EOF
	Moodle site	moodle.example.edu
	Moodle site	$MOODLE_URL
	username	alice
	password for alice	Not-the-Sekr3t
	username	alice
	password for alice	$PW
	Keep the password?	
	Discord webhook URL	$BAD_WEBHOOK
	Discord webhook URL	$WEBHOOK_URL
	Role to ping	@here
	Role to ping	
	Minutes before	0
	Minutes before	
	EOF
	[ "$status" -eq 0 ]
	[ "$(grep -c "That is not a site address" "$T/pty.out")" -eq 1 ]
	[ "$(grep -c "A role id is 17 to 20 digits" "$T/pty.out")" -eq 1 ]
	[ "$(grep -c "from 1 to 1440" "$T/pty.out")" -eq 1 ]
	[ "$(grep -c "try again" "$T/pty.out")" -eq 1 ]
	[ "$(grep -oF "Discord webhook URL" "$T/pty.out" | wc -l)" -eq 2 ]
	[ "$(grep -oF "password for alice" "$T/pty.out" | wc -l)" -eq 2 ]
	no_secret_shown
	[[ "$output" != *"Not-the-Sekr3t"* ]]
	[ "$(stat -c %a "$cfg")" = 600 ]
	[ "$(stat -c %a "$T/elsewhere")" = 700 ]
	! grep -q role_id "$cfg"
	grep -qx "ping_minutes = 5" "$cfg"
	grep -qx "password_file = $cfg.password" "$cfg"
	run "$MOODLECORD" -c "$cfg" check
	[ "$status" -eq 0 ]
}

@test "init, single sign-on site: the browser flow, the token kept, check passes" {
	login_site '{"typeoflogin": 2}'
	CFG="$XDG_CONFIG_HOME/moodlecord/work.conf"
	pty_dialog -c "$CFG" init <<-EOF
	Moodle site	$MOODLE_URL
	link: 	@browser
	Discord webhook URL	$WEBHOOK_URL
	Role to ping	123456789012345679
	Minutes before	3
	EOF
	[ "$status" -eq 0 ]
	[[ "$output" == *"in a browser (single sign-on)"* ]]
	[[ "$output" == *"Signed in to"* ]]
	no_secret_shown
	[ "$(stat -c %a "$CFG")" = 600 ]
	[ "$(head -1 "$CFG.token")" = "$TOKEN" ]
	! grep -q -e username -e password "$CFG"
	[[ "$output" == *"systemctl --user enable --now moodlecord-sync@work.timer moodlecord-ping@work.timer"* ]]
	run "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 0 ]
}

@test "init: an existing config is not replaced (64, before any question); --force replaces it" {
	mkdir -p "$(dirname "$CFG")"
	printf '[moodle]\nurl = https://keep.example.edu\n' >"$CFG"
	chmod 600 "$CFG"
	pty_dialog init </dev/null
	[ "$status" -eq 64 ]
	[[ "$output" == *"is there already"*"--force"* ]]
	[[ "$output" != *"Moodle site"* ]]
	grep -qx "url = https://keep.example.edu" "$CFG"
	pty_dialog init --force < <(password_dialog y)
	[ "$status" -eq 0 ]
	grep -qx "url = $MOODLE_URL" "$CFG"
	[ "$(stat -c %a "$CFG")" = 600 ]
}

@test "init with no terminal: 64 with a hint, nothing written" {
	run "$MOODLECORD" init </dev/null
	[ "$status" -eq 64 ]
	[[ "$output" == *"at a terminal"* ]]
	[ ! -e "$CFG" ]
	printf '%s\n' "$MOODLE_URL" | {
		run "$MOODLECORD" init
		[ "$status" -eq 64 ]
	}
	[ ! -e "$CFG" ]
}

@test "init: --force is for init only" {
	run "$MOODLECORD" --force check
	[ "$status" -eq 64 ]
	[[ "$output" == *"--force is for init"* ]]
}
