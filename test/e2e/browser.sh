#!/bin/bash
# Play the person's browser in the single sign-on flow of `moodlecord
# login`: open the launch URL it printed, sign in on the site's login form
# when the site sends us there, follow the redirects, and print the link
# the site finally hands to the app (SCHEME://token=...), which browsers
# cannot open.  curl with a cookie jar is the browser.
#
# usage: browser.sh [-f] URL USERNAME
#   the password comes on standard input (first line), so it is in no
#   process list.  -f: sign in on the site's login page first (a site set
#   to sign in "in the app" answers launch.php only right after a
#   sign-in).
# Exit 0 with the link on stdout; 1 with the page's error on stderr.
set -u

first=0
if [ "${1:-}" = -f ]; then
	first=1
	shift
fi
[ $# -eq 2 ] || { echo "usage: browser.sh [-f] URL USERNAME <password" >&2; exit 2; }
url=$1 user=$2
IFS= read -r pass || true

dir=$(mktemp -d "${TMPDIR:-/tmp}/browser.XXXXXX")
trap 'rm -rf "$dir"' EXIT
jar=$dir/cookies page=$dir/page

# get URL [curl args...]: fetch into $page; sets code and next (Location).
get() {
	local out
	out=$(curl -sS -b "$jar" -c "$jar" -o "$page" -w '%{http_code} %{redirect_url}' "$@") || return 1
	code=${out%% *}
	next=${out#* }
	[ -n "$next" ] || next=$(sed -n 's/^[Ll]ocation: *//p' "$dir/headers" 2>/dev/null | tr -d '\r')
}

# sign_in: post the login form in $page; the answer replaces it.
sign_in() {
	local action token
	action=$(sed -n 's/.*<form[^>]*action="\([^"]*\)"[^>]*id="login".*/\1/p' "$page" | head -1)
	token=$(sed -n 's/.*name="logintoken" value="\([^"]*\)".*/\1/p' "$page" | head -1)
	[ -n "$action" ] || { echo "browser: no login form on the page" >&2; return 1; }
	get "$action" -D "$dir/headers" --data-urlencode "username=$user" \
		--data-urlencode "password@$dir/pw" --data-urlencode "logintoken=$token"
}

printf '%s' "$pass" >"$dir/pw"
if [ $first -eq 1 ]; then
	root=${url%%/admin/tool/mobile/*}
	get "$root/login/index.php" -D "$dir/headers" || exit 1
	sign_in || exit 1
fi
signed=0
for hop in 1 2 3 4 5 6 7 8 9 10; do
	get "$url" -D "$dir/headers" || exit 1
	while :; do
		case $code in
		301|302|303|307|308)
			case $next in
			http://*|https://*) url=$next; continue 2 ;;
			*) printf '%s\n' "$next"; exit 0 ;;
			esac ;;
		200)
			if grep -q 'id="login"' "$page"; then
				[ $signed -eq 0 ] || { echo "browser: the site refused the sign-in" >&2; exit 1; }
				signed=1
				sign_in || exit 1
				continue
			fi
			link=$(sed -n 's/.*id="launchapp"[^>]*href="\([^"]*\)".*/\1/p' "$page" | head -1)
			[ -n "$link" ] && { printf '%s\n' "$link"; exit 0; }
			;;
		esac
		echo "browser: HTTP $code from $url: $(sed -e 's/<[^>]*>//g' "$page" | tr -s ' \n' ' ' | cut -c1-200)" >&2
		exit 1
	done
done
echo "browser: too many redirects" >&2
exit 1
