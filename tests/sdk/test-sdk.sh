#!/usr/bin/env bash
# test-sdk.sh: builds the aging example plugin and a driver out of tree, against an installed
# libtaskpool found with nothing but pkg-config, and runs them
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: test-sdk.sh BUILDDIR SRCDIR [SANITIZE]
#
# 1. `meson install` of BUILDDIR into a temporary DESTDIR;
# 2. checks the installed layout: taskpool-1.pc, its pluginsdir, the bundled plugins;
# 3. builds examples/plugins/aging/aging.c, copied out of the source tree, with
#    `cc -shared -fPIC … $(pkg-config --cflags --libs taskpool-1)` and warnings as errors, and
#    puts its metadata file, aging.plugin, beside it;
# 4. builds tests/sdk/sdk-driver.c the same way and runs it with LD_LIBRARY_PATH on the
#    installed library and TASKPOOL_PLUGIN_PATH on the installed plugins.
#
# SANITIZE is the build's b_sanitize: a sanitized library needs sanitized programs.

set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "Usage: $0 BUILDDIR SRCDIR [SANITIZE]" >&2
  exit 2
fi
builddir=$(realpath "$1")
srcdir=$(realpath "$2")
sanitize=${3:-none}

for tool in cc pkg-config meson; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "test-sdk: '$tool' is not installed: the SDK test builds plugins with cc and" \
         "pkg-config like an application developer (.ci/setup installs gcc and pkg-config)" >&2
    exit 1
  fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/taskpool-sdk.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail() {
  echo "FAIL - $*" >&2
  exit 1
}

ok() {
  echo "ok - $*"
}

# 1. Install

stage=$tmp/stage
if ! meson install -C "$builddir" --destdir "$stage" >"$tmp/install.log" 2>&1; then
  cat "$tmp/install.log" >&2
  fail "meson install -C $builddir --destdir $stage"
fi
ok "meson install into a temporary DESTDIR"

# 2. The installed layout, through pkg-config

pc=$(find "$stage" -path '*/pkgconfig/taskpool-1.pc' -print -quit)
[[ -n $pc ]] || fail "no taskpool-1.pc was installed"
pcdir=$(dirname "$pc")
prefix=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=prefix taskpool-1)
ok "taskpool-1.pc installed in ${pcdir#"$stage"} (prefix $prefix)"

# A .pc file with a fixed prefix points at the final location, not at DESTDIR: stage a copy
# with the prefix moved. (pkg-config --define-prefix and --define-variable=prefix=… also move
# the prefix of glib-2.0, which then is not found.)
case $(realpath -m "$prefix") in
  "$stage"/*)
    ;;
  *)
    mkdir "$tmp/pkgconfig"
    sed "s|^prefix=.*|prefix=$stage$prefix|" "$pc" >"$tmp/pkgconfig/taskpool-1.pc"
    pcdir=$tmp/pkgconfig
    echo "# taskpool-1.pc has prefix=$prefix: using a copy with prefix=\$DESTDIR$prefix"
    ;;
esac
export PKG_CONFIG_PATH=$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}

pkg-config --exists --print-errors taskpool-1 || fail "pkg-config does not find taskpool-1"
for variable in includedir libdir pluginsdir; do
  value=$(pkg-config --variable="$variable" taskpool-1)
  [[ $value == "$stage"/* && -d $value ]] ||
    fail "pkg-config's $variable '$value' is not an installed folder"
done
includedir=$(pkg-config --variable=includedir taskpool-1)
libdir=$(pkg-config --variable=libdir taskpool-1)
pluginsdir=$(pkg-config --variable=pluginsdir taskpool-1)
ok "pkg-config gives includedir, libdir and pluginsdir in the installed tree"

for header in taskpool.h tp-plugin.h tp-pool.h tp-version-macros.h tp-enum-types.h; do
  [[ -f $includedir/taskpool-1/taskpool/$header ]] || fail "header $header is not installed"
done
# TP_BUNDLED_PLUGINS: the build's list of bundled plugins (plugins/meson.build), which depends on
# its options (gate-redis needs hiredis)
read -ra bundled <<<"${TP_BUNDLED_PLUGINS:-queue-simple queue-lifo queue-priority scale-fixed scale-autoscale gate-desktop}"
for plugin in "${bundled[@]}"; do
  [[ -f $pluginsdir/$plugin.so ]] ||
    fail "bundled plugin $plugin.so is not in pluginsdir $pluginsdir"
  [[ -f $pluginsdir/$plugin.plugin ]] ||
    fail "the metadata file $plugin.plugin that declares $plugin.so is not in pluginsdir $pluginsdir"
done
[[ -e $libdir/libtaskpool-1.so && -e $libdir/libtaskpool-1.so.1 ]] ||
  fail "libtaskpool-1.so and libtaskpool-1.so.1 are not in libdir $libdir"
ok "headers, library and bundled plugins are installed"

if command -v readelf >/dev/null 2>&1; then
  for file in "$libdir"/libtaskpool-1.so.1 "$pluginsdir"/*.so; do
    if readelf -d "$file" | grep -E 'R(UN)?PATH' | grep -qF "$builddir"; then
      fail "installed ${file#"$stage"} keeps a run path into the build folder"
    fi
  done
  ok "no installed file keeps a run path into the build folder"
fi

# 3. The plugin, built like an application developer builds it

read -ra sdk_flags <<<"$(pkg-config --cflags --libs taskpool-1)"
warnings=(-Wall -Wextra -Werror)
extra=()
if [[ $sanitize != none ]]; then
  extra=(-fsanitize="$sanitize" -fno-omit-frame-pointer)
else
  extra=("-Wl,-z,defs")   # every symbol the plugin uses comes from the pkg-config libraries
fi

mkdir "$tmp/src" "$tmp/plugins" "$tmp/broken"
cp "$srcdir/examples/plugins/aging/aging.c" "$tmp/src/"
# The metadata file that declares the module goes beside it
cp "$srcdir/examples/plugins/aging/aging.plugin" "$tmp/plugins/"
(
  cd "$tmp/src"
  set -x
  cc -shared -fPIC "${warnings[@]}" "${extra[@]}" -o "$tmp/plugins/aging.so" aging.c \
     "${sdk_flags[@]}"
) || fail "the aging plugin does not build against the installed SDK"
ok "aging.so builds out of tree with ${warnings[*]}"

# A declared file that is not a module, to show it does not stop the others
echo "not a module" >"$tmp/broken/broken.so"
printf '[Plugin]\nModule=broken\nQueues=broken;\n' >"$tmp/broken/broken.plugin"

# 4. The driver

(
  set -x
  cc "${warnings[@]}" "${extra[@]}" \
     -DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 -DGLIB_VERSION_MAX_ALLOWED=GLIB_VERSION_2_74 \
     -o "$tmp/sdk-driver" "$srcdir/tests/sdk/sdk-driver.c" "${sdk_flags[@]}"
) || fail "the driver does not build against the installed SDK"
ok "the driver builds against the installed SDK"

export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export TASKPOOL_PLUGIN_PATH=$pluginsdir

loaded=$(ldd "$tmp/sdk-driver" | awk '$1 == "libtaskpool-1.so.1" { print $3 }')
[[ $loaded == "$libdir"/* ]] || fail "the driver would load libtaskpool-1.so.1 from '$loaded'"
ok "the driver loads the installed libtaskpool-1.so.1"

"$tmp/sdk-driver" "$tmp/plugins" "$tmp/broken" || fail "sdk-driver reported failures"
ok "the aging plugin works in fixed-aging and autoscale-aging pools"
