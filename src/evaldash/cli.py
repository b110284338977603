"""Command line: ``evaldash report``, ``check``, ``compare``, ``serve``, ``annotations export|import``
and ``users add|remove``.

Bad input or a bad argument exits 2 with one line ``error: ...`` on stderr.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from evaldash.app_config import add_auth_args
from evaldash.dataset import load_predictions
from evaldash.engines.options import add_engine_args
from evaldash.errors import InputError
from evaldash.evaluation import evaluate
from evaldash.gates import GATES_FILE_HELP, check_gates, load_gates, metric_value, parse_gate
from evaldash.multilabel_cli import add_task_args
from evaldash.multilabel_data import DEFAULT_SEPARATOR
from evaldash.report import gates_text, report_json, report_text
from evaldash.tasks import load_dataset

APP = Path(__file__).resolve().parents[2] / "app.py"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise InputError(message)


class _GateAction(argparse.Action):
    """Collect --min and --max gates in the order they were given."""

    def __call__(self, parser, namespace, values, option_string=None):
        gates = list(getattr(namespace, self.dest) or [])
        gates.append(parse_gate(values, option_string.lstrip("-")))
        setattr(namespace, self.dest, gates)


CLASSES_HELP = ("class names of class indices 0..k-1, comma-separated (name of 0 first): name the scores of a "
                "list column (probs, scores, logits) and labels written as indices (default: the file's sidecar "
                "<name>.classes.json, else 0..k-1)")


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", help="predictions file (.csv, .csv.gz, .tsv, .tsv.gz, .parquet, .jsonl)")
    p.add_argument("--positive", help="positive class for binary data (default: the second class)")
    p.add_argument("--images-root", help="folder images must lie inside (default: the file's folder)")
    add_task_args(p)
    p.add_argument("--classes", metavar="A,B,C", help=CLASSES_HELP)


def _add_ci_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ci", action="store_true",
                   help="add 95%% bootstrap intervals (accuracy, macro F1, per-class precision/recall/F1/ROC AUC)")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")


def _intervals(args, evaluation):
    if not getattr(args, "ci", False):
        return None
    if args.resamples < 10:
        raise InputError(f"--resamples {args.resamples}: expected at least 10 resamples")
    return evaluation.bootstrap_intervals(args.resamples, args.seed)


def _thresholds(args, evaluation):
    dataset = evaluation.dataset
    if not getattr(args, "thresholds", None):
        return None
    if args.threshold is not None:
        raise InputError("use either --threshold (one threshold) or --thresholds FILE.json (one per class), not both")
    if not dataset.has_scores:
        raise InputError(f"{dataset.source}: --thresholds needs per-class scores; the file has none")
    from evaldash.decision import load_thresholds

    rule = load_thresholds(args.thresholds, dataset.classes)
    return evaluation.operating_points(rule.thresholds, rule.fallback).report(dataset.classes)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="evaldash", description="Evaluate classification predictions.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    rep = sub.add_parser("report", help="print every metric")
    _add_data_args(rep)
    rep.add_argument("--json", action="store_true", help="write a JSON object instead of text")
    rep.add_argument("--threshold", type=float,
                     help="binary: predict positive when score >= T; multi-class: also report each class at T")
    rep.add_argument("--thresholds", metavar="FILE.json",
                     help='per-class thresholds {"thresholds": {class: t, ...}, "fallback": "abstain"|"argmax"}: '
                          "adds a thresholds section (the highest-scoring class that passes its threshold)")
    _add_ci_args(rep)
    add_engine_args(rep)

    chk = sub.add_parser("check", help="quality gate: exit 1 when a limit is not met")
    _add_data_args(chk)
    chk.add_argument("--min", action=_GateAction, dest="gates_given", default=[], metavar="METRIC=VALUE",
                     help="metric must be >= VALUE (e.g. accuracy=0.95, macro_f1=0.9, recall[cat]=0.8)")
    chk.add_argument("--max", action=_GateAction, dest="gates_given", default=[], metavar="METRIC=VALUE",
                     help="metric must be <= VALUE (e.g. error_rate=0.05, ece=0.1)")
    chk.add_argument("--gates", metavar="FILE", help=GATES_FILE_HELP + "; checked before --min and --max")
    chk.add_argument("--threshold", type=float, help="binary: predict positive when score >= T")
    chk.add_argument("--thresholds", metavar="FILE.json",
                     help="multi-label: one threshold per class (the file /decision and /threshold write), "
                          "for the file and the --baseline")
    chk.add_argument("--baseline", help="predictions file of the current model to compare with")
    chk.add_argument("--max-drop", action="append", default=[], metavar="METRIC=VALUE",
                     help="with --baseline: METRIC may be at most VALUE below the baseline's (e.g. macro_f1=0.01)")
    add_engine_args(chk)

    cmp_ = sub.add_parser("compare", help="compare two prediction files (B minus A) with bootstrap intervals")
    cmp_.add_argument("a", help="predictions file A (e.g. the current model)")
    cmp_.add_argument("b", help="predictions file B (e.g. the new model)")
    cmp_.add_argument("--positive")
    cmp_.add_argument("--images-root")
    add_task_args(cmp_)
    cmp_.add_argument("--classes", metavar="A,B,C", help=CLASSES_HELP)
    cmp_.add_argument("--json", action="store_true", help="write a JSON object instead of text")
    cmp_.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
    cmp_.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    add_engine_args(cmp_)

    ann = sub.add_parser("annotations", help="export or import annotators' tags, notes and corrected labels")
    actions = ann.add_subparsers(dest="action", required=True, parser_class=_Parser)
    exp = actions.add_parser("export", help="write the annotations of a predictions file")
    _add_data_args(exp)
    exp.add_argument("--db", help="SQLite file or database URL (default: EVALDASH_DB, else the user's data folder)")
    exp.add_argument("--output", required=True,
                     help="FILE.csv or FILE.json: the annotations; FILE.predictions.csv: the predictions "
                          "file with a label_corrected column (labels_corrected: multi-label)")
    imp = actions.add_parser("import", help="add annotations exported elsewhere (CSV or JSON)")
    _add_data_args(imp)
    imp.add_argument("--db", help="SQLite file or database URL (default: EVALDASH_DB, else the user's data folder)")
    imp.add_argument("--input", required=True, help="an evaldash annotations export (.csv or .json)")
    imp.add_argument("--as", dest="imported_by", metavar="NAME",
                     help="who imports (recorded with every imported finding; the file's annotator is kept "
                          "as original_annotator); default: your user name on this machine")

    srv = sub.add_parser("serve", help="open the dashboard on a predictions file")
    srv.add_argument("paths", nargs="*", metavar="PATH",
                     help="predictions files, several to compare (default: the bundled digits sample)")
    srv.add_argument("--predictions", action="append", default=[], metavar="PATH",
                     help="another predictions file (repeatable)")
    srv.add_argument("--port", type=int, default=8501)
    srv.add_argument("--positive")
    srv.add_argument("--images-root")
    srv.add_argument("--classes", metavar="A,B,C", help=CLASSES_HELP)
    add_task_args(srv)
    srv.add_argument("--threshold", type=float, help="multi-label: every class's threshold (default 0.5)")
    srv.add_argument("--thresholds", metavar="FILE.json",
                     help="multi-label: one threshold per class (the file /decision and /threshold write)")
    srv.add_argument("--gates", metavar="FILE",
                     help="the overview's quality gates (none unless given): " + GATES_FILE_HELP)
    srv.add_argument("--db", help="annotation database: SQLite file or database URL (sets EVALDASH_DB)")
    srv.add_argument("--data-root", action="append", default=[], metavar="DIR",
                     help="a folder whose files the sidebar's 'Path on the server' may open (repeatable; default: "
                          "the folders of the files given here and the bundled samples)")
    srv.add_argument("--no-server-paths", action="store_true",
                     help="no 'Path on the server' in the sidebar: browser users open samples and uploads only")
    from evaldash.limits import add_limit_args

    add_limit_args(srv)
    add_engine_args(srv, serve=True)
    srv.add_argument("--address", default="127.0.0.1",
                     help="interface to listen on (default 127.0.0.1, this machine only); any other needs "
                          "--users, --trust-user-header or --no-auth")
    add_auth_args(srv)

    usr = sub.add_parser("users", help="manage the users file of `serve --users FILE` (passwords stored hashed)")
    uact = usr.add_subparsers(dest="action", required=True, parser_class=_Parser)
    uadd = uact.add_parser("add", help="add a user, or set a user's password")
    uadd.add_argument("name")
    uadd.add_argument("--file", required=True, help="the users file (created 0600 if missing)")
    uadd.add_argument("--password-stdin", action="store_true",
                      help="read the password from the first line of standard input instead of asking")
    urm = uact.add_parser("remove", help="remove a user (their sessions end)")
    urm.add_argument("name")
    urm.add_argument("--file", required=True, help="the users file")
    return parser


def run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "users":
        return _users(args)
    if args.command == "compare":
        return _compare(args)
    if args.command == "annotations" or _engine(args, [args.path]) == "memory":
        dataset = load_dataset(args.path, task=args.task, label_sep=args.label_sep, positive=args.positive,
                               images_root=args.images_root, classes=args.classes)
        if args.command == "annotations":
            return _annotations(args, dataset)
        if dataset.task == "multilabel":
            from evaldash.multilabel_cli import run_multilabel

            return run_multilabel(args, dataset)
        evaluation = evaluate(dataset, threshold=args.threshold)
    else:
        evaluation = _evaluate(args, args.path, args.threshold)
        if evaluation.task == "multilabel":
            from evaldash.multilabel_cli import run_multilabel_evaluation

            def baseline_of():  # on its engine (None: read into memory, as --engine auto may choose)
                if _engine(args, [args.baseline]) == "memory":
                    return None
                return _evaluate(args, args.baseline, args.threshold, task="multilabel")
            return run_multilabel_evaluation(args, evaluation, baseline_of)
    dataset = evaluation.dataset
    if args.command == "check" and args.thresholds:
        raise InputError(f"{dataset.source}: check --thresholds applies to multi-label files and this one is "
                         f"single-label; expected --threshold T (binary), or report --thresholds for its "
                         f"per-class operating points")
    if args.command == "report":
        ci = _intervals(args, evaluation)
        th = _thresholds(args, evaluation)
        print(report_json(evaluation, ci, th) if args.json else report_text(evaluation, ci, th))
        return 0
    gates = [*(load_gates(args.gates) if args.gates else []), *args.gates_given]
    if args.max_drop and not args.baseline:
        raise InputError("--max-drop needs --baseline FILE, the predictions of the model to compare with")
    if not gates and not args.max_drop:
        raise InputError("check needs at least one --min or --max gate (e.g. --min accuracy=0.95), a --gates FILE, "
                         "or --baseline FILE with --max-drop METRIC=VALUE")
    results = check_gates(evaluation, gates)
    lines = [gates_text(results)] if results else []
    passed = all(r.passed for r in results)
    if args.baseline:
        baseline = _evaluate(args, args.baseline, args.threshold)
        for text in args.max_drop:
            gate = parse_gate(text, "max-drop")
            now, before = metric_value(evaluation, gate.metric), metric_value(baseline, gate.metric)
            drop = before - now
            ok = math.isfinite(drop) and drop <= gate.limit
            passed &= ok
            lines.append(f"{gate.metric}: {now:.4f} against the baseline's {before:.4f}, a drop of {drop:.4f} "
                         f"(at most {gate.limit:g} allowed): {'pass' if ok else 'FAIL'}")
    print("\n".join(lines))
    return 0 if passed else 1


def _engine(args, paths) -> str:
    """The engine ``--engine`` chooses for ``paths`` (``auto`` resolved; memory when not given)."""
    from evaldash.engines.options import engine_name

    return engine_name(args, paths)


def _evaluate(args, path: str, threshold: float | None = None, rows: bool = False, task: str | None = None):
    """The evaluation of ``path`` on the engine of ``--engine`` (memory unless chosen); ``rows``: one
    whose per-sample arrays are in memory (compare's bootstrap draws rows), read by the engine;
    ``task``: forced (a multi-label check's baseline)."""
    from evaldash.engines.options import evaluate_on

    name = _engine(args, [path])
    if name == "memory":
        return evaluate(load_predictions(path, positive=args.positive, images_root=args.images_root,
                                         classes=getattr(args, "classes", None)), threshold)
    on_engine = evaluate_on(name, args, path, threshold, task=task)
    if rows and on_engine.task == "multilabel":
        from evaldash.multilabel_evaluation import evaluate_multilabel

        return evaluate_multilabel(on_engine.to_dataset(), thresholds=on_engine.thresholds)
    return evaluate(on_engine.to_dataset(), threshold) if rows else on_engine


def _compare(args) -> int:
    from evaldash.compare import compare

    if args.resamples < 10:
        raise InputError(f"--resamples {args.resamples}: expected at least 10 resamples")
    names = {_engine(args, [args.a]), _engine(args, [args.b])}
    if names == {"memory"}:
        a_set, b_set = (load_dataset(path, task=args.task, label_sep=args.label_sep, positive=args.positive,
                                     images_root=args.images_root, classes=args.classes) for path in (args.a, args.b))
        if "multilabel" in (a_set.task, b_set.task):
            from evaldash.multilabel_cli import compare_multilabel_files

            return compare_multilabel_files(args, a_set, b_set)
        a, b = evaluate(a_set), evaluate(b_set)
        result = compare(a, b, resamples=args.resamples, seed=args.seed)
    elif len(names) == 1:  # one engine: B beside A, only aggregates come back
        from evaldash.engines.compare import compare_on_engine, evaluate_pair

        a, b = evaluate_pair(names.pop(), args, args.a, args.b)
        if "multilabel" in (a.task, b.task):  # the multi-label compare draws rows: read back
            from evaldash.multilabel_cli import compare_multilabel_files

            return compare_multilabel_files(args, a.to_dataset(), b.to_dataset())
        result = compare_on_engine(a, b, resamples=args.resamples, seed=args.seed)
    else:
        a, b = _evaluate(args, args.a, rows=True), _evaluate(args, args.b, rows=True)
        if "multilabel" in (a.task, b.task):
            from evaldash.multilabel_cli import compare_multilabel_files

            return compare_multilabel_files(args, a.dataset, b.dataset)
        result = compare(a, b, resamples=args.resamples, seed=args.seed)
    if args.json:
        import json

        from evaldash.report import to_jsonable

        print(json.dumps(to_jsonable({"a": a.report(), "b": b.report(), **result}), indent=2, ensure_ascii=False))
        return 0
    r = result
    iv = lambda name: f"[{r['intervals'][name][0]:+.3f}, {r['intervals'][name][1]:+.3f}]"  # noqa: E731
    head_a, head_b = a.headline(), b.headline()

    def headline(label: str, name: str) -> str:
        if name in r["unavailable"]:
            return f"{label:<13}  unavailable: {r['unavailable'][name]}"
        return (f"{label:<13}  A {head_a[name]:.3f}  B {head_b[name]:.3f}  delta {r['delta'][name]:+.3f} "
                f"{iv(name)}")

    lines = [f"evaldash compare: A = {a.dataset.source}, B = {b.dataset.source}",
             f"{'paired (same sample ids)' if r['paired'] else 'unpaired (different samples)'}; "
             f"{r['level']:.0%} bootstrap intervals of B minus A, {r['resamples']} resamples, seed {r['seed']}", "",
             headline("accuracy", "accuracy"), headline("macro F1", "macro_f1"),
             headline("macro ROC AUC", "macro_roc_auc"), headline("ECE", "ece") + ("  (lower is better)"
                                                                                 if "ece" in r["delta"] else ""),
             r["verdict"]]
    if "verdict_auc" in r:
        lines.append(r["verdict_auc"])
    if r["paired"]:
        lines.append(f"B fixed {r['fixed']} samples that A got wrong, broke {r['broken']} that A got right; "
                     f"both wrong on {r['both_wrong']}")
    for side in ("a", "b"):
        if r[f"only_in_{side}"]:
            lines.append(f"classes only in {side.upper()}: {', '.join(r[f'only_in_{side}'])}")
    lines += ["", "Per class F1 (shared classes):"]
    rows = [[c, f"{r['delta'][f'f1[{c}]']:+.3f}", iv(f"f1[{c}]")] for c in r["shared_classes"]]
    from evaldash.report import _table

    lines += _table(["class", "delta f1", "95% interval"], rows)
    print("\n".join(lines))
    return 0


def _annotations(args, dataset) -> int:
    from evaldash import annotations as an

    store = an.AnnotationStore(args.db)
    fingerprint = dataset.fingerprint()
    multilabel = dataset.task == "multilabel"
    if args.action == "import":
        frame, classes = an.read_import(args.input), dataset.classes
        if multilabel:  # corrected label SETS, checked here; import_rows checks single class names
            from evaldash.multilabel_corrections import checked_label_sets

            frame, classes = checked_label_sets(frame, dataset.classes, args.input), None
        n = an.import_rows(store, fingerprint, frame, known_ids=dataset.ids,
                           imported_by=args.imported_by or _os_user(), classes=classes, source=args.input)
        print(f"imported annotations of {n} samples into {store.name}")
        return 0
    out = Path(args.output)
    state = store.state(fingerprint)
    if out.name.lower().endswith(".predictions.csv"):
        out.write_bytes(an.predictions_export_bytes(args.path, dataset, state))
        print(f"wrote {dataset.n} predictions with {'labels_corrected' if multilabel else 'label_corrected'} "
              f"({int((state['corrected_label'] != '').sum()) if len(state) else 0} corrected) to {out}")
        return 0
    if out.suffix.lower() not in (".csv", ".json"):
        raise InputError(f"{out}: unsupported export; expected FILE.csv, FILE.json or FILE.predictions.csv")
    table = an.export_table(state)
    an.write_export(table, out, fingerprint)
    print(f"wrote annotations of {len(table)} samples to {out}")
    return 0


def _os_user() -> str:
    """Who runs this command, for ``annotations import`` without ``--as``."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        raise InputError("annotations import: cannot tell your user name on this machine; "
                         "expected --as NAME (who imports)") from None


def _serve(args) -> int:
    paths = [*args.paths, *args.predictions]
    for path in paths:  # a file that does not load stops here, as `report` would, before any server starts
        if _engine(args, [path]) != "memory":  # checked on its engine, where the dashboard will read it
            _evaluate(args, path, args.threshold)
            continue
        load_dataset(path, task=getattr(args, "task", None), label_sep=getattr(args, "label_sep", DEFAULT_SEPARATOR),
                     positive=args.positive, images_root=args.images_root, classes=args.classes)
    from evaldash.auth import settings_from_args

    auth_argv = _auth_argv(args)
    settings_from_args(auth_argv, args.address)  # refuses a wide address without a log-in (exit 2)
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(args.port),
           "--server.address", args.address,
           "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--client.showErrorDetails", "type", "--client.toolbarMode", "viewer", "--runner.postScriptGC", "false",
           "--runner.magicEnabled", "false", "--browser.serverAddress", "localhost", "--"]
    cmd += [str(Path(p).resolve()) for p in paths]
    cmd += auth_argv
    if args.positive:
        cmd += ["--positive", args.positive]
    if args.images_root:
        cmd += ["--images-root", str(Path(args.images_root).resolve())]
    if args.classes:
        cmd += ["--classes", args.classes]
    if args.task:
        cmd += ["--task", args.task]
    if args.label_sep != DEFAULT_SEPARATOR:
        cmd += [f"--label-sep={args.label_sep}"]  # one word: a separator such as "-" is not an option
    if args.threshold is not None:
        cmd += ["--threshold", repr(args.threshold)]
    if args.engine != "memory":
        cmd += ["--engine", args.engine]
        if args.memory_limit:
            cmd += ["--memory-limit", args.memory_limit]
        if args.spark_master:
            cmd += ["--spark-master", args.spark_master]
    if args.thresholds:
        if not Path(args.thresholds).is_file():
            raise InputError(f"--thresholds {args.thresholds}: file not found")
        cmd += ["--thresholds", str(Path(args.thresholds).resolve())]
    for root in args.data_root:
        if not Path(root).is_dir():
            raise InputError(f"--data-root {root}: no such folder")
        cmd += ["--data-root", str(Path(root).resolve())]
    if args.no_server_paths:
        cmd += ["--no-server-paths"]
    if args.gates:
        load_gates(args.gates)  # a bad gates file stops here, with its message, not in the browser
        cmd += ["--gates", str(Path(args.gates).resolve())]
    from evaldash.limits import export_limit_args

    export_limit_args(args, os.environ)
    if args.trust_user_header:
        # uvicorn would replace a proxy's address by its X-Forwarded-For client before the guard
        # sees it, and the guard trusts the user header by the proxy's address: keep the address
        os.environ["FORWARDED_ALLOW_IPS"] = ""
    if args.db:
        os.environ["EVALDASH_DB"] = args.db if "://" in args.db else str(Path(args.db).resolve())
    from evaldash.engines.options import close_engines

    close_engines()  # the start files' engines (a Spark driver) end here; the app opens its own
    sys.stdout.flush()
    # become the streamlit server, so signals (Ctrl-C, a supervisor's SIGTERM) reach it directly
    os.execv(sys.executable, cmd)
    return 0  # not reached


def _auth_argv(args) -> list[str]:
    """The log-in arguments of ``serve`` as the app takes them after ``--`` (paths made absolute)."""
    out = ["--users", str(Path(args.users).resolve())] if args.users else []
    if args.trust_user_header:
        out += ["--trust-user-header", args.trust_user_header]
    for proxy in args.trusted_proxy:
        out += ["--trusted-proxy", proxy]
    for host in args.allowed_host:
        out += ["--allowed-host", host]
    return out + (["--no-auth"] if args.no_auth else [])


def _users(args) -> int:
    from evaldash import auth

    if args.action == "remove":
        auth.remove_user(args.file, args.name)
        print(f"removed {args.name} from {args.file}")
        return 0
    auth.check_name(args.name)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        import getpass

        password = getpass.getpass(f"Password for {args.name}: ")
        if password != getpass.getpass("Again: "):
            raise InputError("the two passwords differ; nothing changed")
    new = auth.add_user(args.file, args.name, password)
    print(f"{'added' if new else 'changed the password of'} {args.name} in {args.file}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        code = run(argv)
    except InputError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130
    except MemoryError as exc:  # past reading (io says it for the file itself): the arrays derived from it
        print(f"error: out of memory ({type(exc).__name__}: {' '.join(str(exc).split())}): the rows do not fit in "
              f"memory on the memory engine; run it with --engine duckdb (out of core, under --memory-limit) or "
              f"--engine auto", file=sys.stderr)
        code = 2
    except Exception as exc:  # never a traceback for a user
        print(f"error: unexpected {type(exc).__name__}: {' '.join(str(exc).split())}", file=sys.stderr)
        code = 2
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
