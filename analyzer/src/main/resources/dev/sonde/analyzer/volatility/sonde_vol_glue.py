"""Sonde's glue between the Java Volatility bridge and the Volatility 3 framework.

Loaded once per process into the embedded interpreter. The Java side calls run_plugin(request_json) and gets one JSON
document back: either {"ok": ...} with the columns and rows of the plugin's TreeGrid, or {"error": ...} with the
Python exception's type, message and traceback. Everything here runs on the bridge's single interpreter thread.
"""
import contextlib
import ctypes
import gc
import datetime
import io
import json
import logging
import os
import sys
import sysconfig
import tempfile
import threading
import time
import traceback

BOOT_ID = "%d-%d" % (os.getpid(), time.monotonic_ns())
STATS = {"framework_loads": 0, "runs": 0}
_framework = {}


class PluginTimeout(BaseException):
    """Raised asynchronously in the interpreter thread when a plugin exceeds its time limit (a BaseException, so
    that the framework's own `except Exception` handlers do not swallow it)."""


def _pythonapi():
    # ctypes.pythonapi resolves in the global namespace, which an embedding JVM need not populate: open libpython.
    name = sysconfig.get_config_var("INSTSONAME") or sysconfig.get_config_var("LDLIBRARY")
    try:
        return ctypes.PyDLL(name)
    except OSError:
        return ctypes.pythonapi


def _load_framework():
    if _framework:
        return _framework
    import volatility3.framework
    import volatility3.plugins
    import volatility3.symbols
    from volatility3.framework import automagic, constants, contexts, interfaces, plugins, renderers
    from volatility3.framework.automagic import stacker
    from volatility3.framework.configuration import requirements
    from volatility3.framework.renderers import format_hints

    volatility3.framework.require_interface_version(2, 0, 0)
    failures = volatility3.framework.import_files(volatility3.plugins, True)
    _framework.update(dict(
        framework=volatility3.framework, symbols=volatility3.symbols, automagic=automagic, constants=constants,
        contexts=contexts, interfaces=interfaces, plugins=plugins, renderers=renderers, stacker=stacker,
        requirements=requirements, format_hints=format_hints, import_failures=sorted(failures or []),
        base_symbol_path=list(constants.SYMBOL_BASEPATHS), default_cache_path=constants.CACHE_PATH))
    STATS["framework_loads"] += 1
    return _framework


def _column_type(t, fw):
    fh = fw["format_hints"]
    r = fw["renderers"]
    if isinstance(t, type):
        if issubclass(t, bool):
            return "bool"
        if issubclass(t, fh.Hex):
            return "hex"
        if issubclass(t, fh.Bin):
            return "bin"
        if issubclass(t, int):
            return "int"
        if issubclass(t, float):
            return "float"
        if issubclass(t, str):
            return "str"
        if issubclass(t, fh.HexBytes) or issubclass(t, fh.MultiTypeData):
            return "hexbytes"
        if issubclass(t, bytes):
            return "bytes"
        if issubclass(t, datetime.datetime):
            return "datetime"
        if issubclass(t, r.Disassembly):
            return "disassembly"
    return "other"


def _cell(v, fw):
    """A cell as JSON: absent values as {"absent": kind}, bytes as hex, times as ISO-8601, others as they are."""
    r = fw["renderers"]
    fh = fw["format_hints"]
    base_absent = fw["interfaces"].renderers.BaseAbsentValue
    if v is None:
        return None
    if isinstance(v, base_absent) or (isinstance(v, type) and issubclass(v, base_absent)):
        cls = v if isinstance(v, type) else type(v)
        kind = {r.UnreadableValue: "unreadable", r.UnparsableValue: "unparsable", r.NotApplicableValue: "not_applicable",
                r.NotAvailableValue: "not_available"}.get(cls, "absent")
        return {"absent": kind}
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return v
    if isinstance(v, str):
        return v
    if isinstance(v, (bytes, bytearray)):
        return {"hex": bytes(v).hex()}
    if isinstance(v, datetime.datetime):
        return {"time": v.isoformat()}
    if isinstance(v, r.Disassembly):
        return {"hex": bytes(v.data).hex(), "offset": int(v.offset), "architecture": str(v.architecture)}
    return str(v)


