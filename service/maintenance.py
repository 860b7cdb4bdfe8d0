"""Operator commands: retention purge, data-subject requests, retraining from feedback, models.

Each is a plain function over ``Storage`` and the model registry, wired to the command line
by ``add_commands`` (``python -m service purge|privacy|retrain|models``); all are safe to run
from cron while the service is serving.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from service.settings import Settings
from service.spool import Spool
from service.storage import FeedbackRecord, SiteSettings, Storage
from service.storage.comment_fields import EMAIL_HASH_FIELD, IP_HASH_FIELD
from training import artifacts
from training.__main__ import main as training_main
from training.features import COMMENT_FIELDS

MAX_EXAMPLES = 2_000_000
_HASHED = (EMAIL_HASH_FIELD, IP_HASH_FIELD)


def feedback_examples(
    storage: Storage, *, site_url: str | None = None, since: datetime | None = None
) -> list[dict[str, Any]]:
    """Moderator-labelled comments as training rows; the latest label wins per comment.

    Hashed e-mails and IPs stay hashed (they are not features); rows whose text was purged
    are skipped.
    """
    site_id = None
    if site_url:
        site = storage.get_site_by_url(site_url)
        if site is None:
            raise SystemExit(f"error: no site {site_url!r}")
        site_id = site.id
    latest: dict[tuple[int, str], FeedbackRecord] = {}
    for record in storage.list_feedback(site_id=site_id, since=since, limit=MAX_EXAMPLES):
        if record.content:
            latest[(record.site_id, " ".join(record.content.split()))] = record
    rows = []
    for record in latest.values():
        fields = {
            k: v for k, v in record.fields.items() if k not in (EMAIL_HASH_FIELD, IP_HASH_FIELD)
        }
        row = {name: str(fields.get(name) or "") for name in COMMENT_FIELDS}
        row["content"] = record.content or ""
        row["label"] = record.label.value
        rows.append(row)
    return rows


def write_examples(rows: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def open_storage_from(settings: Settings) -> Storage:
    from service.app import open_storage

    return open_storage(settings)


def cmd_retrain(args: argparse.Namespace, settings: Settings) -> int:
    """Train on the default corpora plus stored feedback; promote only through the gate."""
    storage = open_storage_from(settings)
    since = datetime.now(UTC) - timedelta(days=args.days) if args.days else None
    rows = feedback_examples(storage, site_url=args.site, since=since)
    storage.close()
    print(f"{len(rows)} labelled comments from moderators' feedback")
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["train", "--models-dir", str(settings.models_dir), "--promote"]
        if rows:
            path = Path(tmp) / "feedback.jsonl"
            write_examples(rows, path)
            argv += ["--data", str(path), "--weight", str(args.feedback_weight)]
        if args.force:
            argv.append("--force")
        if args.quiet:
            argv.insert(0, "-q")
        return training_main(argv)


def cmd_purge(args: argparse.Namespace, settings: Settings) -> int:
    storage = open_storage_from(settings)
    try:
        count = storage.purge_expired()
        longest = max((site.settings.retention_days for site in storage.list_sites()), default=0)
    finally:
        storage.close()
    print(f"purged {count} expired comment texts")
    # Spool lines the database refused are kept for an operator, with comments in clear:
    # they go after the longest retention any site has (the default when there is none).
    days = longest or SiteSettings().retention_days
    dropped = Spool(settings.data_dir / "spool").purge_rejected(
        before=datetime.now(UTC) - timedelta(days=days)
    )
    if dropped:
        print(f"purged {dropped} set-aside spool lines older than {days} days")
    return 0


def cmd_privacy(args: argparse.Namespace, settings: Settings) -> int:
    storage = open_storage_from(settings)
    try:
        if args.action == "export":
            json.dump(
                storage.export_subject(email=args.email, ip=args.ip),
                sys.stdout,
                indent=2,
                default=str,
                ensure_ascii=False,
            )
            print()
        else:
            print(f"deleted {storage.delete_subject(email=args.email, ip=args.ip)} rows")
    finally:
        storage.close()
    return 0


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    models_dir = settings.models_dir
    if args.action == "list":
        current = artifacts.current_version(models_dir)
        for version in artifacts.list_versions(models_dir):
            card = artifacts.read_card(models_dir / version)
            held = card["evaluation"]["held_out"]
            gate = card.get("gate", {})
            print(
                f"{'*' if version == current else ' '} {version}  "
                f"mcc={held['mcc']:.4f} blocked_ham={held['blocked_ham']:.4f} "
                f"recall@0.5%fpr={held['recall_at_fpr_0.005']:.4f} "
                f"gate={'passed' if gate.get('passed') else 'failed'}"
            )
        return 0
    if args.action == "promote":
        artifacts.load_model(models_dir / args.version)  # refuse what the service would refuse
        artifacts.set_current(models_dir, args.version)
        print(f"current model is now {args.version}")
        return 0
    previous = artifacts.previous_version(models_dir)
    if previous is None:
        print("error: no earlier model to roll back to", file=sys.stderr)
        return 2
    artifacts.set_current(models_dir, previous)
    print(f"rolled back: current model is now {previous}")
    return 0


def add_commands(sub: Any) -> None:
    retrain = sub.add_parser("retrain", help="retrain on stored feedback (cron); gated promotion")
    retrain.add_argument("--site", help="only this site's feedback")
    retrain.add_argument("--days", type=int, help="only feedback from the last N days")
    retrain.add_argument("--feedback-weight", type=float, default=3.0)
    retrain.add_argument("--force", action="store_true", help="promote even if the gate fails")
    retrain.add_argument("-q", "--quiet", action="store_true")
    retrain.set_defaults(func=cmd_retrain)

    purge = sub.add_parser("purge", help="delete comment texts past each site's retention (cron)")
    purge.set_defaults(func=cmd_purge)

    privacy = sub.add_parser("privacy", help="export or delete what is stored about a person")
    privacy.add_argument("action", choices=("export", "delete"))
    privacy.add_argument("--email")
    privacy.add_argument("--ip")
    privacy.set_defaults(func=cmd_privacy)

    models = sub.add_parser("models", help="list, promote or roll back model versions")
    models.add_argument("action", choices=("list", "promote", "rollback"))
    models.add_argument("version", nargs="?")
    models.set_defaults(func=cmd_models)
