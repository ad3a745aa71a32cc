#!/usr/bin/env bash
# Builds kukeon_<version>_all.deb from a built checkout (npm run build first): the npm package's files and its
# runtime dependencies under /usr/lib/kukeon, kuke and kukeond in /usr/bin, /etc/kukeon/kukeon.yaml as a conffile,
# the kukeond systemd unit (installed, not enabled: `kuke init` runs kukeond as a container unless --systemd), bash
# completion, copyright and changelog. Fetches the runtime dependencies from the npm registry.
# Usage: packaging/debian/build-deb.sh OUTDIR
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
version="$(node -p "require('$repo/package.json').version")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
stage="$work/stage"

# What npm would install: the packed files (package.json "files") and the dependencies, no dev dependencies.
(cd "$repo" && npm pack --ignore-scripts --silent --pack-destination "$work" >/dev/null)
npm install -g --silent --no-audit --no-fund --ignore-scripts --prefix "$work/prefix" "$work/kukeon-$version.tgz"
mkdir -p "$stage/usr/lib" "$stage/usr/bin"
mv "$work/prefix/lib/node_modules/kukeon" "$stage/usr/lib/kukeon"
# npm's own leftovers and files that only serve development
find "$stage/usr/lib/kukeon/node_modules" \( -name '.package-lock.json' -o -name '*.md' -o -name '.npmignore' \
  -o -name '.eslintrc*' -o -name '.gitignore' -o -name '.gitattributes' -o -name '.editorconfig' -o -name '*.ts' ! -name '*.d.ts' \) -type f -delete
ln -s ../lib/kukeon/bin/kuke.js "$stage/usr/bin/kuke"
ln -s ../lib/kukeon/bin/kukeond.js "$stage/usr/bin/kukeond"

install -D -m 0644 "$repo/packaging/debian/kukeon.yaml" "$stage/etc/kukeon/kukeon.yaml"
sed -e 's|^Environment=@ENVIRONMENT@$|# kuke init --systemd writes /etc/systemd/system/kukeond.service with its own flags instead|' \
  -e 's|^ExecStart=@EXEC_START@$|ExecStart=/usr/bin/kukeond|' \
  "$repo/packaging/systemd/kukeond.service" | install -D -m 0644 /dev/stdin "$stage/usr/lib/systemd/system/kukeond.service"
node "$stage/usr/lib/kukeon/bin/kuke.js" completion bash |
  install -D -m 0644 /dev/stdin "$stage/usr/share/bash-completion/completions/kuke"
install -D -m 0644 "$repo/packaging/debian/copyright" "$stage/usr/share/doc/kukeon/copyright"
printf 'kukeon (%s) unstable; urgency=medium\n\n  * Package built from the kukeon tree.\n\n -- kukeon maintainers <maintainers@kukeon.io>  %s\n' \
  "$version" "$(date -R -d @"${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)}")" |
  gzip -9n >"$work/changelog.gz"
install -D -m 0644 "$work/changelog.gz" "$stage/usr/share/doc/kukeon/changelog.gz"

# modes as Debian wants them: directories 0755, files 0644, the two entry points executable
find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -type f -exec chmod 0644 {} +
chmod 0755 "$stage/usr/lib/kukeon/bin/kuke.js" "$stage/usr/lib/kukeon/bin/kukeond.js"

mkdir -p "$stage/DEBIAN"
echo /etc/kukeon/kukeon.yaml >"$stage/DEBIAN/conffiles"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: kukeon
Version: $version
Architecture: all
Maintainer: kukeon maintainers <maintainers@kukeon.io>
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: nodejs (>= 20), containerd, runc, catatonit, containernetworking-plugins, iptables
Section: admin
Priority: optional
Homepage: https://github.com/eminwux/kukeon
Description: container runtime host for one Linux machine
 kukeon groups containers as realms, spaces, stacks, cells and containers,
 described in YAML and driven by the kuke CLI, directly or through the
 kukeond daemon. containerd runs the containers, CNI plugins wire one network
 per space, cgroups v2 hold one cgroup per level, and YAML files under
 /opt/kukeon hold the authoritative state. Run "kuke init" to set a host up.
CONTROL
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/kukeon_${version}_all.deb" >/dev/null
echo "$out/kukeon_${version}_all.deb"
