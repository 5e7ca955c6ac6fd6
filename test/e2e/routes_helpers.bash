# Two routes from bats: a fake Discord with three webhooks ([discord]'s,
# route math's, route sci's), each its own channel and rate-limit bucket,
# and a config sending MATH1 to math and PHYS2 and MATH1 to sci.
# Load after common, discord_helpers and moodle_helpers; setup sets CFG,
# STATE and starts the fake Moodle.

PW=Alice-Sekr3t-pw
MATH_ID=323456789012345678
MATH_TOKEN=Math-Hook_token.abc
SCI_ID=423456789012345678
SCI_TOKEN=Sci-Hook_token.def

# routes_discord_start RATE: the fake Discord, each webhook's bucket RATE
# (N/SECONDS); sets MATH_URL and SCI_URL.
routes_discord_start() {
	start_discord --rate "$1" --webhook "$MATH_ID/$MATH_TOKEN" --webhook "$SCI_ID/$SCI_TOKEN" \
	    --hook-channel "$WEBHOOK_ID/111111111111111111" \
	    --hook-channel "$MATH_ID/333333333333333333" --hook-channel "$SCI_ID/444444444444444444"
	MATH_URL="http://127.0.0.1:$DISCORD_PORT/api/v10/webhooks/$MATH_ID/$MATH_TOKEN"
	SCI_URL="http://127.0.0.1:$DISCORD_PORT/api/v10/webhooks/$SCI_ID/$SCI_TOKEN"
}

# routes_config [DISCORD_WEBHOOK_LINE] [MATH COURSES] [SCI COURSES]
routes_config() {
	write_config "$CFG" <<-EOF
	[moodle]
	url = $MOODLE_URL
	username = alice
	password = $PW

	[discord]
	${1-webhook_url = $WEBHOOK_URL}

	[route math]
	courses = ${2:-MATH1}
	webhook_url = $MATH_URL

	[route sci]
	courses = ${3:-PHYS2, MATH1}
	webhook_url = $SCI_URL

	[state]
	path = $STATE

	[http]
	connect_timeout = 2
	timeout = 3
	EOF
}

# msync [ARGS...]: a sync, shown; no secret in what it printed.
msync() {
	run --separate-stderr "$MOODLECORD" -c "$CFG" "$@" sync
	echo "sync: status $status"
	echo "stdout: $output"
	echo "stderr: $stderr"
	[[ "$output$stderr" != *"$PW"* ]]
	[[ "$output$stderr" != *"$WEBHOOK_TOKEN"* ]]
	[[ "$output$stderr" != *"$MATH_TOKEN"* ]]
	[[ "$output$stderr" != *"$SCI_TOKEN"* ]]
}

# The calls that change the channels: each sync also looks up (GET) a
# few standing messages, counted apart.
calls() { discord_log | jq '[.[] | select(.method != "GET")] | length'; }
