"""Quality gates: ``metric >= limit`` / ``metric <= limit`` checks on an evaluation."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from evaldash.errors import InputError
from evaldash.evaluation import Evaluation

PER_CLASS_METRICS = ("precision", "recall", "f1", "roc_auc", "average_precision",
                     "specificity", "fpr", "support")
_PER_CLASS = re.compile(r"^(?P<metric>[a-z_0-9]+)\[(?P<cls>.+)\]$")


@dataclass(frozen=True)
class Gate:
    """One limit: ``metric`` must be ``>= limit`` (kind "min") or ``<= limit`` (kind "max")."""

    metric: str
    kind: str
    limit: float


@dataclass(frozen=True)
class GateResult:
    gate: Gate
    value: float
    passed: bool
    note: str = ""


def parse_gate(text: str, kind: str) -> Gate:
    """Parse ``"macro_f1=0.9"`` into a :class:`Gate`."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise InputError(f"--{kind} {text!r}: expected METRIC=VALUE, e.g. --{kind} accuracy=0.95")
    try:
        limit = float(raw)
    except ValueError:
        raise InputError(f"--{kind} {text!r}: the limit {raw!r} is not a number") from None
    if not math.isfinite(limit):
        raise InputError(f"--{kind} {text!r}: the limit must be a finite number")
    return Gate(name.strip(), kind, limit)


def metric_names(evaluation: Evaluation) -> list[str]:
    """Every name a gate may use for this evaluation."""
    names = list(evaluation.headline())
    names += [f"{m}[CLASS]" for m in PER_CLASS_METRICS]
    return names


def metric_value(evaluation: Evaluation, name: str) -> float:
    """The value a gate named ``name`` checks (NaN when undefined)."""
    headline = evaluation.headline()
    if name in headline:
        return float(headline[name])
    match = _PER_CLASS.match(name)
    if match and match["metric"] in PER_CLASS_METRICS:
        report = evaluation.report()["per_class"]
        cls = match["cls"]
        if cls not in report:
            raise InputError(f"gate {name!r}: no class {cls!r}; classes are {list(report)}")
        if match["metric"] not in report[cls]:
            raise InputError(f"gate {name!r}: {match['metric']} is not a per-class metric of this task; expected one "
                             f"of {', '.join(report[cls])}")
        value = report[cls][match["metric"]]
        return float("nan") if value is None else float(value)
    raise InputError(
        f"gate {name!r}: unknown metric; expected one of {', '.join(metric_names(evaluation))}"
    )


def check_gates(evaluation: Evaluation, gates: list[Gate]) -> list[GateResult]:
    """Evaluate each gate; an undefined (NaN) metric fails its gate with a note."""
    results = []
    for gate in gates:
        value = metric_value(evaluation, gate.metric)
        if math.isnan(value):
            results.append(GateResult(gate, value, False, "metric unavailable"))
            continue
        passed = value >= gate.limit if gate.kind == "min" else value <= gate.limit
        results.append(GateResult(gate, value, passed))
    return results


GATES_FILE_HELP = ('a gates file, TOML or JSON: limits by kind, e.g. [min] accuracy = 0.95, "recall[cat]" = 0.8 '
                   'and [max] ece = 0.1 (JSON: {"min": {"accuracy": 0.95}, "max": {"ece": 0.1}})')


def load_gates(path: str) -> list[Gate]:
    """The gates of a TOML (``.toml``) or JSON file: ``min`` and ``max`` tables of ``metric = limit``,
    in the order written (``evaldash check --gates`` and the dashboard's ``--gates`` read the same file)."""
    import json
    import tomllib
    from pathlib import Path

    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise InputError(f"--gates {path}: cannot read the file ({exc.strerror or exc})") from None
    if file.suffix.lower() not in (".toml", ".json"):
        raise InputError(f"--gates {path}: expected a .toml or .json file; {GATES_FILE_HELP}")
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text) if file.suffix.lower() == ".toml" else json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:  # tomllib.TOMLDecodeError and JSONDecodeError are ValueErrors
        raise InputError(f"--gates {path}: not valid {file.suffix.lower()[1:].upper()} ({exc})") from None
    if not isinstance(data, dict) or not data or set(data) - {"min", "max"}:
        found = ", ".join(map(repr, data)) if isinstance(data, dict) and data else "nothing"
        raise InputError(f"--gates {path}: expected the tables min and/or max, found {found}; {GATES_FILE_HELP}")
    gates = []
    for kind, limits in data.items():
        if not isinstance(limits, dict):
            raise InputError(f"--gates {path}: {kind} must map metric names to limits, e.g. {kind} accuracy = 0.9")
        for metric, limit in limits.items():
            if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not math.isfinite(limit):
                raise InputError(f"--gates {path}: {kind} {metric}: the limit {limit!r} is not a finite number")
            if not str(metric).strip():
                raise InputError(f"--gates {path}: {kind}: a metric name is empty")
            gates.append(Gate(str(metric).strip(), kind, float(limit)))
    return gates
