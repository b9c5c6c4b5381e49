#!/usr/bin/env bash
# Vendors the GraphiQL page's assets from the npm registry, at pinned versions, so the page
# needs no CDN at run time.  The pins are the builds Strawberry's own GraphiQL page loads from
# unpkg (strawberry/static/graphiql.html in the installed package; the npm files are byte for
# byte those, its integrity hashes match).  To upgrade: change the pins, run this script, and
# paste the integrity values it prints into api/graphiql.html.
#
# Each package lands in a folder named after it, its files and its LICENSE side by side:
# api/graphiql.html loads graphiql/static/<package>/<file>.  (Flat, not at the files' paths
# inside the tarball: .gitignore's dist/ would swallow those, and the vendored files with it.)
set -euo pipefail

# "package@version file..." where each file is a path inside the package's tarball.
ASSETS=(
    "react@18.2.0 umd/react.production.min.js"
    "react-dom@18.2.0 umd/react-dom.production.min.js"
    "js-cookie@3.0.5 dist/js.cookie.min.js"
    "graphiql@3.8.3 graphiql.min.js graphiql.min.css"
    "@graphiql/plugin-explorer@1.0.2 dist/index.umd.js dist/style.css"
)
# @graphiql/plugin-explorer ships no LICENSE file; its UMD build bundles this package.
EXPLORER_BUNDLES="graphiql-explorer@0.9.0"

here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Unpacks package@version into $work/<package> and prints that folder.
unpack() {
    local spec="$1" package="${1%@*}" tarball
    tarball="$(cd "$work" && npm pack --silent "$spec")"
    mkdir -p "$work/$package"
    tar -xzf "$work/$tarball" -C "$work/$package" --strip-components=1
    echo "$work/$package"
}

for line in "${ASSETS[@]}"; do
    read -r spec files <<<"$line"
    package="${spec%@*}"
    unpacked="$(unpack "$spec")"
    rm -rf "${here:?}/$package"
    for file in $files; do
        vendored="$package/$(basename "$file")"
        install -D -m 644 "$unpacked/$file" "$here/$vendored"
        echo "$vendored  sha384-$(openssl dgst -sha384 -binary "$here/$vendored" | base64 -w0)"
    done
    if [[ -f "$unpacked/LICENSE" ]]; then
        install -m 644 "$unpacked/LICENSE" "$here/$package/LICENSE"
    fi
done

# The explorer's source lives in the graphql/graphiql repository, under its MIT licence: use
# the LICENSE the graphiql package from that repository ships, then the bundled package's own.
explorer="$here/@graphiql/plugin-explorer"
bundled="$(unpack "$EXPLORER_BUNDLES")"
{
    echo "@graphiql/plugin-explorer ships no LICENSE file; its package.json says \"license\": \"MIT\"."
    echo "Its source is in the graphql/graphiql repository; the MIT licence that repository's"
    echo "graphiql package ships follows. Its index.umd.js also bundles $EXPLORER_BUNDLES,"
    echo "whose LICENSE follows after it."
    echo
    echo "==== graphql/graphiql (from the graphiql package) ===="
    echo
    cat "$here/graphiql/LICENSE"
    echo
    echo "==== $EXPLORER_BUNDLES ===="
    echo
    cat "$bundled/LICENSE"
} >"$explorer/LICENSE"
chmod 644 "$explorer/LICENSE"
