# Helpers for tests that run against test/fakes/fake_moodle (load after
# common).  The scenario format is documented in fake_moodle.c.
#
#   moodle_start NAME          copy $FIXTURES/fake-moodle/NAME.json to
#                              $T/moodle.json, start the fake with it and
#                              the log $T/moodle.log; sets MOODLE_PORT,
#                              MOODLE_URL and MOODLE_BASE (the time the
#                              scenario's offsets count from)
#   moodle_edit JQ_FILTER [jq args...]
#                              rewrite the scenario (whole, by rename: the
#                              fake reads it again on the next request)
#   moodle_fault MODE [jq-object-of-more-fields]
#                              e.g. moodle_fault slow '{"seconds": 3}'
#   moodle_calls               the calls made so far, "login,core_...,..."
#                              (without the public config: moodle_probes)
#   moodle_log_clear           forget the calls made so far
#   moodle_time OFFSET         local "YYYY-MM-DD HH:MM" of MOODLE_BASE+OFFSET
#   moodle_config FILE [USER [PASSWORD]]
#                              a config for the fake (alice of mixed.json
#                              by default) and a fake_discord webhook
#                              (started on first use; WEBHOOK_URL)
#
# Examples of edits:
#   moodle_edit '(.activities[] | select(.event == 501) | .start) = 5400'   move
#   moodle_edit '(.activities[] | select(.event == 501) | .name) = "New"'   rename
#   moodle_edit 'del(.activities[] | select(.event == 501))'                remove
#   moodle_edit '(.activities[] | select(.event == 501) | .start) = -7200'  in the past
#   moodle_edit '(.activities[] | select(.event == 501) | .closes) = 0'     closed: gone
#   moodle_edit '.site.absent = ["core_course_get_course_module_by_instance"]'

moodle_start() {
	cp "$FIXTURES/fake-moodle/$1.json" "$T/moodle.json"
	: >"$T/moodle.log"
	start_fake fake_moodle MOODLE_PORT --scenario "$T/moodle.json" --log "$T/moodle.log" || return 1
	MOODLE_URL="http://127.0.0.1:$MOODLE_PORT"
	MOODLE_BASE=$(curl -sf "$MOODLE_URL/_fake/base") || return 1
	: >"$T/moodle.log"
}

moodle_edit() {
	local filter=$1
	shift
	jq "$@" "$filter" "$T/moodle.json" >"$T/moodle.json.new" && mv "$T/moodle.json.new" "$T/moodle.json"
}

moodle_fault() {
	local more=${2:-'{}'}
	moodle_edit '.fault = ({"mode": $m} + $more)' --arg m "$1" --argjson more "$more"
}

moodle_calls() {
	jq -r 'select(.wsfunction != "tool_mobile_get_public_config") |
		.wsfunction // (if .path == "/login/token.php" then "login" else .path end)' "$T/moodle.log" | paste -sd, -
}

# moodle_probes: how many times the public config was asked (check and
# login ask it before signing in; moodle_calls leaves it out).
moodle_probes() {
	jq -r 'select(.wsfunction == "tool_mobile_get_public_config") | .path' "$T/moodle.log" | wc -l
}

moodle_log_clear() {
	: >"$T/moodle.log"
}

moodle_time() {
	date -d "@$((MOODLE_BASE + $1))" '+%Y-%m-%d %H:%M'
}

moodle_discord() {
	[ -n "${WEBHOOK_URL:-}" ] && return 0
	start_fake fake_discord DISCORD_PORT --webhook 123456789012345678/Hook-Sekr3t-token || return 1
	WEBHOOK_URL="http://127.0.0.1:$DISCORD_PORT/api/v10/webhooks/123456789012345678/Hook-Sekr3t-token"
}

moodle_config() {
	moodle_discord || return 1
	write_config "$1" <<-EOF
	[moodle]
	url = $MOODLE_URL
	username = ${2:-alice}
	password = ${3:-Alice-Sekr3t-pw}

	[discord]
	webhook_url = $WEBHOOK_URL

	[state]
	path = $T/state.mdb
	EOF
}
