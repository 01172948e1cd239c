"""A Jupyter kernel that runs C++17 cells through clang-repl, in the dialect of xeus-cling.

Notebooks written for xeus-cling's `xcpp17` kernel open and run unchanged: the cling pragmas
`#pragma cling add_include_path("DIR")`, `#pragma cling add_library_path("DIR")` and `#pragma cling load("LIB")`
are understood (relative paths are taken from the notebook's folder, as xeus-cling does), and a cell may mix
#includes, declarations, definitions and statements.

How a cell runs: comments are removed, the cell is split into top-level units (a preprocessor line; a declaration or
statement ending in `;` or in a closing brace at depth 0), each unit is sent to clang-repl as one line (clang-repl
loops on some multi-line input), and after each unit a sentinel call marks where its output ends. Statements (calls,
stream output, assignments, control flow, throw) run inside try/catch, so a C++ exception becomes a cell error and
keeps the interpreter's state; one thrown by the initializer of a declaration ends the interpreter (a cell error
that says so; the next cell starts a new one). A top-level const variable loses its const (clang-repl 19 misreads such globals from later
inputs). A compile error ends the cell as an error with clang's diagnostics; so does a unit that
runs longer than the per-cell timeout (the interpreter is then restarted) or an interpreter that crashes.

Output: stdout and stderr stream as they come. A block `@@DISSECT-DISPLAY <mime>@@` ... `@@DISSECT-END-DISPLAY@@` on
stdout becomes rich output (dissect/notebook/display.hpp writes it; under xeus-cling that header uses xcpp::display).

Settings (environment): DISSECT_CLANG_REPL (the clang-repl binary; default: the newest of clang-repl-22,
clang-repl-19, clang-repl on PATH), DISSECT_REPL_CELL_TIMEOUT (seconds per cell, default 300),
DISSECT_REPL_FLAGS (extra compiler flags, space-separated; default -O2).
"""

import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time

from ipykernel.kernelapp import IPKernelApp
from ipykernel.kernelbase import Kernel

DONE = "@@DISSECT-DONE"
EXCEPTION = "@@DISSECT-EXCEPTION"
DISPLAY = "@@DISSECT-DISPLAY "
END_DISPLAY = "@@DISSECT-END-DISPLAY@@"

PRELUDE = [
    "#include <cstdio>",
    "#include <exception>",
    "#include <iostream>",
    "void dissect_repl_done(int n) { std::cout.flush(); std::cerr.flush(); std::fflush(stdout); "
    'std::printf("\\n' + DONE + ' %d@@\\n", n); std::fflush(stdout); '
    'std::fprintf(stderr, "' + DONE + ' %d@@\\n", n); std::fflush(stderr); }',
    "void dissect_repl_exception(const char* what) { std::cout.flush(); std::fflush(stdout); "
    'std::fprintf(stderr, "' + EXCEPTION + ' %s@@\\n", what); std::fflush(stderr); }',
]

PRAGMA = re.compile(r'^\s*#\s*pragma\s+cling\s+(add_include_path|add_library_path|load)\s*\(\s*"([^"]*)"\s*\)\s*$')
STATEMENT_KEYWORD = re.compile(r"^(for|if|while|do|switch|try|throw|delete)\b|^[{(*]|^(\+\+|--)")
# A call, a member access, stream output, an index or an assignment of something declared before: `f(..)`,
# `a.b(..)`, `std::cout << ..`, `x = ..`, `x += ..` (a declaration has a type followed by a name instead).
STATEMENT_EXPRESSION = re.compile(r"^(::)?[A-Za-z_]\w*(::[A-Za-z_]\w*)*\s*(\(|\.|->|<<|\[|=(?!=)|[-+*/%|&^]=|\+\+|--)")


def find_clang_repl():
    configured = os.environ.get("DISSECT_CLANG_REPL")
    if configured:
        return configured
    for name in ("clang-repl-22", "clang-repl-19", "clang-repl"):
        path = shutil.which(name)
        if path:
            return path
    return None


def literal_end(code, i):
    """The index just past the string or character literal that starts at code[i] (at most to the line's end)."""
    j = i + 1
    while j < len(code) and code[j] != code[i] and code[j] != "\n":
        j += 2 if code[j] == "\\" else 1
    return j + 1


