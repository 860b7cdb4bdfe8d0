"""Site and key management from the command line: ``python -m service sites|keys ...``.

Works on the database the server uses (``SLUICE_DATA_DIR`` or ``SLUICE_DATABASE_URL``),
migrating it first, so it also works on a fresh checkout before the server ever ran.
``keys create`` prints the new key alone on its last line; scripts rely on that::

    KEY=$(python -m service keys create --site https://blog.example | tail -n 1)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from typing import Any, TextIO

from service.settings import Settings
from service.storage import CUTOFF_NAMES, ApiKey, NotFound, Site, Storage, StorageError

Handler = Callable[[argparse.Namespace, Storage, TextIO], int]
_HEX_KEY = re.compile(r"^[0-9a-f]{12}$")


def _open_storage(settings: Settings | None) -> Storage:
    # Imported here so ``--help`` stays fast and never touches the database.
    from service.app import open_storage

    return open_storage(settings or Settings())


def parse_setting(text: str) -> tuple[str, Any]:
    """``name=value`` where value is JSON (``true``, ``30``, ``null``, ``{...}``) or plain text.

    ``cutoffs=0.4,0.7,0.97`` is short for the three cut-offs in the order unsure, spam, discard.
    """
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ValueError(f"expected name=value, got {text!r}")
    raw = raw.strip()
    if name == "cutoffs" and "," in raw and not raw.startswith("{"):
        parts = [p.strip() for p in raw.split(",")]
        if len(parts) != len(CUTOFF_NAMES):
            raise ValueError(
                f"cutoffs needs {len(CUTOFF_NAMES)} numbers: {', '.join(CUTOFF_NAMES)}"
            )
        try:
            return name, dict(zip(CUTOFF_NAMES, map(float, parts), strict=True))
        except ValueError:
            raise ValueError(f"cutoffs must be numbers, got {raw!r}") from None
    try:
        return name, json.loads(raw)
    except json.JSONDecodeError:
        return name, raw


def _site_line(site: Site) -> str:
    name = f" ({site.name})" if site.name else ""
    return f"{site.id}\t{site.url}{name}\t{json.dumps(site.settings.to_json(), sort_keys=True)}"


def _key_line(key: ApiKey, site: Site | None = None) -> str:
    state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
    where = f"\t{site.url}" if site else ""
    return f"{key.id}\t...{key.hint}\t{state}\tcreated {key.created_at:%Y-%m-%d %H:%M}{where}"


def _find_site(storage: Storage, url: str) -> Site:
    site = storage.get_site_by_url(url)
    if site is None:
        raise NotFound(f"no site with url {url!r}; create it with: sites create --url {url}")
    return site


def cmd_sites_create(args: argparse.Namespace, storage: Storage, out: TextIO) -> int:
    site = storage.create_site(url=args.url, name=args.name)
    print(f"created site {site.id}: {site.url}", file=out)
    return 0


def cmd_sites_list(args: argparse.Namespace, storage: Storage, out: TextIO) -> int:
    sites = storage.list_sites()
    if not sites:
        print("no sites yet: python -m service keys create --site URL", file=out)
    for site in sites:
        print(_site_line(site), file=out)
    return 0


def cmd_sites_set(args: argparse.Namespace, storage: Storage, out: TextIO) -> int:
    site = _find_site(storage, args.url)
    changes = dict(parse_setting(item) for item in args.settings)
    site = storage.update_site_settings(site_id=site.id, **changes)
    print(_site_line(site), file=out)
    return 0


def cmd_keys_create(args: argparse.Namespace, storage: Storage, out: TextIO) -> int:
    site = storage.get_site_by_url(args.site)
    if site is None:
        site = storage.create_site(url=args.site, name=args.name)
        print(f"created site {site.id}: {site.url}", file=out)
    key_id, key = storage.create_key(site_id=site.id)
    print(f"API key {key_id} for {site.url} (shown only now; store it safely):", file=out)
    print(key, file=out)
    return 0


def _revoke_target(storage: Storage, ref: str) -> int:
    """A key id, or a key's plaintext (12 hex digits, or any live key)."""
    if ref.isdigit() and not _HEX_KEY.match(ref):
        return int(ref)
    match = storage.find_key(plaintext=ref)
    if match is not None:
        return match.key.id
    if ref.isdigit():
        return int(ref)
    raise NotFound("no live key with that value (give the key id to revoke an old one)")


def cmd_keys_revoke(args: argparse.Namespace, storage: Storage, out: TextIO) -> int:
    key = storage.revoke_key(key_id=_revoke_target(storage, args.key.strip()))
    print(f"revoked key {key.id} (...{key.hint})", file=out)
    return 0


def cmd_keys_list(args: argparse.Namespace, storage: Storage, out: TextIO) -> int:
    sites = [_find_site(storage, args.site)] if args.site else storage.list_sites()
    for site in sites:
        for key in storage.list_keys(site_id=site.id):
            print(_key_line(key, site), file=out)
    return 0


def run(handler: Handler) -> Callable[[argparse.Namespace, Settings | None], int]:
    """Wrap a handler for ``main``: open storage, print storage errors as one line, exit 1."""

    def command(args: argparse.Namespace, settings: Settings | None = None) -> int:
        try:
            with _open_storage(settings) as storage:
                return handler(args, storage, sys.stdout)
        except (StorageError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return command


def add_commands(subparsers: Any) -> None:
    """Add ``sites`` and ``keys`` to ``python -m service``'s sub-commands."""
    sites = subparsers.add_parser("sites", help="create, list and configure sites")
    site_cmds = sites.add_subparsers(dest="sites_command", required=True)
    create = site_cmds.add_parser("create", help="add a site")
    create.add_argument("--url", required=True, help="the site's front page, http(s)://...")
    create.add_argument("--name", help="a name to show")
    create.set_defaults(func=run(cmd_sites_create))
    listing = site_cmds.add_parser("list", help="list sites and their settings")
    listing.set_defaults(func=run(cmd_sites_list))
    setter = site_cmds.add_parser(
        "set",
        help="change settings: cutoffs=U,S,D|null unsure_is_spam=true retention_days=30 "
        "store_pii=hashed|clear fail_open=ham|unsure",
    )
    setter.add_argument("--url", required=True)
    setter.add_argument("settings", nargs="+", metavar="name=value")
    setter.set_defaults(func=run(cmd_sites_set))

    keys = subparsers.add_parser("keys", help="create, revoke and list API keys")
    key_cmds = keys.add_subparsers(dest="keys_command", required=True)
    create_key = key_cmds.add_parser(
        "create", help="new key for a site (created if needed); the key is the last line"
    )
    create_key.add_argument("--site", required=True, help="the site's URL")
    create_key.add_argument("--name", help="name for the site, if it is created")
    create_key.set_defaults(func=run(cmd_keys_create))
    revoke = key_cmds.add_parser("revoke", help="revoke a key, by id or by the key itself")
    revoke.add_argument("key", metavar="KEY_ID_OR_KEY")
    revoke.set_defaults(func=run(cmd_keys_revoke))
    list_keys = key_cmds.add_parser("list", help="list keys (hints only)")
    list_keys.add_argument("--site", help="only this site's keys")
    list_keys.set_defaults(func=run(cmd_keys_list))
