"""Operator commands against the configured database (DATABASE_URL).

    python -m engine.admin create-admin --username alice            # asks for the password twice
    printf '%s\\n' "$PASSWORD" | python -m engine.admin create-admin --username alice --password-stdin

A server database never gets the demo's known passwords (scripts/run.sh prints this step instead); the
password is refused when weak or empty (engine.services.users.check_password). Exit status 0 on success,
1 when refused (the reason on stderr), 2 on bad usage.
"""

import argparse
import getpass
import sys

from engine.db import write_session
from engine.errors import ServiceError
from engine.services.users import create_admin


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat the password: ") != first:
        raise SystemExit("The two passwords differ: nothing was created.")
    return first


def _create_admin(args: argparse.Namespace) -> int:
    password = _read_password(args.password_stdin)
    try:
        with write_session() as session:
            user = create_admin(session=session, username=args.username, password=password,
                                display_name=args.display_name, workspace=args.workspace)
            name = user.username
    except ServiceError as err:
        print(f"create-admin: {err.message}", file=sys.stderr)
        return 1
    print(f"Admin {name!r} created: sign in with that username and password.")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m engine.admin", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-admin", help="create an admin user (password prompted)")
    create.add_argument("--username", required=True)
    create.add_argument("--display-name", default="")
    create.add_argument("--workspace", default="", help="its workspace (made if missing; default: the only one)")
    create.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    create.set_defaults(run=_create_admin)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
