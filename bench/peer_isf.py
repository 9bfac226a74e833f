"""Volatility 3's side of bench/profile.sh: the same steps Sonde times, done with Volatility's own framework.

  peer_isf.py load ISF             load the ISF into a symbol table as `vol` does (JSON parse + schema validation,
                                   cold), then look up task_struct and init_task; then once more with the validation
                                   remembered (as a later `vol` run sees it)
  peer_isf.py construct IMAGE DIR  automagic for linux.pslist.PsList with DIR as symbol directory and a fresh cache:
                                   stack the layers, find the kernel's ISF by its banner, load it, build the kernel
                                   module (Volatility's equivalent of building Sonde's profile); the plugin is not run
Prints one JSON object: seconds of each phase, measured inside the process.
"""
import json
import os
import sys
import tempfile
import time

t0 = time.perf_counter()
import volatility3.framework as framework  # noqa: E402
import volatility3.plugins  # noqa: E402
import volatility3.symbols  # noqa: E402
from volatility3.framework import automagic, constants, contexts, interfaces, plugins  # noqa: E402
from volatility3.framework.automagic import stacker  # noqa: E402
from volatility3.framework.configuration import requirements  # noqa: E402
from volatility3.framework.symbols import intermed  # noqa: E402
from volatility3 import schemas  # noqa: E402

# Cold: Volatility remembers which ISFs passed schema validation (valid_isf.hashcache in its cache); start empty.
_cold = tempfile.mkdtemp(prefix="vol-bench-cache-")
schemas.cached_validations = set()
schemas.cached_validation_filepath = os.path.join(_cold, "valid_isf.hashcache")

t_import = time.perf_counter() - t0
out = {"import": t_import}
if sys.argv[1] == "load":
    ctx = contexts.Context()
    t1 = time.perf_counter()
    table = intermed.IntermediateSymbolTable(ctx, "bench", "bench", "file://" + os.path.abspath(sys.argv[2]))
    table.get_type("task_struct")
    table.get_symbol("init_task")
    out["isf_load"] = time.perf_counter() - t1
    # again in the same process: validation is remembered now, as on a later `vol` run
    t2 = time.perf_counter()
    table = intermed.IntermediateSymbolTable(contexts.Context(), "bench2", "bench2", "file://" + os.path.abspath(sys.argv[2]))
    table.get_type("task_struct")
    out["isf_load_validated_before"] = time.perf_counter() - t2
else:
    image, symdir = sys.argv[2], sys.argv[3]
    constants.OFFLINE = True
    constants.CACHE_PATH = _cold
    volatility3.symbols.__path__ = [os.path.abspath(symdir)] + constants.SYMBOL_BASEPATHS
    t1 = time.perf_counter()
    framework.import_files(volatility3.plugins, True)
    out["plugins_import"] = time.perf_counter() - t1
    ctx = contexts.Context()
    plugin = framework.list_plugins()["linux.pslist.PsList"]
    ctx.config["automagic.LayerStacker.single_location"] = requirements.URIRequirement.location_from_file(image)
    amagics = automagic.choose_automagic(automagic.available(ctx), plugin)
    ctx.config["automagic.LayerStacker.stackers"] = stacker.choose_os_stackers(plugin)
    t2 = time.perf_counter()
    plugins.construct_plugin(ctx, amagics, plugin, "plugins", None, interfaces.plugins.FileHandlerInterface)
    out["construct_kernel"] = time.perf_counter() - t2
print(json.dumps(out))
