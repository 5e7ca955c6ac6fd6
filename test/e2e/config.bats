#!/usr/bin/env bats
# The config file through the real binary: `check` loads the config (Moodle
# and Discord) before anything else, so each config error shows here with
# exit 78 and its message, and no secret ever reaches stdout or stderr.

load common

setup() {
	common_setup
	CFG="$T/config"
	PW=pw-Sekr3t-e2e
	TOK=tok-Sekr3t-e2e
	HOOKTOK=hook-Sekr3t-e2e
	HOOK="https://discord.com/api/webhooks/123456789012345678/$HOOKTOK"
}
teardown() { common_teardown; }

# run check and assert exit 78, the message, and no secret in the output.
check_fails_with() {
	run "$MOODLECORD" "$@" check
	echo "status $status: $output"
	[ "$status" -eq 78 ]
	[[ "$output" == *"$EXPECT"* ]]
	no_secrets
}

no_secrets() {
	[[ "$output" != *"$PW"* ]]
	[[ "$output" != *"$TOK"* ]]
	[[ "$output" != *"$HOOKTOK"* ]]
}

@test "a bad number names file, line, key and the range" {
	write_config "$CFG" <<-EOF
	[moodle]
	url = https://moodle.example.edu
	username = alice
	password = $PW

	lookahead_days = abc
	EOF
	EXPECT="$CFG:6: [moodle] lookahead_days: 'abc' is not a number (1-366)"
	check_fails_with -c "$CFG"
	[ "${#lines[@]}" -eq 1 ]
}

@test "unknown key (with a suggestion) and unknown section" {
	write_config "$CFG" <<-EOF
	[moodle]
	pasword = $PW
	EOF
	EXPECT="$CFG:2: unknown key 'pasword' in [moodle] (did you mean 'password'?)"
	check_fails_with -c "$CFG"
	write_config "$CFG" <<-EOF
	[moodle]
	url = https://moodle.example.edu
	[mooodle]
	EOF
	EXPECT="$CFG:3: unknown section [mooodle]"
	check_fails_with -c "$CFG"
}

@test "http:// only for loopback hosts" {
	write_config "$CFG" <<-EOF
	[moodle]
	url = http://moodle.example.edu
	EOF
	EXPECT="$CFG:2: [moodle] url: http:// is only allowed for loopback hosts; use https://"
	check_fails_with -c "$CFG"
	# Loopback passes the URL check and fails further on (no credentials).
	write_config "$CFG" <<-EOF
	[moodle]
	url = http://127.0.0.1:9/
	EOF
	EXPECT="[moodle] username is not set"
	check_fails_with -c "$CFG"
}

@test "both username/password and token" {
	write_config "$CFG" <<-EOF
	[moodle]
	url = https://moodle.example.edu
	username = alice
	password = $PW
	token = $TOK
	EOF
	EXPECT="$CFG:5: [moodle] token: both username/password and token are set; keep one"
	check_fails_with -c "$CFG"
}

@test "two sources of one secret" {
	write_config "$CFG" <<-EOF
	[discord]
	webhook_url = $HOOK
	webhook_url_file = ~/hook
	EOF
	EXPECT="$CFG:3: [discord] webhook_url_file: also given as webhook_url (line 2); keep one of webhook_url, webhook_url_file"
	check_fails_with -c "$CFG"
}

@test "missing required keys say where to add them" {
	write_config "$CFG" <<-EOF
	[moodle]
	username = alice
	password = $PW
	EOF
	EXPECT="[moodle] url is not set (the site root, e.g. https://moodle.example.edu); add it to $CFG (or set MOODLECORD_MOODLE_URL)"
	check_fails_with -c "$CFG"
	write_config "$CFG" <<-EOF
	[moodle]
	url = https://moodle.example.edu
	username = alice
	password = $PW
	EOF
	EXPECT="[discord] webhook_url_file is not set nor webhook_url"
	check_fails_with -c "$CFG"
}

@test "no config file at all: what is missing and where it was looked for" {
	EXPECT="no config file (looked for $HOME/.config/moodlecord/config); create it (or set MOODLECORD_MOODLE_URL)"
	check_fails_with
}

@test "-c with a missing file is an error" {
	EXPECT="cannot open config file $T/nope: No such file or directory"
	check_fails_with -c "$T/nope"
	export MOODLECORD_CONFIG="$T/nope2"
	EXPECT="cannot open config file $T/nope2: No such file or directory"
	check_fails_with
}

