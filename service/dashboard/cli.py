"""Dashboard accounts from the command line: ``python -m service users create|list|delete``.

There is no sign-up page: the first admin is created here, on the machine that runs the
service, against the same database (``SLUICE_DATA_DIR`` or ``SLUICE_DATABASE_URL``)::

    python -m service users create --username alice                  # admin, asks twice
    python -m service users create --username bob --role moderator --site https://blog.example
    printf '%s\\n' "$PASSWORD" | python -m service users create --username ci --password-stdin

Passwords are read with ``getpass`` (never from an argument, which ``ps`` would show).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any, TextIO

from service.cli import run
from service.storage import NotFound, Storage
from service.storage.accounts import Accounts, Role, check_password


def read_password(args: argparse.Namespace) -> str:
    """The new password, from standard input's first line or typed twice at a terminal."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        return check_password(password)
    if not sys.stdin.isatty():
        raise ValueError("no terminal to ask for the password: pipe it in with --password-stdin")
    first = getpass.getpass("Password: ")
    check_password(first)
    if getpass.getpass("Same password again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def cmd_users_create(args: argparse.Namespace, storage: Storage, out: TextIO) -> int:
    site_ids = []
    for url in args.site or ():
        site = storage.get_site_by_url(url)
        if site is None:
            raise NotFound(f"no site with url {url!r}; create it with: sites create --url {url}")
        site_ids.append(site.id)
    role = Role(args.role)
    if role is Role.MODERATOR and not site_ids:
        raise ValueError("a moderator needs at least one --site")
    accounts = Accounts(storage.engine)
    if accounts.get_user(username=args.username) is not None:
        raise ValueError(f"a user named {args.username!r} already exists")
    password = read_password(args)
    user = accounts.create_user(
        username=args.username, password=password, role=role, site_ids=site_ids
    )
    where = f" for {len(user.site_ids)} site(s)" if user.site_ids else ""
    print(f"created {user.role.value} {user.username!r}{where}; sign in at /dashboard", file=out)
    return 0


def cmd_users_list(args: argparse.Namespace, storage: Storage, out: TextIO) -> int:
    users = Accounts(storage.engine).list_users()
    if not users:
        print("no users yet: python -m service users create --username NAME", file=out)
    urls = {s.id: s.url for s in storage.list_sites()}
    for user in users:
        sites = ", ".join(urls.get(i, str(i)) for i in user.site_ids) or "all sites"
        last = f"{user.last_login_at:%Y-%m-%d %H:%M}" if user.last_login_at else "never"
        print(f"{user.username}\t{user.role.value}\t{sites}\tlast sign-in {last}", file=out)
    return 0


def cmd_users_delete(args: argparse.Namespace, storage: Storage, out: TextIO) -> int:
    Accounts(storage.engine).delete_user(username=args.username)
    print(f"deleted user {args.username!r} and ended their sessions", file=out)
    return 0


def cmd_users_password(args: argparse.Namespace, storage: Storage, out: TextIO) -> int:
    accounts = Accounts(storage.engine)
    if accounts.get_user(username=args.username) is None:
        raise NotFound(f"user {args.username!r} not found")
    accounts.set_password(username=args.username, password=read_password(args))
    print(f"password of {args.username!r} changed; their sessions have ended", file=out)
    return 0


def add_commands(subparsers: Any) -> None:
    """Add ``users`` to ``python -m service``'s sub-commands."""
    users = subparsers.add_parser(
        "users", help="dashboard accounts: create, list, delete, set a password"
    )
    commands = users.add_subparsers(dest="users_command", required=True)

    create = commands.add_parser("create", help="add a dashboard user (asks for the password)")
    create.add_argument("--username", required=True)
    create.add_argument("--role", choices=[r.value for r in Role], default=Role.ADMIN.value)
    create.add_argument(
        "--site",
        action="append",
        metavar="URL",
        help="a site a moderator may see (repeat for several); admins see every site",
    )
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.set_defaults(func=run(cmd_users_create))

    listing = commands.add_parser("list", help="list dashboard users")
    listing.set_defaults(func=run(cmd_users_list))

    delete = commands.add_parser("delete", help="remove a dashboard user")
    delete.add_argument("--username", required=True)
    delete.set_defaults(func=run(cmd_users_delete))

    password = commands.add_parser("password", help="set a new password for a user")
    password.add_argument("--username", required=True)
    password.add_argument("--password-stdin", action="store_true")
    password.set_defaults(func=run(cmd_users_password))
