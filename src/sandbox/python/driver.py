"""Threadline code interpreter driver: the long-lived Python process of one sandbox session.

It runs inside bubblewrap as the session's unprivileged user, with /mnt/data as its working directory, and
executes code in one persistent namespace, the way a notebook kernel does. Node drives it over the socket
it finds on fd 4, one JSON object per line:

    <- {"op": "ready", "missing": [...], "python": "3.11.2"}
    -> {"op": "exec", "id": 1, "code": "...", "mark": "<random>", "cpu_seconds": 120}
    <- {"op": "done", "id": 1, "error": {"type", "message"} | null, "images": [base64 PNG...],
        "images_dropped": 0, "files": [{"path", "size"}], "files_dropped": 0}

Whatever the code prints (stdout and stderr, subprocesses included) goes to fd 1, which Node reads and caps.
After each execution the driver writes the mark Node sent to fd 1, so Node knows where that output ends.
The limits (argv[1], JSON) are set here before any user code runs; they can only be lowered afterwards.
"""

import ast
import base64
import builtins
import io
import json
import linecache
import os
import resource
import signal
import stat
import sys
import traceback
from importlib.machinery import ModuleSpec, PathFinder

DATA_DIR = "/mnt/data"
CONTROL_FD = 4
SCAN_LIMIT = 10000  # entries of /mnt/data looked at to find what an execution changed
DRIVER_FILE = os.path.abspath(__file__)


class CPUTimeExceeded(BaseException):
    """Raised in the code when it used its CPU time (a BaseException: `except Exception` must not hide it)."""


def set_limits(limits):
    # Set before any user code runs. Soft and hard are equal (except CPU, see run_cell): the code cannot
    # raise them again. RLIMIT_NPROC counts this sandbox's own user namespace, so it is per session.
    for name, value in (
        ("RLIMIT_AS", limits["memory_bytes"]),
        ("RLIMIT_NPROC", limits["processes"]),
        ("RLIMIT_FSIZE", limits["file_bytes"]),
        ("RLIMIT_NOFILE", 1024),
        ("RLIMIT_CORE", 0),
    ):
        resource.setrlimit(getattr(resource, name), (value, value))
    lifetime = limits["cpu_seconds_lifetime"]
    resource.setrlimit(resource.RLIMIT_CPU, (lifetime, lifetime))


