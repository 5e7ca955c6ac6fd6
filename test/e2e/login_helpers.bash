# Helpers for the sign-in tests (load after common and moodle_helpers).
#
#   login_site JQ_OBJECT       set the scenario's "login" object, e.g.
#                              login_site '{"typeoflogin": 2}'
#   url_config FILE [URL]      a config naming only the site ([moodle] url,
#                              default $MOODLE_URL), the webhook and the
#                              state: what a person of a single sign-on
#                              site writes
#   sso_login ARGS...          run `moodlecord ARGS` (e.g. -c FILE login)
#                              with a pipe on its standard input; when it
#                              has printed the launch URL, test/e2e/browser.sh
#                              opens it and signs in as $BROWSER_USER with
#                              $BROWSER_PW ($BROWSER_FLAGS given to it), and
#                              the link it brings back, passed through
#                              $PASTE_FILTER (a sed expression, default
#                              none), is written to the pipe.  Sets status,
#                              output (stdout), stderr, LAUNCH_URL and LINK.

login_site() {
	moodle_edit '.login = $l' --argjson l "$1"
}

url_config() {
	moodle_discord || return 1
	write_config "$1" <<-EOF
	[moodle]
	url = ${2:-$MOODLE_URL}

	[discord]
	webhook_url = $WEBHOOK_URL

	[state]
	path = $T/state.mdb
	EOF
}

sso_login() {
	local fifo="$T/link.fifo" pid i
	rm -f "$fifo"
	mkfifo "$fifo"
	# Opened read-write first, so that neither side blocks in open().
	exec {LINK_FD}<>"$fifo"
	"$MOODLECORD" "$@" <"$fifo" >"$T/login.out" 2>"$T/login.err" &
	pid=$!
	LAUNCH_URL= LINK=
	for i in $(seq 1 400); do
		LAUNCH_URL=$(grep -o 'http://[^ ]*/admin/tool/mobile/launch\.php?[^ ]*' "$T/login.out" | head -1)
		[ -n "$LAUNCH_URL" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.025
	done
	if [ -n "$LAUNCH_URL" ]; then
		# shellcheck disable=SC2086
		LINK=$(printf '%s\n' "${BROWSER_PW:-Alice-Sekr3t-pw}" |
			"$BATS_TEST_DIRNAME/browser.sh" ${BROWSER_FLAGS:-} "$LAUNCH_URL" "${BROWSER_USER:-alice}")
		printf '%s\n' "$LINK" | sed -e "${PASTE_FILTER:-}" >&"$LINK_FD"
	fi
	exec {LINK_FD}>&-
	wait "$pid"
	status=$?
	output=$(cat "$T/login.out")
	stderr=$(cat "$T/login.err")
	echo "status $status"
	echo "stdout: $output"
	echo "stderr: $stderr"
	echo "link: $LINK"
}

# wait_for FILE TEXT: until FILE holds TEXT (5 s at most).
wait_for() {
	local i
	for i in $(seq 1 200); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.025
	done
	return 1
}

# pty_login PASSWORD ARGS...: run `moodlecord ARGS` on a pseudo-terminal
# (script(1), the terminal's echo forced on), answer the username question
# with Enter (the config's) and, once it is asked, the password with
# PASSWORD.  Sets status and output: everything the terminal showed, the
# echo of what was typed included.
pty_login() {
	local pw=$1 fifo="$T/pty.fifo" pid cmd
	shift
	cmd=$(printf '%q ' "$MOODLECORD" "$@")
	rm -f "$fifo"
	mkfifo "$fifo"
	exec {PTY_FD}<>"$fifo"
	script -q -E always -e -c "$cmd" /dev/null <"$fifo" >"$T/pty.out" 2>&1 &
	pid=$!
	if wait_for "$T/pty.out" "username ["; then
		printf '\n' >&"$PTY_FD"
		# typed only once the echo is off: a terminal echoes what
		# arrives, not what is read
		wait_for "$T/pty.out" "password for" && printf '%s\n' "$pw" >&"$PTY_FD"
	fi
	wait "$pid"
	status=$?
	exec {PTY_FD}>&-
	output=$(cat "$T/pty.out")
	echo "status $status"
	echo "terminal: $output"
}
