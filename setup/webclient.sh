#!/usr/bin/env bash
# Install Tryton's web client (sao) and assemble a minimal web root for
# trytond's "[web] root = <dir>" option.
#
# Usage: setup/webclient.sh [--force] [<target-dir>]
#   <target-dir>  defaults to <repo>/.build/www
#   --force       rebuild even if the target already holds a matching version
#                 (use it to pick up a newer 8.0.x patch release)
#
# Only the files the browser actually loads are copied: sao's index.html,
# dist/, images/, locale/*.json, sounds/, the node_modules/ files referenced by
# index.html and whatever those CSS files reference via url()/@import (e.g. the
# bootstrap glyphicon fonts). The exact sao version is written to
# <target>/.sao-version; a later run with a matching stamp exits without
# touching the network. The web root is built next to the target and swapped
# in with mv, so an interrupted run never leaves a half-populated web root.
set -euo pipefail
umask 022

# npm version range of the tryton-sao package (8.0 == 8.0.x).
SAO_VERSION="8.0"

STAMP_NAME=".sao-version"
SCRIPT_NAME="$(basename "$0")"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

die() { printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2; exit 1; }
log() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }

usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

force=0
target=""
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        -f|--force) force=1 ;;
        --) shift; [ $# -gt 0 ] && { target="$1"; shift; }; break ;;
        -*) die "unknown option: $1 (see --help)" ;;
        *) [ -z "$target" ] || die "only one target directory allowed"
           target="$1" ;;
    esac
    shift
done
[ $# -eq 0 ] || die "too many arguments (see --help)"
target="${target:-$REPO_ROOT/.build/www}"
target="$(realpath -m -- "$target")"

# Refuse obviously dangerous targets: the target gets replaced wholesale.
case "$target" in
    /|"$REPO_ROOT"|"$HOME"|/root|/home|/usr|/etc|/var|/tmp|/srv|/opt)
        die "refusing to use '$target' as web root" ;;
esac
if [ -e "$target" ] || [ -L "$target" ]; then
    if [ ! -d "$target" ] || [ -L "$target" ]; then
        die "'$target' exists and is not a directory"
    fi
    if [ ! -f "$target/$STAMP_NAME" ] \
            && [ -n "$(ls -A -- "$target" 2>/dev/null)" ]; then
        die "'$target' is a non-empty directory not created by this script" \
            "(no $STAMP_NAME); remove it or choose another target"
    fi
fi

parent="$(dirname -- "$target")"
mkdir -p -- "$parent"

# Serialise concurrent runs (lock the parent directory itself: no lock file).
if command -v flock >/dev/null 2>&1; then
    exec 9<"$parent"
    flock -w 900 9 || die "timed out waiting for another run on '$target'"
fi

# Quick path: same version range already installed -> nothing to do.
version_matches() {  # $1 = installed exact version
    [ "$1" = "$SAO_VERSION" ] || [ "${1#"$SAO_VERSION".}" != "$1" ]
}
if [ "$force" -eq 0 ] && [ -f "$target/$STAMP_NAME" ] \
        && [ -f "$target/index.html" ] && [ -f "$target/dist/tryton-sao.js" ]; then
    installed="$(head -n1 -- "$target/$STAMP_NAME")"
    if version_matches "$installed"; then
        log "sao $installed already installed in $target (use --force to refresh)"
        exit 0
    fi
    log "installed sao '$installed' does not match range $SAO_VERSION; rebuilding"
fi

command -v npm >/dev/null 2>&1 \
    || die "npm not found in PATH; install Node.js and npm (e.g. apt-get install npm)"
command -v node >/dev/null 2>&1 \
    || die "node not found in PATH; install Node.js"