class Driver:
    def __init__(self, limits):
        self.limits = limits
        self.executing = False
        self.images = []
        self.images_dropped = 0
        self.namespace = {"__name__": "__main__", "__builtins__": builtins, "display": self.display}
        # One text stream for stdout and stderr, unbuffered past each line, on the output pipe: prints,
        # warnings and tracebacks arrive in the order they happened.
        self.out = io.TextIOWrapper(
            io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="backslashreplace", line_buffering=True
        )
        ctl = os.dup(CONTROL_FD)  # non-inheritable: subprocesses of the code do not get the channel
        os.close(CONTROL_FD)
        self.requests = os.fdopen(ctl, "rb")
        self.replies = os.fdopen(os.dup(ctl), "wb")
        self.pid = os.getpid()
        os.register_at_fork(after_in_child=self.forked)

    def forked(self):
        # A process the code forks is a copy of this one, channel included: it must never read requests or
        # speak for the driver. Its copies of the channel now lead to /dev/null.
        null = os.open(os.devnull, os.O_RDWR)
        for stream in (self.requests, self.replies):
            os.dup2(null, stream.fileno(), inheritable=False)
        os.close(null)

    # -- protocol ------------------------------------------------------------------------------------
    def send(self, message):
        self.replies.write(json.dumps(message).encode() + b"\n")
        self.replies.flush()

    def serve(self):
        missing = [m for m in ("numpy", "pandas", "matplotlib") if PathFinder.find_spec(m) is None]
        self.send({"op": "ready", "missing": missing, "python": sys.version.split()[0]})
        for line in self.requests:
            request = json.loads(line)
            if request.get("op") == "exec":
                self.execute(request)

    # -- one execution -------------------------------------------------------------------------------
    def execute(self, request):
        self.images, self.images_dropped = [], 0
        sys.stdout = sys.stderr = self.out
        before = scan_files()
        error = self.run_cell(request["code"], request["id"], request["cpu_seconds"])
        if os.getpid() != self.pid:
            # A child the code forked ran off the end of the code: it ends here, not in the driver's loop.
            self.out.flush()
            os._exit(0 if error is None else 1)
        try:
            self.capture_open_figures()
        except BaseException as exc:  # a figure that cannot be drawn must not lose the execution's result
            self.report(exc)
        self.out.flush()
        after = scan_files()
        changed = sorted(path for path, sig in after.items() if before.get(path) != sig)
        files = [{"path": path, "size": after[path][0]} for path in changed[: self.limits["max_files"]]]
        os.write(1, request["mark"].encode())
        self.send(
            {
                "op": "done",
                "id": request["id"],
                "error": error,
                "images": [base64.b64encode(png).decode() for png in self.images],
                "images_dropped": self.images_dropped,
                "files": files,
                "files_dropped": max(0, len(changed) - len(files)),
            }
        )

    def run_cell(self, code, number, cpu_seconds):
        filename = f"<cell {number}>"
        # Tracebacks show the code's own lines, as in a notebook.
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        budget = int(usage.ru_utime + usage.ru_stime) + cpu_seconds
        resource.setrlimit(resource.RLIMIT_CPU, (min(budget, hard), hard))
        self.executing = True
        try:
            tree = ast.parse(code, filename, "exec")
            # Like a notebook, the value of a final expression is shown.
            last = None
            if tree.body and isinstance(tree.body[-1], ast.Expr):
                last = ast.Expression(tree.body.pop().value)
            exec(compile(tree, filename, "exec"), self.namespace)
            if last is not None:
                value = eval(compile(last, filename, "eval"), self.namespace)
                if value is not None:
                    self.namespace["_"] = value
                    self.display(value)
            return None
        except BaseException as exc:
            return self.report(exc)
        finally:
            self.executing = False

    def report(self, exc):
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == DRIVER_FILE:
            tb = tb.tb_next
        try:
            self.out.write("".join(traceback.format_exception(type(exc), exc, tb)))
            self.out.flush()
        except BaseException:
            pass
        return {"type": type(exc).__name__, "message": str(exc)}

    def on_cpu_limit(self, signum, frame):
        # The kernel sends SIGXCPU at the soft limit (and every second after). Between executions it is
        # ignored; the hard limit still ends a process that keeps burning CPU in the background.
        if self.executing:
            raise CPUTimeExceeded(f"CPU time limit of {self.limits['cpu_seconds']} s per execution exceeded")

    # -- images --------------------------------------------------------------------------------------
    def display(self, *objects):
        for obj in objects:
            if type(obj).__module__.startswith("matplotlib.figure"):
                self.capture(obj)
            else:
                print(repr(obj))

    def capture(self, figure):
        if len(self.images) >= self.limits["max_images"]:
            self.images_dropped += 1
            return
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight")
        self.images.append(buffer.getvalue())

    def capture_open_figures(self):
        # plt.show() and the end of an execution both show (and close) every open figure, as the notebook
        # inline backend does. Nothing to do if the code never imported pyplot.
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is None:
            return
        try:
            for number in pyplot.get_fignums():
                self.capture(pyplot.figure(number))
        finally:
            pyplot.close("all")


def scan_files():
    """Size, modification time and inode of every regular file under /mnt/data (symlinks not followed)."""
    seen = {}
    for root, dirs, names in os.walk(DATA_DIR):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            path = os.path.join(root, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                seen[os.path.relpath(path, DATA_DIR)] = (st.st_size, st.st_mtime_ns, st.st_ino)
            if len(seen) >= SCAN_LIMIT:
                return seen
    return seen


class BackendFinder:
    """`MPLBACKEND=module://threadline_backend`: Agg drawing, and `plt.show()` hands figures to the driver.

    A finder and loader by protocol (importlib.abc alone would add 20 ms to every session's start).
    """

    def __init__(self, driver):
        self.driver = driver

    def find_spec(self, name, path=None, target=None):
        return ModuleSpec(name, self) if name == "threadline_backend" else None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        from matplotlib.backend_bases import FigureManagerBase
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        module.FigureCanvas = FigureCanvasAgg
        module.FigureManager = FigureManagerBase
        module.show = lambda *args, **kwargs: self.driver.capture_open_figures()


def main():
    limits = json.loads(sys.argv[1])
    set_limits(limits)
    os.dup2(1, 2)  # stderr joins stdout on the output pipe
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # input() gets EOF; stdin is not the control channel
    os.close(devnull)
    os.chdir(DATA_DIR)
    sys.path.insert(0, DATA_DIR)
    driver = Driver(limits)
    signal.signal(signal.SIGXCPU, driver.on_cpu_limit)
    sys.meta_path.insert(0, BackendFinder(driver))
    driver.serve()


if __name__ == "__main__":
    main()