def strip_comments(code):
    """Removes // and /* */ comments outside string and character literals (newlines are kept)."""
    out, i, n = [], 0, len(code)
    while i < n:
        c = code[i]
        if c in "\"'":
            j = literal_end(code, i)
            out.append(code[i:j])
            i = j
        elif code.startswith("//", i):
            while i < n and code[i] != "\n":
                i += 1
        elif code.startswith("/*", i):
            j = code.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * code.count("\n", i, j) or " ")
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def split_units(code):
    """Top-level units of a cell, each as one line: preprocessor lines, and declarations or statements."""
    code = strip_comments(code)
    units, current, depth, i, n = [], [], 0, 0, len(code)

    def flush():
        text = " ".join("".join(current).split())
        if text and text != ";":
            units.append(text)
        current.clear()

    at_line_start = True
    while i < n:
        c = code[i]
        if at_line_start and depth == 0 and not "".join(current).strip() and code[i:].lstrip(" \t").startswith("#"):
            end = code.find("\n", i)
            end = n if end < 0 else end
            line = code[i:end].strip()
            while line.endswith("\\") and end < n:  # a continued directive
                nxt = code.find("\n", end + 1)
                nxt = n if nxt < 0 else nxt
                line = line[:-1] + " " + code[end + 1:nxt].strip()
                end = nxt
            units.append(line)
            i = end + 1
            continue
        if c == "\n":
            at_line_start = True
            current.append(" ")
            i += 1
            continue
        if not c.isspace():
            at_line_start = False
        if c in "\"'":
            j = literal_end(code, i)
            current.append(code[i:j])
            i = j
            continue
        current.append(c)
        i += 1
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(0, depth - 1)
            if c == "}" and depth == 0:
                # A block ends the unit where a new one starts after it (a name, a directive, a literal or the end);
                # `};`, `Point{1, 2}.Sum()`, `} else {` and `} catch` go on.
                rest = code[i:].lstrip()
                if (not rest or re.match(r"[A-Za-z_#~\"']", rest)) and not re.match(r"(else|catch|while)\b", rest):
                    flush()
        elif c == ";" and depth == 0:
            flush()
    flush()
    return units


def drop_top_level_const(unit):
    """clang-repl 19 misreads a const global with a dynamic initializer from later inputs (`const auto r = f();`
    then `double b = r.x;` gives 0): a top-level const variable (not a reference, not a function) loses its const."""
    if not unit.startswith("const ") or not unit.endswith(";"):
        return unit
    head = re.split(r"[=({]", unit, maxsplit=1)[0]
    if "&" in head or unit.rstrip(";").rstrip().endswith(")") and "=" not in unit:
        return unit
    return unit[len("const "):]


def is_statement(unit):
    return bool(STATEMENT_KEYWORD.match(unit) or STATEMENT_EXPRESSION.match(unit))


def wrap_statement(unit):
    return ("try { " + unit + " } catch (const std::exception& dissect_repl_error) { "
            "dissect_repl_exception(dissect_repl_error.what()); } catch (...) { "
            'dissect_repl_exception("an exception that is not a std::exception"); }')


class ReplError(Exception):
    """A cell error: ename, evalue and the lines of its traceback."""

    def __init__(self, ename, evalue, lines):
        super().__init__(evalue)
        self.ename, self.evalue, self.lines = ename, evalue, lines