class _Watchdog:
    """Raises PluginTimeout in the calling thread after `seconds`, unless stopped first."""

    def __init__(self, seconds):
        self.target = threading.get_ident()
        self.lock = threading.Lock()
        self.active = True
        self.fired = False
        self.timer = threading.Timer(seconds, self._fire) if seconds and seconds > 0 else None
        if self.timer:
            self.timer.daemon = True
            self.timer.start()

    def _fire(self):
        with self.lock:
            if not self.active:
                return
            self.fired = True
            _pythonapi().PyThreadState_SetAsyncExc(ctypes.c_ulong(self.target), ctypes.py_object(PluginTimeout))

    def stop(self):
        with self.lock:
            self.active = False
            if self.timer:
                self.timer.cancel()
            if self.fired:
                # clear a pending asynchronous exception that has not been raised yet
                _pythonapi().PyThreadState_SetAsyncExc(ctypes.c_ulong(self.target), None)
        return self.fired


def _file_handler(fw, output_dir):
    interfaces = fw["interfaces"]

    class Handler(io.BytesIO, interfaces.plugins.FileHandlerInterface):
        def __init__(self, filename):
            io.BytesIO.__init__(self)
            interfaces.plugins.FileHandlerInterface.__init__(self, filename)

        def close(self):
            if self.closed:
                return None
            os.makedirs(output_dir, exist_ok=True)
            path = os.path.join(output_dir, self.preferred_filename)
            base, ext = os.path.splitext(path)
            n = 1
            while os.path.exists(path):
                path = "%s-%d%s" % (base, n, ext)
                n += 1
            with open(path, "wb") as f:
                f.write(self.getvalue())
            self._committed = True
            super().close()

    return Handler


class _Progress:
    def __init__(self, out):
        self.out = out
        self.last = 0.0

    def __call__(self, progress, description=None):
        now = time.monotonic()
        if self.out and now - self.last > 2.0:
            self.last = now
            sys.stderr.write("volatility: %5.1f%% %s\n" % (progress, description or ""))
            sys.stderr.flush()


def _unsatisfied_message(plugin_name, excp):
    paths = sorted(excp.unsatisfied.keys()) if hasattr(excp, "unsatisfied") else []
    symbol = [p for p in paths if "symbol_table" in p or "kernel" in p.split(".")[-1] or "nt_symbols" in p]
    hint = ""
    if symbol:
        hint = " (no symbol table matched the image: give a symbol directory holding the kernel's ISF with --symbols)"
    elif any("layer" in p for p in paths):
        hint = " (Volatility found no usable memory layer in the image: format not readable by Volatility)"
    return "unsatisfied requirements of %s: %s%s" % (plugin_name, ", ".join(paths), hint)


def _run(req):
    t0 = time.monotonic()
    fw = _framework
    t_framework = req["_framework_seconds"]
    constants = fw["constants"]
    constants.OFFLINE = bool(req.get("offline", True))
    # the framework's settings are process-wide: set every one of them for each run, so none leaks from the last
    constants.CACHE_PATH = req.get("cache_dir") or fw["default_cache_path"]
    os.makedirs(constants.CACHE_PATH, exist_ok=True)
    fw["symbols"].__path__ = [os.path.abspath(p) for p in req.get("symbol_dirs", [])] + fw["base_symbol_path"]
    plugin_list = fw["framework"].list_plugins()
    name = req["plugin"]
    if name not in plugin_list:
        import difflib
        module = name.rsplit(".", 1)[0].lower()
        close = sorted(set(difflib.get_close_matches(name, plugin_list, n=5, cutoff=0.6))
                       | {p for p in plugin_list if p.lower().startswith(module + ".")})[:10]
        raise LookupError("no Volatility plugin named %s%s" % (
            name, (": did you mean " + ", ".join(close) + "?") if close else " (list them with `vol -h`)"))
    plugin = plugin_list[name]
    ctx = fw["contexts"].Context()
    ctx.config["automagic.LayerStacker.single_location"] = \
        fw["requirements"].URIRequirement.location_from_file(req["image"])
    automagics = fw["automagic"].choose_automagic(fw["automagic"].available(ctx), plugin)
    ctx.config["automagic.LayerStacker.stackers"] = fw["stacker"].choose_os_stackers(plugin)
    plugin_path = fw["interfaces"].configuration.path_join("plugins", plugin.__name__)
    for key, value in (req.get("options") or {}).items():
        ctx.config[fw["interfaces"].configuration.path_join(plugin_path, key)] = value
    output_dir = req.get("output_dir") or tempfile.mkdtemp(prefix="sonde-vol-")
    progress = _Progress(req.get("progress", False))
    try:
        constructed = fw["plugins"].construct_plugin(ctx, automagics, plugin, "plugins", progress,
                                                    _file_handler(fw, output_dir))
    except fw["framework"].exceptions.UnsatisfiedException as excp:
        raise LookupError(_unsatisfied_message(name, excp)) from None
    t_constructed = time.monotonic()
    grid = constructed.run()
    columns = [{"name": c.name, "type": _column_type(c.type, fw),
                "python_type": getattr(c.type, "__module__", "") + "." + getattr(c.type, "__name__", str(c.type))}
               for c in grid.columns]
    rows = []
    limit = int(req.get("max_rows", 0) or 0)

    def visit(node, acc):
        if limit and len(rows) >= limit:
            raise OverflowError("%s produced more than %d rows (raise the row limit)" % (name, limit))
        rows.append({"depth": max(0, int(node.path_depth) - 1), "values": [_cell(v, fw) for v in node.values]})
        return acc

    grid.populate(visit, None)
    t_end = time.monotonic()
    return {"columns": columns, "rows": rows, "output_dir": output_dir,
            "seconds": {"framework": t_framework, "construct": t_constructed - t0 - t_framework,
                        "run": t_end - t_constructed}}


