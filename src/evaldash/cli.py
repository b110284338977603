"""Command line: ``evaldash report``, ``check``, ``serve`` and ``annotations export|import``.

Bad input or a bad argument exits 2 with one line ``error: ...`` on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from evaldash.dataset import load_predictions
from evaldash.errors import InputError
from evaldash.evaluation import evaluate
from evaldash.gates import check_gates, parse_gate
from evaldash.report import gates_text, report_json, report_text

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


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", help="predictions file (.csv, .csv.gz, .parquet, .jsonl)")
    p.add_argument("--positive", help="positive class for binary data (default: the second class)")
    p.add_argument("--images-root", help="folder images must lie inside (default: the file's folder)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="evaldash", description="Evaluate classification predictions.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    rep = sub.add_parser("report", help="print every metric")
    _add_data_args(rep)
    rep.add_argument("--json", action="store_true", help="write a JSON object instead of text")
    rep.add_argument("--threshold", type=float,
                     help="binary: predict positive when score >= T; multi-class: also report each class at T")

    chk = sub.add_parser("check", help="quality gate: exit 1 when a limit is not met")
    _add_data_args(chk)
    chk.add_argument("--min", action=_GateAction, dest="gates", default=[], metavar="METRIC=VALUE",
                     help="metric must be >= VALUE (e.g. accuracy=0.95, macro_f1=0.9, recall[cat]=0.8)")
    chk.add_argument("--max", action=_GateAction, dest="gates", default=[], metavar="METRIC=VALUE",
                     help="metric must be <= VALUE (e.g. error_rate=0.05, ece=0.1)")
    chk.add_argument("--threshold", type=float, help="binary: predict positive when score >= T")

    ann = sub.add_parser("annotations", help="export or import annotators' tags, notes and corrected labels")
    actions = ann.add_subparsers(dest="action", required=True, parser_class=_Parser)
    exp = actions.add_parser("export", help="write the annotations of a predictions file")
    _add_data_args(exp)
    exp.add_argument("--db", help="SQLite file or database URL (default: EVALDASH_DB, else the user's data folder)")
    exp.add_argument("--output", required=True,
                     help="FILE.csv or FILE.json: the annotations; FILE.predictions.csv: the predictions "
                          "file with a label_corrected column")
    imp = actions.add_parser("import", help="add annotations exported elsewhere (CSV or JSON)")
    _add_data_args(imp)
    imp.add_argument("--db", help="SQLite file or database URL (default: EVALDASH_DB, else the user's data folder)")
    imp.add_argument("--input", required=True, help="an evaldash annotations export (.csv or .json)")

    srv = sub.add_parser("serve", help="open the dashboard on a predictions file")
    srv.add_argument("path", nargs="?", help="predictions file (default: the bundled digits sample)")
    srv.add_argument("--port", type=int, default=8501)
    srv.add_argument("--positive")
    srv.add_argument("--images-root")
    srv.add_argument("--db", help="annotation database: SQLite file or database URL (sets EVALDASH_DB)")
    return parser


def run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    dataset = load_predictions(args.path, positive=args.positive, images_root=args.images_root)
    if args.command == "annotations":
        return _annotations(args, dataset)
    evaluation = evaluate(dataset, threshold=args.threshold)
    if args.command == "report":
        print(report_json(evaluation) if args.json else report_text(evaluation))
        return 0
    gates = args.gates
    if not gates:
        raise InputError("check needs at least one --min or --max gate, e.g. --min accuracy=0.95")
    results = check_gates(evaluation, gates)
    print(gates_text(results))
    return 0 if all(r.passed for r in results) else 1


def _annotations(args, dataset) -> int:
    from evaldash import annotations as an

    store = an.AnnotationStore(args.db)
    fingerprint = dataset.fingerprint()
    if args.action == "import":
        n = an.import_rows(store, fingerprint, an.read_import(args.input), known_ids=dataset.ids)
        print(f"imported annotations of {n} samples into {store.name}")
        return 0
    out = Path(args.output)
    state = store.state(fingerprint)
    if out.name.lower().endswith(".predictions.csv"):
        out.write_bytes(an.predictions_export_bytes(args.path, dataset, state))
        print(f"wrote {dataset.n} predictions with label_corrected "
              f"({int((state['corrected_label'] != '').sum()) if len(state) else 0} corrected) to {out}")
        return 0
    if out.suffix.lower() not in (".csv", ".json"):
        raise InputError(f"{out}: unsupported export; expected FILE.csv, FILE.json or FILE.predictions.csv")
    table = an.export_table(state)
    an.write_export(table, out, fingerprint)
    print(f"wrote annotations of {len(table)} samples to {out}")
    return 0


def _serve(args) -> int:
    if args.path and not Path(args.path).exists():
        raise InputError(f"{args.path}: file not found")
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(args.port),
           "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--client.showErrorDetails", "type", "--"]
    if args.path:
        cmd.append(str(Path(args.path).resolve()))
    if args.positive:
        cmd += ["--positive", args.positive]
    if args.images_root:
        cmd += ["--images-root", str(Path(args.images_root).resolve())]
    if args.db:
        os.environ["EVALDASH_DB"] = args.db if "://" in args.db else str(Path(args.db).resolve())
    sys.stdout.flush()
    # become the streamlit server, so signals (Ctrl-C, a supervisor's SIGTERM) reach it directly
    os.execv(sys.executable, cmd)
    return 0  # not reached


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        code = run(argv)
    except InputError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # never a traceback for a user
        print(f"error: unexpected {type(exc).__name__}: {' '.join(str(exc).split())}", file=sys.stderr)
        code = 2
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
