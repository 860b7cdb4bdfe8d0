"""``python -m service.storage``: the migration command line (see ``migrate.main``)."""

from service.storage.migrate import main

main()