def _clear(obj):
    for o in (obj, getattr(obj, "__func__", None), getattr(obj, "fget", None)):
        clear = getattr(o, "cache_clear", None)
        if callable(clear):
            clear()


def release_run_state():
    """Drops what a finished run left reachable. The framework memoises methods with class-level functools caches
    keyed by the objects of a run (its layers, and through them its context and symbol tables): without this an
    interpreter that serves many runs keeps every run's context, about 300 MiB each with a full kernel ISF."""
    for name, mod in list(sys.modules.items()):
        if not name.startswith("volatility3") or mod is None:
            continue
        for obj in list(vars(mod).values()):
            _clear(obj)
            if isinstance(obj, type) and obj.__module__ == name:
                for attr in list(vars(obj).values()):
                    _clear(attr)
    gc.collect()


def _live_contexts():
    contexts = _framework.get("contexts")
    if contexts is None:
        return 0
    return sum(1 for o in gc.get_objects() if isinstance(o, contexts.Context))


def run_plugin(request_json):
    """Runs one plugin as described by the JSON request; returns a JSON document (never raises)."""
    req = json.loads(request_json)
    STATS["runs"] += 1
    logging.getLogger("volatility3").setLevel(logging.ERROR if not req.get("verbose") else logging.INFO)
    result = None
    error = None
    fired = False
    t0 = time.monotonic()
    try:
        # Importing the framework happens once per process, outside the time limit: an import interrupted halfway
        # would leave half-initialised modules behind.
        _load_framework()
    except BaseException as e:
        return json.dumps({"boot_id": BOOT_ID, "stats": dict(STATS), "error": {
            "type": type(e).__module__ + "." + type(e).__qualname__,
            "message": "cannot import the Volatility 3 framework: %s" % (str(e) or repr(e)),
            "traceback": traceback.format_exc(limit=30)}})
    req["_framework_seconds"] = time.monotonic() - t0
    dog = _Watchdog(float(req.get("timeout_seconds") or 0))
    try:
        try:
            with contextlib.redirect_stdout(sys.stderr):  # stdout carries Sonde's data only
                result = _run(req)
        finally:
            fired = dog.stop()
    except PluginTimeout:
        fired = True
    except BaseException as e:  # the plugin's own errors, reported to Java
        if dog.fired:
            fired = True
        else:
            error = {"type": type(e).__module__ + "." + type(e).__qualname__, "message": str(e) or repr(e),
                     "traceback": traceback.format_exc(limit=30)}
    if fired and error is None and result is None:
        error = {"type": "timeout", "message": "exceeded its time limit of %s s and was abandoned"
                 % req.get("timeout_seconds"), "traceback": ""}
    elif fired and result is not None:
        pass  # finished just as the limit fired: the result is complete
    release_run_state()
    doc = {"boot_id": BOOT_ID, "stats": dict(STATS), "live_contexts": _live_contexts()}
    if error is not None:
        doc["error"] = error
    else:
        doc["ok"] = result
    fwk = _framework
    if fwk:
        doc["volatility_version"] = fwk["constants"].PACKAGE_VERSION
    return json.dumps(doc, default=str)
