#!/usr/bin/env bash
# Disassembles the CUDA kernels for sm_90 on a machine without a GPU or CUDA's own disassembler,
# so that a kernel change can be read in SASS (instructions per loop, barriers, spills, what an
# atomic compiles to) before a GPU session.
#
# nvcc 13.0 here ships no cuobjdump or nvdisasm; Debian's non-free nvidia-cuda-toolkit (11.8)
# has an nvdisasm that reads Hopper code. It refuses CUDA 13's cubins only for their ELF header
# (the OS/ABI and flag encoding changed), so the script rewrites those fields to 11.8's encoding
# of sm_90 on a copy; the code sections are untouched.
#
# Usage:
#   scripts/sass.sh --fetch                 get nvdisasm into .tools (root, Debian bookworm)
#   scripts/sass.sh [-k REGEX] [-s | -l | -p] [FILE.cu | FILE.cubin]
#       compiles FILE.cu (default csrc/cuda/dispatch.cu) to build/sass/NAME.cubin with the
#       addon's CUDA flags (or takes a cubin built elsewhere, e.g. from another commit's tree)
#       and writes the SASS to build/sass/NAME.sass;
#       -k: only the functions whose mangled names match REGEX; -s: a summary per function
#       (instructions, barriers, cluster barriers, memory fences, atomics, local-memory traffic)
#       instead of the listing on stdout; -l: the listing with the source line of each run of
#       instructions (-lineinfo); -p: the source lines that compile to the most instructions,
#       in the selected functions together (static counts: a loop's body once, however often
#       it runs).
set -euo pipefail
cd "$(dirname "$0")/.."
tools=.tools
nvdisasm="${NVDISASM:-$tools/nvdisasm}"

fetch() {
  local apt_dir
  apt_dir="$(mktemp -d)"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$tools"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm non-free" \
    >"$apt_dir/sources.list"
  # A private source list and state: the machine's apt configuration is left as it is.
  local opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Debug::NoLocking=1)
  apt-get "${opts[@]}" update -qq 2>&1 | grep -v "^W: Download is performed unsandboxed" || true
  (cd "$apt_dir" && apt-get "${opts[@]}" download nvidia-cuda-toolkit 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
  dpkg-deb --fsys-tarfile "$apt_dir"/nvidia-cuda-toolkit_*.deb | tar -x -C "$apt_dir" ./usr/bin/nvdisasm
  mv "$apt_dir/usr/bin/nvdisasm" "$tools/nvdisasm"
  rm -rf "$apt_dir"
  echo "nvdisasm: $tools/nvdisasm ($("$tools/nvdisasm" --version | tail -n 1))"
}

if [[ "${1:-}" == "--fetch" ]]; then fetch; exit 0; fi

kernel=""; mode=listing
while getopts "k:slp" opt; do
  case "$opt" in
    k) kernel="$OPTARG" ;;
    s) mode=summary ;;
    l) mode=lines ;;
    p) mode=per_line ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
src="${1:-csrc/cuda/dispatch.cu}"
[[ -x "$nvdisasm" ]] || { echo "no nvdisasm at $nvdisasm: run $0 --fetch (or set NVDISASM)" >&2; exit 1; }
[[ -f "$src" ]] || { echo "no such file: $src" >&2; exit 1; }

name="$(basename "${src%.*}")"
mkdir -p build/sass
cubin="build/sass/$name.cubin"
# The addon's CUDA flags (CMakeLists.txt) and defines; one cubin for sm_90.
if [[ "$src" == *.cubin ]]; then [[ "$src" -ef "$cubin" ]] || cp "$src" "$cubin"; else nvcc -cubin -O3 -DNDEBUG -DNSA_TOPK_WITH_CUDA=1 --generate-code=arch=compute_90,code=sm_90 \
  --expt-relaxed-constexpr -lineinfo -ftz=false -std=c++17 -Icsrc -o "$cubin" "$src"; fi
python3 - "$cubin" "$cubin.v7" <<'PY'
import struct, sys
elf = bytearray(open(sys.argv[1], 'rb').read())
assert elf[:4] == b'\x7fELF' and elf[4] == 2, 'not a 64-bit ELF cubin'
elf[7], elf[8] = 0x21, 7                       # OS/ABI and ABI version as CUDA 11.8 writes them
struct.pack_into('<I', elf, 0x30, 0x5a055a)    # e_flags: sm_90 in 11.8's encoding
open(sys.argv[2], 'wb').write(elf)
PY
sass="build/sass/$name.sass"
# -g: the source line of each run of instructions, as comments ("//## File ..., line N").
"$nvdisasm" -c -g "$cubin.v7" >"$sass"
rm "$cubin.v7"

# Keeps the sections (".text.<function>:") whose function matches the filter.
keep_functions() {
  awk -v re="$kernel" '/^[ \t]*\.section[ \t]+\.text\./ { split($2, a, ","); f = substr(a[1], 7); keep = (re == "" || f ~ re) }
                       /^[ \t]*\.section/ && !/\.text\./ { keep = 0 }
                       keep' "$sass"
}
if [[ $mode == summary ]]; then
  keep_functions | awk '
    /^[ \t]*\.section[ \t]+\.text\./ { split($2, a, ","); f = substr(a[1], 7); order[++n] = f; next }
    /\/\*[0-9a-f][0-9a-f][0-9a-f][0-9a-f]+\*\// && f != "" {
      ins[f]++
      if ($0 ~ /[ \t]BAR\.(SYNC|RED|ARV)/) bar[f]++
      if ($0 ~ /UCGABAR_WAIT/) cbar[f]++
      if ($0 ~ /MEMBAR/) fence[f]++
      if ($0 ~ /[ \t](ATOM|ATOMS|ATOMG|RED)\./) atom[f]++
      if ($0 ~ /[ \t](LDL|STL)/) local_[f]++
    }
    END {
      printf "%8s %6s %6s %6s %6s %6s  %s\n", "instrs", "bar", "clbar", "membar", "atomic", "ld/stl", "function"
      for (i = 1; i <= n; i++) { f = order[i]
        printf "%8d %6d %6d %6d %6d %6d  %s\n", ins[f], bar[f], cbar[f], fence[f], atom[f], local_[f], f }
    }'
elif [[ $mode == per_line ]]; then
  # Each instruction counts for the last source line named before it; paths relative to the
  # repository, CUDA's own headers by their file name.
  keep_functions | awk -v root="$PWD/" '
    /^[ \t]*\/\/## File/ { f = $3; gsub(/[",]/, "", f); sub(root, "", f)
                          while (sub(/[^\/.][^\/]*\/\.\.\//, "", f)) {}  # dir/../ away
                          if (f ~ /^\//) sub(/.*\//, "", f); at = f ":" $5; next }
    /\/\*[0-9a-f][0-9a-f][0-9a-f][0-9a-f]+\*\// && at != "" { n[at]++ }
    END { for (a in n) printf "%7d  %s\n", n[a], a }' | sort -rn | head -n 60
elif [[ $mode == lines ]]; then
  keep_functions
else
  keep_functions | grep -v '^[[:space:]]*//## File'
fi
