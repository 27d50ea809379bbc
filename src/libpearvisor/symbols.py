#!/usr/bin/env python3
"""libpearvisor's export list is the public headers: every function that
include/pearvisor/*.h declares is exported, nothing else.

  symbols.py version-script OUT INCLUDE_DIR   writes the linker version script
  symbols.py check LIB INCLUDE_DIR            compares `nm -D --defined-only LIB`
                                              with the declarations (exit 1 on
                                              a difference, listing it)
"""
import glob
import os
import re
import subprocess
import sys

VERSION_NODE = "PEARVISOR_0"

# A prototype at file scope: a return type, the name, one parameter list.
PROTOTYPE = re.compile(r"^[\w\s\*]*?\b([A-Za-z_]\w*)\s*\([^()]*\)\s*$", re.S)


def declared_functions(include_dir):
    names = set()
    headers = sorted(glob.glob(os.path.join(include_dir, "pearvisor", "*.h")))
    if not headers:
        raise SystemExit(f"symbols.py: no headers in {include_dir}/pearvisor")
    for header in headers:
        with open(header) as f:
            text = f.read()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"//[^\n]*", " ", text)
        # Preprocessor lines, with their continuations.
        text = re.sub(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", " ", text, flags=re.M)
        for statement in text.split(";"):
            # Only what follows the last brace: struct bodies and
            # `extern "C" {` are not prototypes.
            tail = re.split(r"[{}]", statement)[-1]
            m = PROTOTYPE.match(tail.strip())
            if m and m.group(1) not in ("struct", "union", "enum"):
                names.add(m.group(1))
    return names


def exported_symbols(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        kind, name = fields[-2], fields[-1]
        if kind == "A" and name == VERSION_NODE:
            continue  # the version node itself
        names.add(name.split("@")[0])
    return names


def write_version_script(out, include_dir):
    names = sorted(declared_functions(include_dir))
    lines = [f"{VERSION_NODE} {{", "global:"] + [f"   {n};" for n in names]
    lines += ["local:", "   *;", "};", ""]
    with open(out, "w") as f:
        f.write("\n".join(lines))


def check(lib, include_dir):
    declared = declared_functions(include_dir)
    exported = exported_symbols(lib)
    missing = sorted(declared - exported)
    leaked = sorted(exported - declared)
    for n in missing:
        print(f"declared in include/pearvisor but not exported: {n}")
    for n in leaked:
        print(f"exported but not declared in include/pearvisor: {n}")
    print(f"{len(exported & declared)} symbols exported, {len(declared)} declared")
    return 1 if missing or leaked else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "version-script":
        write_version_script(argv[2], argv[3])
        return 0
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
