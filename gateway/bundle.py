"""Links the app's own ES modules into one module when the gateway loads web/, so a phone fetches one file.

Each module is a round trip, and on a slow mobile network (Chromium's "Slow 3G": 2 s apiece, six at a
time over HTTP/1.1) ~25 small modules made the sign-in screen take 13 s. There is still no build step:
the files in web/app/ are the source, served as they are too, and this linker runs at start-up in
milliseconds. It understands only the import and export forms the app uses (listed below) and refuses
anything else, so the app falls back to the separate modules instead of running a wrong bundle.

Every module becomes a function scope evaluated once, in dependency order; its exports are the object
that scope returns, and an importer reads its names from that object (a snapshot: the app exports no
`let` that changes later, and a cycle is refused). Libraries in vendor/ stay separate modules, imported
at the top of the bundle, so their licence headers stay intact and the browser caches them apart.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass

_NAME = r"[A-Za-z_$][\w$]*"
IMPORT = re.compile(r'^import\s+(?P<what>[^;"]*?)\s+from\s+"(?P<src>[^"]+)";?[ \t]*$', re.M)
EXPORT_FROM = re.compile(r'^export\s*\{(?P<names>[^}]*)\}\s*from\s*"(?P<src>[^"]+)";?[ \t]*$', re.M)
EXPORT_LIST = re.compile(r"^export\s*\{(?P<names>[^}]*)\};?[ \t]*$", re.M)
EXPORT_DECL = re.compile(rf"^export\s+(?P<kind>async\s+function\*?|function\*?|class|const)\s+(?P<name>{_NAME})", re.M)
EXPORT_DEFAULT = re.compile(r"^export\s+default\s+", re.M)
ANY_EXPORT = re.compile(r"^export\b.*$", re.M)
ANY_IMPORT = re.compile(r"^import\b", re.M)
DYNAMIC = re.compile(r'\bimport\(\s*"(?P<src>\.{1,2}/[^"]+)"\s*\)')
VENDOR = "vendor/"
BOOT_NAME = "app.bundle.js"  # where the gateway serves the entry's bundle, beside the sources


class BundleError(ValueError):
    """The app uses a module form the linker does not handle; the gateway serves the modules separately."""


@dataclass(frozen=True)
class Chunk:
    """What one import("…") of the app loads: that module and what it needs that no earlier part has."""

    name: str  # file name at the app's root, e.g. app.screens.index.js
    entry: str  # the module imported, e.g. screens/index.js
    source: str
    vendor: tuple[str, ...]  # library modules it imports


@dataclass(frozen=True)
class Bundle:
    source: str  # the entry and every module it imports
    vendor: tuple[str, ...]  # library modules the entry's bundle imports (announced with modulepreload)
    chunks: tuple[Chunk, ...]  # one per module the app loads with import("…"), in the order first met


def _resolve(importer: str, specifier: str) -> str:
    if not specifier.startswith(("./", "../")):
        raise BundleError(f"{importer}: only relative imports are linked, not {specifier!r}")
    return posixpath.normpath(posixpath.join(posixpath.dirname(importer), specifier))


def _pairs(names: str, importer: str) -> list[tuple[str, str]]:
    """`a, b as c` → [(a, a), (b, c)] (name in the exporting module, local name)."""
    out = []
    for part in names.split(","):
        part = part.strip()
        if not part:
            continue
        match = re.fullmatch(rf"({_NAME}|default)(?:\s+as\s+({_NAME}|default))?", part)
        if not match:
            raise BundleError(f"{importer}: cannot link {part!r}")
        out.append((match.group(1), match.group(2) or match.group(1)))
    return out


class _Linker:
    def __init__(self, files: Mapping[str, str]) -> None:
        self.files = files
        self.order: list[str] = []
        self.vendor: list[str] = []
        self.state: dict[str, str] = {}
        self.dynamic: list[str] = []  # targets of import("…"), in the order met
        self.file_of: dict[str, str] = {}  # module → the bundle file that holds it
        self.uses: set[str] = set()  # what the module being written refers to

    def ref(self, path: str) -> str:
        if path.startswith(VENDOR):
            if path not in self.vendor:
                self.vendor.append(path)
            self.uses.add(path)
            return f"__v{self.vendor.index(path)}"
        self.uses.add(path)
        return f"__m{self.order.index(path)}"

    def visit(self, path: str, importer: str) -> None:
        if path.startswith(VENDOR):
            if path not in self.files:
                raise BundleError(f"{importer}: no such module {path}")
            self.ref(path)
            return
        if self.state.get(path) == "done":
            return
        if self.state.get(path) == "visiting":
            raise BundleError(f"import cycle through {path}")
        if path not in self.files:
            raise BundleError(f"{importer}: no such module {path}")
        self.state[path] = "visiting"
        source = self.files[path]
        for match in IMPORT.finditer(source):
            self.visit(_resolve(path, match["src"]), path)
        for match in EXPORT_FROM.finditer(source):
            self.visit(_resolve(path, match["src"]), path)
        for match in DYNAMIC.finditer(source):
            target = _resolve(path, match["src"])
            if target not in self.dynamic:
                self.dynamic.append(target)
        self.state[path] = "done"
        self.order.append(path)

    def module(self, path: str) -> str:
        source = self.files[path]
        exports: list[tuple[str, str]] = []  # (exported name, expression)
        header: list[str] = []

        def imported(match: re.Match[str]) -> str:
            what, target = match["what"].strip(), self.ref(_resolve(path, match["src"]))
            lines = []
            default, _, rest = what.partition(",") if not what.startswith(("{", "*")) else ("", "", what)
            if default.strip():
                lines.append(f"const {default.strip()} = {target}.default;")
            rest = rest.strip()
            if rest.startswith("* as "):
                lines.append(f"const {rest[5:].strip()} = {target};")
            elif rest.startswith("{") and rest.endswith("}"):
                pairs = _pairs(rest[1:-1], path)
                lines.append(
                    "const { "
                    + ", ".join(n if n == local else f"{n}: {local}" for n, local in pairs)
                    + f" }} = {target};"
                )
            elif rest:
                raise BundleError(f"{path}: cannot link import {what!r}")
            header.extend(lines)
            return ""

        def re_exported(match: re.Match[str]) -> str:
            target = self.ref(_resolve(path, match["src"]))
            exports.extend((local, f"{target}.{name}") for name, local in _pairs(match["names"], path))
            return ""

        def listed(match: re.Match[str]) -> str:
            exports.extend((local, name) for name, local in _pairs(match["names"], path))
            return ""

        def declared(match: re.Match[str]) -> str:
            exports.append((match["name"], match["name"]))
            return match.group(0)[len("export") :].lstrip()

        def dynamic(match: re.Match[str]) -> str:
            target = _resolve(path, match["src"])
            if target.startswith(VENDOR):
                return f'import("./{target}")'  # the bundles sit at the app's root
            name = f"__m{self.order.index(target)}"  # not a use: fetched when called, not when loaded
            if self.file_of[target] == self.file_of[path]:
                return f"Promise.resolve({name})"
            return f'import("./{self.file_of[target]}").then((chunk) => chunk.{name})'

        body = IMPORT.sub(imported, source)
        body = EXPORT_FROM.sub(re_exported, body)
        body = EXPORT_LIST.sub(listed, body)
        body = EXPORT_DECL.sub(declared, body)
        if EXPORT_DEFAULT.search(body):
            body = EXPORT_DEFAULT.sub("const __default = ", body, count=1)
            exports.append(("default", "__default"))
        left = ANY_EXPORT.search(body) or ANY_IMPORT.search(body)
        if left:
            raise BundleError(f"{path}: cannot link {left.group(0)[:60]!r}")
        body = DYNAMIC.sub(dynamic, body)
        # A module that finds files beside itself keeps its own URL (the bundles sit at the app's root).
        body = body.replace("import.meta.url", f'new URL("./{path}", import.meta.url).href')
        returned = ", ".join(name if name == value else f"{name}: {value}" for name, value in exports)
        return (
            f"// --- {path}\nconst {self.ref(path)} = (() => {{\n"
            + "\n".join(header)
            + f"\n{body.strip()}\nreturn Object.freeze({{ __proto__: null, {returned} }});\n}})();\n"
        )


def chunk_name(module: str) -> str:
    return "app." + module.removesuffix(".js").replace("/", ".") + ".js"


def link(files: Mapping[str, str], entry: str = "main.js") -> Bundle:
    """The entry and every module it imports as one module; each module it loads with import("…") as another.

    A later part imports what it shares with earlier ones from them (the same URL, so the same instances);
    a library that only a later part needs (a chart library for the console) is fetched only with it.
    """
    linker = _Linker(files)
    linker.visit(entry, entry)
    parts = [(BOOT_NAME, entry, list(linker.order))]
    for target in linker.dynamic:  # grows while later parts are visited
        if target.startswith(VENDOR) or target in linker.order:
            continue
        before = len(linker.order)
        linker.visit(target, entry)
        parts.append((chunk_name(target), target, linker.order[before:]))
    for name, _, modules in parts:
        linker.file_of.update(dict.fromkeys(modules, name))
    note = "// Putokaz: the app's modules linked by gateway/bundle.py (the sources are web/app/*.js)."
    written = []
    for name, part_entry, modules in parts:
        linker.uses = set()
        code = [linker.module(path) for path in modules]
        vendor = sorted((u for u in linker.uses if u.startswith(VENDOR)), key=linker.vendor.index)
        imports = [f'import * as {linker.ref(u)} from "./{u}";' for u in vendor]
        earlier: dict[str, list[str]] = {}
        for used in sorted(linker.uses - set(vendor) - set(modules), key=linker.order.index):
            earlier.setdefault(linker.file_of[used], []).append(f"__m{linker.order.index(used)}")
        imports += [f'import {{ {", ".join(refs)} }} from "./{file}";' for file, refs in earlier.items()]
        exported = "export { " + ", ".join(f"__m{linker.order.index(m)}" for m in modules) + " };"
        written.append(Chunk(name, part_entry, "\n".join([note, *imports, *code, exported]), tuple(vendor)))
    boot, *chunks = written
    return Bundle(boot.source, boot.vendor, tuple(chunks))
