#!/usr/bin/env bats
# sync and ping together, from the fake Moodle to the fake Discord: the
# ping of a conference Moodle announces, its safety with Moodle's text,
# and its fate when Moodle moves or ends the conference.

load common
load discord_helpers
load moodle_helpers

ROLE=987654321098765432

setup() {
	common_setup
	CFG="$T/config"
	STATE="$T/state/state.mdb"
	moodle_start mixed
	start_discord --rate 1000/1
	write_config "$CFG" <<-EOF
	[moodle]
	url = $MOODLE_URL
	username = alice
	password = Alice-Sekr3t-pw

	[discord]
	webhook_url = $WEBHOOK_URL
	role_id = $ROLE
	ping_minutes = 5

	[state]
	path = $STATE
	EOF
}
teardown() { common_teardown; }

ncalls() { discord_log | jq '[.[] | select(.method != "GET")] | length'; }
pings() { discord_channel | jq -c '[.[] | select(.content != "")]'; }
ping_of() { "$MOODLECORD" -c "$CFG" dump --json | jq -r ".[] | select(.id == $1) | .$2"; }

@test "Moodle's conference in 4 minutes: sync posts it, ping pings once, no @everyone" {
	moodle_edit '(.activities[] | select(.event == 501) | .start) = 240'
	"$MOODLECORD" -c "$CFG" sync
	n=$(ncalls)
	[ "$n" -ge 1 ]
	run "$MOODLECORD" -c "$CFG" ping
	[ "$status" -eq 0 ]
	[ "$(ncalls)" -eq $((n + 1)) ]
	[ "$(pings | jq length)" -eq 1 ]
	msg=$(pings | jq -c '.[0]')
	content=$(jq -r .content <<<"$msg")
	[[ "$content" == "<@&$ROLE> "* ]]
	[[ "$content" == *"<t:$((MOODLE_BASE + 240)):R>"* ]]
	[[ "$content" == *"$MOODLE_URL/mod/bigbluebuttonbn/view.php?id=101"* ]]
	# The name holds "@everyone": shown, but nobody beyond the role notified.
	[[ "$content" == *"everyone"* ]]
	[ "$(jq -r .mention_everyone <<<"$msg")" = false ]
	[ "$(jq -c .mention_roles <<<"$msg")" = "[\"$ROLE\"]" ]
	[ "$(ping_of 501 ping)" = sent ]
	[ "$(ping_of 501 ping_id)" = "$(jq -r .id <<<"$msg")" ]

	# Another sync and ping: no call, the ping kept.
	"$MOODLECORD" -c "$CFG" sync
	"$MOODLECORD" -c "$CFG" ping
	[ "$(ncalls)" -eq $((n + 1)) ]
	[ "$(ping_of 501 ping)" = sent ]
}

@test "Moodle ends the conference: sync deletes its message and its ping, ping has nothing left" {
	moodle_edit '(.activities[] | select(.event == 501) | .start) = 240'
	"$MOODLECORD" -c "$CFG" sync
	"$MOODLECORD" -c "$CFG" ping
	[ "$(pings | jq length)" -eq 1 ]
	moodle_edit '(.activities[] | select(.event == 501) | .start) = -5460'
	"$MOODLECORD" -c "$CFG" sync
	[ "$(pings | jq length)" -eq 0 ]
	[ -z "$(ping_of 501 ping)" ]
	n=$(ncalls)
	run "$MOODLECORD" -c "$CFG" -v ping
	[ "$status" -eq 0 ]
	[ "$output" = "ping: nothing to do" ]
	[ "$(ncalls)" -eq "$n" ]
}

@test "ping before the first sync: no state yet, nothing done; Moodle is not asked" {
	run "$MOODLECORD" -c "$CFG" ping
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(ncalls)" -eq 0 ]
	[ ! -s "$T/moodle.log" ]
}
