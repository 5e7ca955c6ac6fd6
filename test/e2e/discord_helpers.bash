# The fake Discord from bats: start it, read its channel and log, set its
# faults.  Load after common:   load common; load discord_helpers
# (admin API: the comment at the top of test/fakes/fake_discord.c).

WEBHOOK_ID=123456789012345678
WEBHOOK_TOKEN=e2e-Token_0123456789.abcdefghijklmnopqrstuvwxyz
# discord_drive (test/tools) of the build under test.
DRIVE="$(dirname "$MOODLECORD")/test/tools/discord_drive"

# start_discord [ARGS...]: start fake_discord with the test webhook; sets
# DISCORD_PORT and WEBHOOK_URL.
start_discord() {
	start_fake fake_discord DISCORD_PORT --webhook "$WEBHOOK_ID/$WEBHOOK_TOKEN" "$@" || return 1
	WEBHOOK_URL="http://127.0.0.1:$DISCORD_PORT/api/v10/webhooks/$WEBHOOK_ID/$WEBHOOK_TOKEN"
}

# discord_admin PATH?QUERY: POST an admin command (fault, delete, ...).
discord_admin() {
	curl -sf -X POST "http://127.0.0.1:$DISCORD_PORT/_fake/$1" >/dev/null
}

# discord_channel / discord_log / discord_stats: the JSON on stdout.
discord_channel() { curl -sf "http://127.0.0.1:$DISCORD_PORT/_fake/channel"; }
discord_log() { curl -sf "http://127.0.0.1:$DISCORD_PORT/_fake/log"; }
discord_stats() { curl -sf "http://127.0.0.1:$DISCORD_PORT/_fake/stats"; }

# discord_wait_held: wait (up to 5 s) until the fake holds a call.
discord_wait_held() {
	local i
	for i in $(seq 1 250); do
		[ "$(discord_stats | jq .held)" != 0 ] && return 0
		sleep 0.02
	done
	return 1
}

# crash_run MODE K: a sync (of $CFG) whose K-th Discord call fails as MODE
# says: drop (the call is made, its answer lost), hold-before / hold-after
# (the run is killed with SIGKILL while the fake holds the call, before or
# after the fake has acted on it).
crash_run() {
	local pid
	case $1 in
	drop)
		discord_admin "drop?next=$2"
		"$MOODLECORD" -c "$CFG" -q sync || true
		;;
	hold-*)
		discord_admin "hold?next=$2&stage=${1#hold-}"
		"$MOODLECORD" -c "$CFG" -q sync &
		pid=$!
		discord_wait_held
		kill -KILL "$pid"
		wait "$pid" || true
		discord_admin release
		;;
	esac
}