start=$SECONDS
# Scratch space next to the target so the final mv is a same-filesystem rename.
work="$(mktemp -d -- "$parent/.$(basename -- "$target").build.XXXXXX")"
cleanup() { rm -rf -- "$work"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
scratch="$work/npm"
stage="$work/www"
mkdir -p -- "$scratch" "$stage"

# A package.json pins npm's prefix to the scratch dir (npm would otherwise
# walk up and might pick a package.json of an enclosing project).
printf '{"name": "sao-webroot-build", "private": true}\n' > "$scratch/package.json"
log "installing tryton-sao@$SAO_VERSION with npm"
(cd "$scratch" && npm install --prefix "$scratch" \
    --no-audit --no-fund --legacy-peer-deps --ignore-scripts \
    --no-update-notifier --loglevel=error \
    "tryton-sao@$SAO_VERSION" >&2) \
    || die "npm install tryton-sao@$SAO_VERSION failed"

pkg="$scratch/node_modules/tryton-sao"
if [ ! -f "$pkg/package.json" ] || [ ! -f "$pkg/index.html" ]; then
    die "tryton-sao package incomplete after npm install"
fi
version="$(node -p 'require(process.argv[1]).version' "$pkg/package.json")"
version_matches "$version" \
    || die "npm resolved tryton-sao $version, outside range $SAO_VERSION"
log "resolved tryton-sao $version"

# Map a web-root relative path to its file in the npm tree. node_modules/
# paths are resolved like node does from sao's directory: nested first,
# then hoisted.
source_of() {
    local rel="$1" cand
    case "$rel" in
        node_modules/*)
            for cand in "$pkg/$rel" "$scratch/$rel"; do
                [ -f "$cand" ] && { printf '%s\n' "$cand"; return 0; }
            done
            return 1 ;;
        *)
            [ -f "$pkg/$rel" ] && { printf '%s\n' "$pkg/$rel"; return 0; }
            return 1 ;;
    esac
}

copy_rel() {  # copy web-root relative path $1 into the stage (once)
    local rel="$1" src
    [ -f "$stage/$rel" ] && return 0
    src="$(source_of "$rel")" || return 1
    install -D -m 0644 -- "$src" "$stage/$rel"
}

# 1. sao itself: entry page and its runtime directories.
install -m 0644 -- "$pkg/index.html" "$stage/index.html"
for f in "$pkg"/dist/*.js "$pkg"/dist/*.css "$pkg"/images/*.svg \
        "$pkg"/images/*.png "$pkg"/locale/*.json "$pkg"/sounds/*.wav; do
    [ -f "$f" ] || continue
    copy_rel "${f#"$pkg/"}"
done
if [ ! -f "$stage/dist/tryton-sao.js" ] || [ ! -f "$stage/dist/tryton-sao.css" ]; then
    die "sao dist/ files missing from the package"
fi

# 2. Everything index.html loads (script src, link href, img src).
refs="$(grep -oiE '<(script|link|img)[^>]*>' "$stage/index.html" \
    | grep -oiE '(src|href)="[^"]*"' | sed -E 's/^[a-zA-Z]+="//; s/"$//')" \
    || die "no <script>/<link> references found in index.html"
css_queue=()
while IFS= read -r ref; do
    ref="${ref%%[?#]*}"
    case "$ref" in
        ''|http:*|https:*|//*|data:*|javascript:*) continue ;;
        /*) die "absolute path '$ref' in index.html is not supported" ;;
    esac
    if ! copy_rel "$ref"; then
        case "$ref" in
            custom.js|custom.css)
                # Optional site customisation hooks; ship empty ones so the
                # page loads without 404s.
                : > "$stage/$ref"; continue ;;
            *) die "index.html references '$ref' which is not in the npm tree" ;;
        esac
    fi
    case "$ref" in *.css) css_queue+=("$ref") ;; esac
done <<< "$refs"

# 3. Files referenced by CSS (url(...) and @import), transitively.
css_queue+=(dist/tryton-sao.css)
declare -A css_seen=()
while [ "${#css_queue[@]}" -gt 0 ]; do
    css="${css_queue[0]}"
    css_queue=("${css_queue[@]:1}")
    [ -z "${css_seen[$css]:-}" ] || continue
    css_seen[$css]=1
    cssdir="$(dirname -- "$css")"
    urls="$( { grep -oE 'url\([^)]*\)' "$stage/$css" \
                | sed -E 's/^url\([[:space:]]*//; s/[[:space:]]*\)$//' || true
               grep -oE '@import[[:space:]]+["'"'"'][^"'"'"']+["'"'"']' "$stage/$css" \
                | sed -E 's/^@import[[:space:]]+//' || true
             } | sed -E "s/^[\"']//; s/[\"']\$//" | sort -u)"
    while IFS= read -r url; do
        url="${url%%[?#]*}"
        case "$url" in
            ''|data:*|http:*|https:*|//*|/*) continue ;;
        esac
        rel="$(realpath -m --relative-to="$stage" -- "$stage/$cssdir/$url")"
        case "$rel" in
            ../*|..) die "$css references '$url' outside the web root" ;;
        esac
        copy_rel "$rel" || die "$css references '$rel' which is not in the npm tree"
        case "$rel" in *.css) css_queue+=("$rel") ;; esac
    done <<< "$urls"
done

printf '%s\n' "$version" > "$stage/$STAMP_NAME"
chmod -R u=rwX,go=rX -- "$stage"

# 4. Swap in the new web root. Old one goes into $work and is removed by the
# EXIT trap; if the second rename fails the old one is put back.
if [ -d "$target" ]; then
    mv -T -- "$target" "$work/old"
    if ! mv -T -- "$stage" "$target"; then
        mv -T -- "$work/old" "$target"
        die "could not move the new web root into '$target'"
    fi
else
    mv -T -- "$stage" "$target"
fi

nfiles="$(find "$target" -type f | wc -l)"
size="$(du -sh -- "$target" | cut -f1)"
log "sao $version installed in $target ($nfiles files, $size) in $((SECONDS - start))s"