@test "lookup order: -c, \$MOODLECORD_CONFIG, \$XDG_CONFIG_HOME, ~/.config" {
	local f
	for f in "$T/named" "$T/env" "$XDG_CONFIG_HOME/moodlecord/config" "$T/xdg/moodlecord/config"; do
		write_config "$f" <<-EOF
		[moodle]
		lookahead_days = bad
		EOF
	done
	export MOODLECORD_CONFIG="$T/env"
	EXPECT="$T/named:2:"
	check_fails_with -c "$T/named"
	EXPECT="$T/env:2:"
	check_fails_with
	unset MOODLECORD_CONFIG
	EXPECT="$T/xdg/moodlecord/config:2:"
	XDG_CONFIG_HOME="$T/xdg" check_fails_with
	# \$XDG_CONFIG_HOME without the file: ~/.config's is next
	EXPECT="$HOME/.config/moodlecord/config:2:"
	XDG_CONFIG_HOME="$T/elsewhere" check_fails_with
	unset XDG_CONFIG_HOME
	check_fails_with
}

@test "no config file in either place: both named" {
	EXPECT="no config file (looked for $T/xdg/moodlecord/config and $HOME/.config/moodlecord/config); create it (or set MOODLECORD_MOODLE_URL)"
	XDG_CONFIG_HOME="$T/xdg" check_fails_with
}

@test "the environment beats the file; its errors name the variable" {
	write_config "$CFG" <<-EOF
	[moodle]
	url = https://moodle.example.edu
	username = alice
	password = $PW
	lookahead_days = abc
	EOF
	EXPECT="$CFG:5: [moodle] lookahead_days"
	check_fails_with -c "$CFG"
	# Fixed by the environment: the next problem shows instead.
	export MOODLECORD_MOODLE_LOOKAHEAD_DAYS=7
	EXPECT="[discord] webhook_url_file is not set"
	check_fails_with -c "$CFG"
	export MOODLECORD_HTTP_TIMEOUT=soon
	EXPECT="MOODLECORD_HTTP_TIMEOUT: 'soon' is not a number (1-3600)"
	check_fails_with -c "$CFG"
	unset MOODLECORD_HTTP_TIMEOUT
	export MOODLECORD_MOODLE_PASWORD=x
	EXPECT="environment: MOODLECORD_MOODLE_PASWORD is not a setting"
	check_fails_with -c "$CFG"
}

@test "a readable config file holding a secret is refused with the chmod that fixes it" {
	write_config "$CFG" <<-EOF
	[moodle]
	url = https://moodle.example.edu
	username = alice
	password = $PW
	EOF
	chmod 644 "$CFG"
	EXPECT="$CFG holds a secret ([moodle] password on line 4) and can be read by group or others; run: chmod 600 $CFG"
	check_fails_with -c "$CFG"
	chmod 640 "$CFG"
	check_fails_with -c "$CFG"
	chmod 600 "$CFG"
	EXPECT="[discord] webhook_url_file is not set"
	check_fails_with -c "$CFG"
}

@test "a readable secret file is refused; ~ is expanded" {
	write_config "$CFG" <<-EOF
	[moodle]
	url = https://moodle.example.edu
	username = alice
	password_file = ~/pw
	[discord]
	webhook_url_file = ~/hook
	EOF
	chmod 644 "$CFG"   # no secret inside: fine
	printf '%s\n' "$PW" >"$HOME/pw"
	chmod 644 "$HOME/pw"
	printf '%s\n' "$HOOK" >"$HOME/hook"
	chmod 600 "$HOME/hook"
	EXPECT="$CFG:4: [moodle] password_file: $HOME/pw holds the password and can be read by group or others; run: chmod 600 $HOME/pw"
	check_fails_with -c "$CFG"
	chmod 600 "$HOME/pw"
	chmod 604 "$HOME/hook"
	EXPECT="$CFG:6: [discord] webhook_url_file: $HOME/hook holds the webhook URL and can be read by group or others; run: chmod 600 $HOME/hook"
	check_fails_with -c "$CFG"
}

@test "password_command: failing or silent is an error; what it printed is never shown" {
	write_config "$CFG" <<-EOF
	[moodle]
	url = https://moodle.example.edu
	username = alice
	password_command = echo $PW; echo $PW >&2; exit 4
	[discord]
	webhook_url = $HOOK
	EOF
	EXPECT="$CFG:4: [moodle] password_command: failed with status 4; run it by hand to see why"
	check_fails_with -c "$CFG"
	[ "${#lines[@]}" -eq 1 ]
	write_config "$CFG" <<-EOF
	[moodle]
	url = https://moodle.example.edu
	username = alice
	password_command = echo $PW >&2
	[discord]
	webhook_url = $HOOK
	EOF
	EXPECT="$CFG:4: [moodle] password_command: printed nothing; it must print the password on its first line"
	check_fails_with -c "$CFG"
	[ "${#lines[@]}" -eq 1 ]
}

@test "a webhook URL that is not https is refused without showing it" {
	write_config "$CFG" <<-EOF
	[moodle]
	url = https://moodle.example.edu
	token = $TOK
	[discord]
	webhook_url = http://discord.example/api/webhooks/123456789012345678/$HOOKTOK
	EOF
	EXPECT="$CFG:5: [discord] webhook_url: http:// is only allowed for loopback hosts; use https://"
	check_fails_with -c "$CFG"
}
