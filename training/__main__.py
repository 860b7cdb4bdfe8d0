"""Command line: ``python -m training train|ensure-default|list|promote``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pandas as pd

from training import artifacts
from training.data import (
    AUTHORED_CORPUS,
    PUBLIC_CORPORA,
    DataError,
    available_public,
    datasets_dir,
    load_authored,
    load_labelled,
    load_public,
    parse_mapping,
)
from training.evaluate import CostPolicy
from training.train import TrainingRun, describe_source, summary, train

log = logging.getLogger("training")

DEFAULT_WEIGHTS = {"authored": 2.0, "youtube": 1.0, "sms": 0.5}


def _models_dir(value: str | None) -> Path:
    import os

    return Path(value or os.environ.get("SLUICE_MODELS_DIR", "models"))


def _champion(models_dir: Path) -> artifacts.LoadedModel | None:
    version = artifacts.current_version(models_dir)
    if version is None:
        return None
    try:
        return artifacts.load_model(models_dir / version)
    except artifacts.ModelRejected as exc:
        log.warning(
            "current model %s cannot be compared (%s); gating against nothing", version, exc
        )
        return None


def build_run(args: argparse.Namespace) -> TrainingRun:
    frames, sources = [], []
    if not args.no_default_data:
        if AUTHORED_CORPUS.exists():
            frame = load_authored(weight=DEFAULT_WEIGHTS["authored"])
            frames.append(frame)
            sources.append(
                describe_source("authored", AUTHORED_CORPUS, frame, DEFAULT_WEIGHTS["authored"])
            )
        directory = Path(args.datasets_dir) if args.datasets_dir else datasets_dir()
        for name in available_public(directory):
            weight = DEFAULT_WEIGHTS.get(name, 1.0)
            frame = load_public(name, directory=directory, weight=weight)
            frames.append(frame)
            path = directory / PUBLIC_CORPORA[name].relative_path
            sources.append(describe_source(name, path, frame, weight))
    mapping = parse_mapping(args.map)
    for path in args.data or []:
        frame = load_labelled(path, mapping=mapping, weight=args.weight)
        frames.append(frame)
        sources.append(describe_source(frame["source"].iloc[0], Path(path), frame, args.weight))
    if not frames:
        raise DataError("no training data: pass --data FILE or drop --no-default-data")
    frame = pd.concat(frames, ignore_index=True)
    if args.limit:
        frame = frame.sample(n=min(args.limit, len(frame)), random_state=args.seed)
    policy = CostPolicy(spam_prior=args.spam_prior, false_positive=args.fp_cost)
    models_dir = _models_dir(args.models_dir)
    return TrainingRun(
        frame=frame,
        sources=sources,
        models_dir=models_dir,
        champion=_champion(models_dir),
        policy=policy,
        seed=args.seed,
        cross_source=args.cross_source,
    )


def cmd_train(args: argparse.Namespace) -> int:
    if args.out_of_core:
        from training.outofcore import run_from_args, train_out_of_core

        models_dir = _models_dir(args.models_dir)
        stream = run_from_args(args, _champion(models_dir), models_dir)
        models_dir.mkdir(parents=True, exist_ok=True)
        directory, champion = train_out_of_core(stream), stream.champion
    else:
        run = build_run(args)
        models_dir, champion = run.models_dir, run.champion
        models_dir.mkdir(parents=True, exist_ok=True)
        directory = train(run)
    card = artifacts.read_card(directory)
    print(f"model {card['version']}: held-out {summary(card['evaluation']['held_out'])}")
    print(f"report: {directory / 'report.md'}")
    gate = card["gate"]
    print(f"gate: {'passed' if gate['passed'] else 'FAILED'}: {gate['reason']}")
    if args.force or (args.promote and gate["passed"]) or champion is None:
        artifacts.set_current(models_dir, card["version"])
        print(f"current model is now {card['version']}")
        return 0
    print(
        f"not promoted (kept, not served); to serve it anyway: "
        f"python -m training promote {card['version']}"
    )
    return 0 if gate["passed"] else 3


def cmd_ensure_default(args: argparse.Namespace) -> int:
    models_dir = _models_dir(args.models_dir)
    current = artifacts.current_version(models_dir)
    if current and (models_dir / current / artifacts.CARD_FILE).is_file():
        print(f"model {current} is current; not retraining")
        return 0
    args.promote = True
    return cmd_train(args)


def cmd_list(args: argparse.Namespace) -> int:
    models_dir = _models_dir(args.models_dir)
    current = artifacts.current_version(models_dir)
    for version in artifacts.list_versions(models_dir):
        card = artifacts.read_card(models_dir / version)
        marker = "*" if version == current else " "
        print(f"{marker} {version}  {summary(card['evaluation']['held_out'])}")
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    models_dir = _models_dir(args.models_dir)
    artifacts.set_current(models_dir, args.version)
    print(f"current model is now {args.version}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    root.add_argument("-q", "--quiet", action="store_true", help="only warnings and the result")
    sub = root.add_subparsers(dest="command", required=True)

    def training_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--data",
            action="append",
            metavar="FILE",
            help="labelled comments (.csv, .jsonl, .parquet); repeatable",
        )
        p.add_argument(
            "--map",
            metavar="OURS=THEIRS,...",
            help="column mapping, e.g. content=comment_body,label=is_spam",
        )
        p.add_argument(
            "--weight",
            type=float,
            default=3.0,
            help="sample weight of --data rows (default 3: your data counts most)",
        )
        p.add_argument(
            "--no-default-data",
            action="store_true",
            help="train only on --data (skip the authored and public corpora)",
        )
        p.add_argument("--datasets-dir", help="public corpora directory (SLUICE_DATASETS_DIR)")
        p.add_argument("--models-dir", help="model registry directory (SLUICE_MODELS_DIR, models/)")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument(
            "--spam-prior",
            type=float,
            default=0.5,
            help="share of spam expected in your comment stream (cut-off choice)",
        )
        p.add_argument(
            "--fp-cost",
            type=float,
            default=20.0,
            help="cost of blocking a legitimate comment, in missed spams",
        )
        p.add_argument(
            "--cross-source",
            action="store_true",
            help="also train without each source and test on it",
        )
        p.add_argument("--limit", type=int, help="train on a random sample of this many rows")
        p.add_argument(
            "--out-of-core",
            action="store_true",
            help="stream the data in chunks (hashed features, incremental fit): for exports "
            "too large for memory",
        )
        p.add_argument(
            "--promote",
            action="store_true",
            help="make the new model current if it passes the gate",
        )
        p.add_argument(
            "--force",
            action="store_true",
            help="make the new model current even if it fails the gate",
        )

    train_parser = sub.add_parser("train", help="train, evaluate and save a new model version")
    training_options(train_parser)
    train_parser.set_defaults(func=cmd_train)
    ensure = sub.add_parser("ensure-default", help="train the default model if none is current")
    training_options(ensure)
    ensure.set_defaults(func=cmd_ensure_default)
    lister = sub.add_parser("list", help="list model versions (* = current)")
    lister.add_argument("--models-dir")
    lister.set_defaults(func=cmd_list)
    promote = sub.add_parser("promote", help="make a version current")
    promote.add_argument("version")
    promote.add_argument("--models-dir")
    promote.set_defaults(func=cmd_promote)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except (DataError, artifacts.ModelRejected, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
