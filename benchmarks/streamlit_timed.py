"""``python -m streamlit`` with every script pass timed, and optionally profiled: a diagnostic launcher.

Used by ``bench_browser.py --profile`` to split an interaction's latency into the server's
script passes (a click that calls ``st.rerun()`` makes two passes) and the rest (network,
frontend rendering). The app is not changed: this wraps Streamlit's
``exec_func_with_error_handling`` (the call that executes the page or fragment) in the
server process only.

    BENCH_RUN_LOG=runs.jsonl [BENCH_PROFILE_DIR=profiles/] \\
        python benchmarks/streamlit_timed.py run app.py --server.headless true -- FILE

Each pass appends one JSON line: wall-clock start, seconds, page, whether it was a fragment
run, whether it ended in a rerun request, and with ``BENCH_PROFILE_DIR`` the path of its
cProfile dump.
"""

from __future__ import annotations

import cProfile
import itertools
import json
import os
import sys
import threading
import time

from streamlit.runtime.scriptrunner import script_runner as _sr

LOG = os.environ.get("BENCH_RUN_LOG")
PROFILE_DIR = os.environ.get("BENCH_PROFILE_DIR")
_lock = threading.Lock()
_counter = itertools.count()
_original = _sr.exec_func_with_error_handling


def _page_name(ctx) -> str:
    try:
        page = ctx.pages_manager.get_pages().get(ctx.page_script_hash) or {}
        return str(page.get("page_name") or page.get("url_pathname") or ctx.page_script_hash[:8])
    except Exception:  # noqa: BLE001 - diagnostics must never break the app
        return str(getattr(ctx, "page_script_hash", ""))[:8]


def _timed(func, ctx):
    fragments = bool(getattr(ctx, "fragment_ids_this_run", None))
    profiler = cProfile.Profile() if PROFILE_DIR else None
    wall = time.time()
    start = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    try:
        result = _original(func, ctx)
    finally:
        if profiler is not None:
            profiler.disable()
        seconds = time.perf_counter() - start
    try:
        record = {"start": wall, "seconds": seconds, "page": _page_name(ctx), "fragment": fragments,
                  "rerun": bool(result[2]), "query": getattr(ctx, "query_string", "")}
        with _lock:
            n = next(_counter)
            if profiler is not None:
                path = os.path.join(PROFILE_DIR, f"pass_{n:05d}.pstats")
                profiler.dump_stats(path)
                record["profile"] = path
            if LOG:
                with open(LOG, "a") as fh:
                    fh.write(json.dumps(record) + "\n")
    except Exception as exc:  # noqa: BLE001
        print(f"streamlit_timed: could not log a pass: {exc}", file=sys.stderr)
    return result


_sr.exec_func_with_error_handling = _timed

if __name__ == "__main__":
    from streamlit.web.cli import main

    sys.argv = ["streamlit", *sys.argv[1:]]
    main(prog_name="streamlit")