class Repl:
    """One clang-repl process with line queues for its stdout and stderr."""

    def __init__(self, binary, include_paths, flags, cwd):
        args = [binary, "-Xcc", "-std=c++17"]
        for flag in flags:
            args += ["-Xcc", flag]
        for path in include_paths:
            args += ["-Xcc", "-I" + path]
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        cwd=cwd, bufsize=0, start_new_session=True)
        self.lines = queue.Queue()
        for stream, name in ((self.process.stdout, "stdout"), (self.process.stderr, "stderr")):
            threading.Thread(target=self._read, args=(stream, name), daemon=True).start()
        self.counter = 0
        # The helpers the sentinels call, defined before the first sentinel.
        self.process.stdin.write(("\n".join(PRELUDE) + "\n").encode())
        self.process.stdin.flush()

    def _read(self, stream, name):
        for raw in iter(stream.readline, b""):
            self.lines.put((name, raw.decode("utf-8", "replace")))
        self.lines.put((name, None))

    def alive(self):
        return self.process.poll() is None

    def kill(self):
        if self.alive():
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()

    def run(self, unit, deadline, on_output):
        """Sends one unit; calls on_output("stdout", text) as lines arrive. Returns (its stderr lines, the message
        of a C++ exception it threw or None)."""
        self.counter += 1
        tag = "%s %d@@" % (DONE, self.counter)
        try:
            self.process.stdin.write((unit + "\n" + "dissect_repl_done(%d);\n" % self.counter).encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise ReplError("InterpreterExited", "clang-repl is not running", [])
        done = {"stdout": False, "stderr": False}
        errors, exception, closed = [], None, set()
        held = None  # the last stdout line: its newline may be the sentinel's own
        while not all(done.values()):
            left = deadline - time.monotonic()
            if left <= 0:
                raise ReplError("Timeout", "the cell ran longer than its timeout", [])
            try:
                name, line = self.lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if line is None:
                closed.add(name)
                if len(closed) == 2:
                    break
                continue
            if line.rstrip("\n") == tag:
                done[name] = True
                if name == "stdout" and held is not None:
                    held = held[:-1] if held.endswith("\n") else held
                    if held:
                        on_output("stdout", held)
                    held = None
                continue
            if name == "stdout":
                if held is not None:
                    on_output("stdout", held)
                held = line
            elif line.startswith(EXCEPTION):
                exception = line[len(EXCEPTION):].strip()[:-2].strip()
            else:
                errors.append(line)
        if not all(done.values()):
            if held:
                on_output("stdout", held)
            code = self.process.wait()
            reason = "signal %d" % -code if code < 0 else "exit code %d" % code
            raise ReplError("InterpreterExited", "clang-repl ended (%s) while running this cell; it restarts with "
                            "the next cell, and what earlier cells defined is gone" % reason, errors)
        return errors, exception


class ClangReplKernel(Kernel):
    implementation = "dissect-clang-repl"
    implementation_version = "1.0"
    language = "c++"
    language_version = "17"
    language_info = {"name": "c++", "version": "17", "mimetype": "text/x-c++src", "file_extension": ".cpp",
                     "codemirror_mode": "text/x-c++src"}
    banner = "C++17 through clang-repl, in the xeus-cling dialect (dissect)"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.binary = find_clang_repl()
        self.timeout = float(os.environ.get("DISSECT_REPL_CELL_TIMEOUT", "300"))
        self.flags = shlex.split(os.environ.get("DISSECT_REPL_FLAGS", "-O2"))
        self.cwd = os.getcwd()
        self.include_paths, self.library_paths = [], []
        self.history = []  # units that ran, replayed when an include path forces a restart
        self.repl = None

    # --- output -------------------------------------------------------------------------------------------------
    def _stream(self, name, text):
        if not self.silent and text:
            self.send_response(self.iopub_socket, "stream", {"name": name, "text": text})

    def _make_output(self):
        display = {"mime": None, "lines": []}

        def on_output(name, text):
            if name == "stdout":
                for line in text.splitlines(True):
                    stripped = line.rstrip("\n")
                    if display["mime"] is None and stripped.startswith(DISPLAY) and stripped.endswith("@@"):
                        display["mime"] = stripped[len(DISPLAY):-2].strip()
                        display["lines"] = []
                    elif display["mime"] is not None and stripped == END_DISPLAY:
                        if not self.silent:
                            self.send_response(self.iopub_socket, "display_data",
                                               {"data": {display["mime"]: "".join(display["lines"])}, "metadata": {}})
                        display["mime"] = None
                    elif display["mime"] is not None:
                        display["lines"].append(line)
                    else:
                        self._stream("stdout", line)
            else:
                self._stream("stderr", text)

        return on_output

    # --- the interpreter ------------------------------------------------------------------------------------------
    def _resolve(self, path):
        return path if os.path.isabs(path) else os.path.normpath(os.path.join(self.cwd, path))

    def _start(self, replay):
        """Starts clang-repl (and replays the units that ran); returns the seconds it took, which the cell's timeout
        does not count (the start has its own bound)."""
        begin = time.monotonic()
        deadline = begin + max(self.timeout, 120.0)
        if self.binary is None:
            raise ReplError("NoInterpreter", "no clang-repl found: install Debian's clang-tools-19 (or set "
                            "DISSECT_CLANG_REPL)", [])
        self.repl = Repl(self.binary, self.include_paths, self.flags, self.cwd)
        for unit in ["#include <vector>"] + (self.history if replay else []):
            errors, _ = self.repl.run(unit, deadline, lambda name, text: None)
            if any("error:" in line for line in errors):
                raise ReplError("ReplayError", "replaying the earlier cells after a restart failed", errors)
        return time.monotonic() - begin

    def _stop(self):
        if self.repl is not None:
            self.repl.kill()
            self.repl = None

    def _find_library(self, name):
        candidates = [name] if "/" in name else []
        for directory in [self.cwd] + self.library_paths:
            for file in (name, name + ".so", "lib" + name + ".so"):
                candidates.append(os.path.join(directory, file))
        for candidate in candidates:
            path = self._resolve(candidate)
            if os.path.isfile(path):
                return path
        raise ReplError("LibraryNotFound", "cannot find the library '%s' (searched %s)" % (
            name, ", ".join([self.cwd] + self.library_paths)), [])

    def _run_cell(self, code):
        deadline = time.monotonic() + self.timeout
        on_output = self._make_output()
        for unit in split_units(code):
            pragma = PRAGMA.match(unit)
            if pragma:
                kind, argument = pragma.groups()
                if kind == "add_include_path":
                    path = self._resolve(argument)
                    if path not in self.include_paths:
                        self.include_paths.append(path)
                        if self.repl is not None:  # clang-repl takes include paths at start: restart and replay
                            self._stop()
                            deadline += self._start(replay=True)
                    continue
                if kind == "add_library_path":
                    self.library_paths.append(self._resolve(argument))
                    continue
                unit = "%lib " + self._find_library(argument)
            if self.repl is None or not self.repl.alive():
                deadline += self._start(replay=False)
            unit = drop_top_level_const(unit)
            sent = wrap_statement(unit) if is_statement(unit) else unit
            errors, exception = self.repl.run(sent, deadline, on_output)
            if any(re.search(r"\berror:", line) for line in errors):
                first = next(line for line in errors if re.search(r"\berror:", line))
                raise ReplError("CompileError", first.strip(), errors)
            if errors:  # warnings, or what the code wrote to stderr
                on_output("stderr", "".join(errors))
            if exception is not None:
                raise ReplError("CppException", exception, [])
            self.history.append(unit)

    def do_execute(self, code, silent, store_history=True, user_expressions=None, allow_stdin=False):
        self.silent = silent
        try:
            self._run_cell(code)
        except ReplError as error:
            if error.ename in ("Timeout", "InterpreterExited", "NoInterpreter", "ReplayError"):
                self._stop()
                if error.ename == "Timeout":
                    error.evalue = ("the cell ran longer than %g s (DISSECT_REPL_CELL_TIMEOUT); the interpreter was "
                                    "restarted, and what earlier cells defined is gone" % self.timeout)
            traceback = [line.rstrip("\n") for line in error.lines] + ["%s: %s" % (error.ename, error.evalue)]
            self.send_response(self.iopub_socket, "error",
                               {"ename": error.ename, "evalue": error.evalue, "traceback": traceback})
            return {"status": "error", "execution_count": self.execution_count, "ename": error.ename,
                    "evalue": error.evalue, "traceback": traceback}
        except KeyboardInterrupt:
            self._stop()
            return {"status": "abort", "execution_count": self.execution_count}
        return {"status": "ok", "execution_count": self.execution_count, "payload": [], "user_expressions": {}}

    def do_shutdown(self, restart):
        self._stop()
        return {"status": "ok", "restart": restart}


if __name__ == "__main__":
    IPKernelApp.launch_instance(kernel_class=ClangReplKernel)
