# Shared by the bats files: a temporary home, config writing, and starting
# and stopping the fakes (and a port that refuses connections) on loopback.
#
# Environment from test/run: MOODLECORD (the binary), FAKES (the fakes'
# directory), FIXTURES (test/fixtures).  Defaults let a file run alone.

: "${MOODLECORD:=$BATS_TEST_DIRNAME/../../build/plain/moodlecord}"
: "${FAKES:=$BATS_TEST_DIRNAME/../../build/plain/fakes}"
: "${FIXTURES:=$BATS_TEST_DIRNAME/../fixtures}"

common_setup() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/mc.XXXXXX")
	export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" XDG_STATE_HOME="$T/home/.local/state"
	mkdir -p "$HOME"
	unset MOODLECORD_CONFIG
	for v in $(env | sed -n 's/^\(MOODLECORD_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
	export TZ=UTC
	# the fakes are on loopback: no proxy from the caller's environment
	# (curl would send loopback requests to it)
	export no_proxy="127.0.0.1,localhost" NO_PROXY="127.0.0.1,localhost"
	FAKE_PIDS=""
}

common_teardown() {
	local pid
	for pid in $FAKE_PIDS; do
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	FAKE_PIDS=""
	rm -rf "$T"
}

# start_fake NAME VAR [ARGS...]: start $FAKES/NAME with --port-file and
# ARGS, wait until it has written its port, set VAR to the port.  The fake
# binds port 0 itself and says which port it got: no port is picked first
# and bound later, so no other process can take it in between.
start_fake() {
	local name=$1
	shift
	start_port_owner "$FAKES/$name" "$@"
}

# start_closed_port VAR: a loopback port nothing listens on (connections
# refused), held by test/tools/closed_port until the test ends; VAR = it.
start_closed_port() {
	start_port_owner "$(dirname "$MOODLECORD")/test/tools/closed_port" "$1"
}

# start_port_owner PROGRAM VAR [ARGS...]: PROGRAM --port-file FILE ARGS in
# the background (stopped by common_teardown), VAR = the port it wrote.
start_port_owner() {
	local prog=$1 var=$2 name pf i
	shift 2
	name=$(basename "$prog")
	pf="$T/$name.port"
	rm -f "$pf"
	"$prog" --port-file "$pf" "$@" >"$T/$name.out" 2>&1 &
	FAKE_PIDS="$FAKE_PIDS $!"
	# a whole line: the port is written in full
	for i in $(seq 1 200); do
		grep -qx '[0-9][0-9]*' "$pf" 2>/dev/null && break
		sleep 0.02
	done
	grep -qx '[0-9][0-9]*' "$pf" 2>/dev/null || { echo "$name did not start:"; cat "$T/$name.out"; return 1; }
	printf -v "$var" '%s' "$(cat "$pf")"
}

# write_config FILE <<EOF ... EOF: a config file with mode 600.
write_config() {
	mkdir -p "$(dirname "$1")"
	cat >"$1"
	chmod 600 "$1"
}
