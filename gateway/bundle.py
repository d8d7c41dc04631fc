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
class Bundle:
    source: str  # the entry and every module it imports
    vendor: tuple[str, ...]  # library modules the entry's bundle imports (announced with modulepreload)
    lazy: str | None  # the modules reached only through import("…"), fetched once the entry runs
    lazy_vendor: tuple[str, ...]  # library modules only the lazy part imports


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
    def __init__(self, files: Mapping[str, str], lazy_name: str) -> None:
        self.files = files
        self.lazy_name = lazy_name
        self.order: list[str] = []
        self.vendor: list[str] = []
        self.state: dict[str, str] = {}
        self.dynamic: list[str] = []  # targets of import("…"), in the order met
        self.boot: set[str] = set()  # modules of the entry's bundle (set once the entry is visited)

    def ref(self, path: str) -> str:
        if path.startswith(VENDOR):
            if path not in self.vendor:
                self.vendor.append(path)
            return f"__v{self.vendor.index(path)}"
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
            if target in self.boot or path not in self.boot:
                return f"Promise.resolve({self.ref(target)})"
            return f'import("./{self.lazy_name}").then((chunk) => chunk.{self.ref(target)})'

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


def link(files: Mapping[str, str], entry: str = "main.js", lazy_name: str = "app.lazy.js") -> Bundle:
    """The entry and every module it imports as one module; what it loads with import("…") as a second.

    The second part imports the first part's modules from it (the same URL, so the same instances).
    """
    linker = _Linker(files, lazy_name)
    linker.visit(entry, entry)
    boot_order, boot_vendor = list(linker.order), list(linker.vendor)
    linker.boot = set(boot_order)
    for target in linker.dynamic:  # grows while lazy modules are visited
        if not target.startswith(VENDOR):
            linker.visit(target, entry)
    lazy_order = linker.order[len(boot_order) :]
    note = "// Putokaz: the app's modules linked by gateway/bundle.py (the sources are web/app/*.js)."
    imports = [f'import * as {linker.ref(path)} from "./{path}";' for path in boot_vendor]
    boot_modules = [linker.module(path) for path in boot_order]
    if not lazy_order:
        return Bundle("\n".join([note, *imports, *boot_modules]), tuple(boot_vendor), None, ())
    lazy_modules = [linker.module(path) for path in lazy_order]
    lazy_vendor = [path for path in linker.vendor if path not in boot_vendor]
    shared = ", ".join(linker.ref(path) for path in boot_order)
    boot = "\n".join([note, *imports, *boot_modules, f"export {{ {shared} }};"])
    lazy = "\n".join(
        [
            note,
            f'import {{ {shared} }} from "./{BOOT_NAME}";',
            *(f'import * as {linker.ref(path)} from "./{path}";' for path in linker.vendor),
            *lazy_modules,
            "export { " + ", ".join(linker.ref(path) for path in lazy_order) + " };",
        ]
    )
    return Bundle(boot, tuple(boot_vendor), lazy, tuple(lazy_vendor))
