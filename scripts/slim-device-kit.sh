#!/usr/bin/env bash
# A smaller copy of the .device kit that ../shared/device/pack fills, for device calls that carry
# several builds of the addon beside it (a call carries 64 MiB in all; pack's kit is ~36 MB, a
# build ~15): node_modules cut to what the CLI and the GPU jest suites load (the packages that
# build the addon, and TypeScript's compiler CLI and message translations, left out), and npm
# left out (run node, jest and the scripts directly). Written to build/device-slim (~30 MB).
# A device call carries build/device-slim and begins with
#   rm -rf .device node_modules && cp -r build/device-slim .device && source .device/enter.sh && ...
# Usage: scripts/slim-device-kit.sh   (after npm ci and ../shared/device/pack)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .device/node.xz ] && [ -f .device/enter.sh ] || { echo "no .device kit: run ../shared/device/pack first" >&2; exit 1; }
[ -d node_modules ] || { echo "no node_modules: run npm ci first" >&2; exit 1; }
out=build/device-slim
rm -rf "$out" && mkdir -p "$out/empty/npm"
cp .device/enter.sh .device/node.xz .device/node.version "$out/"
# The top-level packages that the dependencies and devDependencies reach, those that build the
# addon (nothing builds on the device) left out, by package-lock.json's resolution.
node -e '
  const lock = require("./package-lock.json").packages, root = lock[""];
  const buildOnly = new Set(["cmake-js", "node-addon-api", "node-gyp"]);
  const todo = Object.keys({ ...root.dependencies, ...root.devDependencies })
    .filter((n) => !buildOnly.has(n)).map((n) => "node_modules/" + n);
  const seen = new Set();
  const resolve = (from, name) => {  // the nearest node_modules/name up from package `from`
    for (let dir = from; ; dir = dir.slice(0, dir.lastIndexOf("/node_modules/"))) {
      if (lock[dir + "/node_modules/" + name]) return dir + "/node_modules/" + name;
      if (!dir.includes("/node_modules/")) return lock["node_modules/" + name] ? "node_modules/" + name : null;
    }
  };
  while (todo.length) {
    const p = todo.pop();
    if (seen.has(p) || !lock[p]) continue;
    seen.add(p);
    const deps = { ...lock[p].dependencies, ...lock[p].optionalDependencies, ...lock[p].peerDependencies };
    for (const name of Object.keys(deps)) { const q = resolve(p, name); if (q) todo.push(q); }
  }
  const fs = require("fs");
  const top = [...seen].filter((p) => p.split("node_modules/").length === 2 && fs.existsSync(p));
  fs.writeFileSync(process.argv[1], top.sort().join("\n") + "\nnode_modules/.bin\n");
' "$out/packages.txt"
tar -cf - --exclude='node_modules/typescript/lib/_tsc.js' --exclude='node_modules/typescript/lib/??' \
  --exclude='node_modules/typescript/lib/??-??' -T "$out/packages.txt" |
  xz -T0 -6 -c > "$out/node_modules.tar.xz"
tar -cf - -C "$out/empty" npm | xz -c > "$out/npm.tar.xz"  # enter.sh unpacks it; no npm inside
rm -rf "$out/empty" "$out/packages.txt"
du -sh "$out"
